package dev.jumbo.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.jumbo.tensor.WeightMatrix;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Llama} against a plain float64 forward pass written here from the definitions (Meta's
 * complex-number RoPE, HuggingFace's {@code rotate_half}, grouped-query attention over the whole
 * sequence with a causal mask), on tiny random models: logits at every position, by decoding one
 * token at a time and by prefilling each prefix at once.
 */
class LlamaTest {
    @TempDir
    Path tmp;

    /** A model's weights as plain arrays ({@code [out][in]} matrices), shared by Llama and the reference. */
    record Weights(LlamaConfig c, float[][] embedding, float[][] attentionNorm, float[][][] wq, float[][][] wk, float[][][] wv,
                   float[][][] wo, float[][] ffnNorm, float[][][] w1, float[][][] w2, float[][][] w3, float[] finalNorm, float[][] output) {

        static Weights random(LlamaConfig c, long seed) {
            Random r = new Random(seed);
            int d = c.dim(), kv = c.kvDim(), h = c.hiddenDim(), n = c.layers();
            float[][] emb = matrix(r, c.vocabSize(), d, 1);
            return new Weights(c, emb, norms(r, n, d), layers(r, n, d, d), layers(r, n, kv, d), layers(r, n, kv, d), layers(r, n, d, d),
                    norms(r, n, d), layers(r, n, h, d), layers(r, n, d, h), layers(r, n, h, d), norms(r, 1, d)[0],
                    c.sharedClassifier() ? emb : matrix(r, c.vocabSize(), d, 1 / Math.sqrt(d)));
        }

        private static float[][] matrix(Random r, int rows, int cols, double scale) {
            float[][] m = new float[rows][cols];
            for (float[] row : m) for (int j = 0; j < cols; j++) row[j] = (float) (r.nextGaussian() * scale);
            return m;
        }

        private static float[][][] layers(Random r, int n, int rows, int cols) {
            float[][][] m = new float[n][][];
            for (int l = 0; l < n; l++) m[l] = matrix(r, rows, cols, 1 / Math.sqrt(cols));
            return m;
        }

        private static float[][] norms(Random r, int n, int d) {
            float[][] m = new float[n][d];
            for (float[] row : m) for (int j = 0; j < d; j++) row[j] = (float) (1 + 0.2 * r.nextGaussian());
            return m;
        }

        Llama llama() {
            List<Llama.Layer> layers = new ArrayList<>();
            for (int l = 0; l < c.layers(); l++)
                layers.add(new Llama.Layer(attentionNorm[l].clone(), wm(wq[l]), wm(wk[l]), wm(wv[l]), wm(wo[l]), ffnNorm[l].clone(),
                        wm(w1[l]), wm(w2[l]), wm(w3[l])));
            WeightMatrix e = wm(embedding);
            return new Llama(c, e, layers, finalNorm.clone(), c.sharedClassifier() ? e : wm(output), null);
        }

        static WeightMatrix wm(float[][] m) {
            float[] flat = new float[m.length * m[0].length];
            for (int i = 0; i < m.length; i++) System.arraycopy(m[i], 0, flat, i * m[0].length, m[0].length);
            return WeightMatrix.of(flat, m.length, m[0].length);
        }

        /** The logits at every position of {@code ids}, in double precision, layer by layer over the whole sequence. */
        double[][] reference(int[] ids) {
            int T = ids.length, d = c.dim(), hs = c.headSize(), group = c.heads() / c.kvHeads();
            double[][] x = new double[T][];
            for (int t = 0; t < T; t++) x[t] = toDouble(embedding[ids[t]]);
            for (int l = 0; l < c.layers(); l++) {
                double[][] q = new double[T][], k = new double[T][], v = new double[T][];
                for (int t = 0; t < T; t++) {
                    double[] xn = rmsNorm(x[t], attentionNorm[l]);
                    q[t] = rotate(mul(wq[l], xn), c.heads(), t);
                    k[t] = rotate(mul(wk[l], xn), c.kvHeads(), t);
                    v[t] = mul(wv[l], xn);
                }
                for (int t = 0; t < T; t++) {
                    double[] o = new double[d];
                    for (int h = 0; h < c.heads(); h++) {
                        int kh = h / group;
                        double[] s = new double[t + 1];
                        double max = Double.NEGATIVE_INFINITY, sum = 0;
                        for (int u = 0; u <= t; u++) {
                            for (int j = 0; j < hs; j++) s[u] += q[t][h * hs + j] * k[u][kh * hs + j];
                            s[u] /= Math.sqrt(hs);
                            max = Math.max(max, s[u]);
                        }
                        for (int u = 0; u <= t; u++) sum += s[u] = Math.exp(s[u] - max);
                        for (int u = 0; u <= t; u++) for (int j = 0; j < hs; j++) o[h * hs + j] += s[u] / sum * v[u][kh * hs + j];
                    }
                    add(x[t], mul(wo[l], o));
                }
                for (int t = 0; t < T; t++) {
                    double[] xn = rmsNorm(x[t], ffnNorm[l]), g = mul(w1[l], xn), up = mul(w3[l], xn);
                    for (int j = 0; j < g.length; j++) g[j] = g[j] / (1 + Math.exp(-g[j])) * up[j];
                    add(x[t], mul(w2[l], g));
                }
            }
            double[][] logits = new double[T][];
            for (int t = 0; t < T; t++) logits[t] = mul(output, rmsNorm(x[t], finalNorm));
            return logits;
        }

        /** RoPE at position t on each head: Meta's complex product for NORM, HuggingFace's rotate_half for NEOX. */
        double[] rotate(double[] x, int heads, int t) {
            int hs = c.headSize(), half = hs / 2;
            double[] y = new double[x.length];
            for (int h = 0; h < heads; h++) {
                int b = h * hs;
                if (c.ropeStyle() == LlamaConfig.RopeStyle.NORM) {
                    // (x[2j] + i x[2j+1]) * e^(i t theta_j)
                    for (int j = 0; j < half; j++) {
                        double a = t * Math.pow(c.ropeTheta(), -2.0 * j / hs), re = x[b + 2 * j], im = x[b + 2 * j + 1];
                        y[b + 2 * j] = re * Math.cos(a) - im * Math.sin(a);
                        y[b + 2 * j + 1] = re * Math.sin(a) + im * Math.cos(a);
                    }
                } else {
                    // x * cos + rotate_half(x) * sin, cos and sin repeated over the two halves
                    for (int i = 0; i < hs; i++) {
                        double a = t * Math.pow(c.ropeTheta(), -2.0 * (i % half) / hs);
                        double rotated = i < half ? -x[b + i + half] : x[b + i - half];
                        y[b + i] = x[b + i] * Math.cos(a) + rotated * Math.sin(a);
                    }
                }
            }
            return y;
        }

        double[] rmsNorm(double[] x, float[] w) {
            double ss = 0;
            for (double v : x) ss += v * v;
            double inv = 1 / Math.sqrt(ss / x.length + c.rmsNormEps());
            double[] y = new double[x.length];
            for (int i = 0; i < x.length; i++) y[i] = x[i] * inv * w[i];
            return y;
        }
    }

