package dev.jumbo.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jumbo.models.Bert;
import dev.jumbo.models.TextEncoder;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code POST /v1/embeddings} of a real server holding all-MiniLM-L6-v2 (Q8_0 GGUF from ../shared/data) beside the bundled generator. */
class EmbeddingsTest {
    private static TestServer api;
    private static TextEncoder reference;

    static Path minilm() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent())
            if (Files.isRegularFile(p.resolve("shared/data/gguf/all-minilm-l6-v2-q8_0.gguf"))) return p.resolve("shared/data/gguf/all-minilm-l6-v2-q8_0.gguf");
        throw new IllegalStateException("shared/data/gguf/all-minilm-l6-v2-q8_0.gguf not found beside the checkout or above " + Path.of("").toAbsolutePath());
    }

    @BeforeAll
    static void start() throws IOException {
        api = TestServer.start(TestServer.options(null, 2, 2, 1 << 20));
        api.server.serve("minilm", TextEncoder.load(minilm()));
        reference = TextEncoder.load(minilm());
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    private static float[] vector(JsonNode embedding) {
        float[] v = new float[embedding.size()];
        for (int i = 0; i < v.length; i++) v[i] = embedding.get(i).floatValue();
        return v;
    }

    @Test
    void vectorsAreTheEncodersMeanPooledUnitVectors() {
        List<String> texts = List.of("A man is eating food.", "The new movie is awesome, really awesome!", "x");
        HttpResponse<String> r = api.post("/v1/embeddings", "{\"model\":\"minilm\",\"input\":" + TestServer.JSON.valueToTree(texts) + "}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode body = TestServer.json(r);
        assertThat(body.get("object").asText()).isEqualTo("list");
        assertThat(body.get("model").asText()).isEqualTo("minilm");
        float[][] expected = reference.embed(reference.encode(texts), Bert.Pooling.MEAN, true);
        int tokens = 0;
        for (String t : texts) tokens += reference.tokenizer().encodeWithSpecialTokens(t).length;
        assertThat(body.get("usage").get("prompt_tokens").asInt()).isEqualTo(tokens);
        assertThat(body.get("usage").get("total_tokens").asInt()).isEqualTo(tokens);
        JsonNode data = body.get("data");
        assertThat(data).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertThat(data.get(i).get("object").asText()).isEqualTo("embedding");
            assertThat(data.get(i).get("index").asInt()).isEqualTo(i);
            float[] v = vector(data.get(i).get("embedding"));
            assertThat(v).hasSize(384).containsExactly(expected[i], org.assertj.core.data.Offset.offset(1e-6f));
            double norm = 0;
            for (float x : v) norm += x * x;
            assertThat(norm).isCloseTo(1, org.assertj.core.data.Offset.offset(1e-4));
        }
    }

    @Test
    void base64IsLittleEndianFloat32AsOpenAisSdksDecodeIt() {
        JsonNode floats = TestServer.json(api.post("/v1/embeddings", "{\"model\":\"minilm\",\"input\":\"hello there\"}"));
        JsonNode b64 = TestServer.json(api.post("/v1/embeddings", "{\"model\":\"minilm\",\"input\":\"hello there\",\"encoding_format\":\"base64\",\"dimensions\":384}"));
        ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(b64.get("data").get(0).get("embedding").asText())).order(ByteOrder.LITTLE_ENDIAN);
        float[] decoded = new float[bytes.remaining() / 4];
        bytes.asFloatBuffer().get(decoded);
        assertThat(decoded).containsExactly(vector(floats.get("data").get(0).get("embedding")));
    }

    @Test
    void badRequestsGetOpenAiErrors() {
        assertError("{\"model\":\"minilm\"}", 400, "input", "Missing required parameter");
        assertError("{\"model\":\"minilm\",\"input\":[]}", 400, "input", "empty array");
        assertError("{\"model\":\"minilm\",\"input\":[\"a\",\"\"]}", 400, "input", "item 1");
        assertError("{\"model\":\"minilm\",\"input\":[[101,102]]}", 400, "input", "token ids");
        assertError("{\"model\":\"minilm\",\"input\":{}}", 400, "input", "an object");
        assertError("{\"model\":\"minilm\",\"input\":\"a\",\"encoding_format\":\"int8\"}", 400, "encoding_format", "'float' or 'base64'");
        assertError("{\"model\":\"minilm\",\"input\":\"a\",\"dimensions\":128}", 400, "dimensions", "384");
        assertError("{\"model\":\"minilm\",\"input\":" + TestServer.JSON.valueToTree("word ".repeat(600)) + "}", 400, "input", "maximum context length is 512");
        assertError("{\"model\":\"stories260K\",\"input\":\"a\"}", 400, "model", "/v1/completions");
        assertError("{\"model\":\"nope\",\"input\":\"a\"}", 404, "model", "does not exist");
        HttpResponse<String> wrongEndpoint = api.post("/v1/completions", "{\"model\":\"minilm\",\"prompt\":\"a\"}");
        assertThat(wrongEndpoint.statusCode()).isEqualTo(400);
        assertThat(wrongEndpoint.body()).contains("an embedding model").contains("/v1/embeddings");
    }

    @Test
    void theModelListHoldsEveryKind() {
        JsonNode data = TestServer.json(api.get("/v1/models")).get("data");
        assertThat(data.findValuesAsText("id")).containsExactly("minilm", "stories260K");
    }

    private static void assertError(String body, int status, String param, String message) {
        TestServer.assertClientError(api.post("/v1/embeddings", body), status, param, message);
    }
}
