package dev.jumbo.serve;

/**
 * Takes a sequence's text piece by piece from the decode loop, without ever blocking it.
 */
@FunctionalInterface
public interface TokenSink {
    /**
     * Takes the next piece of text; returns false when it cannot take more (its client is not
     * keeping up), and the decode loop then drops the sequence.
     */
    boolean offer(String text);
}
