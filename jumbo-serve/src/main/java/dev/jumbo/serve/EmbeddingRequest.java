package dev.jumbo.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jumbo.models.Bert;
import dev.jumbo.text.EncodedBatch;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;

/**
 * A {@code POST /v1/embeddings} request, checked: texts to embed (OpenAI's {@code input}, a string
 * or an array of strings), their tokens, and whether vectors go out as JSON numbers or base64.
 * Vectors are mean-pooled and of length 1, like OpenAI's.
 *
 * @see <a href="https://platform.openai.com/docs/api-reference/embeddings/create">OpenAI's embeddings</a>
 */
record EmbeddingRequest(ServedModel.Encoder model, List<String> texts, EncodedBatch batch, int promptTokens, boolean base64) {
    /** OpenAI's own limit on the inputs of one request. */
    static final int MAX_INPUTS = 2048;

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    /** @param models the served encoder of a name (refusing other names with a 4xx) */
    static EmbeddingRequest parse(JsonRequest body, Function<String, ServedModel.Encoder> models) {
        ServedModel.Encoder model = models.apply(body.requiredString("model"));
        JsonNode input = body.get("input");
        if (input == null) throw ApiException.invalid("Missing required parameter: 'input'.", "input");
        List<String> texts = new ArrayList<>();
        if (input.isTextual()) texts.add(input.textValue());
        else if (input.isArray()) {
            for (JsonNode n : input) {
                if (n.isTextual()) texts.add(n.textValue());
                else if (n.isArray() || n.isIntegralNumber())
                    throw ApiException.invalid("'input' as token ids is not supported by jumbo serve: send the texts, which it tokenizes with the model's own tokenizer.", "input");
                else throw ApiException.invalid("'input' must be a string or an array of strings, got an array holding " + JsonRequest.kind(n) + ".", "input");
            }
        } else throw ApiException.invalid("'input' must be a string or an array of strings, got " + JsonRequest.kind(input) + ".", "input");
        if (texts.isEmpty()) throw ApiException.invalid("'input' must not be an empty array.", "input");
        if (texts.size() > MAX_INPUTS) throw ApiException.invalid("'input' takes at most " + MAX_INPUTS + " texts, got " + texts.size() + ".", "input");
        String format = body.string("encoding_format", "float");
        if (!format.equals("float") && !format.equals("base64"))
            throw ApiException.invalid("'encoding_format' must be 'float' or 'base64', got '" + format + "'.", "encoding_format");
        int dims = model.encoder().dimensions();
        body.integer("dimensions", dims, dims, dims); // this model's vectors have one length: any other is refused, not silently ignored
        body.string("user", (String) null); // checked for its type only
        int max = model.encoder().maxTokens(), tokens = 0;
        int[][] ids = new int[texts.size()][];
        for (int i = 0; i < texts.size(); i++) {
            if (texts.get(i).isEmpty()) throw ApiException.invalid("'input' must not contain an empty string (item " + i + ").", "input");
            ids[i] = model.encoder().tokenizer().encodeWithSpecialTokens(texts.get(i));
            if (ids[i].length > max)
                throw ApiException.invalid("This model's maximum context length is " + max + " tokens; input " + i + " has " + ids[i].length
                        + ". Shorten it or split it.", "input");
            tokens += ids[i].length;
        }
        return new EmbeddingRequest(model, List.copyOf(texts), model.encoder().tokenizer().pad(ids, max), tokens, format.equals("base64"));
    }

    /** The vectors of the texts, in order. */
    float[][] embed() {
        return model.encoder().embed(batch, Bert.Pooling.MEAN, true);
    }

    /** OpenAI's response: a list of {@code embedding} objects and the token count. */
    ObjectNode response(float[][] vectors) {
        ObjectNode o = JSON.objectNode().put("object", "list");
        ArrayNode data = o.putArray("data");
        for (int i = 0; i < vectors.length; i++) {
            ObjectNode e = data.addObject().put("object", "embedding").put("index", i);
            if (base64) e.put("embedding", littleEndianBase64(vectors[i]));
            else {
                ArrayNode v = e.putArray("embedding");
                for (float x : vectors[i]) v.add(x);
            }
        }
        o.put("model", model.name());
        o.putObject("usage").put("prompt_tokens", promptTokens).put("total_tokens", promptTokens);
        return o;
    }

    /** The floats as OpenAI's SDKs decode {@code encoding_format: base64}: float32, little-endian. */
    private static String littleEndianBase64(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return Base64.getEncoder().encodeToString(b.array());
    }
}
