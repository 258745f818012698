package dev.jumbo.cli;

import dev.jumbo.io.GgufWriter;
import dev.jumbo.models.CausalLm;
import dev.jumbo.models.Gpt2;
import dev.jumbo.models.Llama;
import dev.jumbo.models.Llama2c;
import dev.jumbo.models.LlamaConfig;
import dev.jumbo.models.LlamaGguf;
import dev.jumbo.models.LlamaSafetensors;
import dev.jumbo.nn.Parameter;
import dev.jumbo.tensor.DType;
import dev.jumbo.tensor.WeightMatrix;
import dev.jumbo.text.SentencePieceBpe;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * The models {@code jumbo bench generate --shape} builds (or writes to a file with {@code --save-model}):
 * known shapes with random weights, and the byte counts that bound their speed (weights read per
 * decoded token against memory bandwidth).
 */
final class BenchModels {
    private BenchModels() {}

    /** Memory bandwidth the {@code bandwidth_limit_tokens_per_second} figure assumes, bytes/s. */
    static final double BANDWIDTH = 36e9;

    /** A named shape: its architecture and, for Llama, its config (GPT-2 shapes are the GPT-2 options' defaults). */
    record Shape(String name, String arch, LlamaConfig llama) {}

    static final List<Shape> SHAPES = List.of(
            // llama2.c's stories110M: 768 wide, 12 layers, 12 heads, hidden 2048, vocab 32000, context 1024, tied classifier
            new Shape("stories110M", "llama", new LlamaConfig(768, 2048, 12, 12, 12, 32000, 1024, 1e-5f, 10000, LlamaConfig.RopeStyle.NORM, true)),
            // TinyLlama-1.1B: 2048 wide, 22 layers, 32 heads over 4 KV heads, hidden 5632, vocab 32000, context 2048
            new Shape("tinyllama-1.1b", "llama", new LlamaConfig(2048, 5632, 22, 32, 4, 32000, 2048, 1e-5f, 10000, LlamaConfig.RopeStyle.NORM, false)),
            // GPT-2 small (124M): 12 layers, 768 wide, 12 heads, vocab 50257
            new Shape("gpt2-124m", "gpt2", null));

    /** @throws IllegalArgumentException listing the known shapes */
    static Shape shape(String name) {
        for (Shape s : SHAPES) if (s.name().equalsIgnoreCase(name)) return s;
        throw new IllegalArgumentException("--shape '" + name + "' is not one of " + SHAPES.stream().map(Shape::name).toList());
    }

