package dev.jumbo.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.tensor.DType;
import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.tensor.WeightMatrix;
import dev.jumbo.testing.GradCheck;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Low-rank adapters on Llama: the runtime running them unmerged, the differentiable graph and the
 * merged model give the same logits (stories260K, fresh random adapters with B nonzero); the
 * runtime against {@link LlamaTest}'s float64 reference of the merged weights; the q/k row
 * permutation between HuggingFace's and GGUF's order; gradients of the adapter path.
 */
class LlamaLoraTest {
    private static final Path DATA = SharedData.dir();
    private final Random rnd = GradCheck.random();

    /** Adapters on {@code targets} of every layer with A and B both random (B is zero after PEFT's init, which would test nothing). */
    static LlamaLora random(LlamaConfig c, int rank, double alpha, EnumSet<LlamaLora.Projection> targets, Random r) {
        return random(c, rank, alpha, targets, r, 0.3);
    }

    static LlamaLora random(LlamaConfig c, int rank, double alpha, EnumSet<LlamaLora.Projection> targets, Random r, double bScale) {
        Map<LlamaLora.Site, LlamaLora.Delta> deltas = new LinkedHashMap<>();
        for (int l = 0; l < c.layers(); l++)
            for (LlamaLora.Projection p : targets) {
                int in = p.in(c), out = p.out(c);
                deltas.put(new LlamaLora.Site(l, p), new LlamaLora.Delta(rank, in, out, gaussian(r, rank * in, 1 / Math.sqrt(in)), gaussian(r, out * rank, bScale)));
            }
        return new LlamaLora(c, alpha / rank, 0, deltas);
    }

