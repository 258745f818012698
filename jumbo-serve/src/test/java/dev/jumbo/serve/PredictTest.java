package dev.jumbo.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Conv2D;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.MaxPool2D;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/predict} against a real server holding two classifiers made here: a small CNN
 * on [28, 28, 1] images ending in a softmax, named classes, and a Dense model on 5 numbers ending
 * in logits. The server's probabilities must be the library's own predictions.
 */
class PredictTest {
    private static final List<String> LABELS = List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j");
    private static TestServer api;
    private static Sequential cnn, dense;

    @BeforeAll
    static void start() {
        cnn = new Sequential(Shape.of(28, 28, 1), new Conv2D(4, 3, Activation.RELU), new MaxPool2D(2), new Flatten(), new Dense(10, Activation.SOFTMAX));
        dense = new Sequential(Shape.of(5), new Dense(3));
        api = TestServer.start(TestServer.options(null, 2, 2, 1 << 20));
        api.server.serve("cnn", cnn, LABELS);
        api.server.serve("dense", dense, List.of());
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    private static float[] reference(Sequential model, float[] x, int... shape) {
        return model.predict(Tensor.of(x, shape), 256).toFloatArray();
    }

    private static float[] probabilities(JsonNode prediction) {
        JsonNode p = prediction.get("probabilities");
        float[] out = new float[p.size()];
        for (int i = 0; i < out.length; i++) out[i] = p.get(i).floatValue();
        return out;
    }

    private static float[] random(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = r.nextFloat();
        return x;
    }

    private static ArrayNode nested(float[] x, int... dims) {
        ArrayNode a = TestServer.JSON.createArrayNode();
        fill(a, x, dims, 0, 0);
        return a;
    }

    private static int fill(ArrayNode a, float[] x, int[] dims, int depth, int at) {
        for (int i = 0; i < dims[depth]; i++) {
            if (depth == dims.length - 1) a.add(x[at++]);
            else at = fill(a.addArray(), x, dims, depth + 1, at);
        }
        return at;
    }

    private static HttpResponse<String> predict(ObjectNode body) {
        return api.post("/v1/predict", body.toString());
    }

    @Test
    void aJsonBatchGetsTheModelsProbabilitiesAndLabels() {
        Random r = new Random();
        float[] x = random(r, 3 * 28 * 28);
        ObjectNode body = TestServer.JSON.createObjectNode().put("model", "cnn");
        body.set("input", nested(x, 3, 28, 28)); // a batch of 3 in [28][28]: the channel dimension left out
        HttpResponse<String> res = predict(body);
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        JsonNode data = TestServer.json(res).get("data");
        float[] expected = reference(cnn, x, 3, 28, 28, 1);
        assertThat(data).hasSize(3);
        for (int i = 0; i < 3; i++) {
            JsonNode p = data.get(i);
            float[] got = probabilities(p);
            assertThat(got).containsExactly(java.util.Arrays.copyOfRange(expected, i * 10, i * 10 + 10), org.assertj.core.data.Offset.offset(1e-6f));
            int best = 0;
            for (int c = 1; c < 10; c++) if (got[c] > got[best]) best = c;
            assertThat(p.get("index").asInt()).isEqualTo(i);
            assertThat(p.get("class").asInt()).isEqualTo(best);
            assertThat(p.get("label").asText()).isEqualTo(LABELS.get(best));
        }
    }

    /** An int8 model from jumbo quantize serves like any other: the server's probabilities are its own predictions. */
    @Test
    void anInt8ClassifierServesItsOwnPredictions() {
        Sequential int8 = dev.jumbo.compress.Quantizer.dynamic(cnn);
        api.server.serve("cnn-int8", int8, LABELS);
        float[] x = random(new Random(), 2 * 28 * 28);
        ObjectNode body = TestServer.JSON.createObjectNode().put("model", "cnn-int8");
        body.set("input", nested(x, 2, 784));
        JsonNode data = TestServer.json(predict(body)).get("data");
        float[] expected = reference(int8, x, 2, 28, 28, 1);
        for (int i = 0; i < 2; i++)
            assertThat(probabilities(data.get(i))).containsExactly(java.util.Arrays.copyOfRange(expected, i * 10, i * 10 + 10), org.assertj.core.data.Offset.offset(1e-6f));
    }

    @Test
    void logitsBecomeProbabilitiesAndOneExampleNeedsNoBatchDimension() {
        float[] x = random(new Random(), 5);
        ObjectNode body = TestServer.JSON.createObjectNode().put("model", "dense");
        body.set("input", nested(x, 5));
        JsonNode data = TestServer.json(predict(body)).get("data");
        assertThat(data).hasSize(1);
        assertThat(data.get(0).has("label")).isFalse();
        float[] logits = reference(dense, x, 1, 5), got = probabilities(data.get(0));
        double sum = 0;
        for (float l : logits) sum += Math.exp(l);
        for (int c = 0; c < 3; c++) assertThat((double) got[c]).isCloseTo(Math.exp(logits[c]) / sum, org.assertj.core.data.Offset.offset(1e-6));
    }

    /** A random 28x28 grey picture drawn at twice its size: each output pixel averages a 2x2 block of one value, giving the picture back. */
    @Test
    void anImageIsResizedGreyedAndScaledAsTheTrainingData() throws IOException {
        Random r = new Random();
        int[] grey = new int[28 * 28];
        float[] x = new float[28 * 28];
        BufferedImage big = new BufferedImage(56, 56, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < grey.length; i++) {
            grey[i] = r.nextInt(256);
            x[i] = grey[i] / 255f;
            int rgb = grey[i] * 0x010101;
            int y = i / 28 * 2, c = i % 28 * 2;
            big.setRGB(c, y, rgb);
            big.setRGB(c + 1, y, rgb);
            big.setRGB(c, y + 1, rgb);
            big.setRGB(c + 1, y + 1, rgb);
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(big, "png", png);
        float[] expected = reference(cnn, x, 1, 28, 28, 1);

        HttpResponse<String> raw = api.send(api.request("/v1/predict?model=cnn").header("Content-Type", "image/png")
                .POST(HttpRequest.BodyPublishers.ofByteArray(png.toByteArray())).build());
        assertThat(raw.statusCode()).as(raw.body()).isEqualTo(200);
        assertThat(probabilities(TestServer.json(raw).get("data").get(0))).containsExactly(expected, org.assertj.core.data.Offset.offset(1e-5f));

        ObjectNode body = TestServer.JSON.createObjectNode().put("model", "cnn");
        body.putArray("image").add(Base64.getEncoder().encodeToString(png.toByteArray())).add(Base64.getEncoder().encodeToString(png.toByteArray()));
        JsonNode data = TestServer.json(predict(body)).get("data");
        assertThat(data).hasSize(2);
        assertThat(probabilities(data.get(1))).containsExactly(expected, org.assertj.core.data.Offset.offset(1e-5f));
    }

    /** Grey PNGs (as MNIST-like images are stored), 8 and 16 bits: the stored values, not Java2D's linear-grey-to-sRGB brightening. */
    @Test
    void aGreyImageIsReadAsTheValuesItStores() throws IOException {
        Random r = new Random();
        float[] x = new float[28 * 28];
        BufferedImage grey8 = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY), grey16 = new BufferedImage(28, 28, BufferedImage.TYPE_USHORT_GRAY);
        for (int i = 0; i < x.length; i++) {
            int v = r.nextInt(256);
            x[i] = v / 255f;
            grey8.getRaster().setSample(i % 28, i / 28, 0, v);
            grey16.getRaster().setSample(i % 28, i / 28, 0, v * 257);
        }
        float[] expected = reference(cnn, x, 1, 28, 28, 1);
        for (BufferedImage image : List.of(grey8, grey16)) {
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            ImageIO.write(image, "png", png);
            HttpResponse<String> res = api.send(api.request("/v1/predict?model=cnn").header("Content-Type", "image/png")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(png.toByteArray())).build());
            assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
            assertThat(probabilities(TestServer.json(res).get("data").get(0))).as("type %d", image.getType())
                    .containsExactly(expected, org.assertj.core.data.Offset.offset(1e-5f));
        }
    }

