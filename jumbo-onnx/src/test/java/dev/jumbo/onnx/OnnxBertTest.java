package dev.jumbo.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import dev.jumbo.models.Bert;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * all-MiniLM-L6-v2 (the ONNX file langchain4j ships) through Jumbo against ONNX Runtime on the same
 * token ids, and against the shared reference embeddings computed with ONNX Runtime.
 */
class OnnxBertTest {
    @TempDir
    static Path dir;
    static Path onnx;
    static Bert bert;

    @BeforeAll
    static void load() throws Exception {
        onnx = dir.resolve("all-minilm-l6-v2.onnx");
        try (InputStream in = OnnxBertTest.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
            assertThat(in).as("all-minilm-l6-v2.onnx on the test class path").isNotNull();
            Files.copy(in, onnx);
        }
        bert = OnnxBert.load(onnx);
    }

    private static Path shared() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent())
            if (Files.isDirectory(p.resolve("shared/data/reference"))) return p.resolve("shared/data");
        throw new IllegalStateException("shared/data not found beside the checkout");
    }

    @Test
    void readsMiniLmsShape() {
        assertThat(bert.config().hiddenSize()).isEqualTo(384);
        assertThat(bert.config().numHiddenLayers()).isEqualTo(6);
        assertThat(bert.config().numAttentionHeads()).isEqualTo(12);
        assertThat(bert.config().vocabSize()).isEqualTo(30522);
    }

    @Test
    void embeddingsMatchOnnxRuntime() throws Exception {
        Map<?, ?> ref = (Map<?, ?>) Json.parse(Files.readString(shared().resolve("reference/minilm-reference.json")));
        List<?> items = (List<?>) ref.get("items");
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(onnx.toString(), new OrtSession.SessionOptions())) {
            for (Object o : items) {
                Map<?, ?> item = (Map<?, ?>) o;
                long[] ids = ((List<?>) item.get("input_ids")).stream().mapToLong(x -> (Long) x).toArray();
                int[] intIds = java.util.Arrays.stream(ids).mapToInt(x -> (int) x).toArray();
                float[] jumbo = bert.embed(new int[][] {intIds}, true)[0];
                // ONNX Runtime, live, on the same ids: mean of last_hidden_state, normalised
                long[] ones = new long[ids.length], zeros = new long[ids.length];
                java.util.Arrays.fill(ones, 1);
                float[][][] h;
                try (OnnxTensor a = OnnxTensor.createTensor(env, new long[][] {ids});
                     OnnxTensor m = OnnxTensor.createTensor(env, new long[][] {ones});
                     OnnxTensor t = OnnxTensor.createTensor(env, new long[][] {zeros});
                     OrtSession.Result r = session.run(Map.of("input_ids", a, "attention_mask", m, "token_type_ids", t))) {
                    h = (float[][][]) r.get(0).getValue();
                }
                float[] ort = meanNormalised(h[0]);
                List<?> stored = (List<?>) item.get("embedding");
                for (float[] other : new float[][] {ort, toFloats(stored)}) {
                    double dot = 0, maxDiff = 0;
                    for (int k = 0; k < jumbo.length; k++) {
                        dot += jumbo[k] * other[k];
                        maxDiff = Math.max(maxDiff, Math.abs(jumbo[k] - other[k]));
                    }
                    assertThat(dot).as("cosine, %s", item.get("text")).isGreaterThanOrEqualTo(0.9999);
                    assertThat(maxDiff).as("max abs difference, %s", item.get("text")).isLessThanOrEqualTo(1e-4);
                }
            }
        }
    }

    private static float[] meanNormalised(float[][] h) {
        float[] out = new float[h[0].length];
        double norm = 0;
        for (int k = 0; k < out.length; k++) {
            double s = 0;
            for (float[] row : h) s += row[k];
            out[k] = (float) (s / h.length);
            norm += out[k] * out[k];
        }
        for (int k = 0; k < out.length; k++) out[k] /= (float) Math.sqrt(norm);
        return out;
    }

    private static float[] toFloats(List<?> list) {
        float[] v = new float[list.size()];
        for (int i = 0; i < v.length; i++) v[i] = ((Number) list.get(i)).floatValue();
        return v;
    }

    @Test
    void notOnnxOrUnsupportedGraphsAreNamed() throws Exception {
        Path junk = dir.resolve("junk.onnx");
        Files.writeString(junk, "this is not a protobuf");
        assertThatThrownBy(() -> OnnxBert.load(junk)).isInstanceOf(FormatException.class).hasMessageContaining("junk.onnx");
        // a graph with an operator no BERT encoder has
        ai.onnx.proto.OnnxMl.ModelProto m = ai.onnx.proto.OnnxMl.ModelProto.newBuilder()
                .setGraph(ai.onnx.proto.OnnxMl.GraphProto.newBuilder().addNode(ai.onnx.proto.OnnxMl.NodeProto.newBuilder()
                        .setOpType("Conv").setName("conv0"))).build();
        Path conv = dir.resolve("conv.onnx");
        Files.write(conv, m.toByteArray());
        assertThatThrownBy(() -> OnnxBert.load(conv)).isInstanceOf(FormatException.class)
                .hasMessageContaining("operator Conv").hasMessageContaining("conv0");
    }
}