    /** @throws IllegalArgumentException naming the types it takes */
    static DType dtype(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "f32" -> DType.F32;
            case "f16" -> DType.F16;
            case "q8_0" -> DType.Q8_0;
            case "q4_0" -> DType.Q4_0;
            default -> throw new IllegalArgumentException("--dtype '" + name + "' is not one of f32, f16, q8_0, q4_0");
        };
    }

    /**
     * A Llama of shape {@code c} whose matrices hold normal(0, 0.02) values encoded in {@code type},
     * norms 1 ({@link RandomWeights}). Each matrix is generated and encoded a band of rows at a time,
     * in parallel, into off-heap memory the model frees on close: the F32 values of the whole model
     * never exist at once (TinyLlama's would be 4.4 GB). {@link #saveRandomLlama} writes the same model.
     */
    static Llama randomLlama(LlamaConfig c, DType type, long seed) {
        Arena arena = Arena.ofShared(); // the compute threads read the weights
        try {
            RandomWeights w = new RandomWeights(seed, c.dim());
            int d = c.dim(), kv = c.kvDim(), h = c.hiddenDim();
            WeightMatrix embedding = w.matrix(arena, "token_embd.weight", c.vocabSize(), d, type);
            List<Llama.Layer> layers = new ArrayList<>();
            for (int l = 0; l < c.layers(); l++) {
                String b = "blk." + l + ".";
                layers.add(new Llama.Layer(ones(d), w.matrix(arena, b + "attn_q.weight", d, d, type), w.matrix(arena, b + "attn_k.weight", kv, d, type),
                        w.matrix(arena, b + "attn_v.weight", kv, d, type), w.matrix(arena, b + "attn_output.weight", d, d, type), ones(d),
                        w.matrix(arena, b + "ffn_gate.weight", h, d, type), w.matrix(arena, b + "ffn_down.weight", d, h, type),
                        w.matrix(arena, b + "ffn_up.weight", h, d, type)));
            }
            WeightMatrix output = c.sharedClassifier() ? embedding : w.matrix(arena, "output.weight", c.vocabSize(), d, type);
            return new Llama(c, embedding, layers, ones(d), output, arena);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Writes the model {@link #randomLlama} builds as a GGUF file in llama.cpp's layout, with a
     * made-up vocabulary ({@link #vocabulary}) so that {@code generate} and {@code chat} run it too.
     * Each matrix is drawn and encoded a band at a time as the file is written
     * ({@link LlamaGguf#writer}): the writer's memory stays at a few MB of values whatever the size.
     */
    static void saveRandomLlama(LlamaConfig c, DType type, long seed, String name, Path file, Consumer<String> keptF32) throws IOException {
        GgufWriter w = LlamaGguf.writer(c, new RandomWeights(seed, c.dim()), type, name, keptF32);
        LlamaGguf.putTokenizer(w, vocabulary(c.vocabSize()));
        w.write(file);
    }

    /**
     * Random weights by llama.cpp's tensor names: each row of each matrix is normal(0, 0.02) values
     * from a stream of its own, keyed by the seed, the tensor's name and the row, so the values do
     * not depend on how rows are banded or on the thread count (the model in memory and the one
     * written to a file are the same); every norm is ones.
     */
    record RandomWeights(long seed, int dim) implements LlamaGguf.WeightSource {
        private static final int BAND_ROWS = 64;

        @Override
        public void rows(String tensor, int from, int n, int cols, float[] out) {
            IntStream.range(0, n).parallel().forEach(r -> row(tensor, from + r, out, r * cols, cols));
        }

        @Override
        public float[] norm(String tensor) {
            return ones(dim);
        }

        /** Matrix {@code tensor [rows, cols]} encoded in {@code type}, in memory from {@code arena}; bands of rows in parallel. */
        WeightMatrix matrix(Arena arena, String tensor, int rows, int cols, DType type) {
            long rowBytes = type.byteSize(cols);
            MemorySegment data = arena.allocate(Math.multiplyExact(rowBytes, (long) rows), 64);
            IntStream.range(0, Math.ceilDiv(rows, BAND_ROWS)).parallel().forEach(b -> {
                int from = b * BAND_ROWS, n = Math.min(BAND_ROWS, rows - from);
                float[] v = new float[n * cols];
                for (int r = 0; r < n; r++) row(tensor, from + r, v, r * cols, cols);
                byte[] bytes = WeightMatrix.encode(v, 0, v.length, type);
                MemorySegment.copy(bytes, 0, data, ValueLayout.JAVA_BYTE, from * rowBytes, bytes.length);
            });
            return new WeightMatrix(type, data, rows, cols);
        }

        private void row(String tensor, int row, float[] out, int off, int cols) {
            // mixed, not added: streams of SplittableRandom seeds that differ by its gamma would overlap
            long key = (seed * 0x9E3779B97F4A7C15L + tensor.hashCode()) * 0xBF58476D1CE4E5B9L + row;
            SplittableRandom r = new SplittableRandom(new SplittableRandom(key).nextLong());
            for (int i = 0; i < cols; i++) out[off + i] = (float) (0.02 * r.nextGaussian());
        }
    }

    /**
     * A SentencePiece vocabulary of {@code n} pieces for a random model's file: {@code <unk>},
     * {@code <s>}, {@code </s>}, the 256 byte pieces (so any text encodes), {@code ▁}, then a
     * made-up word per id ({@code ▁a}, {@code ▁b}, ... {@code ▁aa} ...). Generation on it prints
     * nonsense words.
     *
     * @throws IllegalArgumentException if {@code n} is under 260
     */
    static SentencePieceBpe vocabulary(int n) {
        if (n < 260) throw new IllegalArgumentException("a vocabulary of " + n + " has no room for the 3 special pieces, the 256 bytes and the space");
        String[] tokens = new String[n];
        float[] scores = new float[n];
        int[] types = new int[n];
        tokens[0] = "<unk>";
        types[0] = SentencePieceBpe.TokenType.UNKNOWN.ordinal();
        tokens[1] = "<s>";
        tokens[2] = "</s>";
        types[1] = types[2] = SentencePieceBpe.TokenType.CONTROL.ordinal();
        for (int b = 0; b < 256; b++) {
            tokens[3 + b] = String.format("<0x%02X>", b);
            types[3 + b] = SentencePieceBpe.TokenType.BYTE.ordinal();
        }
        tokens[259] = String.valueOf(SentencePieceBpe.SPACE); // a space on its own, as SentencePiece's vocabularies have it
        types[259] = SentencePieceBpe.TokenType.NORMAL.ordinal();
        for (int id = 260; id < n; id++) {
            StringBuilder word = new StringBuilder();
            for (int k = id - 259; k > 0; k = (k - 1) / 26) word.append((char) ('a' + (k - 1) % 26)); // bijective base 26: unique
            tokens[id] = SentencePieceBpe.SPACE + word.reverse().toString();
            scores[id] = -(id - 259);
            types[id] = SentencePieceBpe.TokenType.NORMAL.ordinal();
        }
        return new SentencePieceBpe(tokens, scores, types, 1, 2, 0, true);
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        Arrays.fill(v, 1f);
        return v;
    }

    private static long bytes(WeightMatrix w) {
        return w.rows() * w.rowBytes();
    }

    /** Bytes of all the model's weights, a shared matrix counted once. */
    static long weightBytes(Llama llama) {
        Set<WeightMatrix> seen = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        long total = 4L * llama.finalNorm().length;
        List<WeightMatrix> all = new ArrayList<>(List.of(llama.embedding(), llama.output()));
        for (Llama.Layer l : llama.layers()) {
            all.addAll(List.of(l.wq(), l.wk(), l.wv(), l.wo(), l.w1(), l.w2(), l.w3()));
            total += 4L * (l.attentionNorm().length + l.ffnNorm().length);
        }
        for (WeightMatrix w : all) if (seen.add(w)) total += bytes(w);
        return total;
    }

    /** Bytes read to decode one token: every layer matrix, the norms and the classifier (of the embedding, one row). */
    static long streamedBytes(Llama llama) {
        long total = 4L * llama.finalNorm().length + bytes(llama.output()) + llama.embedding().rowBytes();
        for (Llama.Layer l : llama.layers()) {
            for (WeightMatrix w : List.of(l.wq(), l.wk(), l.wv(), l.wo(), l.w1(), l.w2(), l.w3())) total += bytes(w);
            total += 4L * (l.attentionNorm().length + l.ffnNorm().length);
        }
        return total;
    }

    /** Bytes of the key/value cache a Llama session has allocated ({@link Llama.Session#cacheBytes}); -1 for another model's session. */
    static long kvCacheBytes(CausalLm.Session session) {
        return session instanceof Llama.Session s ? s.cacheBytes() : -1;
    }

    /** A Llama from a llama2.c checkpoint ({@code .bin}), a GGUF file or a HuggingFace folder, mapped. */
    static Llama loadLlama(Path model) throws IOException {
        if (Files.isDirectory(model)) return LlamaSafetensors.load(model);
        if (!Files.exists(model)) throw new NoSuchFileException(model.toString());
        return model.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf") ? LlamaGguf.load(model, 0) : Llama2c.load(model);
    }

    /** The size of a model file, or of a folder's safetensors files together. */
    static long fileBytes(Path model) throws IOException {
        if (!Files.isDirectory(model)) return Files.size(model);
        try (Stream<Path> files = Files.list(model)) {
            long total = 0;
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".safetensors")).toList()) total += Files.size(f);
            return total;
        }
    }

    /** GPT-2's F32 parameters; per token all of them but the position table (one row of it, and one of the tied embedding, aside). */
    static long[] gpt2Bytes(Gpt2 gpt2) {
        long params = 0;
        for (Parameter p : gpt2.parameters()) params += p.value().size();
        var c = gpt2.config();
        return new long[] {4 * params, 4 * (params - (long) c.nPositions() * c.nEmbd())};
    }

    /** MB (2^20 bytes, as peak RSS is reported) with one decimal. */
    static double mb(long bytes) {
        return Math.round(bytes / 104857.6) / 10.0;
    }
}