    private static float[] gaussian(Random r, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * scale);
        return v;
    }

    private int[] tokens(int n, int vocab) {
        int[] ids = new int[n];
        ids[0] = Llama2c.BOS;
        for (int i = 1; i < n; i++) ids[i] = rnd.nextInt(vocab);
        return ids;
    }

    /** Logits at every position, one token at a time through a session (the gemv path). */
    private static float[][] decoded(Llama llama, int[] ids) {
        Llama.Session s = llama.start();
        float[][] out = new float[ids.length][];
        for (int t = 0; t < ids.length; t++) out[t] = s.feed(new int[] {ids[t]}).clone();
        return out;
    }

    private static float[][] graphLogits(LlamaGraph graph, int[] ids) {
        try (var scope = GradMode.noGrad()) {
            float[] all = graph.forward(ids).toFloatArray();
            int vocab = graph.config().vocabSize();
            float[][] out = new float[ids.length][];
            for (int t = 0; t < ids.length; t++) out[t] = Arrays.copyOfRange(all, t * vocab, (t + 1) * vocab);
            return out;
        }
    }

    private static double maxAbsDiff(float[][] a, float[][] b) {
        double m = 0;
        for (int t = 0; t < a.length; t++)
            for (int v = 0; v < a[t].length; v++) m = Math.max(m, Math.abs((double) a[t][v] - b[t][v]));
        return m;
    }

    @Test
    void runtimeGraphAndMergedModelGiveTheSameLogitsOnStories260K() throws Exception {
        try (Llama base = Llama2c.load(DATA.resolve("llama2c/stories260K.bin"))) {
            // B of a trained adapter's size (PEFT starts it at zero): the logits move by several units
            LlamaLora lora = random(base.config(), 4, 8, EnumSet.allOf(LlamaLora.Projection.class), rnd, 0.02);
            Llama adapted = base.withAdapters(lora);
            Llama merged = lora.merge(base);
            int[] ids = tokens(48, base.vocabSize());
            float[][] runtime = decoded(adapted, ids), graph = graphLogits(LlamaGraph.of(adapted), ids), folded = decoded(merged, ids);
            float[][] plain = decoded(base, ids);
            // the adapters change the model, by far more than the tolerance
            assertThat(maxAbsDiff(runtime, plain)).isGreaterThan(1);
            double runtimeVsGraph = maxAbsDiff(runtime, graph), runtimeVsMerged = maxAbsDiff(runtime, folded), graphVsMerged = maxAbsDiff(graph, folded);
            double floor = maxAbsDiff(plain, graphLogits(LlamaGraph.of(base), ids));
            System.out.printf("stories260K + rank-4 adapters on all 7 projections (logits moved by %.2f): max |logit diff| runtime-graph %.2e, runtime-merged %.2e,"
                    + " graph-merged %.2e; the base alone, runtime-graph %.2e%n", maxAbsDiff(runtime, plain), runtimeVsGraph, runtimeVsMerged, graphVsMerged, floor);
            // 1e-5 is below float32's floor here: logits reach 16 (an ulp of 2e-6) after 5 layers, and the base
            // model's own runtime and graph (no adapter) differ by 2-3e-5; adapters add about as much again
            assertThat(runtimeVsMerged).isLessThanOrEqualTo(5e-5);
            assertThat(runtimeVsGraph).isLessThanOrEqualTo(1e-4);
            assertThat(graphVsMerged).isLessThanOrEqualTo(1e-4);
            // a whole prompt at once (the gemm path, the adapters' buffers for many rows) ends on the same logits
            float[] prefilled = adapted.logits(ids);
            assertThat(maxAbsDiff(new float[][] {prefilled}, new float[][] {runtime[ids.length - 1]})).isLessThanOrEqualTo(5e-5);
        }
    }

    @Test
    void adaptedRuntimeRunsAsTheFloat64ReferenceOfTheMergedWeights() {
        for (LlamaConfig.RopeStyle rope : LlamaConfig.RopeStyle.values()) {
            LlamaConfig c = LlamaTest.tiny(4, 2, rope, false);
            LlamaTest.Weights w = LlamaTest.Weights.random(c, rnd.nextLong());
            EnumSet<LlamaLora.Projection> targets = EnumSet.noneOf(LlamaLora.Projection.class);
            for (LlamaLora.Projection p : LlamaLora.Projection.values()) if (rnd.nextBoolean()) targets.add(p);
            targets.add(LlamaLora.Projection.values()[rnd.nextInt(7)]);
            LlamaLora lora = random(c, 1 + rnd.nextInt(5), 16, targets, rnd);
            // the reference multiplies by W + scale B A computed here in double, independently of LlamaLora.merge
            float[][][][] m = {w.wq(), w.wk(), w.wv(), w.wo(), w.w1(), w.w3(), w.w2()}; // by projection ordinal
            float[][][][] merged = new float[7][c.layers()][][];
            for (int p = 0; p < 7; p++)
                for (int l = 0; l < c.layers(); l++) {
                    LlamaLora.Delta d = lora.delta(l, LlamaLora.Projection.values()[p]);
                    merged[p][l] = new float[m[p][l].length][];
                    for (int o = 0; o < m[p][l].length; o++) {
                        merged[p][l][o] = m[p][l][o].clone();
                        if (d == null) continue;
                        for (int i = 0; i < d.in(); i++) {
                            double s = 0;
                            for (int k = 0; k < d.rank(); k++) s += (double) d.b()[o * d.rank() + k] * d.a()[k * d.in() + i];
                            merged[p][l][o][i] = (float) (m[p][l][o][i] + lora.scale() * s);
                        }
                    }
                }
            LlamaTest.Weights reference = new LlamaTest.Weights(c, w.embedding(), w.attentionNorm(), merged[0], merged[1], merged[2], merged[3],
                    w.ffnNorm(), merged[4], merged[6], merged[5], w.finalNorm(), w.output());
            int[] ids = tokens(1 + rnd.nextInt(30), c.vocabSize());
            LlamaTest.assertRunsAsTheReference(w.llama().withAdapters(lora), reference, ids, rope + " " + targets);
        }
    }

    @Test
    void adaptersOnAQuantizedBaseRunBesideItsDequantizedWeights() {
        LlamaConfig c = new LlamaConfig(32, 64, 2, 4, 2, 37, 100, 1e-5f, 10000, LlamaConfig.RopeStyle.NORM, false);
        Llama f32 = LlamaTest.Weights.random(c, rnd.nextLong()).llama();
        Llama q8 = DecodingAllocationTest.AllocationProbe.encoded(f32, DType.Q8_0);
        LlamaLora lora = random(c, 3, 6, EnumSet.of(LlamaLora.Projection.Q, LlamaLora.Projection.DOWN), rnd);
        int[] ids = tokens(20, c.vocabSize());
        float[][] runtime = decoded(q8.withAdapters(lora), ids), merged = decoded(lora.merge(q8), ids);
        assertThat(lora.merge(q8).layers().get(0).wq().type()).isEqualTo(DType.F32);
        assertThat(lora.merge(q8).layers().get(0).wk().type()).isEqualTo(DType.Q8_0); // an untouched matrix stays the base's
        assertThat(maxAbsDiff(runtime, merged)).isLessThanOrEqualTo(1e-4);
    }

    /**
     * A NEOX model holding HuggingFace's weights with an adapter in HuggingFace's order is the same
     * function as the NORM model holding llama.cpp's permutation of them with B permuted by
     * {@link LlamaLora#fromHfRows}: the permutation is the one GGUF files hold.
     */
    @Test
    void permutingBOfQAndKAsLlamaCppPermutesTheirWeightsKeepsTheModel() {
        LlamaConfig hf = LlamaTest.tiny(4, 2, LlamaConfig.RopeStyle.NEOX, true);
        LlamaConfig gguf = new LlamaConfig(hf.dim(), hf.hiddenDim(), hf.layers(), hf.heads(), hf.kvHeads(), hf.vocabSize(), hf.contextLength(),
                hf.rmsNormEps(), hf.ropeTheta(), LlamaConfig.RopeStyle.NORM, true);
        Llama hfModel = LlamaTest.Weights.random(hf, rnd.nextLong()).llama();
        List<Llama.Layer> permuted = new ArrayList<>();
        for (Llama.Layer w : hfModel.layers())
            permuted.add(new Llama.Layer(w.attentionNorm(), rows(w.wq(), LlamaLora.Projection.Q, gguf), rows(w.wk(), LlamaLora.Projection.K, gguf),
                    w.wv(), w.wo(), w.ffnNorm(), w.w1(), w.w2(), w.w3()));
        Llama ggufModel = new Llama(gguf, hfModel.embedding(), permuted, hfModel.finalNorm(), hfModel.output(), null);
        LlamaLora hfLora = random(hf, 3, 6, EnumSet.of(LlamaLora.Projection.Q, LlamaLora.Projection.K, LlamaLora.Projection.O), rnd);
        Map<LlamaLora.Site, LlamaLora.Delta> moved = new LinkedHashMap<>();
        hfLora.deltas().forEach((site, d) -> moved.put(site, new LlamaLora.Delta(d.rank(), d.in(), d.out(), d.a(),
                LlamaLora.fromHfRows(d.b(), d.rank(), site.projection(), gguf))));
        LlamaLora ggufLora = new LlamaLora(gguf, hfLora.scale(), 0, moved);
        int[] ids = tokens(12, hf.vocabSize());
        // without the permutation of B the two differ: the test can fail
        assertThat(maxAbsDiff(decoded(hfModel.withAdapters(hfLora), ids), decoded(ggufModel.withAdapters(new LlamaLora(gguf, hfLora.scale(), 0, hfLora.deltas())), ids)))
                .isGreaterThan(1e-3);
        assertThat(maxAbsDiff(decoded(hfModel.withAdapters(hfLora), ids), decoded(ggufModel.withAdapters(ggufLora), ids))).isLessThanOrEqualTo(1e-4);
        // and back
        for (var e : moved.entrySet())
            assertThat(LlamaLora.toHfRows(e.getValue().b(), e.getValue().rank(), e.getKey().projection(), gguf)).isEqualTo(hfLora.deltas().get(e.getKey()).b());
    }

    /** A matrix's rows in the model's order of {@code c}: the permutation applied to a [out, in] matrix as to a B of rank in. */
    private static WeightMatrix rows(WeightMatrix w, LlamaLora.Projection p, LlamaConfig c) {
        float[] values = new float[w.rows() * w.cols()];
        for (int r = 0; r < w.rows(); r++) w.row(r, values, r * w.cols());
        return WeightMatrix.of(LlamaLora.fromHfRows(values, w.cols(), p, c), w.rows(), w.cols());
    }

    @Test
    void adapterGradientsMatchFiniteDifferences() {
        LlamaConfig c = new LlamaConfig(8, 12, 1, 2, 1, 11, 16, 1e-5f, 10000, LlamaConfig.RopeStyle.NORM, false);
        Llama base = LlamaTest.Weights.random(c, rnd.nextLong()).llama();
        LlamaLora lora = random(c, 2, 4, EnumSet.allOf(LlamaLora.Projection.class), rnd);
        LlamaGraph graph = LlamaGraph.of(base.withAdapters(lora));
        List<dev.jumbo.nn.Parameter> adapters = graph.adapterParameters();
        assertThat(adapters).hasSize(14);
        // the base is frozen, the adapters train
        assertThat(graph.parameters().stream().filter(dev.jumbo.nn.Parameter::trainable).toList()).containsExactlyElementsOf(adapters);
        int[] ids = tokens(5, c.vocabSize());
        // each adapter tensor in turn as the checked input, the others fixed
        for (dev.jumbo.nn.Parameter p : adapters) {
            Tensor keep = p.value();
            GradCheck.check(in -> {
                p.set(in.get(0));
                return graph.forward(ids);
            }, 1e-2, 3e-2, 3e-3, keep);
            p.set(keep);
        }
    }

    @Test
    void dropoutActsOnTheAdaptersInputWhileTrainingOnly() {
        LlamaConfig c = LlamaTest.tiny(4, 2, LlamaConfig.RopeStyle.NORM, false);
        Llama base = LlamaTest.Weights.random(c, rnd.nextLong()).llama();
        LlamaLora plain = random(c, 2, 4, EnumSet.of(LlamaLora.Projection.V, LlamaLora.Projection.GATE), rnd, 0.3);
        LlamaLora dropped = new LlamaLora(c, plain.scale(), 0.5, plain.deltas());
        LlamaGraph graph = LlamaGraph.of(base.withAdapters(dropped));
        int[] ids = tokens(10, c.vocabSize());
        float[][] first = graphLogits(graph, ids), second = graphLogits(graph, ids);
        assertThat(maxAbsDiff(first, second)).as("two training passes draw different masks").isGreaterThan(1e-3);
        graph.train(false);
        assertThat(maxAbsDiff(graphLogits(graph, ids), decoded(base.withAdapters(plain), ids))).isLessThanOrEqualTo(1e-4);
        assertThat(graph.adapters().dropout()).isEqualTo(0.5);
    }

    @Test
    void graphReadsBackTheAdaptersItWasGiven() {
        LlamaConfig c = LlamaTest.tiny(4, 2, LlamaConfig.RopeStyle.NEOX, false);
        LlamaLora lora = random(c, 3, 6, EnumSet.of(LlamaLora.Projection.V, LlamaLora.Projection.UP), rnd);
        LlamaLora back = LlamaGraph.of(LlamaTest.Weights.random(c, 1).llama().withAdapters(lora)).adapters();
        assertThat(back.scale()).isEqualTo(lora.scale());
        assertThat(back.deltas().keySet()).containsExactlyElementsOf(lora.deltas().keySet());
        lora.deltas().forEach((site, d) -> {
            assertThat(back.deltas().get(site).a()).isEqualTo(d.a());
            assertThat(back.deltas().get(site).b()).isEqualTo(d.b());
        });
    }

    @Test
    void refusesAdaptersThatDoNotFit() {
        LlamaConfig c = LlamaTest.tiny(4, 2, LlamaConfig.RopeStyle.NORM, false);
        assertThatThrownBy(() -> new LlamaLora(c, 1, 0, Map.of(new LlamaLora.Site(0, LlamaLora.Projection.K),
                new LlamaLora.Delta(2, c.dim(), c.dim(), new float[2 * c.dim()], new float[2 * c.dim()]))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("model.layers.0.self_attn.k_proj").hasMessageContaining("[16, 32]");
        assertThatThrownBy(() -> new LlamaLora(c, 1, 0, Map.of(new LlamaLora.Site(2, LlamaLora.Projection.Q),
                new LlamaLora.Delta(2, c.dim(), c.dim(), new float[2 * c.dim()], new float[2 * c.dim()]))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("layers 0..1");
        LlamaLora lora = LlamaLora.init(c, 2, 2, EnumSet.of(LlamaLora.Projection.Q), 0, rnd);
        Llama other = LlamaTest.Weights.random(LlamaTest.tiny(4, 4, LlamaConfig.RopeStyle.NORM, false), 1).llama();
        assertThatThrownBy(() -> other.withAdapters(lora)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shape");
        Llama adapted = LlamaTest.Weights.random(c, 1).llama().withAdapters(lora);
        assertThatThrownBy(() -> adapted.withAdapters(lora)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already");
    }

    @Test
    void peftsInitialAdaptersLeaveTheModelAsItWas() {
        LlamaConfig c = LlamaTest.tiny(4, 2, LlamaConfig.RopeStyle.NORM, true);
        Llama base = LlamaTest.Weights.random(c, rnd.nextLong()).llama();
        LlamaLora lora = LlamaLora.init(c, 8, 8, EnumSet.allOf(LlamaLora.Projection.class), 0, rnd);
        assertThat(lora.scale()).isEqualTo(1.0);
        assertThat(lora.parameterCount()).isEqualTo(c.layers() * 8L * ((32 + 32) + 2 * (32 + 16) + (32 + 32) + 3 * (32 + 48)));
        int[] ids = tokens(9, c.vocabSize());
        assertThat(base.withAdapters(lora).logits(ids)).isEqualTo(base.logits(ids));
    }
}
