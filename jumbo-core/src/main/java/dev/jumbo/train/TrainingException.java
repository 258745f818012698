package dev.jumbo.train;

/** Training cannot go on: for example the loss became NaN or infinite. Says where it happened. */
public class TrainingException extends RuntimeException {
    public TrainingException(String message) {
        super(message);
    }
}