    static double[] toDouble(float[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i];
        return y;
    }

    static double[] mul(float[][] w, double[] x) {
        double[] y = new double[w.length];
        for (int r = 0; r < w.length; r++) for (int j = 0; j < x.length; j++) y[r] += w[r][j] * x[j];
        return y;
    }

    static void add(double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) x[i] += y[i];
    }

    static int[] randomIds(int n, int vocab, long seed) {
        Random r = new Random(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = r.nextInt(vocab);
        return ids;
    }

    /** {@code llama} against {@code w}'s float64 reference: the logits at every position decoding one token at a time, and after prefilling all of {@code ids}. */
    static void assertRunsAsTheReference(Llama llama, Weights w, int[] ids, String what) {
        double[][] want = w.reference(ids);
        Llama.Session s = llama.start();
        for (int t = 0; t < ids.length; t++) assertClose(want[t], s.feed(new int[] {ids[t]}), what + " position " + t);
        assertClose(want[ids.length - 1], llama.logits(ids), what + " prefill");
    }

    static void assertClose(double[] want, float[] got, String what) {
        assertThat(got).hasSize(want.length);
        for (int i = 0; i < want.length; i++)
            if (!(Math.abs(got[i] - want[i]) <= 1e-4 * (1 + Math.abs(want[i]))))
                fail("%s: logit %d is %s, the float64 reference %s", what, i, got[i], want[i]);
    }

    static LlamaConfig tiny(int heads, int kvHeads, LlamaConfig.RopeStyle rope, boolean shared) {
        return new LlamaConfig(32, 48, 2, heads, kvHeads, 41, 200, 1e-5f, 10000, rope, shared);
    }

    // ---------------------------------------------------------------- rotary embedding

    @Test
    void ropeRotatesPairsAsTheNaiveDefinitionsSay() {
        for (LlamaConfig.RopeStyle style : LlamaConfig.RopeStyle.values()) {
            LlamaConfig c = new LlamaConfig(24, 8, 1, 3, 3, 5, 512, 1e-5f, 500000, style, true);
            Weights w = Weights.random(c, 1);
            Random r = new Random(2);
            for (int pos : new int[] {0, 1, 37, 511}) {
                float[] x = new float[3 + 24];
                for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                double[] want = w.rotate(toDouble(Arrays.copyOfRange(x, 3, x.length)), 3, pos);
                float[] cos = new float[4 + 4], sin = new float[4 + 4];
                for (int j = 0; j < 4; j++) {
                    cos[4 + j] = (float) Math.cos(pos * Math.pow(500000, -2.0 * j / 8));
                    sin[4 + j] = (float) Math.sin(pos * Math.pow(500000, -2.0 * j / 8));
                }
                Llama.rope(x, 3, 3, 8, cos, sin, 4, style);
                for (int i = 0; i < want.length; i++)
                    assertThat((double) x[3 + i]).as("%s at %d, element %d", style, pos, i).isCloseTo(want[i], org.assertj.core.data.Offset.offset(1e-5));
            }
        }
    }

    // ---------------------------------------------------------------- the forward pass

    @Test
    void groupedQueryAttentionMatchesTheFloat64ReferenceAtEveryPosition() {
        // heads per key/value head: 1 (plain multi-head), 2, 4 (multi-query); both pairings; tied and separate classifiers
        Object[][] cases = {{4, 4, LlamaConfig.RopeStyle.NORM, true}, {4, 2, LlamaConfig.RopeStyle.NORM, false},
                {4, 1, LlamaConfig.RopeStyle.NEOX, true}, {4, 2, LlamaConfig.RopeStyle.NEOX, false}};
        for (Object[] k : cases) {
            LlamaConfig c = tiny((int) k[0], (int) k[1], (LlamaConfig.RopeStyle) k[2], (boolean) k[3]);
            Weights w = Weights.random(c, 7);
            Llama llama = w.llama();
            // 150 tokens: past the first cache block (64) and past one prefill batch (128)
            int[] ids = randomIds(150, c.vocabSize(), 3);
            double[][] want = w.reference(ids);
            Llama.Session s = llama.start();
            for (int t = 0; t < ids.length; t++) assertClose(want[t], s.feed(new int[] {ids[t]}), c + " decoding position " + t);
            for (int t = 1; t <= ids.length; t++) assertClose(want[t - 1], llama.logits(Arrays.copyOf(ids, t)), c + " prefill of " + t);
        }
    }

    @Test
    void aStepOfManySessionsGivesEachTheLogitsItGetsAlone() {
        // the float64 reference at every position, for sessions of different lengths stepped together:
        // 9 rows reach the panel product, the shorter steps the four-row one; caches cross a block
        LlamaConfig c = tiny(4, 2, LlamaConfig.RopeStyle.NEOX, false);
        Weights w = Weights.random(c, 13);
        Llama llama = w.llama();
        int count = 9, steps = 6;
        int[][] ids = new int[count][];
        List<Llama.Session> sessions = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids[i] = randomIds(3 + 9 * i + steps, c.vocabSize(), 100 + i);
            Llama.Session s = llama.start();
            s.feed(Arrays.copyOf(ids[i], ids[i].length - steps));
            sessions.add(s);
        }
        for (int t = steps; t > 0; t--) {
            // from the third step on, only some of the sessions: sequences leave and rejoin between steps
            List<Llama.Session> active = new ArrayList<>();
            List<Integer> which = new ArrayList<>();
            for (int i = 0; i < count; i++)
                if (t > steps - 2 || i % 3 != t % 3 || sessions.get(i).length() < ids[i].length - t) {
                    active.add(sessions.get(i));
                    which.add(i);
                }
            int[] tokens = new int[active.size()];
            for (int k = 0; k < tokens.length; k++) {
                int i = which.get(k);
                tokens[k] = ids[i][sessions.get(i).length()];
            }
            float[][] logits = llama.step(active, tokens);
            for (int k = 0; k < tokens.length; k++) {
                int i = which.get(k);
                int at = sessions.get(i).length();
                assertClose(w.reference(Arrays.copyOf(ids[i], at))[at - 1], logits[k], "session " + i + " at position " + (at - 1));
            }
        }
    }

    @Test
    void aStepRefusesWhatItCannotRun() {
        LlamaConfig c = tiny(4, 2, LlamaConfig.RopeStyle.NORM, true);
        Llama llama = Weights.random(c, 3).llama(), other = Weights.random(c, 4).llama();
        Llama.Session a = llama.start(), b = llama.start(), foreign = other.start();
        a.feed(new int[] {1});
        assertThatThrownBy(() -> llama.step(List.of(a, a), new int[] {1, 2})).hasMessageContaining("twice");
        assertThatThrownBy(() -> llama.step(List.of(a, foreign), new int[] {1, 2})).hasMessageContaining("session 1 is not a session of this model");
        assertThatThrownBy(() -> llama.step(List.of(a, b), new int[] {1})).hasMessageContaining("2 sessions but 1 tokens");
        assertThatThrownBy(() -> llama.step(List.of(a, b), new int[] {1, c.vocabSize()})).hasMessageContaining("outside the vocabulary");
        assertThat(a.length()).as("nothing ran").isEqualTo(1);
        assertThat(b.length()).isZero();
        b.feed(randomIds(c.contextLength(), c.vocabSize(), 1));
        assertThatThrownBy(() -> llama.step(List.of(a, b), new int[] {1, 2})).hasMessageContaining("longer than the model's context");
        assertThat(llama.step(List.of(), new int[0])).isEmpty();
    }

    @Test
    void batchedPrefillEqualsTokenByTokenDecoding() {
        LlamaConfig c = tiny(4, 2, LlamaConfig.RopeStyle.NORM, true);
        Llama llama = Weights.random(c, 11).llama();
        int[] ids = randomIds(190, c.vocabSize(), 5);
        Llama.Session one = llama.start(), all = llama.start(), mixed = llama.start();
        float[] byToken = null;
        for (int id : ids) byToken = one.feed(new int[] {id}).clone();
        float[] prefilled = all.feed(ids);
        mixed.feed(Arrays.copyOf(ids, 70));
        mixed.feed(new int[] {ids[70]});
        float[] rest = mixed.feed(Arrays.copyOfRange(ids, 71, ids.length));
        for (int v = 0; v < c.vocabSize(); v++) {
            assertThat(prefilled[v]).as("logit %d", v).isCloseTo(byToken[v], org.assertj.core.data.Offset.offset(1e-4f * (1 + Math.abs(byToken[v]))));
            assertThat(rest[v]).as("logit %d", v).isCloseTo(byToken[v], org.assertj.core.data.Offset.offset(1e-4f * (1 + Math.abs(byToken[v]))));
        }
        assertThat(one.length()).isEqualTo(all.length()).isEqualTo(mixed.length()).isEqualTo(190);
    }

    @Test
    void theCacheGrowsInBlocksUpToTheContext() {
        LlamaConfig c = new LlamaConfig(16, 16, 1, 2, 1, 10, 150, 1e-5f, 10000, LlamaConfig.RopeStyle.NORM, true);
        Llama llama = Weights.random(c, 1).llama();
        Llama.Session s = llama.start();
        assertThat(s.cacheCapacity()).isZero();
        s.feed(new int[] {1});
        assertThat(s.cacheCapacity()).isEqualTo(AttentionCache.BLOCK);
        s.feed(randomIds(AttentionCache.BLOCK, 10, 1));
        assertThat(s.cacheCapacity()).isEqualTo(2 * AttentionCache.BLOCK);
        s.feed(randomIds(150 - s.length(), 10, 2));
        assertThat(s.cacheCapacity()).isEqualTo(150);
        assertThatThrownBy(() -> s.feed(new int[] {1})).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("context of 150");
        Llama.Session fresh = llama.start();
        assertThatThrownBy(() -> fresh.feed(new int[0])).hasMessageContaining("no tokens");
        assertThatThrownBy(() -> fresh.feed(new int[] {10})).hasMessageContaining("token id 10 is outside the vocabulary of 10");
        assertThatThrownBy(() -> fresh.feed(new int[151])).hasMessageContaining("context of 150");
        assertThat(fresh.length()).isZero();
    }

    @Test
    void weightsOfTheWrongShapeAreNamed() {
        LlamaConfig c = tiny(4, 2, LlamaConfig.RopeStyle.NORM, true);
        Weights w = Weights.random(c, 1);
        Llama good = w.llama();
        Llama.Layer l = good.layers().getFirst();
        Llama.Layer badWk = new Llama.Layer(l.attentionNorm(), l.wq(), l.wq(), l.wv(), l.wo(), l.ffnNorm(), l.w1(), l.w2(), l.w3());
        assertThatThrownBy(() -> new Llama(c, good.embedding(), List.of(badWk, l), good.finalNorm(), good.output(), null))
                .hasMessageContaining("layer 0 wk is [32, 32], the config needs [16, 32]");
        assertThatThrownBy(() -> new Llama(c, good.embedding(), List.of(l), good.finalNorm(), good.output(), null))
                .hasMessageContaining("1 layers given, the config has 2");
        assertThatThrownBy(() -> new Llama(c, good.embedding(), good.layers(), new float[3], good.output(), null))
                .hasMessageContaining("final norm has 3 weights, the config needs 32");
    }

    // ---------------------------------------------------------------- llama2.c files

    /** Writes w as llama2.c's export.py --version 0 does: the header, then each array of all layers in turn. */
    private Path saveLlama2c(Weights w) throws Exception {
        LlamaConfig c = w.c();
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.util.function.Consumer<float[]> put = a -> {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * a.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (float f : a) b.putFloat(f);
            bytes.writeBytes(b.array());
        };
        java.util.function.Consumer<float[][]> rows = m -> { for (float[] r : m) put.accept(r); };
        java.nio.ByteBuffer header = java.nio.ByteBuffer.allocate(28).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int v : new int[] {c.dim(), c.hiddenDim(), c.layers(), c.heads(), c.kvHeads(), c.sharedClassifier() ? c.vocabSize() : -c.vocabSize(), c.contextLength()})
            header.putInt(v);
        bytes.writeBytes(header.array());
        rows.accept(w.embedding());
        rows.accept(w.attentionNorm());
        for (float[][][] m : new float[][][][] {w.wq(), w.wk(), w.wv(), w.wo()}) for (float[][] layer : m) rows.accept(layer);
        rows.accept(w.ffnNorm());
        for (float[][][] m : new float[][][][] {w.w1(), w.w2(), w.w3()}) for (float[][] layer : m) rows.accept(layer);
        put.accept(w.finalNorm());
        put.accept(new float[c.contextLength() * c.headSize()]); // freq_cis_real and freq_cis_imag, each seq_len * head_size / 2
        if (!c.sharedClassifier()) rows.accept(w.output());
        return Files.write(tmp.resolve("model-" + c.sharedClassifier() + ".bin"), bytes.toByteArray());
    }

    @Test
    void aLlama2cFileOfRandomWeightsRunsAsThoseWeights() throws Exception {
        for (boolean shared : new boolean[] {true, false}) {
            Weights w = Weights.random(tiny(4, 2, LlamaConfig.RopeStyle.NORM, shared), 5);
            try (Llama llama = Llama2c.load(saveLlama2c(w))) {
                assertThat(llama.config()).isEqualTo(w.c());
                assertThat(llama.output() == llama.embedding()).isEqualTo(shared);
                assertRunsAsTheReference(llama, w, randomIds(40, w.c().vocabSize(), 6), "llama2.c shared=" + shared);
            }
        }
    }
}
