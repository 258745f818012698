package dev.jumbo.models;

import dev.jumbo.io.FormatException;
import dev.jumbo.lora.LoraConfig;
import dev.jumbo.lora.PeftAdapter;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.tensor.WeightMatrix;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;

/**
 * Low-rank adapters (LoRA) on a {@link Llama}'s projections: for each adapted matrix
 * {@code W [out, in]} a pair {@code A [rank, in]}, {@code B [out, rank]}, so the layer computes
 * {@code y = W x + scale * B (A x)} with {@code scale = alpha / rank} (PEFT's default scaling).
 * The base stays as it is; {@link Llama#withAdapters} runs base and adapters together,
 * {@link LlamaGraph#of} trains them (the base frozen), {@link #merge} folds them into the weights.
 *
 * <pre>{@code
 * try (Llama base = Llama2c.load(Path.of("stories260K.bin"))) {
 *     LlamaLora lora = LlamaLora.init(base.config(), 8, 16, EnumSet.of(Projection.Q, Projection.V), 0, new Random(1));
 *     LlamaGraph graph = LlamaGraph.of(base.withAdapters(lora));   // adapters trainable, base frozen
 *     // ... train the graph, then
 *     Llama adapted = base.withAdapters(graph.adapters());          // runs base + adapters, unmerged
 *     Llama merged = graph.adapters().merge(base);                  // W + scale B A, in F32
 * }
 * }</pre>
 *
 * <p>A and B are held in the model's own row order. HuggingFace's Llama checkpoints (and PEFT
 * adapters trained on them) arrange the rows of q and k for rotary embeddings on the two halves of
 * a head ({@link LlamaConfig.RopeStyle#NEOX}); llama2.c and GGUF files hold the same weights with
 * those rows permuted for adjacent pairs ({@link LlamaConfig.RopeStyle#NORM}), as llama.cpp's
 * converter permutes {@code q_proj} and {@code k_proj} (and, in {@code convert_lora_to_gguf.py}, the
 * B of their adapters: A works on the input, which is not permuted). {@link #fromHfRows} and
 * {@link #toHfRows} apply that permutation to B of q and k, so an adapter file always holds
 * HuggingFace's order.
 */
public final class LlamaLora {
    /**
     * The projections of a block that can carry an adapter, with HuggingFace's module names
     * (PEFT's target names) and Jumbo's ({@link Llama.Layer}): w1 is the gate, w3 the up
     * projection, w2 the down projection, as {@link LlamaSafetensors} reads them.
     */
    public enum Projection {
        Q("self_attn.q_proj", "wq"), K("self_attn.k_proj", "wk"), V("self_attn.v_proj", "wv"), O("self_attn.o_proj", "wo"),
        GATE("mlp.gate_proj", "w1"), UP("mlp.up_proj", "w3"), DOWN("mlp.down_proj", "w2");

        private final String hf, jumbo;

        Projection(String hf, String jumbo) {
            this.hf = hf;
            this.jumbo = jumbo;
        }

        /** HuggingFace's module path inside a block, e.g. {@code self_attn.q_proj}. */
        public String hfPath() {
            return hf;
        }

        /** The last part of {@link #hfPath}, what PEFT's {@code target_modules} lists: {@code q_proj}. */
        public String hfName() {
            return hf.substring(hf.indexOf('.') + 1);
        }

        /** Jumbo's name, as {@link Llama.Layer} calls the matrix: {@code wq}. */
        public String jumboName() {
            return jumbo;
        }

        /** HuggingFace's full module name in layer {@code layer}: {@code model.layers.3.self_attn.q_proj}. */
        public String module(int layer) {
            return "model.layers." + layer + "." + hf;
        }

        /** The base matrix in {@code layer}. */
        public WeightMatrix of(Llama.Layer layer) {
            return switch (this) {
                case Q -> layer.wq();
                case K -> layer.wk();
                case V -> layer.wv();
                case O -> layer.wo();
                case GATE -> layer.w1();
                case UP -> layer.w3();
                case DOWN -> layer.w2();
            };
        }

        /** Inputs of the matrix in a model of shape {@code c}. */
        public int in(LlamaConfig c) {
            return this == DOWN ? c.hiddenDim() : c.dim();
        }

