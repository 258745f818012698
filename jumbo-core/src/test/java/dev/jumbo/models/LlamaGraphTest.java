package dev.jumbo.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.jumbo.nn.Parameter;
import dev.jumbo.tensor.DType;
import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.tensor.WeightMatrix;
import dev.jumbo.testing.GradCheck;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link LlamaGraph} against the runtime's own session on stories260K (both of its files), against
 * {@link LlamaTest}'s float64 reference on tiny random models (both rotary pairings, grouped-query
 * attention, tied and separate classifiers, quantized weights), and its gradients with respect to
 * the embeddings against finite differences.
 */
class LlamaGraphTest {
    private static final Path DATA = SharedData.dir();
    private final Random rnd = GradCheck.random();

    private int[] tokens(int n, int vocab) {
        int[] ids = new int[n];
        ids[0] = Llama2c.BOS;
        for (int i = 1; i < n; i++) ids[i] = rnd.nextInt(vocab);
        return ids;
    }

    /** Every position's logits of the graph against the runtime's logits of each prefix. */
    private static void matchesTheRuntime(Llama llama, int[] ids, String what) {
        LlamaGraph graph = LlamaGraph.of(llama);
        int t = ids.length, vocab = llama.vocabSize();
        float[] all;
        try (var scope = GradMode.noGrad()) {
            Tensor logits = graph.forward(ids);
            assertThat(logits.shape().toArray()).containsExactly(1, t, vocab);
            all = logits.toFloatArray();
        }
        for (int p = 1; p <= t; p++) {
            float[] want = llama.logits(Arrays.copyOf(ids, p));
            for (int v = 0; v < vocab; v++) {
                float got = all[(p - 1) * vocab + v];
                if (!(Math.abs(got - want[v]) <= 1e-4f * (1 + Math.abs(want[v]))))
                    fail("%s: position %d logit %d is %s, the runtime's %s", what, p - 1, v, got, want[v]);
            }
        }
    }

    @Test
    void logitsEqualTheRuntimesOnStories260K() throws Exception {
        try (Llama llama = Llama2c.load(DATA.resolve("llama2c/stories260K.bin"))) {
            assertThat(llama.config().kvHeads()).isLessThan(llama.config().heads()); // grouped-query attention is exercised
            matchesTheRuntime(llama, tokens(40, llama.vocabSize()), "stories260K.bin");
        }
        try (Llama llama = LlamaGguf.load(DATA.resolve("llama2c/stories260K.gguf"), 0)) {
            matchesTheRuntime(llama, tokens(33, llama.vocabSize()), "stories260K.gguf");
        }
    }

    @Test
    void logitsEqualTheFloat64ReferenceForEveryPairingAndGrouping() {
        Object[][] cases = {{4, 4, LlamaConfig.RopeStyle.NORM, true}, {4, 2, LlamaConfig.RopeStyle.NORM, false},
                {4, 1, LlamaConfig.RopeStyle.NEOX, true}, {4, 2, LlamaConfig.RopeStyle.NEOX, false}};
        for (Object[] k : cases) {
            LlamaConfig c = LlamaTest.tiny((int) k[0], (int) k[1], (LlamaConfig.RopeStyle) k[2], (boolean) k[3]);
            LlamaTest.Weights w = LlamaTest.Weights.random(c, rnd.nextLong());
            int[] ids = tokens(1 + rnd.nextInt(40), c.vocabSize());
            assertMatchesReference(LlamaGraph.of(w.llama()), w.reference(ids), ids, c.toString());
        }
    }

