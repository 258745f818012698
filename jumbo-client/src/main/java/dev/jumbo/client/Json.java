package dev.jumbo.client;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Reading the server's JSON: an answer that is not what the API documents fails with what was missing. */
final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {}

    static JsonNode parse(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (JacksonException e) {
            throw new UncheckedIOException(new IOException("the server's answer is not JSON: " + abbreviate(text), e));
        }
    }

    /** A field that must be there, as text. */
    static String text(JsonNode node, String field) {
        JsonNode n = node.get(field);
        if (n == null || !n.isTextual()) throw malformed("a string '" + field + "'", node);
        return n.textValue();
    }

    /** A field that must be an array. */
    static JsonNode array(JsonNode node, String field) {
        JsonNode n = node.get(field);
        if (n == null || !n.isArray()) throw malformed("an array '" + field + "'", node);
        return n;
    }

    static UncheckedIOException malformed(String expected, JsonNode got) {
        return new UncheckedIOException(new IOException("the server's answer has no " + expected + ": " + abbreviate(String.valueOf(got))));
    }

    static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 200) + "...";
    }
}
