package dev.jumbo.client;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * A chat reply ({@code POST /v1/chat/completions}): the conversation so far, written out by the
 * model's chat template on the server.
 *
 * <pre>{@code
 * ChatRequest request = ChatRequest.of("stories260K", ChatMessage.system("You tell stories."), ChatMessage.user("Tell me one."))
 *         .maxTokens(50).seed(7);
 * }</pre>
 */
public record ChatRequest(String model, List<ChatMessage> messages, Sampling sampling) implements SampledRequest<ChatRequest> {
    /** @throws IllegalArgumentException when there is no message */
    public ChatRequest {
        if (model == null || sampling == null) throw new NullPointerException("a chat request needs a model and its sampling");
        messages = List.copyOf(messages);
        if (messages.isEmpty()) throw new IllegalArgumentException("a chat request needs at least one message");
    }

    /** The conversation answered with the server's defaults (a reply of up to the rest of the context). */
    public static ChatRequest of(String model, ChatMessage... messages) {
        return new ChatRequest(model, List.of(messages), Sampling.DEFAULTS);
    }

    @Override
    public ChatRequest sampling(Sampling sampling) {
        return new ChatRequest(model, messages, sampling);
    }

    ObjectNode body(boolean stream) {
        ObjectNode body = JsonNodeFactory.instance.objectNode().put("model", model);
        ArrayNode array = body.putArray("messages");
        for (ChatMessage m : messages) array.addObject().put("role", m.role()).put("content", m.content());
        sampling.writeTo(body, stream);
        return body;
    }
}
