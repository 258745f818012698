package dev.jumbo.models;

import dev.jumbo.kernel.Parallel;
import dev.jumbo.kernel.VectorMath;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.tensor.WeightMatrix;
import java.util.List;
import java.util.Objects;

/**
 * Llama as an inference runtime: token embedding, {@code layers} blocks of RMSNorm, grouped-query
 * causal self-attention with rotary position embedding, RMSNorm and a SwiGLU feed-forward
 * ({@code w2(silu(w1 x) * w3 x)}), each added back onto the residual stream; a final RMSNorm and
 * the logits from a classifier (or the embedding itself, tied).
 *
 * <pre>{@code
 * try (Llama llama = Llama2c.load(Path.of("stories260K.bin"))) {
 *     Llama.Session s = llama.start();
 *     float[] logits = s.feed(new int[] {1});            // BOS
 *     int next = VectorMath.maxIndex(logits, 0, logits.length);
 *     logits = s.feed(new int[] {next});                // one token at a time from here
 * }
 * }</pre>
 *
 * <p>The weights are {@link WeightMatrix} views, kept in their stored type (a memory-mapped
 * checkpoint is multiplied in place) and the norms plain arrays. Nothing here is a {@link Tensor}
 * (there are no gradients): a {@link Session} runs on float arrays it allocates once, so decoding a token
 * allocates nothing (see {@link Session}). Loaders, each mapping its file: {@link Llama2c#load}
 * (llama2.c checkpoints), {@link LlamaGguf#load} (GGUF) and {@link LlamaSafetensors#load}
 * (HuggingFace folders). Close the model to unmap its file. {@link #withAdapters} runs LoRA
 * adapters ({@link LlamaLora}) beside the weights without merging them.
 */
public final class Llama implements CausalLm, AutoCloseable {
    /**
     * The weights of one block. Matrices are {@code [out, in]}: {@code wq [heads*headSize, dim]},
     * {@code wk} and {@code wv [kvDim, dim]}, {@code wo [dim, heads*headSize]}, {@code w1} (gate) and
     * {@code w3} (up) {@code [hiddenDim, dim]}, {@code w2} (down) {@code [dim, hiddenDim]}; the norms
     * have {@code dim} weights.
     */
    public record Layer(float[] attentionNorm, WeightMatrix wq, WeightMatrix wk, WeightMatrix wv, WeightMatrix wo,
                        float[] ffnNorm, WeightMatrix w1, WeightMatrix w2, WeightMatrix w3) {
        public Layer {
            Objects.requireNonNull(attentionNorm, "attentionNorm");
            Objects.requireNonNull(ffnNorm, "ffnNorm");
            for (WeightMatrix w : new WeightMatrix[] {wq, wk, wv, wo, w1, w2, w3}) Objects.requireNonNull(w, "layer matrix");
        }
    }

    private final LlamaConfig config;
    private final WeightMatrix embedding;
    private final Layer[] layers;
    private final float[] finalNorm;
    private final WeightMatrix output;
    private final AutoCloseable resources;
    private boolean closed;
    /** {@code theta^(-2j/headSize)} for each pair j of a head, in double so angles at long positions stay exact. */
    private final double[] inverseFrequencies;
    /** The low-rank adapters run beside the weights, or null. */
    private final LlamaLora adapters;
    /**
     * The adapters as matrices, {@code [layer][projection ordinal]} (null where a projection has
     * none): A {@code [rank, in]} and B {@code [out, rank]} times the scale, so a projection adds
     * {@code loraB (loraA x)}.
     */
    private final WeightMatrix[][] loraA, loraB;

