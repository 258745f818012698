package dev.jumbo.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jumbo.data.ImageFile;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;

/**
 * A {@code POST /v1/predict} request, checked: examples for a classifier, as a JSON tensor (nested
 * arrays holding one example in the model's input shape, or a batch of them) or as images (PNG,
 * JPEG, GIF or BMP; base64 in JSON, or the request body itself), made into the batch the model takes.
 *
 * <pre>
 * {"model": "fashion", "input": [[0.0, 0.1, ...], ...]}      one 28x28 example, or [[[...]]] a batch
 * {"model": "fashion", "image": "iVBORw0KGgo..."}            or an array of them
 * POST /v1/predict?model=fashion  Content-Type: image/png    the file itself
 * </pre>
 */
record PredictRequest(ServedModel.Classifier model, Tensor batch) {
    /** The most examples one request may hold. */
    static final int MAX_EXAMPLES = 4096;

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    /** A JSON request: {@code model} and either {@code input} or {@code image}. */
    static PredictRequest parse(JsonRequest body, Function<String, ServedModel.Classifier> models) {
        ServedModel.Classifier model = models.apply(body.requiredString("model"));
        JsonNode input = body.get("input"), image = body.get("image");
        if ((input == null) == (image == null))
            throw ApiException.invalid("Give the examples as 'input' (a JSON tensor) or as 'image' (base64 image files): exactly one of them.", input == null ? "input" : "image");
        if (input != null) return new PredictRequest(model, tensor(input, model.model().inputShape()));
        List<byte[]> files = new ArrayList<>();
        if (image.isTextual()) files.add(base64(image.textValue(), "image"));
        else if (image.isArray()) {
            for (JsonNode n : image) files.add(base64(JsonRequest.string("image", n), "image"));
            if (files.isEmpty()) throw ApiException.invalid("'image' must not be an empty array.", "image");
        } else throw ApiException.invalid("'image' must be a base64 string or an array of them, got " + JsonRequest.kind(image) + ".", "image");
        if (files.size() > MAX_EXAMPLES) throw ApiException.invalid("'image' takes at most " + MAX_EXAMPLES + " images, got " + files.size() + ".", "image");
        return images(model, files, "image");
    }

    /** An image file as the whole body (its model named by the {@code model} query parameter). */
    static PredictRequest image(ServedModel.Classifier model, byte[] file) {
        return images(model, List.of(file), null);
    }

    private static PredictRequest images(ServedModel.Classifier model, List<byte[]> files, String param) {
        Shape shape = model.model().inputShape();
        ImageFile.Layout layout = ImageFile.layout(shape);
        if (layout == null)
            throw ApiException.invalid("Model '" + model.name() + "' takes examples of shape " + shape + ", not images: send 'input' as a JSON tensor.", param);
        float[] x = new float[files.size() * shape.size()];
        for (int i = 0; i < files.size(); i++) {
            float[] example;
            try {
                example = ImageFile.read(files.get(i), layout, files.size() == 1 ? "the image" : "image " + i);
            } catch (IllegalArgumentException e) {
                throw ApiException.invalid(e.getMessage(), param);
            }
            System.arraycopy(example, 0, x, i * shape.size(), example.length);
        }
        return new PredictRequest(model, Tensor.of(x, batchShape(files.size(), shape)));
    }

    private static byte[] base64(String text, String param) {
        try {
            return Base64.getMimeDecoder().decode(text.startsWith("data:") ? text.substring(text.indexOf(',') + 1) : text);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("'" + param + "' is not valid base64: " + e.getMessage(), param);
        }
    }

