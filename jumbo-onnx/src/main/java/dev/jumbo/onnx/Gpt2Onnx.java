package dev.jumbo.onnx;

import static dev.jumbo.onnx.OnnxGraph.integer;
import static dev.jumbo.onnx.OnnxGraph.ints;
import static dev.jumbo.onnx.OnnxGraph.real;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.jumbo.io.AtomicFiles;
import dev.jumbo.models.Gpt2;
import dev.jumbo.models.Gpt2Config;
import dev.jumbo.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@link Gpt2} written as an ONNX model (opset {@value SequentialOnnx#OPSET}) that ONNX Runtime
 * runs with the logits of {@link Gpt2#forward}: input {@value #INPUT} (int64 {@code [batch,
 * sequence]}, both symbolic, at most {@code n_positions} long), output {@value #OUTPUT} (float
 * {@code [batch, sequence, vocab]}). It is the whole-sequence graph (no key/value cache inputs).
 *
 * <p>Per block, as {@link dev.jumbo.nn.TransformerBlock} runs it (pre-LN): LayerNormalization
 * (opset 17's own op), the fused query/key/value MatMul sliced in three, heads split by Reshape
 * and Transpose, {@code softmax(q k^T / sqrt(head_dim) + causal mask) v} with the mask a constant
 * {@code [n_positions, n_positions]} table sliced to the sequence, the output projection and the
 * residual; then the GELU (tanh form) MLP and its residual. The logits multiply by the token
 * embedding transposed (tied weights, stored once).
 *
 * <pre>{@code
 * Gpt2Onnx.write(Gpt2.load(Path.of("runs/shakespeare")), Path.of("gpt.onnx"));
 * }</pre>
 */
public final class Gpt2Onnx {
    /** Names of the graph's input and output. */
    public static final String INPUT = "input_ids", OUTPUT = "logits";

    private Gpt2Onnx() {}

    /** Writes {@code model} to {@code file}, atomically. */
    public static void write(Gpt2 model, Path file) throws IOException {
        ModelProto proto = toModel(model);
        AtomicFiles.write(file, proto::writeTo);
    }

    /**
     * The model as an ONNX {@link ModelProto}; its weights are copied as they are now.
     *
     * @throws IllegalStateException if the model's parameters are not the ones this graph uses (a
     *     drift between {@link Gpt2} and this writer, named)
     */
    public static ModelProto toModel(Gpt2 model) {
        Gpt2Config c = model.config();
        int d = c.nEmbd(), heads = c.nHead(), hd = c.headDim(), p = c.nPositions();
        Weights w = new Weights(model.stateDict());
        OnnxGraph g = new OnnxGraph(INPUT);

        // the sequence length as a 1-D tensor [t], for slicing the position table and the mask
        g.node("Shape", "ids_shape", List.of(INPUT));
        String t = g.node("Slice", "sequence_length", List.of("ids_shape", g.int64s("one", 1), g.int64s("two", 2)));
        String zero = g.int64s("zero", 0), axis0 = g.int64s("axis0", 0);
        String wte = g.initializer("wte", w.take("wte.embeddings"));
        String tokens = g.node("Gather", "token_vectors", List.of(wte, INPUT));
        String positions = g.node("Slice", "position_vectors", List.of(g.initializer("wpe", w.take("wpe.embeddings")), zero, t, axis0));
        String x = g.node("Add", "embedded", List.of(tokens, positions));

        float[] m = new float[p * p];
        for (int i = 0; i < p; i++)
            for (int j = i + 1; j < p; j++) m[i * p + j] = Float.NEGATIVE_INFINITY;
        String tt = g.add(g.builder("Concat", "mask_end", List.of(t, t)).addAttribute(integer("axis", 0)));
        String mask = g.node("Slice", "causal_mask", List.of(g.initializer("causal_mask", Tensor.of(m, p, p)), g.int64s("zeros2", 0, 0), tt, g.int64s("axes01", 0, 1)));
        String headShape = g.int64s("head_shape", 0, 0, heads, hd), joinedShape = g.int64s("joined_shape", 0, 0, d);
        String scale = g.scalar("attention_scale", (float) (1 / Math.sqrt(hd)));
        String axis2 = g.int64s("axis2", 2);

        for (int i = 0; i < c.nLayer(); i++) {
            String b = "h." + i + ".", n = "h" + i + "_";
            String normed = layerNorm(g, x, w, b + "norm1", n + "norm1", c.layerNormEpsilon());
            String qkv = linear(g, normed, w, b + "attention.qkv", n + "qkv");
            String[] parts = new String[3];
            for (int k = 0; k < 3; k++) {
                String sliced = g.node("Slice", n + "qkv_" + k, List.of(qkv, g.int64s(n + "from_" + k, (long) k * d), g.int64s(n + "to_" + k, (long) (k + 1) * d), axis2));
                g.node("Reshape", n + "heads_" + k, List.of(sliced, headShape));
                // q and v to [b, heads, t, hd]; k to [b, heads, hd, t], ready for q k^T
                parts[k] = g.add(g.builder("Transpose", n + "by_head_" + k, List.of(g.x)).addAttribute(k == 1 ? ints("perm", 0, 2, 3, 1) : ints("perm", 0, 2, 1, 3)));
            }
            g.node("MatMul", n + "scores", List.of(parts[0], parts[1]));
            g.apply("Mul", n + "scaled", scale);
            g.apply("Add", n + "masked", mask);
            g.add(g.builder("Softmax", n + "weights", List.of(g.x)).addAttribute(integer("axis", -1)));
            g.node("MatMul", n + "attended", List.of(g.x, parts[2]));
            g.add(g.builder("Transpose", n + "by_position", List.of(g.x)).addAttribute(ints("perm", 0, 2, 1, 3)));
            String joined = g.node("Reshape", n + "joined", List.of(g.x, joinedShape));
            x = g.node("Add", n + "residual1", List.of(x, linear(g, joined, w, b + "attention.output", n + "attn_out")));

            normed = layerNorm(g, x, w, b + "norm2", n + "norm2", c.layerNormEpsilon());
            String hidden = g.geluTanh(linear(g, normed, w, b + "fc", n + "fc"), n + "gelu_");
            x = g.node("Add", n + "residual2", List.of(x, linear(g, hidden, w, b + "proj", n + "proj")));
        }
        String last = layerNorm(g, x, w, "ln_f", "ln_f", c.layerNormEpsilon());
        String classifier = g.add(g.builder("Transpose", "wte_t", List.of(wte)).addAttribute(ints("perm", 1, 0)));
        g.node("MatMul", OUTPUT, List.of(last, classifier));
        w.checkAllTaken();

        GraphProto graph = g.graph.setName("jumbo_gpt2")
                .addInput(OnnxGraph.valueInfo(INPUT, TensorProto.DataType.INT64_VALUE, "batch", "sequence"))
                .addOutput(OnnxGraph.valueInfo(OUTPUT, TensorProto.DataType.FLOAT_VALUE, "batch", "sequence", c.vocabSize()))
                .build();
        return ModelProto.newBuilder()
                .setIrVersion(SequentialOnnx.IR_VERSION)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(SequentialOnnx.OPSET))
                .setProducerName("jumbo")
                .setProducerVersion("0.1.0")
                .setGraph(graph)
                .build();
    }

    private static String layerNorm(OnnxGraph g, String x, Weights w, String module, String name, double epsilon) {
        String gamma = g.initializer(module + ".gamma", w.take(module + ".gamma")), beta = g.initializer(module + ".beta", w.take(module + ".beta"));
        return g.add(g.builder("LayerNormalization", name, List.of(x, gamma, beta)).addAttribute(integer("axis", -1)).addAttribute(real("epsilon", (float) epsilon)));
    }

    /** A Dense: {@code x · kernel + bias}, the kernel stored {@code [in, out]} as MatMul wants it. */
    private static String linear(OnnxGraph g, String x, Weights w, String module, String name) {
        g.node("MatMul", name + "_matmul", List.of(x, g.initializer(module + ".kernel", w.take(module + ".kernel"))));
        return g.apply("Add", name, g.initializer(module + ".bias", w.take(module + ".bias")));
    }

    /** The model's state dict, each entry taken once; what is left over at the end is a parameter the graph would silently drop. */
    private record Weights(Map<String, Tensor> state, Set<String> taken) {
        Weights(Map<String, Tensor> state) {
            this(state, new HashSet<>());
        }

        Tensor take(String name) {
            Tensor t = state.get(name);
            if (t == null) throw new IllegalStateException("GPT-2 has no parameter '" + name + "' (the ONNX writer and Gpt2 disagree)");
            taken.add(name);
            return t;
        }

        void checkAllTaken() {
            for (String k : state.keySet())
                if (!taken.contains(k)) throw new IllegalStateException("GPT-2 parameter '" + k + "' has no place in the ONNX graph (the ONNX writer and Gpt2 disagree)");
        }
    }
}