    @Test
    void badInputsGetOpenAiErrorsNamingTheProblem() {
        assertError("{\"model\":\"cnn\",\"input\":[[1,2],[3]]}", 400, "input", "not rectangular");
        assertError("{\"model\":\"cnn\",\"input\":[1,2,3]}", 400, "input", "[3]");
        assertError("{\"model\":\"cnn\",\"input\":[[\"a\"]]}", 400, "input", "numbers only");
        assertError("{\"model\":\"cnn\",\"input\":[1e400]}", 400, "input", "32-bit");
        assertError("{\"model\":\"cnn\"}", 400, "input", "exactly one");
        assertError("{\"model\":\"cnn\",\"input\":[0],\"image\":\"AA==\"}", 400, "image", "exactly one");
        assertError("{\"model\":\"cnn\",\"image\":\"not base64!\"}", 400, "image", "base64");
        assertError("{\"model\":\"cnn\",\"image\":\"" + Base64.getEncoder().encodeToString("hello".getBytes()) + "\"}", 400, "image", "not an image");
        assertError("{\"model\":\"dense\",\"image\":\"AA==\"}", 400, "image", "not images");
        assertError("{\"model\":\"nope\",\"input\":[0]}", 404, "model", "does not exist");
        assertError("{\"model\":\"stories260K\",\"input\":[0]}", 400, "model", "/v1/completions");
        HttpResponse<String> noModel = api.send(api.request("/v1/predict").header("Content-Type", "image/png")
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {1, 2})).build());
        assertThat(noModel.statusCode()).isEqualTo(400);
        assertThat(noModel.body()).contains("?model=NAME");
        HttpResponse<String> truncated = api.send(api.request("/v1/predict?model=cnn").header("Content-Type", "image/png")
                .POST(HttpRequest.BodyPublishers.ofByteArray(java.util.Arrays.copyOf(pngHeader(), 40))).build());
        assertThat(truncated.statusCode()).as(truncated.body()).isEqualTo(400);
        HttpResponse<String> text = api.send(api.request("/v1/predict").header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("1 2 3")).build());
        assertThat(text.statusCode()).isEqualTo(415);
    }

    @Test
    void aHugeImageIsRefusedBeforeItIsDecoded() throws IOException {
        BufferedImage huge = new BufferedImage(5000, 4000, BufferedImage.TYPE_BYTE_BINARY); // compresses to a few kB, 20 M pixels
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(huge, "png", png);
        HttpResponse<String> r = api.send(api.request("/v1/predict?model=cnn").header("Content-Type", "image/png")
                .POST(HttpRequest.BodyPublishers.ofByteArray(png.toByteArray())).build());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(TestServer.json(r).get("error").get("message").asText()).contains("5000x4000");
    }

    private static byte[] pngHeader() {
        try {
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            ImageIO.write(new BufferedImage(28, 28, BufferedImage.TYPE_INT_RGB), "png", png);
            return png.toByteArray();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void assertError(String body, int status, String param, String message) {
        TestServer.assertClientError(api.post("/v1/predict", body), status, param, message);
    }
}
