package dev.jumbo.serve;

/**
 * How {@code jumbo serve} listens and what it accepts.
 *
 * @param host           the address to bind (127.0.0.1 unless told otherwise: nothing outside the machine reaches it)
 * @param port           the TCP port; 0 picks a free one
 * @param apiKey         when not null, every {@code /v1/*} request needs {@code Authorization: Bearer <apiKey>}
 * @param maxConcurrency sequences a model generates at once (its decode loop's batch)
 * @param maxQueue       sequences that may wait for a place; beyond, requests get 429
 * @param maxBodyBytes   the largest request body accepted; beyond, 413
 */
public record ServeOptions(String host, int port, String apiKey, int maxConcurrency, int maxQueue, int maxBodyBytes) {
    /** @throws IllegalArgumentException quoting the value out of range */
    public ServeOptions {
        if (host == null || host.isBlank()) throw new IllegalArgumentException("--host must name an address, got '" + host + "'");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be between 0 and 65535, got " + port);
        if (apiKey != null && apiKey.isBlank()) throw new IllegalArgumentException("--api-key must not be blank");
        if (maxConcurrency < 1 || maxConcurrency > 4096) throw new IllegalArgumentException("--max-concurrency must be between 1 and 4096, got " + maxConcurrency);
        if (maxQueue < 0 || maxQueue > 1 << 20) throw new IllegalArgumentException("--max-queue must be between 0 and 1048576, got " + maxQueue);
        if (maxBodyBytes < 1 || maxBodyBytes > 1 << 30) throw new IllegalArgumentException("--max-body-bytes must be between 1 and 1073741824, got " + maxBodyBytes);
    }

    /** 127.0.0.1:8080, no API key, 8 sequences at once, 32 waiting, bodies up to 1 MB. */
    public static ServeOptions defaults() {
        return new ServeOptions("127.0.0.1", 8080, null, 8, 32, 1 << 20);
    }
}
