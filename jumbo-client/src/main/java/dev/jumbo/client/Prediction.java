package dev.jumbo.client;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What a classifier made of one example ({@code POST /v1/predict}). A record over an array:
 * compare two by their fields ({@code Arrays.equals} for the probabilities), not with {@code equals}.
 *
 * @param index         the example's place in the request
 * @param classIndex    the most probable class
 * @param label         that class's name when the model knows its classes (such as {@code "Dress"}), else null
 * @param probabilities every class's probability, by class
 */
public record Prediction(int index, int classIndex, String label, float[] probabilities) {
    static Prediction from(JsonNode p) {
        JsonNode probs = Json.array(p, "probabilities");
        float[] probabilities = new float[probs.size()];
        for (int i = 0; i < probabilities.length; i++) probabilities[i] = probs.get(i).floatValue();
        JsonNode label = p.get("label");
        return new Prediction(p.path("index").asInt(), p.path("class").asInt(), label == null || label.isNull() ? null : label.asText(), probabilities);
    }
}