    @Test
    void readsQuantizedWeightsAsTheirDequantizedValues() {
        // dims of whole 32-element blocks; the reference runs on the values the blocks decode to
        LlamaConfig c = new LlamaConfig(32, 64, 2, 4, 2, 37, 100, 1e-5f, 10000, LlamaConfig.RopeStyle.NORM, false);
        for (DType type : new DType[] {DType.Q8_0, DType.Q4_0, DType.F16}) {
            LlamaTest.Weights w = LlamaTest.Weights.random(c, rnd.nextLong());
            float[][] emb = roundTrip(w.embedding(), type), out = roundTrip(w.output(), type);
            float[][][][] m = {w.wq(), w.wk(), w.wv(), w.wo(), w.w1(), w.w2(), w.w3()};
            float[][][][] q = new float[m.length][c.layers()][][];
            java.util.List<Llama.Layer> layers = new java.util.ArrayList<>();
            for (int l = 0; l < c.layers(); l++) {
                for (int i = 0; i < m.length; i++) q[i][l] = roundTrip(m[i][l], type);
                layers.add(new Llama.Layer(w.attentionNorm()[l], quantized(m[0][l], type), quantized(m[1][l], type), quantized(m[2][l], type),
                        quantized(m[3][l], type), w.ffnNorm()[l], quantized(m[4][l], type), quantized(m[5][l], type), quantized(m[6][l], type)));
            }
            Llama llama = new Llama(c, quantized(w.embedding(), type), layers, w.finalNorm(), quantized(w.output(), type), null);
            assertThat(llama.layers().getFirst().wq().type()).isEqualTo(type);
            LlamaTest.Weights decoded = new LlamaTest.Weights(c, emb, w.attentionNorm(), q[0], q[1], q[2], q[3], w.ffnNorm(), q[4], q[5], q[6], w.finalNorm(), out);
            int[] ids = tokens(17, c.vocabSize());
            assertMatchesReference(LlamaGraph.of(llama), decoded.reference(ids), ids, type.toString());
        }
    }

    private static WeightMatrix quantized(float[][] m, DType type) {
        return WeightMatrix.quantize(flat(m), m.length, m[0].length, type);
    }

    private static float[][] roundTrip(float[][] m, DType type) {
        WeightMatrix w = quantized(m, type);
        float[][] out = new float[m.length][m[0].length];
        for (int r = 0; r < m.length; r++) w.row(r, out[r], 0);
        return out;
    }

    private static float[] flat(float[][] m) {
        float[] f = new float[m.length * m[0].length];
        for (int i = 0; i < m.length; i++) System.arraycopy(m[i], 0, f, i * m[0].length, m[0].length);
        return f;
    }

    private static void assertMatchesReference(LlamaGraph graph, double[][] want, int[] ids, String what) {
        float[] got;
        try (var scope = GradMode.noGrad()) {
            got = graph.forward(ids).toFloatArray();
        }
        int vocab = want[0].length;
        assertThat(got).hasSize(ids.length * vocab);
        for (int p = 0; p < ids.length; p++)
            LlamaTest.assertClose(want[p], Arrays.copyOfRange(got, p * vocab, (p + 1) * vocab), what + " position " + p);
    }

    @Test
    void forwardOfIdsBatchesEqualsEachSequenceAlone() {
        LlamaConfig c = LlamaTest.tiny(4, 2, LlamaConfig.RopeStyle.NEOX, false);
        LlamaGraph graph = LlamaGraph.of(LlamaTest.Weights.random(c, rnd.nextLong()).llama());
        int[] a = tokens(9, c.vocabSize()), b = tokens(9, c.vocabSize());
        float[] ids = new float[18];
        for (int i = 0; i < 9; i++) {
            ids[i] = a[i];
            ids[9 + i] = b[i];
        }
        try (var scope = GradMode.noGrad()) {
            float[] both = graph.forward(Tensor.of(ids, 2, 9)).toFloatArray();
            float[] first = graph.forward(a).toFloatArray(), second = graph.forward(b).toFloatArray();
            float[] joined = Arrays.copyOf(first, both.length);
            System.arraycopy(second, 0, joined, first.length, second.length);
            for (int i = 0; i < both.length; i++) assertThat(both[i]).isCloseTo(joined[i], org.assertj.core.data.Offset.offset(1e-4f));
        }
    }

    @Test
    void gradientsWithRespectToTheEmbeddingsMatchFiniteDifferences() {
        // small enough for a central difference per embedding element; two layers, grouped heads, both pairings
        for (LlamaConfig.RopeStyle style : LlamaConfig.RopeStyle.values()) {
            LlamaConfig c = new LlamaConfig(8, 12, 2, 2, 1, 11, 16, 1e-5f, 10000, style, style == LlamaConfig.RopeStyle.NORM);
            LlamaGraph graph = LlamaGraph.of(LlamaTest.Weights.random(c, rnd.nextLong()).llama());
            for (Parameter p : graph.parameters()) p.freeze();
            Tensor x = graph.embed(tokens(5, c.vocabSize()));
            assertThat(x.requiresGrad()).isFalse();
            assertThat(x.shape().toArray()).containsExactly(1, 5, 8);
            // a step of 2e-3, not the default 1e-2: a random model's embeddings are small, RMSNorm divides by their
            // norm, and its curvature there made a 1e-2 central difference 3% off (243.4 against 235.9, once in CI)
            GradCheck.check(in -> graph.forwardEmbeddings(in.get(0)), 2e-3, 2e-2, 2e-3, x);
        }
    }

