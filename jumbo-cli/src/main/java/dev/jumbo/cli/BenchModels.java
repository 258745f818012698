package dev.jumbo.cli;

import dev.jumbo.kernel.Quantize;
import dev.jumbo.models.Gpt2;
import dev.jumbo.models.Llama;
import dev.jumbo.models.LlamaConfig;
import dev.jumbo.nn.Parameter;
import dev.jumbo.tensor.DType;
import dev.jumbo.tensor.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * The models {@code jumbo bench generate --shape} builds: known shapes with random weights, and
 * the byte counts that bound their speed (weights read per decoded token against memory bandwidth).
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
     * norms 1. Each matrix is generated and encoded a band of rows at a time, in parallel, into
     * off-heap memory the model frees on close: the F32 values of the whole model never exist at
     * once (TinyLlama's would be 4.4 GB). The values depend on the seed alone, not the thread count.
     */
    static Llama randomLlama(LlamaConfig c, DType type, long seed) {
        Arena arena = Arena.ofShared(); // the compute threads read the weights
        try {
            SplittableRandom rnd = new SplittableRandom(seed);
            int d = c.dim(), kv = c.kvDim(), h = c.hiddenDim();
            WeightMatrix embedding = random(arena, rnd.split(), c.vocabSize(), d, type);
            List<Llama.Layer> layers = new ArrayList<>();
            for (int l = 0; l < c.layers(); l++)
                layers.add(new Llama.Layer(ones(d), random(arena, rnd.split(), d, d, type), random(arena, rnd.split(), kv, d, type),
                        random(arena, rnd.split(), kv, d, type), random(arena, rnd.split(), d, d, type), ones(d),
                        random(arena, rnd.split(), h, d, type), random(arena, rnd.split(), d, h, type), random(arena, rnd.split(), h, d, type)));
            WeightMatrix output = c.sharedClassifier() ? embedding : random(arena, rnd.split(), c.vocabSize(), d, type);
            return new Llama(c, embedding, layers, ones(d), output, arena);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    private static final int BAND_ROWS = 64;
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static WeightMatrix random(Arena arena, SplittableRandom rnd, int rows, int cols, DType type) {
        long rowBytes = type.byteSize(cols);
        MemorySegment data = arena.allocate(Math.multiplyExact(rowBytes, (long) rows), 64);
        int bands = Math.ceilDiv(rows, BAND_ROWS);
        SplittableRandom[] streams = new SplittableRandom[bands];
        for (int b = 0; b < bands; b++) streams[b] = rnd.split(); // in order: the same values whatever the threads
        IntStream.range(0, bands).parallel().forEach(b -> {
            int from = b * BAND_ROWS, n = Math.min(BAND_ROWS, rows - from);
            float[] v = new float[n * cols];
            SplittableRandom r = streams[b];
            for (int i = 0; i < v.length; i++) v[i] = (float) (0.02 * r.nextGaussian());
            long at = from * rowBytes;
            if (type == DType.F32) {
                MemorySegment.copy(v, 0, data, F32_LE, at, v.length);
                return;
            }
            byte[] bytes = switch (type) {
                case F16 -> Quantize.f16(v, 0, v.length);
                case Q8_0 -> Quantize.q8_0(v, 0, v.length);
                case Q4_0 -> Quantize.q4_0(v, 0, v.length);
                default -> throw new IllegalArgumentException("no encoder for " + type);
            };
            MemorySegment.copy(bytes, 0, data, ValueLayout.JAVA_BYTE, at, bytes.length);
        });
        return new WeightMatrix(type, data, rows, cols);
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
