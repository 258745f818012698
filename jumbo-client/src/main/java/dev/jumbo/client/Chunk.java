package dev.jumbo.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * One piece of a streamed completion or chat reply, as it arrives: more {@code text} of choice
 * {@code index}, and on a choice's last piece its {@code finishReason}. A stream that asked for
 * usage ({@code includeUsage(true)}) ends with a piece that carries only the token counts (index
 * -1, no text), as OpenAI's last chunk has no choice.
 *
 * @param finishReason null until the choice's last piece, then {@code stop} or {@code length}
 * @param usage        null except on the usage piece
 */
public record Chunk(int index, String text, String finishReason, Usage usage) {
    /** The pieces of one of OpenAI's chunks ({@code choices[i].text}, or {@code .delta.content} for a chat); none that say nothing. */
    static List<Chunk> from(JsonNode chunk) {
        List<Chunk> out = new ArrayList<>();
        for (JsonNode c : Json.array(chunk, "choices")) {
            JsonNode text = c.has("delta") ? c.get("delta").get("content") : c.get("text");
            String piece = text == null || text.isNull() ? "" : text.asText();
            String finish = c.path("finish_reason").asText(null);
            if (!piece.isEmpty() || finish != null) out.add(new Chunk(c.path("index").asInt(), piece, finish, null));
        }
        Usage usage = Usage.from(chunk.get("usage"));
        if (usage != null) out.add(new Chunk(-1, "", null, usage));
        return out;
    }
}