    @Test
    void gradientsReachTheWeightsThroughTheEmbeddingLookup() {
        // a tied classifier: the embedding parameter gets its gradient from the lookup and from the logits
        LlamaConfig c = new LlamaConfig(8, 12, 1, 2, 2, 7, 16, 1e-5f, 10000, LlamaConfig.RopeStyle.NORM, true);
        LlamaGraph graph = LlamaGraph.of(LlamaTest.Weights.random(c, rnd.nextLong()).llama());
        assertThat(graph.parameters()).extracting(Parameter::name).contains("embedding", "layers.0.wq", "layers.0.w2", "final_norm")
                .doesNotContain("output");
        Parameter embedding = graph.parameters().getFirst();
        int[] ids = {1, 3, 3};
        Tensor seed = Tensor.randn(rnd, 1, 3, 7);
        graph.forward(ids).mul(seed).sum().backward();
        float[] analytic = embedding.value().grad().toFloatArray(), data = embedding.value().buffer();
        double eps = 1e-2;
        for (int i : new int[] {0, 3 * 8 + 2, 5 * 8 + 7, 1 * 8 + 4}) { // looked-up rows and rows only the classifier reads
            float keep = data[i];
            double plus, minus;
            try (var scope = GradMode.noGrad()) {
                data[i] = (float) (keep + eps);
                plus = graph.forward(ids).mul(seed).sum().item();
                data[i] = (float) (keep - eps);
                minus = graph.forward(ids).mul(seed).sum().item();
            } finally {
                data[i] = keep;
            }
            double numeric = (plus - minus) / (2 * eps);
            assertThat(Math.abs(analytic[i] - numeric)).as("embedding element %d: analytic %s numeric %s", i, analytic[i], numeric)
                    .isLessThanOrEqualTo(2e-3 + 2e-2 * Math.abs(numeric));
        }
    }

    @Test
    void countsTheWeightsItCopiesAndRefusesAModelTooLargeForTheHeap() {
        LlamaConfig c = LlamaTest.tiny(4, 2, LlamaConfig.RopeStyle.NORM, false);
        LlamaGraph graph = LlamaGraph.of(LlamaTest.Weights.random(c, 1).llama());
        long held = graph.parameters().stream().mapToLong(p -> p.value().size()).sum();
        assertThat(LlamaGraph.f32Weights(c)).isEqualTo(held);
        // TinyLlama's shape: 1.1 billion weights, 4.4 GB in F32; the matrices are never built, the count refuses it first
        LlamaConfig big = new LlamaConfig(2048, 5632, 22, 32, 4, 32000, 2048, 1e-5f, 10000, LlamaConfig.RopeStyle.NORM, false);
        assertThatThrownBy(() -> LlamaGraph.checkFits(big, 4L << 30)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("4196 MB, more than half of the 4096 MB heap");
        LlamaGraph.checkFits(c, 4 * LlamaGraph.f32Weights(c) * 2); // exactly half: fits
    }

    @Test
    void rejectsBadInputsNamingThem() {
        LlamaConfig c = LlamaTest.tiny(4, 2, LlamaConfig.RopeStyle.NORM, true);
        LlamaGraph graph = LlamaGraph.of(LlamaTest.Weights.random(c, 1).llama());
        assertThatThrownBy(() -> graph.embed(new int[] {1, 41})).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("41").hasMessageContaining("position 1");
        assertThatThrownBy(() -> graph.forward(new int[0])).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no tokens");
        assertThatThrownBy(() -> graph.forwardEmbeddings(Tensor.zeros(1, 3, 31))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[batch, time, 32]");
        assertThatThrownBy(() -> graph.forwardEmbeddings(Tensor.zeros(1, 201, 32))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("context of 200");
        assertThatThrownBy(() -> graph.forward(Tensor.of(new float[] {1.5f}, 1, 1))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1.5");
    }
}
