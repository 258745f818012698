package dev.jumbo.serve;

/** A decode loop's active sequences and queue are full: the request is refused (HTTP 429), not queued. */
public final class ServerBusyException extends Exception {
    public ServerBusyException(String message) {
        super(message);
    }
}
