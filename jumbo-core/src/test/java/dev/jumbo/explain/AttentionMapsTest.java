package dev.jumbo.explain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.models.Bert;
import dev.jumbo.models.BertConfig;
import dev.jumbo.models.Gpt2;
import dev.jumbo.models.Gpt2Config;
import dev.jumbo.models.Llama;
import dev.jumbo.models.Llama2c;
import dev.jumbo.models.LlamaConfig;
import dev.jumbo.models.LlamaGraph;
import dev.jumbo.nn.Module;
import dev.jumbo.tensor.AttentionProbe;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.tensor.WeightMatrix;
import dev.jumbo.testing.GradCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link AttentionMaps} of GPT-2, BERT and Llama models with random weights: the first layer's
 * maps against softmax(q k^T / sqrt(d)) computed here in double precision from the model's own
 * weights, the layers in order (a later layer made to attend uniformly shows up where it should),
 * causal zeros for the decoders; and stories260K's maps and rollout.
 */
class AttentionMapsTest {
    private final Random rnd = GradCheck.random();

    /** Every parameter drawn afresh: LayerNorm scales near 1, everything else normal with the given spread. */
    private void randomize(Module model, double spread) {
        for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
            float[] v = e.getValue().buffer();
            boolean scale = e.getKey().endsWith("gamma");
            for (int i = 0; i < v.length; i++) v[i] = (float) (scale ? 1 + 0.1 * rnd.nextGaussian() : spread * rnd.nextGaussian());
        }
    }

    private int[] tokens(int t, int vocab) {
        int[] ids = new int[t];
        for (int i = 0; i < t; i++) ids[i] = rnd.nextInt(vocab);
        return ids;
    }

    private static float[] param(Module m, String name) {
        Tensor t = m.stateDict().get(name);
        assertThat(t).as(name).isNotNull();
        return t.toFloatArray();
    }

    private static double[] layerNorm(double[] x, float[] gamma, float[] beta, double eps) {
        double mean = 0, var = 0;
        for (double v : x) mean += v / x.length;
        for (double v : x) var += (v - mean) * (v - mean) / x.length;
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = (x[i] - mean) / Math.sqrt(var + eps) * gamma[i] + beta[i];
        return y;
    }

    /** {@code [head][query][key]} softmax of scaled dot products of queries and keys {@code [t][heads*hd]}. */
    private static double[][][] softmaxScores(double[][] q, double[][] k, int heads, boolean causal) {
        int t = q.length, hd = q[0].length / heads;
        double[][][] p = new double[heads][t][t];
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < t; i++) {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                int last = causal ? i : t - 1;
                for (int j = 0; j <= last; j++) {
                    double dot = 0;
                    for (int e = 0; e < hd; e++) dot += q[i][h * hd + e] * k[j][h * hd + e];
                    p[h][i][j] = dot / Math.sqrt(hd);
                    max = Math.max(max, p[h][i][j]);
                }
                for (int j = 0; j <= last; j++) sum += p[h][i][j] = Math.exp(p[h][i][j] - max);
                for (int j = 0; j <= last; j++) p[h][i][j] /= sum;
            }
        return p;
    }

    /** Queries and keys of a fused {@code [d, 3d]} projection of rows {@code x [t][d]}. */
    private static double[][][] queriesAndKeys(double[][] x, float[] kernel, float[] bias) {
        int t = x.length, d = x[0].length;
        double[][] q = new double[t][d], k = new double[t][d];
        for (int i = 0; i < t; i++)
            for (int o = 0; o < d; o++) {
                double sq = bias[o], sk = bias[d + o];
                for (int e = 0; e < d; e++) {
                    sq += x[i][e] * kernel[e * 3 * d + o];
                    sk += x[i][e] * kernel[e * 3 * d + d + o];
                }
                q[i][o] = sq;
                k[i][o] = sk;
            }
        return new double[][][] {q, k};
    }

    private static void assertMaps(float[][][] got, double[][][] want, String what) {
        for (int h = 0; h < want.length; h++)
            for (int i = 0; i < want[h].length; i++)
                for (int j = 0; j < want[h].length; j++)
                    assertThat((double) got[h][i][j]).as("%s head %d [%d, %d]", what, h, i, j).isCloseTo(want[h][i][j], within(2e-5));
    }

    /** Every row of every map sums to 1; with {@code causal}, nothing above the diagonal. */
    private static void assertDistributions(AttentionMaps maps, boolean causal) {
        for (int l = 0; l < maps.layers(); l++)
            for (int h = 0; h < maps.heads(); h++)
                for (int i = 0; i < maps.length(); i++) {
                    double sum = 0;
                    for (int j = 0; j < maps.length(); j++) {
                        sum += maps.weights()[l][h][i][j];
                        if (causal && j > i) assertThat(maps.weights()[l][h][i][j]).isZero();
                    }
                    assertThat(sum).as("layer %d head %d row %d", l, h, i).isCloseTo(1, within(1e-5));
                }
        assertThat(maps.causal()).isEqualTo(causal);
    }

    /** A layer whose queries are all zero attends uniformly: 1/(i+1) to each visible key when causal, 1/t otherwise. */
    private static void assertUniform(AttentionMaps maps, int layer, boolean causal) {
        int t = maps.length();
        for (int h = 0; h < maps.heads(); h++)
            for (int i = 0; i < t; i++)
                for (int j = 0; j < t; j++) {
                    double want = causal ? (j <= i ? 1.0 / (i + 1) : 0) : 1.0 / t;
                    assertThat((double) maps.weights()[layer][h][i][j]).as("layer %d head %d [%d, %d]", layer, h, i, j).isCloseTo(want, within(1e-6));
                }
    }

    @Test
    void gpt2sMapsAreItsAttentionLayerByLayer() {
        Gpt2Config c = new Gpt2Config(50, 32, 24, 3, 4, 1e-5);
        Gpt2 gpt2 = new Gpt2(c);
        randomize(gpt2, 0.5);
        // layer 1's queries (the first d columns of its projection and bias) are zero: that layer attends uniformly
        float[] qkv1 = gpt2.stateDict().get("h.1.attention.qkv.kernel").buffer(), bias1 = gpt2.stateDict().get("h.1.attention.qkv.bias").buffer();
        for (int e = 0; e < 24; e++) java.util.Arrays.fill(qkv1, e * 72, e * 72 + 24, 0f);
        java.util.Arrays.fill(bias1, 0, 24, 0f);
        int t = 2 + rnd.nextInt(15);
        int[] ids = tokens(t, c.vocabSize());
        List<String> text = new ArrayList<>();
        for (int id : ids) text.add("t" + id);
        AttentionMaps maps = AttentionMaps.of(gpt2, ids, text);
        assertThat(maps.layers()).isEqualTo(3);
        assertThat(maps.heads()).isEqualTo(4);
        assertThat(maps.tokens()).isEqualTo(text);
        assertDistributions(maps, true);
        assertUniform(maps, 1, true);
        float[] wte = param(gpt2, "wte.embeddings"), wpe = param(gpt2, "wpe.embeddings");
        double[][] x = new double[t][24];
        for (int i = 0; i < t; i++) {
            for (int e = 0; e < 24; e++) x[i][e] = wte[ids[i] * 24 + e] + wpe[i * 24 + e];
            x[i] = layerNorm(x[i], param(gpt2, "h.0.norm1.gamma"), param(gpt2, "h.0.norm1.beta"), 1e-5);
        }
        double[][][] qk = queriesAndKeys(x, param(gpt2, "h.0.attention.qkv.kernel"), param(gpt2, "h.0.attention.qkv.bias"));
        assertMaps(maps.weights()[0], softmaxScores(qk[0], qk[1], 4, true), "GPT-2 layer 0");
        assertThat(maps.weights()[2][0][t - 1]).isNotEqualTo(maps.weights()[1][0][t - 1]);
    }

    @Test
    void bertsMapsAreItsAttentionLayerByLayer() {
        BertConfig c = new BertConfig(40, 16, 2, 2, 32, 20, 2, 1e-12);
        Bert bert = new Bert(c);
        randomize(bert, 0.5);
        float[] qkv1 = bert.stateDict().get("encoder.layer.1.attention.qkv.kernel").buffer(), bias1 = bert.stateDict().get("encoder.layer.1.attention.qkv.bias").buffer();
        for (int e = 0; e < 16; e++) java.util.Arrays.fill(qkv1, e * 48, e * 48 + 16, 0f);
        java.util.Arrays.fill(bias1, 0, 16, 0f);
        int t = 2 + rnd.nextInt(15);
        int[] ids = tokens(t, c.vocabSize());
        AttentionMaps maps = AttentionMaps.of(bert, ids, null);
        assertThat(maps.tokens()).containsExactly(java.util.stream.IntStream.range(0, t).mapToObj(Integer::toString).toArray(String[]::new));
        assertThat(maps.layers()).isEqualTo(2);
        assertDistributions(maps, false);
        assertUniform(maps, 1, false);
        float[] words = param(bert, "embeddings.word_embeddings.embeddings"), positions = param(bert, "embeddings.position_embeddings.embeddings"),
                types = param(bert, "embeddings.token_type_embeddings.embeddings");
        double[][] x = new double[t][16];
        for (int i = 0; i < t; i++) {
            for (int e = 0; e < 16; e++) x[i][e] = words[ids[i] * 16 + e] + positions[i * 16 + e] + types[e];
            x[i] = layerNorm(x[i], param(bert, "embeddings.LayerNorm.gamma"), param(bert, "embeddings.LayerNorm.beta"), 1e-12);
        }
        double[][][] qk = queriesAndKeys(x, param(bert, "encoder.layer.0.attention.qkv.kernel"), param(bert, "encoder.layer.0.attention.qkv.bias"));
        assertMaps(maps.weights()[0], softmaxScores(qk[0], qk[1], 2, false), "BERT layer 0");
    }

    @Test
    void llamasMapsAreItsRotatedGroupedAttentionLayerByLayer() {
        // 2 layers, 4 query heads over 2 key/value heads, adjacent-pair rotary embedding; layer 1's wq is zero
        LlamaConfig c = new LlamaConfig(16, 24, 2, 4, 2, 30, 64, 1e-5f, 10000, LlamaConfig.RopeStyle.NORM, true);
        int d = 16, kv = 8, hs = 4;
        float[] emb = gaussian(30 * d, 1), norm0 = gaussian(d, 0.2), wq0 = gaussian(d * d, 0.5), wk0 = gaussian(kv * d, 0.5);
        for (int i = 0; i < d; i++) norm0[i] += 1;
        List<Llama.Layer> layers = new ArrayList<>();
        layers.add(layer(norm0, wq0, wk0, d, kv, c.hiddenDim()));
        layers.add(layer(ones(d), new float[d * d], gaussian(kv * d, 0.5), d, kv, c.hiddenDim()));
        WeightMatrix e = WeightMatrix.of(emb, 30, d);
        LlamaGraph graph = LlamaGraph.of(new Llama(c, e, layers, ones(d), e, null));
        int t = 2 + rnd.nextInt(20);
        int[] ids = tokens(t, 30);
        AttentionMaps maps = AttentionMaps.of(graph, ids, null);
        assertThat(maps.layers()).isEqualTo(2);
        assertThat(maps.heads()).isEqualTo(4);
        assertDistributions(maps, true);
        assertUniform(maps, 1, true);
        double[][] q = new double[t][], k = new double[t][];
        for (int i = 0; i < t; i++) {
            double[] x = new double[d];
            double ss = 0;
            for (int j = 0; j < d; j++) ss += (double) emb[ids[i] * d + j] * emb[ids[i] * d + j];
            for (int j = 0; j < d; j++) x[j] = emb[ids[i] * d + j] / Math.sqrt(ss / d + 1e-5) * norm0[j];
            q[i] = rotate(times(wq0, x, d), i, hs);
            double[] key = rotate(times(wk0, x, kv), i, hs);
            k[i] = new double[d]; // query head h reads key head h / 2
            for (int h = 0; h < 4; h++) System.arraycopy(key, (h / 2) * hs, k[i], h * hs, hs);
        }
        assertMaps(maps.weights()[0], softmaxScores(q, k, 4, true), "Llama layer 0");
    }

    private Llama.Layer layer(float[] norm, float[] wq, float[] wk, int d, int kv, int hidden) {
        return new Llama.Layer(norm, WeightMatrix.of(wq, d, d), WeightMatrix.of(wk, kv, d), WeightMatrix.of(gaussian(kv * d, 0.5f), kv, d),
                WeightMatrix.of(gaussian(d * d, 0.3), d, d), ones(d), WeightMatrix.of(gaussian(hidden * d, 0.3), hidden, d),
                WeightMatrix.of(gaussian(d * hidden, 0.3), d, hidden), WeightMatrix.of(gaussian(hidden * d, 0.3), hidden, d));
    }

    private float[] gaussian(int n, double spread) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (spread * rnd.nextGaussian());
        return v;
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return v;
    }

    private static double[] times(float[] w, double[] x, int rows) {
        double[] y = new double[rows];
        for (int r = 0; r < rows; r++) for (int j = 0; j < x.length; j++) y[r] += w[r * x.length + j] * x[j];
        return y;
    }

    /** Rotary embedding at position {@code p}, adjacent pairs: (x[2j] + i x[2j+1]) e^(i p theta^(-2j/hs)). */
    private static double[] rotate(double[] x, int p, int hs) {
        double[] y = x.clone();
        for (int b = 0; b < x.length; b += hs)
            for (int j = 0; j < hs / 2; j++) {
                double a = p * Math.pow(10000, -2.0 * j / hs), re = x[b + 2 * j], im = x[b + 2 * j + 1];
                y[b + 2 * j] = re * Math.cos(a) - im * Math.sin(a);
                y[b + 2 * j + 1] = re * Math.sin(a) + im * Math.cos(a);
            }
        return y;
    }

    @Test
    void stories260KsMapsAndRolloutAreCausal() throws Exception {
        Path data = null;
        for (Path p = Path.of("").toAbsolutePath(); p != null && data == null; p = p.getParent())
            if (Files.isRegularFile(p.resolve("shared/data/llama2c/stories260K.bin"))) data = p.resolve("shared/data/llama2c/stories260K.bin");
        assertThat(data).as("../shared/data/llama2c/stories260K.bin beside the checkout").isNotNull();
        try (Llama llama = Llama2c.load(data)) {
            int[] ids = tokens(12, llama.vocabSize());
            ids[0] = Llama2c.BOS;
            AttentionMaps maps = AttentionMaps.of(LlamaGraph.of(llama), ids, null);
            assertThat(maps.layers()).isEqualTo(llama.config().layers());
            assertThat(maps.heads()).isEqualTo(llama.config().heads());
            assertDistributions(maps, true);
            float[][] r = AttentionRollout.rollout(maps);
            for (int i = 0; i < 12; i++) {
                double sum = 0;
                for (int j = 0; j < 12; j++) {
                    sum += r[i][j];
                    if (j > i) assertThat(r[i][j]).as("rollout [%d, %d]", i, j).isZero();
                }
                assertThat(sum).isCloseTo(1, within(1e-5));
            }
            Explanation e = AttentionRollout.explain(maps);
            assertThat(e.details().get("query")).isEqualTo(11.0);
            assertThat(e.attributions()).containsExactly(r[11]);
        }
    }

    @Test
    void rejectsMapsThatAreNotOneSequencesSelfAttention() {
        Tensor q = Tensor.randn(rnd, 2, 3, 4), single = Tensor.randn(rnd, 1, 3, 4), longer = Tensor.randn(rnd, 1, 5, 4);
        List<AttentionProbe.Map> batch, mixed, cross;
        try (AttentionProbe probe = AttentionProbe.record()) {
            q.attention(q, q, 2, null);
            batch = probe.maps();
        }
        try (AttentionProbe probe = AttentionProbe.record()) {
            single.attention(single, single, 2, null);
            single.attention(single, single, 1, null);
            mixed = probe.maps();
        }
        try (AttentionProbe probe = AttentionProbe.record()) {
            single.attention(longer, longer, 2, null);
            cross = probe.maps();
        }
        assertThatThrownBy(() -> AttentionMaps.of(batch, null)).hasMessageContaining("attention call 0 is [2, 2, 3, 3]");
        assertThatThrownBy(() -> AttentionMaps.of(mixed, null)).hasMessageContaining("attention call 1 is [1, 1, 3, 3]");
        assertThatThrownBy(() -> AttentionMaps.of(cross, null)).hasMessageContaining("[1, 2, 3, 5]");
        assertThatThrownBy(() -> AttentionMaps.of(List.of(), null)).hasMessageContaining("no attention was recorded");
        assertThat(AttentionMaps.of(mixed.subList(0, 1), List.of("a", "b", "c")).tokens()).containsExactly("a", "b", "c");
        Gpt2 gpt2 = new Gpt2(new Gpt2Config(10, 8, 8, 1, 2, 1e-5));
        assertThatThrownBy(() -> AttentionMaps.of(gpt2, new int[] {1, 2}, List.of("one"))).hasMessageContaining("1 token texts for 2 tokens");
        assertThatThrownBy(() -> AttentionMaps.of(gpt2, new int[0], null)).hasMessageContaining("no tokens");
        AttentionMaps maps = AttentionMaps.of(gpt2, new int[] {1, 2}, null);
        assertThatThrownBy(() -> maps.headAverage(1)).isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("layer 1 of 1");
        assertThatThrownBy(() -> new AttentionMaps(List.of("a"), 1, 1, new float[][][][] {{{{1, 0}}}})).hasMessageContaining("row 0 has 2 keys for 1 tokens");
    }
}