    /**
     * A model over the given weights.
     *
     * @param output    the classifier {@code [vocabSize, dim]}; the embedding itself when the config says it is shared
     * @param resources what {@link #close} releases (the mapped checkpoint), or null
     * @throws IllegalArgumentException naming the weight whose shape does not fit the config
     */
    public Llama(LlamaConfig config, WeightMatrix embedding, List<Layer> layers, float[] finalNorm, WeightMatrix output,
                 AutoCloseable resources) {
        this.config = Objects.requireNonNull(config, "config");
        int d = config.dim(), kv = config.kvDim(), h = config.hiddenDim();
        this.embedding = shaped("token embedding", embedding, config.vocabSize(), d);
        if (layers.size() != config.layers())
            throw new IllegalArgumentException(layers.size() + " layers given, the config has " + config.layers());
        this.layers = layers.toArray(new Layer[0]);
        for (int l = 0; l < this.layers.length; l++) {
            Layer w = this.layers[l];
            String at = "layer " + l + " ";
            sized(at + "attention norm", w.attentionNorm(), d);
            shaped(at + "wq", w.wq(), d, d);
            shaped(at + "wk", w.wk(), kv, d);
            shaped(at + "wv", w.wv(), kv, d);
            shaped(at + "wo", w.wo(), d, d);
            sized(at + "ffn norm", w.ffnNorm(), d);
            shaped(at + "w1", w.w1(), h, d);
            shaped(at + "w2", w.w2(), d, h);
            shaped(at + "w3", w.w3(), h, d);
        }
        this.finalNorm = sized("final norm", finalNorm, d);
        this.output = shaped("classifier", output, config.vocabSize(), d);
        this.resources = resources;
        inverseFrequencies = new double[config.headSize() / 2];
        for (int j = 0; j < inverseFrequencies.length; j++)
            inverseFrequencies[j] = Math.pow(config.ropeTheta(), -2.0 * j / config.headSize());
        adapters = null;
        loraA = loraB = null;
    }

    /** {@code base}'s weights with {@code adapters} beside them; closing it closes the base. */
    private Llama(Llama base, LlamaLora adapters) {
        config = base.config;
        embedding = base.embedding;
        layers = base.layers;
        finalNorm = base.finalNorm;
        output = base.output;
        resources = base;
        inverseFrequencies = base.inverseFrequencies;
        this.adapters = adapters;
        int n = LlamaLora.Projection.values().length;
        loraA = new WeightMatrix[config.layers()][n];
        loraB = new WeightMatrix[config.layers()][n];
        adapters.deltas().forEach((site, d) -> {
            float[] scaledB = d.b().clone();
            for (int i = 0; i < scaledB.length; i++) scaledB[i] *= (float) adapters.scale();
            loraA[site.layer()][site.projection().ordinal()] = WeightMatrix.of(d.a().clone(), d.rank(), d.in());
            loraB[site.layer()][site.projection().ordinal()] = WeightMatrix.of(scaledB, d.out(), d.rank());
        });
    }

    /**
     * This model with low-rank adapters run beside its weights, unmerged: each adapted projection
     * computes {@code W x + scale * B (A x)}, in the session's preallocated buffers (decoding still
     * allocates nothing). The adapters' arrays are copied: changing them afterwards changes nothing
     * here. The weights are this model's, not copies; closing the adapted model closes this one.
     * Its {@link #layers} are the base's own matrices, without the adapters: a writer given the
     * adapted model ({@link LlamaGguf#writer}) writes the base; merge first ({@link LlamaLora#merge}).
     *
     * @throws IllegalArgumentException if this model already has adapters, or they are for another shape
     */
    public Llama withAdapters(LlamaLora adapters) {
        Objects.requireNonNull(adapters, "adapters");
        if (this.adapters != null) throw new IllegalArgumentException("the model already runs adapters; merge them or start from the base");
        if (!adapters.config().equals(config))
            throw new IllegalArgumentException("the adapters are for a model of shape " + adapters.config() + ", this one is " + config);
        return new Llama(this, adapters);
    }

    /** The adapters this model runs beside its weights ({@link #withAdapters}), or null. */
    public LlamaLora adapters() {
        return adapters;
    }

    private static WeightMatrix shaped(String name, WeightMatrix w, int rows, int cols) {
        Objects.requireNonNull(w, name);
        if (w.rows() != rows || w.cols() != cols)
            throw new IllegalArgumentException(name + " is [" + w.rows() + ", " + w.cols() + "], the config needs [" + rows + ", " + cols + "]");
        return w;
    }

