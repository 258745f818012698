package dev.jumbo.client;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A legacy completion ({@code POST /v1/completions}): a prompt to continue.
 *
 * <pre>{@code
 * CompletionRequest request = CompletionRequest.of("stories260K", "Once upon a time").maxTokens(40).temperature(0);
 * }</pre>
 */
public record CompletionRequest(String model, String prompt, Sampling sampling) implements SampledRequest<CompletionRequest> {
    /** @throws NullPointerException when a component is null */
    public CompletionRequest {
        if (model == null || prompt == null || sampling == null) throw new NullPointerException("a completion needs a model, a prompt and its sampling");
    }

    /** The prompt continued with the server's defaults (16 tokens for a completion). */
    public static CompletionRequest of(String model, String prompt) {
        return new CompletionRequest(model, prompt, Sampling.DEFAULTS);
    }

    @Override
    public CompletionRequest sampling(Sampling sampling) {
        return new CompletionRequest(model, prompt, sampling);
    }

    ObjectNode body(boolean stream) {
        ObjectNode body = JsonNodeFactory.instance.objectNode().put("model", model).put("prompt", prompt);
        sampling.writeTo(body, stream);
        return body;
    }
}