    /**
     * Nested arrays as the model's batch: their element count is one example's (any nesting of the
     * same numbers, e.g. [28][28] for a model of [28, 28, 1], or [784]) or a whole number of
     * examples along the first dimension.
     */
    static Tensor tensor(JsonNode input, Shape example) {
        if (!input.isArray()) throw ApiException.invalid("'input' must be an array of numbers (nested for more dimensions), got " + JsonRequest.kind(input) + ".", "input");
        List<Integer> dims = new ArrayList<>();
        for (JsonNode n = input; n.isArray(); n = n.get(0)) {
            dims.add(n.size());
            if (n.isEmpty()) throw ApiException.invalid("'input' has an empty array: its shape is " + dims + ".", "input");
        }
        long count = 1;
        for (int d : dims) count *= d;
        long per = example.size();
        if (count > per * MAX_EXAMPLES)
            throw ApiException.invalid("'input' holds " + count + " numbers, more than " + MAX_EXAMPLES + " examples of shape " + example + ".", "input");
        float[] values = new float[(int) count];
        fill(input, dims, 0, values, new int[] {0});
        int examples;
        if (count == per) examples = 1;
        else if (dims.size() > 1 && count % per == 0 && count / per == dims.getFirst()) examples = dims.getFirst();
        else throw ApiException.invalid("'input' has shape " + dims + " but model takes examples of shape " + example + " (" + per
                + " numbers), one or a batch along the first dimension.", "input");
        return Tensor.of(values, batchShape(examples, example));
    }

    /** Copies the numbers in order, checking the arrays are rectangular and hold finite numbers only. */
    private static void fill(JsonNode n, List<Integer> dims, int depth, float[] out, int[] next) {
        if (depth == dims.size()) {
            if (!n.isNumber()) throw ApiException.invalid("'input' must hold numbers only, found " + JsonRequest.kind(n) + " at depth " + depth + ".", "input");
            float v = n.floatValue();
            if (!Float.isFinite(v)) throw ApiException.invalid("'input' holds " + n + ", beyond a 32-bit float.", "input");
            out[next[0]++] = v;
            return;
        }
        if (!n.isArray() || n.size() != dims.get(depth))
            throw ApiException.invalid("'input' is not rectangular: at depth " + depth + " expected an array of " + dims.get(depth) + ", found "
                    + (n.isArray() ? "an array of " + n.size() : JsonRequest.kind(n)) + ".", "input");
        for (JsonNode c : n) fill(c, dims, depth + 1, out, next);
    }

    private static int[] batchShape(int examples, Shape example) {
        int[] dims = new int[example.rank() + 1];
        dims[0] = examples;
        System.arraycopy(example.toArray(), 0, dims, 1, example.rank());
        return dims;
    }

    /** The model's outputs for the batch, one row of class probabilities per example. */
    float[][] predict() {
        Tensor p = model.model().predict(batch, 256);
        int k = p.dim(-1);
        float[] all = p.toFloatArray();
        float[][] rows = new float[batch.dim(0)][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = Arrays.copyOfRange(all, i * k, (i + 1) * k);
            if (model.logits()) softmax(rows[i]);
        }
        return rows;
    }

    private static void softmax(float[] v) {
        float max = Float.NEGATIVE_INFINITY;
        for (float x : v) max = Math.max(max, x);
        double sum = 0;
        for (int i = 0; i < v.length; i++) sum += v[i] = (float) Math.exp(v[i] - max);
        for (int i = 0; i < v.length; i++) v[i] = (float) (v[i] / sum);
    }

    /** {@code {"object": "list", "model", "data": [{"object": "prediction", "index", "class", "label"?, "probabilities"}]}}. */
    ObjectNode response(float[][] probabilities) {
        ObjectNode o = JSON.objectNode().put("object", "list").put("model", model.name());
        ArrayNode data = o.putArray("data");
        for (int i = 0; i < probabilities.length; i++) {
            int best = 0;
            for (int c = 1; c < probabilities[i].length; c++) if (probabilities[i][c] > probabilities[i][best]) best = c;
            ObjectNode p = data.addObject().put("object", "prediction").put("index", i).put("class", best);
            if (!model.labels().isEmpty()) p.put("label", model.labels().get(best));
            ArrayNode v = p.putArray("probabilities");
            for (float x : probabilities[i]) v.add(x);
        }
        return o;
    }
}