    private static float[] sized(String name, float[] v, int n) {
        Objects.requireNonNull(v, name);
        if (v.length != n) throw new IllegalArgumentException(name + " has " + v.length + " weights, the config needs " + n);
        return v;
    }

    /** The shape. */
    public LlamaConfig config() {
        return config;
    }

    /** The token embedding {@code [vocabSize, dim]}. */
    public WeightMatrix embedding() {
        return embedding;
    }

    /** The blocks' weights, first to last. */
    public List<Layer> layers() {
        return List.of(layers);
    }

    /** The final norm's weights (the model's own array, not a copy). */
    public float[] finalNorm() {
        return finalNorm;
    }

    /** The classifier {@code [vocabSize, dim]} (the embedding when shared). */
    public WeightMatrix output() {
        return output;
    }

    @Override
    public Session start() {
        return new Session(this);
    }

    @Override
    public int contextLength() {
        return config.contextLength();
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    /** The next-token logits after {@code ids}, in a fresh session (a new array). */
    public float[] logits(int[] ids) {
        return start().feed(ids).clone();
    }

    /** Releases the mapped checkpoint; sessions must not be used afterwards. Closing twice does nothing. */
    @Override
    public synchronized void close() {
        if (resources == null || closed) return;
        closed = true;
        try {
            resources.close();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("could not release the model's weights", e);
        }
    }

    /**
     * Feeds one token to each of several sessions of this model in one pass: each weight matrix
     * multiplies all their rows together ({@link WeightMatrix#gemm}), each row attends over its own
     * session's cache. Decoding is bound by reading the weights, so a step for a handful of
     * sequences costs little more than one for a single one: what a server's continuous batching
     * runs on. Returns each session's logits (its own array, as {@link Session#feed} returns).
     * Steps of one model are serialised (they share the step buffers).
     *
     * @throws IllegalArgumentException if a session is another model's or appears twice, the
     *     counts differ, a token is outside the vocabulary, or a session's context is full
     */
    @Override
    public float[][] step(List<? extends CausalLm.Session> sessions, int[] tokens) {
        int n = sessions.size();
        if (tokens.length != n) throw new IllegalArgumentException(n + " sessions but " + tokens.length + " tokens");
        Session[] rows = new Session[n];
        int[] positions = new int[n];
        for (int i = 0; i < n; i++) {
            if (!(sessions.get(i) instanceof Session s) || s.model != this)
                throw new IllegalArgumentException("session " + i + " is not a session of this model");
            for (int j = 0; j < i; j++) // a step holds a server's active sequences: a handful, so a scan
                if (rows[j] == s) throw new IllegalArgumentException("session " + i + " appears twice in one step");
            s.check(new int[] {tokens[i]});
            rows[i] = s;
            positions[i] = s.length;
        }
        float[][] logits = new float[n][];
        synchronized (stepRows) {
            for (int from = 0; from < n; from += Session.PREFILL_BATCH) {
                int count = Math.min(Session.PREFILL_BATCH, n - from);
                boolean whole = count == n; // more rows than a batch (rare) run in parts
                Session[] part = whole ? rows : java.util.Arrays.copyOfRange(rows, from, from + count);
                forward(stepRows, part, whole ? positions : java.util.Arrays.copyOfRange(positions, from, from + count), tokens, from, count, true);
                for (int i = 0; i < count; i++) {
                    Session s = part[i];
                    s.length++;
                    System.arraycopy(stepRows.logits, i * config.vocabSize(), s.logits, 0, config.vocabSize());
                    logits[from + i] = s.logits;
                }
            }
        }
        return logits;
    }

    /** The buffers of {@link #step}, shared by its calls. */
    private final Rows stepRows = new Rows();

    /**
     * Buffers for rows run through the layers together: activations, projections and rotations of
     * up to {@link #rows} rows, grown by doubling up to {@value Session#PREFILL_BATCH}.
     */
    private final class Rows {
        private int rows, logitRows;
        private float[] x, xb, q, k, v, att, gate, up, cos, sin, logits = new float[0];
        /** An adapter's {@code A x} {@code [rows, rank]} and {@code B (A x)} {@code [rows, out]} (empty without adapters). */
        private float[] loraMid = new float[0], loraOut = new float[0];

        void ensure(int n, int logitRowsNeeded) {
            if (n > rows) {
                int dim = config.dim(), kvDim = config.kvDim(), hidden = config.hiddenDim(), half = config.headSize() / 2;
                rows = Math.min(Session.PREFILL_BATCH, Math.max(n, 2 * rows));
                x = new float[rows * dim];
                xb = new float[rows * dim];
                q = new float[rows * dim];
                att = new float[rows * dim];
                k = new float[rows * kvDim];
                v = new float[rows * kvDim];
                gate = new float[rows * hidden];
                up = new float[rows * hidden];
                cos = new float[rows * half];
                sin = new float[rows * half];
                if (adapters != null) {
                    loraMid = new float[rows * adapters.maxRank()];
                    loraOut = new float[rows * Math.max(dim, hidden)];
                }
            }
            if (logitRowsNeeded > logitRows) {
                logitRows = Math.min(Session.PREFILL_BATCH, Math.max(logitRowsNeeded, 2 * logitRows));
                logits = new float[logitRows * config.vocabSize()];
            }
        }
    }

    /**
     * Runs {@code n} rows through every layer: row i is token {@code ids[from + i]} at position
     * {@code positions[i]} of {@code sessions[i]}, whose cache has every earlier position (or gets
     * it from an earlier row of this call: a session's rows are consecutive and in order). Keys and
     * values go into each row's session; the sessions' lengths are the caller's to advance. With
     * {@code allLogits} every row's logits go to {@code r.logits [n, vocab]}; otherwise only the
     * last row's, into its session's array.
     */
    private void forward(Rows r, Session[] sessions, int[] positions, int[] ids, int from, int n, boolean allLogits) {
        LlamaConfig c = config;
        int dim = c.dim(), kvDim = c.kvDim(), hidden = c.hiddenDim(), headSize = c.headSize(), half = headSize / 2;
        r.ensure(n, allLogits ? n : 0);
        for (int i = 0; i < n; i++) sessions[i].cache.reserve(positions[i] + 1);
        for (int i = 0; i < n; i++) {
            embedding.row(ids[from + i], r.x, i * dim);
            for (int j = 0; j < half; j++) {
                double angle = positions[i] * inverseFrequencies[j];
                r.cos[i * half + j] = (float) Math.cos(angle);
                r.sin[i * half + j] = (float) Math.sin(angle);
            }
        }
        float eps = c.rmsNormEps();
        for (int l = 0; l < layers.length; l++) {
            Layer w = layers[l];
            // attention
            for (int i = 0; i < n; i++) VectorMath.rmsNorm(r.x, i * dim, w.attentionNorm(), 0, eps, r.xb, i * dim, dim);
            project(l, LlamaLora.Projection.Q, w.wq(), r.xb, r.q, n, r);
            project(l, LlamaLora.Projection.K, w.wk(), r.xb, r.k, n, r);
            project(l, LlamaLora.Projection.V, w.wv(), r.xb, r.v, n, r);
            for (int i = 0; i < n; i++) {
                rope(r.q, i * dim, c.heads(), headSize, r.cos, r.sin, i * half, c.ropeStyle());
                rope(r.k, i * kvDim, c.kvHeads(), headSize, r.cos, r.sin, i * half, c.ropeStyle());
                sessions[i].cache.put(l, positions[i], r.k, i * kvDim, r.v, i * kvDim);
            }
            attend(l, r, sessions, positions, n);
            project(l, LlamaLora.Projection.O, w.wo(), r.att, r.xb, n, r);
            VectorMath.add(r.x, 0, r.xb, 0, r.x, 0, n * dim);
            // feed-forward
            for (int i = 0; i < n; i++) VectorMath.rmsNorm(r.x, i * dim, w.ffnNorm(), 0, eps, r.xb, i * dim, dim);
            project(l, LlamaLora.Projection.GATE, w.w1(), r.xb, r.gate, n, r);
            project(l, LlamaLora.Projection.UP, w.w3(), r.xb, r.up, n, r);
            VectorMath.siluMul(r.gate, 0, r.up, 0, r.gate, 0, n * hidden);
            project(l, LlamaLora.Projection.DOWN, w.w2(), r.gate, r.xb, n, r);
            VectorMath.add(r.x, 0, r.xb, 0, r.x, 0, n * dim);
        }
        if (allLogits) {
            for (int i = 0; i < n; i++) VectorMath.rmsNorm(r.x, i * dim, finalNorm, 0, eps, r.xb, i * dim, dim);
            multiply(output, r.xb, r.logits, n);
        } else {
            VectorMath.rmsNorm(r.x, (n - 1) * dim, finalNorm, 0, eps, r.xb, 0, dim);
            output.gemv(r.xb, 0, sessions[n - 1].logits, 0);
        }
    }

    /**
     * Each session's run of rows attends over its own cache in {@code layer}: one session's heads
     * split across the threads; several sessions' (a step) in one parallel region over all their
     * heads, as attention cannot be batched across caches.
     */
    private void attend(int layer, Rows r, Session[] sessions, int[] positions, int n) {
        int dim = config.dim(), runs = 0;
        long cost = 0;
        for (int i = 0; i < n; runs++) {
            int j = i + 1;
            while (j < n && sessions[j] == sessions[i]) j++;
            sessions[i].cache.prepare(layer, r.q, i * dim, j - i, positions[i], r.att);
            cost = Math.max(cost, sessions[i].cache.cost());
            i = j;
        }
        if (runs == 1) {
            Parallel.forRange(config.heads(), cost, sessions[0].cache.attendHeads);
            return;
        }
        AttentionCache[] caches = new AttentionCache[runs];
        for (int i = 0, k = 0; i < n; i++) if (i == 0 || sessions[i] != sessions[i - 1]) caches[k++] = sessions[i].cache;
        int heads = config.heads();
        Parallel.forRange(runs * heads, cost, (from, to) -> {
            for (int t = from; t < to; t++) caches[t / heads].attendHeads(t % heads, t % heads + 1);
        });
    }

    /**
     * {@code out[i] = W in[i]} for n rows of projection {@code p} in {@code layer}, plus its adapter's
     * {@code scale B (A in[i])} when it has one, through the buffers of {@code r}.
     */
    private void project(int layer, LlamaLora.Projection p, WeightMatrix w, float[] in, float[] out, int n, Rows r) {
        multiply(w, in, out, n);
        if (loraA == null) return;
        WeightMatrix a = loraA[layer][p.ordinal()];
        if (a == null) return;
        WeightMatrix b = loraB[layer][p.ordinal()];
        multiply(a, in, r.loraMid, n);
        multiply(b, r.loraMid, r.loraOut, n);
        VectorMath.add(out, 0, r.loraOut, 0, out, 0, n * b.rows());
    }

    /** {@code out[i] = W in[i]} for n rows: a gemv for one, a gemm for several. */
    private static void multiply(WeightMatrix w, float[] in, float[] out, int n) {
        if (n == 1) w.gemv(in, 0, out, 0);
        else w.gemm(in, n, out);
    }

    /**
     * One sequence being decoded: the keys and values of its tokens so far, and the buffers a
     * forward pass runs in.
     *
     * <p>{@link #feed} runs all the tokens it is given through each layer together (batched
     * prefill: one {@link WeightMatrix#gemm} per weight, causal attention among them and over the
     * cache), in batches of at most {@value #PREFILL_BATCH} tokens so a long prompt does not need
     * buffers of its whole length. One token goes through {@link WeightMatrix#gemv}. Several
     * sessions advance a token each together through {@link Llama#step}.
     *
     * <p>The key/value cache ({@link AttentionCache}) grows in blocks of 64 positions as the
     * sequence does (up to the context length), never copied: a session holds memory for the
     * tokens it has read, not for the model's whole context. Buffers are allocated when a batch or
     * the cache first needs them; afterwards decoding a token allocates nothing of its own, on this
     * thread or in the attention tasks the compute threads run (the array returned by
     * {@link #feed} is the session's own, overwritten by the next call). What the kernels
     * underneath allocate per call (a few hundred bytes per matrix product, see the README) is
     * theirs. Not thread-safe: one thread feeds a session.
     */
    public static final class Session implements CausalLm.Session {
        /** Tokens run through the layers together, at most. */
        static final int PREFILL_BATCH = 128;

        private final Llama model;
        private final AttentionCache cache;
        private final float[] logits;
        private final Rows rows;
        private int length;
        // the rows of a feed: this session at consecutive positions
        private Session[] self = new Session[0];
        private int[] positions = new int[0];

        Session(Llama model) {
            this.model = model;
            LlamaConfig c = model.config;
            cache = new AttentionCache(c.layers(), c.contextLength(), c.heads(), c.kvHeads(), c.headSize());
            logits = new float[c.vocabSize()];
            rows = model.new Rows();
            rows.ensure(1, 0);
        }

        /**
         * Feeds {@code ids} after the tokens fed before and returns the logits of the token that
         * follows (the session's own array, valid until the next call).
         *
         * @throws IllegalArgumentException if there are no ids, an id is outside the vocabulary, or
         *     the sequence would outgrow the context
         */
        @Override
        public float[] feed(int[] ids) {
            check(ids);
            for (int from = 0; from < ids.length; from += PREFILL_BATCH) {
                int n = Math.min(PREFILL_BATCH, ids.length - from);
                if (self.length < n) {
                    self = new Session[Math.min(PREFILL_BATCH, Math.max(n, 2 * self.length))];
                    java.util.Arrays.fill(self, this);
                    positions = new int[self.length];
                }
                for (int i = 0; i < n; i++) positions[i] = length + i;
                model.forward(rows, self, positions, ids, from, n, false);
                length += n;
            }
            return logits;
        }

        /** The checks of {@link #feed}, before anything is run. */
        void check(int[] ids) {
            LlamaConfig c = model.config;
            if (ids.length == 0) throw new IllegalArgumentException("no tokens to feed");
            if (ids.length > c.contextLength() - length)
                throw new IllegalArgumentException("sequence of " + ((long) length + ids.length) + " tokens is longer than the model's context of " + c.contextLength());
            for (int id : ids)
                if (id < 0 || id >= c.vocabSize()) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + c.vocabSize());
        }

        @Override
        public int length() {
            return length;
        }

        /** Key/value positions allocated so far (a multiple of {@value AttentionCache#BLOCK}, or the context length). */
        int cacheCapacity() {
            return cache.capacity();
        }

        /** Bytes of keys and values allocated so far (F32, every layer, for {@link #cacheCapacity} positions): what the session holds beyond the model. */
        public long cacheBytes() {
            return cache.bytes();
        }
    }

    /**
     * Rotates the {@code heads} heads of size {@code headSize} at {@code x[off ..]} by the angles
     * whose cosines and sines are at {@code cos[csOff ..]}, {@code sin[csOff ..]} (one per pair):
     * pair j of each head, {@code (a, b)}, becomes {@code (a cos - b sin, a sin + b cos)}.
     */
    static void rope(float[] x, int off, int heads, int headSize, float[] cos, float[] sin, int csOff, LlamaConfig.RopeStyle style) {
        int half = headSize / 2;
        // NORM pairs (2j, 2j+1); NEOX pairs (j, j + half)
        int stride = style == LlamaConfig.RopeStyle.NORM ? 2 : 1, partner = style == LlamaConfig.RopeStyle.NORM ? 1 : half;
        for (int h = 0; h < heads; h++) {
            int base = off + h * headSize;
            for (int j = 0; j < half; j++) {
                int ia = base + j * stride, ib = ia + partner;
                float a = x[ia], b = x[ib], cj = cos[csOff + j], sj = sin[csOff + j];
                x[ia] = a * cj - b * sj;
                x[ib] = a * sj + b * cj;
            }
        }
    }
}
