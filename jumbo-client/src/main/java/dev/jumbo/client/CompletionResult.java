package dev.jumbo.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * The answer to a completion or chat request: its choices (for a chat, the assistant's message
 * content is a choice's {@code text}) and token counts.
 *
 * @param choices by index
 * @param usage   the token counts, or null for a stream that did not ask for them
 */
public record CompletionResult(String id, String model, long created, List<Choice> choices, Usage usage) {
    public CompletionResult {
        choices = List.copyOf(choices);
    }

    /**
     * One generated answer.
     *
     * @param finishReason {@code stop} (the end token or a stop string) or {@code length}
     *                     ({@code max_tokens} or the context); null for a stream cut short
     */
    public record Choice(int index, String text, String finishReason) {}

    /** The first choice's text (the only one unless {@code n} asked for more). */
    public String text() {
        return choices.getFirst().text();
    }

    /** The first choice's finish reason. */
    public String finishReason() {
        return choices.getFirst().finishReason();
    }

    /** A whole response: {@code choices[i].text}, or {@code choices[i].message.content} for a chat. */
    static CompletionResult from(JsonNode response) {
        List<Choice> choices = new ArrayList<>();
        for (JsonNode c : Json.array(response, "choices")) {
            JsonNode text = c.has("message") ? c.get("message").get("content") : c.get("text");
            choices.add(new Choice(c.path("index").asInt(choices.size()), text == null || text.isNull() ? "" : text.asText(),
                    c.path("finish_reason").asText(null)));
        }
        return new CompletionResult(response.path("id").asText(null), response.path("model").asText(null),
                response.path("created").asLong(), choices, Usage.from(response.get("usage")));
    }
}
