package dev.jumbo.client;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * How a completion or chat reply is generated: the optional fields OpenAI's API shares between
 * the two. A null field is left out of the request, so the server's default applies (16 tokens
 * for a completion, the rest of the context for a chat reply, temperature 1, top_p 1, n 1).
 * Requests carry one and offer the same withers ({@link SampledRequest}).
 *
 * @param stop         strings that end a choice when generated (up to 4); empty for none
 * @param includeUsage whether a stream ends with a chunk of token counts ({@code stream_options.include_usage})
 */
public record Sampling(Integer maxTokens, Double temperature, Double topP, List<String> stop, Integer n, Long seed, boolean includeUsage) {
    /** Every field left to the server. */
    public static final Sampling DEFAULTS = new Sampling(null, null, null, List.of(), null, null, false);

    /** @throws IllegalArgumentException quoting a value no server could take */
    public Sampling {
        if (maxTokens != null && maxTokens < 1) throw new IllegalArgumentException("max_tokens must be at least 1, got " + maxTokens);
        if (n != null && n < 1) throw new IllegalArgumentException("n must be at least 1, got " + n);
        if (temperature != null && !(temperature >= 0)) throw new IllegalArgumentException("temperature must be 0 or more, got " + temperature);
        if (topP != null && !(topP >= 0 && topP <= 1)) throw new IllegalArgumentException("top_p must be between 0 and 1, got " + topP);
        stop = List.copyOf(stop);
    }

    public Sampling maxTokens(int maxTokens) {
        return new Sampling(maxTokens, temperature, topP, stop, n, seed, includeUsage);
    }

    /** 0 is greedy decoding. */
    public Sampling temperature(double temperature) {
        return new Sampling(maxTokens, temperature, topP, stop, n, seed, includeUsage);
    }

    public Sampling topP(double topP) {
        return new Sampling(maxTokens, temperature, topP, stop, n, seed, includeUsage);
    }

    public Sampling stop(String... stop) {
        return new Sampling(maxTokens, temperature, topP, List.of(stop), n, seed, includeUsage);
    }

    /** Choices to generate for the one prompt. */
    public Sampling n(int n) {
        return new Sampling(maxTokens, temperature, topP, stop, n, seed, includeUsage);
    }

    /** The random seed: the same request with the same seed gets the same text. */
    public Sampling seed(long seed) {
        return new Sampling(maxTokens, temperature, topP, stop, n, seed, includeUsage);
    }

    public Sampling includeUsage(boolean includeUsage) {
        return new Sampling(maxTokens, temperature, topP, stop, n, seed, includeUsage);
    }

    /** Writes the fields that are set into a request body; {@code stream_options} only when streaming. */
    void writeTo(ObjectNode body, boolean stream) {
        if (maxTokens != null) body.put("max_tokens", maxTokens);
        if (temperature != null) body.put("temperature", temperature);
        if (topP != null) body.put("top_p", topP);
        if (!stop.isEmpty()) stop.forEach(body.putArray("stop")::add);
        if (n != null) body.put("n", n);
        if (seed != null) body.put("seed", seed);
        body.put("stream", stream);
        if (stream && includeUsage) body.putObject("stream_options").put("include_usage", true);
    }
}