        /** Outputs of the matrix in a model of shape {@code c}. */
        public int out(LlamaConfig c) {
            return switch (this) {
                case Q, O, DOWN -> c.dim();
                case K, V -> c.kvDim();
                case GATE, UP -> c.hiddenDim();
            };
        }

        /** The projection named {@code name} by HuggingFace ({@code q_proj}, {@code self_attn.q_proj}) or Jumbo ({@code wq}), or null. */
        public static Projection named(String name) {
            for (Projection p : values()) if (name.equals(p.hf) || name.equals(p.hfName()) || name.equals(p.jumbo)) return p;
            return null;
        }
    }

    /** Where an adapter sits: a projection of a layer. */
    public record Site(int layer, Projection projection) {
        public Site {
            Objects.requireNonNull(projection, "projection");
        }

        /** HuggingFace's module name, as {@link Projection#module}. */
        public String module() {
            return projection.module(layer);
        }
    }

    /**
     * One adapter's weights, row-major: {@code a [rank, in]}, {@code b [out, rank]}, rows of b in the
     * model's order. The arrays are the adapter's own; changing them changes the adapter.
     */
    public record Delta(int rank, int in, int out, float[] a, float[] b) {
        /** @throws IllegalArgumentException if the arrays do not hold the shapes */
        public Delta {
            if (rank <= 0 || in <= 0 || out <= 0) throw new IllegalArgumentException("adapter sizes must be positive, got rank " + rank + ", in " + in + ", out " + out);
            if (a.length != (long) rank * in) throw new IllegalArgumentException("A holds " + a.length + " values, not [" + rank + ", " + in + "]");
            if (b.length != (long) out * rank) throw new IllegalArgumentException("B holds " + b.length + " values, not [" + out + ", " + rank + "]");
        }
    }

    private final LlamaConfig config;
    private final double scale;
    private final double dropout;
    private final Map<Site, Delta> deltas;

    /**
     * Adapters for a model of shape {@code config}.
     *
     * @param scale   what {@code B A} is multiplied by ({@code alpha / rank})
     * @param dropout probability of dropping an input of A while training ({@link LlamaGraph}); 0 for none
     * @throws IllegalArgumentException naming the site whose layer is out of range or whose delta does not fit its matrix
     */
    public LlamaLora(LlamaConfig config, double scale, double dropout, Map<Site, Delta> deltas) {
        this.config = Objects.requireNonNull(config, "config");
        if (!Double.isFinite(scale)) throw new IllegalArgumentException("scale must be finite, got " + scale);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
        this.scale = scale;
        this.dropout = dropout;
        Map<Site, Delta> copy = new LinkedHashMap<>();
        deltas.forEach((site, d) -> {
            if (site.layer() < 0 || site.layer() >= config.layers())
                throw new IllegalArgumentException("adapter on " + site.module() + ": the model has layers 0.." + (config.layers() - 1));
            Projection p = site.projection();
            if (d.in() != p.in(config) || d.out() != p.out(config))
                throw new IllegalArgumentException("adapter on " + site.module() + " is [" + d.out() + " x " + d.rank() + "] x [" + d.rank() + " x " + d.in()
                        + "]; the matrix is [" + p.out(config) + ", " + p.in(config) + "]");
            copy.put(site, d);
        });
        this.deltas = Collections.unmodifiableMap(copy);
    }

    /**
     * PEFT's initial adapters: on every layer's {@code targets}, A drawn uniformly from
     * {@code ±1/sqrt(in)} (PyTorch's {@code kaiming_uniform_(a=sqrt(5))}, what PEFT uses) and B
     * zero, so the adapted model starts as the base; {@code scale = alpha / rank}.
     */
    public static LlamaLora init(LlamaConfig c, int rank, double alpha, Collection<Projection> targets, double dropout, Random random) {
        if (rank <= 0) throw new IllegalArgumentException("rank must be positive, got " + rank);
        if (targets.isEmpty()) throw new IllegalArgumentException("no projections to adapt; the model has " + List.of(Projection.values()));
        Map<Site, Delta> deltas = new LinkedHashMap<>();
        for (int l = 0; l < c.layers(); l++)
            for (Projection p : EnumSet.copyOf(targets)) {
                int in = p.in(c), out = p.out(c);
                float[] a = new float[rank * in];
                double bound = 1 / Math.sqrt(in);
                for (int i = 0; i < a.length; i++) a[i] = (float) ((2 * random.nextDouble() - 1) * bound);
                deltas.put(new Site(l, p), new Delta(rank, in, out, a, new float[out * rank]));
            }
        return new LlamaLora(c, alpha / rank, dropout, deltas);
    }

