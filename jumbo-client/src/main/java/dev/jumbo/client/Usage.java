package dev.jumbo.client;

import com.fasterxml.jackson.databind.JsonNode;

/** Token counts of a request, as the server reports them ({@code usage}). */
public record Usage(int promptTokens, int completionTokens, int totalTokens) {
    /** The counts of a {@code usage} object, or null when there is none. */
    static Usage from(JsonNode usage) {
        if (usage == null || !usage.isObject()) return null;
        return new Usage(usage.path("prompt_tokens").asInt(), usage.path("completion_tokens").asInt(), usage.path("total_tokens").asInt());
    }
}
