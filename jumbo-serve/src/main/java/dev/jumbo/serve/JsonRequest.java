package dev.jumbo.serve;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * A request's JSON body, read field by field with the types and ranges OpenAI's API documents:
 * a field of the wrong type or out of range is a 400 naming it ({@link ApiException#invalid}).
 * An absent field and an explicit {@code null} both mean "the default", as in OpenAI's SDKs.
 */
final class JsonRequest {
    static final ObjectMapper MAPPER = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final ObjectNode body;

    private JsonRequest(ObjectNode body) {
        this.body = body;
    }

    /** The body as a JSON object, or a 400 when it is not valid JSON or not an object. */
    static JsonRequest parse(byte[] bytes) {
        JsonNode node;
        try {
            node = MAPPER.readTree(bytes);
        } catch (JacksonException e) {
            throw ApiException.invalid("We could not parse the JSON body of your request: " + describe(e), null);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        if (!(node instanceof ObjectNode o)) throw ApiException.invalid("The request body must be a JSON object.", null);
        return new JsonRequest(o);
    }

    /** Jackson's complaint without its source excerpt, with where it was found. */
    private static String describe(JacksonException e) {
        String what = e.getOriginalMessage().lines().findFirst().orElse("invalid JSON");
        int marker = what.indexOf(" (start marker at");
        if (marker >= 0) what = what.substring(0, marker);
        return e.getLocation() == null ? what : what + " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
    }

    /** The field, or null when it is absent or null. */
    JsonNode get(String field) {
        JsonNode n = body.get(field);
        return n == null || n.isNull() ? null : n;
    }

    String requiredString(String field) {
        JsonNode n = get(field);
        if (n == null) throw ApiException.invalid("Missing required parameter: '" + field + "'.", field);
        return string(field, n);
    }

    String string(String field, String otherwise) {
        JsonNode n = get(field);
        return n == null ? otherwise : string(field, n);
    }

    static String string(String field, JsonNode n) {
        if (!n.isTextual()) throw ApiException.invalid("'" + field + "' must be a string, got " + kind(n) + ".", field);
        return n.textValue();
    }

    boolean bool(String field, boolean otherwise) {
        JsonNode n = get(field);
        if (n == null) return otherwise;
        if (!n.isBoolean()) throw ApiException.invalid("'" + field + "' must be a boolean, got " + kind(n) + ".", field);
        return n.booleanValue();
    }

    /** An integer in [min, max], or {@code otherwise} when absent. */
    int integer(String field, int otherwise, int min, int max) {
        JsonNode n = get(field);
        if (n == null) return otherwise;
        if (!n.isIntegralNumber()) throw ApiException.invalid("'" + field + "' must be an integer, got " + kind(n) + ".", field);
        if (!n.canConvertToLong() || n.longValue() < min || n.longValue() > max)
            throw ApiException.invalid("'" + field + "' must be between " + min + " and " + max + ", got " + n + ".", field);
        return n.intValue();
    }

    /** Any 64-bit integer, or null when absent. */
    Long optionalLong(String field) {
        JsonNode n = get(field);
        if (n == null) return null;
        if (!n.isIntegralNumber() || !n.canConvertToLong())
            throw ApiException.invalid("'" + field + "' must be a 64-bit integer, got " + n + ".", field);
        return n.longValue();
    }

    /** A number in [min, max], or {@code otherwise} when absent. */
    double number(String field, double otherwise, double min, double max) {
        JsonNode n = get(field);
        if (n == null) return otherwise;
        if (!n.isNumber()) throw ApiException.invalid("'" + field + "' must be a number, got " + kind(n) + ".", field);
        double v = n.doubleValue();
        if (!(v >= min && v <= max)) throw ApiException.invalid("'" + field + "' must be between " + min + " and " + max + ", got " + n + ".", field);
        return v;
    }

    /** {@code stop}: a string or an array of up to {@code max} non-empty strings; empty when absent. */
    List<String> stopStrings(String field, int max) {
        JsonNode n = get(field);
        if (n == null) return List.of();
        List<String> stops = new ArrayList<>();
        if (n.isTextual()) stops.add(n.textValue());
        else if (n.isArray()) for (JsonNode s : n) stops.add(string(field, s));
        else throw ApiException.invalid("'" + field + "' must be a string or an array of strings, got " + kind(n) + ".", field);
        if (stops.size() > max) throw ApiException.invalid("'" + field + "' takes at most " + max + " strings, got " + stops.size() + ".", field);
        if (stops.stream().anyMatch(String::isEmpty)) throw ApiException.invalid("'" + field + "' must not contain an empty string.", field);
        return stops;
    }

    /** A 400 when {@code field} is present and not one of the values Jumbo implements (it would otherwise be silently ignored). */
    void unsupportedUnless(String field, java.util.function.Predicate<JsonNode> implemented) {
        JsonNode n = get(field);
        if (n != null && !implemented.test(n))
            throw ApiException.invalid("'" + field + "' is not supported by jumbo serve (got " + n + ").", field);
    }

    /** A JSON value's type as the error messages name it. */
    static String kind(JsonNode n) {
        return switch (n.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case ARRAY -> "an array";
            case OBJECT, POJO -> "an object";
            default -> "null";
        };
    }
}