    /**
     * PEFT's initial adapters on the modules {@code lora}'s targets match among a model of shape
     * {@code c}'s ({@link #modules}: {@code q_proj} matches every layer's, {@code model.layers.0.mlp.up_proj}
     * one), with its rank, {@code alpha / r} and dropout; A uniform in {@code ±1/sqrt(in)}, B zero.
     *
     * @throws IllegalArgumentException naming the targets that match no module, and listing the model's modules
     */
    public static LlamaLora init(LlamaConfig c, LoraConfig lora, Random random) {
        List<Site> sites = sites(c, lora);
        Map<Site, Delta> deltas = new LinkedHashMap<>();
        int rank = lora.r();
        for (Site site : sites) {
            int in = site.projection().in(c), out = site.projection().out(c);
            float[] a = new float[rank * in];
            double bound = 1 / Math.sqrt(in);
            for (int i = 0; i < a.length; i++) a[i] = (float) ((2 * random.nextDouble() - 1) * bound);
            deltas.put(site, new Delta(rank, in, out, a, new float[out * rank]));
        }
        return new LlamaLora(c, lora.scale(), lora.dropout(), deltas);
    }

    /** The sites whose modules {@code lora} targets, layer by layer. */
    private static List<Site> sites(LlamaConfig c, LoraConfig lora) {
        List<String> unmatched = lora.unmatched(modules(c));
        if (!unmatched.isEmpty())
            throw new IllegalArgumentException("LoRA target " + (unmatched.size() == 1 ? "module " + unmatched.getFirst() + " matches" : "modules " + unmatched + " match")
                    + " no module of this Llama; it has " + describeModules(c));
        List<Site> sites = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++)
            for (Projection p : Projection.values()) if (lora.matches(p.module(l))) sites.add(new Site(l, p));
        return sites;
    }

    /** HuggingFace's names of the modules an adapter can sit on in a model of shape {@code c}, layer by layer. */
    public static List<String> modules(LlamaConfig c) {
        List<String> out = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) for (Projection p : Projection.values()) out.add(p.module(l));
        return out;
    }

    /** The modules in one line: {@code model.layers.{0..4}.self_attn.{q,k,v,o}_proj and model.layers.{0..4}.mlp.{gate,up,down}_proj}. */
    static String describeModules(LlamaConfig c) {
        String layers = c.layers() == 1 ? "0" : "{0.." + (c.layers() - 1) + "}";
        return "model.layers." + layers + ".self_attn.{q,k,v,o}_proj and model.layers." + layers + ".mlp.{gate,up,down}_proj"
                + " (PEFT targets: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)";
    }

    // ---------------------------------------------------------------- PEFT files

    /**
     * Adapters from a PEFT adapter for a HuggingFace Llama: tensors
     * {@code base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight} ..., B of q and k
     * brought into the model's row order ({@link #fromHfRows}).
     *
     * @throws IllegalArgumentException naming the module the model lacks (and listing its modules), a
     *     target that matches none of them, or the module whose A or B does not fit its matrix
     */
    public static LlamaLora fromPeft(PeftAdapter adapter, LlamaConfig c) {
        LoraConfig lora = adapter.config();
        if (adapter.fanInFanOut())
            throw new IllegalArgumentException("the adapter says fan_in_fan_out (its base stores weights [in, out], as GPT-2 does); a Llama's projections are nn.Linear [out, in]");
        List<String> unmatched = lora.unmatched(modules(c));
        if (!unmatched.isEmpty())
            throw new IllegalArgumentException("the adapter's target " + (unmatched.size() == 1 ? "module " + unmatched.getFirst() : "modules " + unmatched)
                    + " match" + (unmatched.size() == 1 ? "es" : "") + " no module of this Llama; it has " + describeModules(c));
        Map<String, Site> byModule = new LinkedHashMap<>();
        for (int l = 0; l < c.layers(); l++) for (Projection p : Projection.values()) byModule.put(p.module(l), new Site(l, p));
        Map<Site, Delta> deltas = new LinkedHashMap<>();
        for (String module : adapter.modules()) {
            Site site = byModule.get(module);
            if (site == null) throw new IllegalArgumentException("the adapter adapts '" + module + "', which this Llama does not have; it has " + describeModules(c));
            Projection p = site.projection();
            Tensor a = adapter.a(module), b = adapter.b(module);
            int rank = a.dim(0), in = p.in(c), out = p.out(c);
            if (rank != lora.r() || b.dim(1) != rank)
                throw new IllegalArgumentException("module '" + module + "': A " + a.shape() + " and B " + b.shape() + " are not of the adapter's rank r = " + lora.r());
            if (a.dim(1) != in || b.dim(0) != out)
                throw new IllegalArgumentException("module '" + module + "': A " + a.shape() + " and B " + b.shape() + " do not fit its weight [" + out + ", " + in
                        + "] (A must be [" + rank + ", " + in + "], B [" + out + ", " + rank + "]): an adapter for another model?");
            deltas.put(site, new Delta(rank, in, out, a.toFloatArray(), fromHfRows(b.toFloatArray(), rank, p, c)));
        }
        return new LlamaLora(c, lora.scale(), lora.dropout(), deltas);
    }

    /**
     * These adapters as a PEFT adapter for a HuggingFace Llama ({@code task_type} CAUSAL_LM, B of q
     * and k in HuggingFace's row order): its targets are the projections' PEFT names ({@code q_proj})
     * when every layer has them, else the full module names.
     *
     * @param baseModel {@code base_model_name_or_path}, or null
     * @throws IllegalArgumentException if the adapters have different ranks (PEFT's file has one r) or none
     */
    public PeftAdapter toPeft(String baseModel) {
        if (deltas.isEmpty()) throw new IllegalArgumentException("no adapters to write");
        int rank = deltas.values().iterator().next().rank();
        for (Map.Entry<Site, Delta> e : deltas.entrySet())
            if (e.getValue().rank() != rank)
                throw new IllegalArgumentException(e.getKey().module() + " has rank " + e.getValue().rank() + ", others " + rank + ": a PEFT adapter has one rank");
        List<String> targets = new ArrayList<>();
        for (Projection p : targets()) {
            boolean everyLayer = true;
            for (int l = 0; l < config.layers(); l++) everyLayer &= deltas.containsKey(new Site(l, p));
            if (everyLayer) targets.add(p.hfName());
            else for (Site s : deltas.keySet()) if (s.projection() == p) targets.add(s.module());
        }
        Map<String, Tensor[]> ab = new LinkedHashMap<>();
        deltas.forEach((site, d) -> ab.put(site.module(), new Tensor[] {Tensor.of(d.a().clone(), d.rank(), d.in()),
                Tensor.of(toHfRows(d.b(), d.rank(), site.projection(), config), d.out(), d.rank())}));
        double alpha = scale * rank; // alpha / r * r: an integer alpha comes back as itself
        if (Math.abs(alpha - Math.rint(alpha)) < 1e-9 * Math.max(1, Math.abs(alpha))) alpha = Math.rint(alpha);
        return PeftAdapter.of(new LoraConfig(rank, alpha, dropout, targets), baseModel, "CAUSAL_LM", false, ab);
    }

    /**
     * Reads a PEFT adapter folder ({@code adapter_config.json}, {@code adapter_model.safetensors})
     * for a model of shape {@code c} ({@link #fromPeft}).
     *
     * @throws FormatException naming the file and what does not fit the model
     */
    public static LlamaLora read(Path dir, LlamaConfig c) throws IOException {
        PeftAdapter adapter = PeftAdapter.read(dir);
        try {
            return fromPeft(adapter, c);
        } catch (IllegalArgumentException e) {
            throw new FormatException(dir.resolve(PeftAdapter.WEIGHTS_FILE), e.getMessage());
        }
    }

    /** Writes the adapters into {@code dir} as PEFT does ({@link #toPeft}), each file replaced atomically. */
    public void write(Path dir, String baseModel) throws IOException {
        toPeft(baseModel).write(dir);
    }

    /** The shape of the model the adapters fit. */
    public LlamaConfig config() {
        return config;
    }

    /** What {@code B A} is multiplied by. */
    public double scale() {
        return scale;
    }

    /** Dropout on the adapters' inputs while training. */
    public double dropout() {
        return dropout;
    }

    /** The adapters by site, in the order given. */
    public Map<Site, Delta> deltas() {
        return deltas;
    }

    /** The adapter on {@code projection} of {@code layer}, or null. */
    public Delta delta(int layer, Projection projection) {
        return deltas.get(new Site(layer, projection));
    }

    /** The projections that carry an adapter in some layer. */
    public Set<Projection> targets() {
        Set<Projection> t = EnumSet.noneOf(Projection.class);
        for (Site s : deltas.keySet()) t.add(s.projection());
        return t;
    }

    /** Adapter weights in all: what a LoRA fine-tune trains. */
    public long parameterCount() {
        long n = 0;
        for (Delta d : deltas.values()) n += d.a().length + (long) d.b().length;
        return n;
    }

    /** The largest rank. */
    int maxRank() {
        int r = 0;
        for (Delta d : deltas.values()) r = Math.max(r, d.rank());
        return r;
    }

    // ---------------------------------------------------------------- merging

    /**
     * A model whose adapted matrices are {@code W + scale * B A} in F32 (on the heap, whatever the
     * base stores: a quantized base is dequantized, merged, and requantized only if the caller writes
     * it in a quantized type, e.g. through {@link LlamaGguf#writer}); every other weight is the base's
     * own. The merged model holds no resource: the base must stay open while it is used.
     *
     * @throws IllegalArgumentException if the base's shape is not the one the adapters were made for
     */
    public Llama merge(Llama base) {
        if (!base.config().equals(config))
            throw new IllegalArgumentException("the adapters are for a model of shape " + config + ", the base is " + base.config());
        List<Llama.Layer> layers = new ArrayList<>();
        for (int l = 0; l < config.layers(); l++) {
            Llama.Layer w = base.layers().get(l);
            WeightMatrix[] m = new WeightMatrix[Projection.values().length];
            for (Projection p : Projection.values()) {
                Delta d = delta(l, p);
                m[p.ordinal()] = d == null ? p.of(w) : merged(p.of(w), d, scale);
            }
            layers.add(new Llama.Layer(w.attentionNorm(), m[0], m[1], m[2], m[3], w.ffnNorm(), m[4], m[6], m[5]));
        }
        return new Llama(config, base.embedding(), layers, base.finalNorm(), base.output(), null);
    }

    /** {@code W + scale B A} in F32: each row of W dequantized, plus the row's {@code scale * sum_k B[o, k] A[k, :]}, in double. */
    static WeightMatrix merged(WeightMatrix w, Delta d, double scale) {
        int rows = w.rows(), cols = w.cols(), r = d.rank();
        float[] out = new float[Math.multiplyExact(rows, cols)];
        double[] acc = new double[cols];
        for (int o = 0; o < rows; o++) {
            w.row(o, out, o * cols);
            java.util.Arrays.fill(acc, 0);
            for (int k = 0; k < r; k++) {
                double bk = d.b()[o * r + k];
                if (bk == 0) continue;
                for (int i = 0; i < cols; i++) acc[i] += bk * d.a()[k * cols + i];
            }
            for (int i = 0; i < cols; i++) out[o * cols + i] = (float) (out[o * cols + i] + scale * acc[i]);
        }
        return WeightMatrix.of(out, rows, cols);
    }

    /**
     * What {@link #mergeFiles} wrote: the format, the type the merged matrices were stored in, the
     * modules merged.
     */
    public record MergedFile(Path file, String format, dev.jumbo.tensor.DType type, int modules) {}

    /**
     * {@code jumbo merge}: reads the Llama at {@code base} (a llama2.c checkpoint, a GGUF file or a
     * HuggingFace folder),
     * the PEFT adapter folder {@code adapterDir}, and writes the merged model to {@code out} in the
     * base's format, atomically: llama2.c in F32 ({@link Llama2c#write}; its tokenizer file is
     * separate, as the base's is); GGUF with the base's tokenizer keys and every matrix in the type
     * the base's {@code attn_q} is stored in (F32, F16, BF16, Q8_0, Q4_0: a quantized base is
     * merged in F32 and requantized; another type is written F32), a matrix whose rows are not
     * whole blocks of it in F32; a HuggingFace folder as a new folder {@code out} with the base's other
     * files and {@code model.safetensors} in F32 ({@link LlamaSafetensors#write}).
     *
     * @throws IllegalArgumentException if {@code out} is the base itself (or, for a folder, exists and holds files)
     * @throws FormatException naming the file and what does not fit (see {@link #read})
     */
    public static MergedFile mergeFiles(Path base, Path adapterDir, Path out) throws IOException {
        if (base.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())
                || java.nio.file.Files.exists(out) && java.nio.file.Files.isSameFile(base, out))
            throw new IllegalArgumentException("--out " + out + " is the base model itself; write the merged model to another file");
        if (java.nio.file.Files.isDirectory(base)) {
            try (Llama llama = LlamaSafetensors.load(base)) {
                LlamaLora lora = read(adapterDir, llama.config());
                LlamaSafetensors.write(lora.merge(llama), base, out);
                return new MergedFile(out, "HuggingFace safetensors", dev.jumbo.tensor.DType.F32, lora.deltas().size());
            }
        }
        boolean gguf = base.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".gguf");
        try (Llama llama = gguf ? LlamaGguf.load(base, 0) : Llama2c.load(base)) {
            LlamaLora lora = read(adapterDir, llama.config());
            Llama merged = lora.merge(llama);
            if (!gguf) {
                Llama2c.write(merged, out);
                return new MergedFile(out, "llama2.c", dev.jumbo.tensor.DType.F32, lora.deltas().size());
            }
            dev.jumbo.tensor.DType stored = llama.layers().getFirst().wq().type();
            dev.jumbo.tensor.DType type = switch (stored) {
                case F32, F16, BF16, Q8_0, Q4_0 -> stored;
                default -> dev.jumbo.tensor.DType.F32;
            };
            String name = out.getFileName().toString().replaceFirst("\\.[^.]*$", "");
            dev.jumbo.io.GgufWriter writer = LlamaGguf.writer(merged, type, name, kept -> {});
            try (dev.jumbo.io.GgufFile source = dev.jumbo.io.Gguf.open(base)) {
                for (dev.jumbo.io.GgufField f : source.fields()) {
                    if (!f.key().startsWith("tokenizer.")) continue;
                    if (f.type() == dev.jumbo.io.GgufValueType.ARRAY) writer.putArray(f.key(), f.itemType(), source.array(f.key()));
                    else writer.put(f.key(), f.type(), source.value(f.key()));
                }
            }
            writer.write(out);
            return new MergedFile(out, "GGUF", type, lora.deltas().size());
        }
    }

    // ---------------------------------------------------------------- row order of q and k

    /**
     * B of an adapter on projection {@code p} from HuggingFace's row order to the model's: for q
     * and k of a {@link LlamaConfig.RopeStyle#NORM} model, llama.cpp's permutation (in each head,
     * row {@code s * headSize/2 + j} of HuggingFace's becomes row {@code 2j + s}); otherwise the
     * rows as they are. A new array.
     */
    public static float[] fromHfRows(float[] b, int rank, Projection p, LlamaConfig c) {
        return permuted(b, rank, p, c, true);
    }

    /** The inverse of {@link #fromHfRows}: B in the model's row order to HuggingFace's. A new array. */
    public static float[] toHfRows(float[] b, int rank, Projection p, LlamaConfig c) {
        return permuted(b, rank, p, c, false);
    }

    private static float[] permuted(float[] b, int rank, Projection p, LlamaConfig c, boolean toModel) {
        float[] out = b.clone();
        if (c.ropeStyle() != LlamaConfig.RopeStyle.NORM || (p != Projection.Q && p != Projection.K)) return out;
        int heads = p == Projection.Q ? c.heads() : c.kvHeads(), hs = c.headSize(), half = hs / 2;
        if (b.length != heads * hs * rank) throw new IllegalArgumentException("B holds " + b.length + " values, not [" + heads * hs + ", " + rank + "]");
        for (int h = 0; h < heads; h++)
            for (int s = 0; s < 2; s++)
                for (int j = 0; j < half; j++) {
                    int hf = h * hs + s * half + j, model = h * hs + 2 * j + s;
                    int from = toModel ? hf : model, to = toModel ? model : hf;
                    System.arraycopy(b, from * rank, out, to * rank, rank);
                }
        return out;
    }
}
