package dev.jumbo.client;

/**
 * A request that carries {@link Sampling}, with its withers: completions and chat replies take
 * the same optional fields, so they are written once here.
 *
 * @param <R> the request type the withers return
 */
public sealed interface SampledRequest<R extends SampledRequest<R>> permits CompletionRequest, ChatRequest {
    /** How the reply is generated. */
    Sampling sampling();

    /** The same request generated as {@code sampling} says. */
    R sampling(Sampling sampling);

    default R maxTokens(int maxTokens) {
        return sampling(sampling().maxTokens(maxTokens));
    }

    /** 0 is greedy decoding. */
    default R temperature(double temperature) {
        return sampling(sampling().temperature(temperature));
    }

    default R topP(double topP) {
        return sampling(sampling().topP(topP));
    }

    default R stop(String... stop) {
        return sampling(sampling().stop(stop));
    }

    /** Choices to generate. */
    default R n(int n) {
        return sampling(sampling().n(n));
    }

    /** The random seed: the same request with the same seed gets the same text. */
    default R seed(long seed) {
        return sampling(sampling().seed(seed));
    }

    default R includeUsage(boolean includeUsage) {
        return sampling(sampling().includeUsage(includeUsage));
    }
}
