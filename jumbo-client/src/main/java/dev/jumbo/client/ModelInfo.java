package dev.jumbo.client;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A model the server answers for, as {@code GET /v1/models} lists it.
 *
 * @param id      the name requests give as {@code "model"}
 * @param created when it was loaded, in seconds since the epoch
 * @param ownedBy who serves it ({@code "jumbo"} for jumbo serve)
 */
public record ModelInfo(String id, long created, String ownedBy) {
    static ModelInfo from(JsonNode model) {
        return new ModelInfo(Json.text(model, "id"), model.path("created").asLong(), model.path("owned_by").asText(null));
    }
}
