package dev.jumbo.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/** A streamed answer put back together from its chunks: each choice's text and finish reason, the usage if sent. */
final class StreamedResult {
    private final TreeMap<Integer, StringBuilder> texts = new TreeMap<>();
    private final TreeMap<Integer, String> finishReasons = new TreeMap<>();
    private String id, model;
    private long created;
    private Usage usage;

    /** Adds one piece of {@code chunk} (the chunk for its id, model and creation time). */
    void add(JsonNode chunk, Chunk piece) {
        if (id == null) {
            id = chunk.path("id").asText(null);
            model = chunk.path("model").asText(null);
            created = chunk.path("created").asLong();
        }
        if (piece.usage() != null) {
            usage = piece.usage();
            return;
        }
        texts.computeIfAbsent(piece.index(), i -> new StringBuilder()).append(piece.text());
        if (piece.finishReason() != null) finishReasons.put(piece.index(), piece.finishReason());
    }

    CompletionResult build() {
        List<CompletionResult.Choice> choices = new ArrayList<>();
        texts.forEach((i, text) -> choices.add(new CompletionResult.Choice(i, text.toString(), finishReasons.get(i))));
        return new CompletionResult(id, model, created, choices, usage);
    }
}
