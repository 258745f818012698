package dev.jumbo.onnx;

import static dev.jumbo.onnx.OnnxGraph.integer;
import static dev.jumbo.onnx.OnnxGraph.ints;
import static dev.jumbo.onnx.OnnxGraph.real;

import dev.jumbo.tensor.Tensor;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * What GPT-2's and BERT's ONNX graphs share: a {@link dev.jumbo.nn.TransformerBlock}'s layer norm,
 * Dense and multi-head self-attention as ONNX nodes, reading the weights from a model's state dict.
 */
final class TransformerOnnx {
    private TransformerOnnx() {}

    /** LayerNormalization (opset 17's own op) over the last axis with {@code module.gamma} and {@code module.beta}. */
    static String layerNorm(OnnxGraph g, String x, Weights w, String module, String name, double epsilon) {
        String gamma = g.initializer(module + ".gamma", w.take(module + ".gamma")), beta = g.initializer(module + ".beta", w.take(module + ".beta"));
        return g.add(g.builder("LayerNormalization", name, List.of(x, gamma, beta)).addAttribute(integer("axis", -1)).addAttribute(real("epsilon", (float) epsilon)));
    }

    /** A Dense: {@code x · kernel + bias}, the kernel stored {@code [in, out]} as MatMul wants it. */
    static String linear(OnnxGraph g, String x, Weights w, String module, String name) {
        g.node("MatMul", name + "_matmul", List.of(x, g.initializer(module + ".kernel", w.take(module + ".kernel"))));
        return g.apply("Add", name, g.initializer(module + ".bias", w.take(module + ".bias")));
    }

    /**
     * {@link dev.jumbo.nn.MultiHeadAttention} on {@code x} {@code [b, t, d]}: the fused {@code module.qkv}
     * projection sliced into q, k, v, heads split by Reshape and Transpose,
     * {@code softmax(q k^T / sqrt(d / heads) + bias) v}, heads joined and {@code module.output}.
     * {@code bias} broadcasts onto the scores {@code [b, heads, t, t]} (a causal or padding mask).
     */
    static String selfAttention(OnnxGraph g, String x, Weights w, String module, String n, int d, int heads, String bias) {
        int hd = d / heads;
        String qkv = linear(g, x, w, module + ".qkv", n + "qkv");
        String headShape = g.int64s(n + "head_shape", 0, 0, heads, hd), axis2 = g.int64s(n + "axis2", 2);
        String[] parts = new String[3];
        for (int k = 0; k < 3; k++) {
            String sliced = g.node("Slice", n + "qkv_" + k, List.of(qkv, g.int64s(n + "from_" + k, (long) k * d), g.int64s(n + "to_" + k, (long) (k + 1) * d), axis2));
            g.node("Reshape", n + "heads_" + k, List.of(sliced, headShape));
            // q and v to [b, heads, t, hd]; k to [b, heads, hd, t], ready for q k^T
            parts[k] = g.add(g.builder("Transpose", n + "by_head_" + k, List.of(g.x)).addAttribute(k == 1 ? ints("perm", 0, 2, 3, 1) : ints("perm", 0, 2, 1, 3)));
        }
        g.node("MatMul", n + "scores", List.of(parts[0], parts[1]));
        g.apply("Mul", n + "scaled", g.scalar(n + "scale", (float) (1 / Math.sqrt(hd))));
        if (bias != null) g.apply("Add", n + "masked", bias);
        g.add(g.builder("Softmax", n + "weights", List.of(g.x)).addAttribute(integer("axis", -1)));
        g.node("MatMul", n + "attended", List.of(g.x, parts[2]));
        g.add(g.builder("Transpose", n + "by_position", List.of(g.x)).addAttribute(ints("perm", 0, 2, 1, 3)));
        String joined = g.node("Reshape", n + "joined", List.of(g.x, g.int64s(n + "joined_shape", 0, 0, d)));
        return linear(g, joined, w, module + ".output", n + "attn_out");
    }

    /** A model's state dict, each entry taken once; what is left over at the end is a parameter the graph would silently drop. */
    record Weights(String model, Map<String, Tensor> state, Set<String> taken) {
        Weights(String model, Map<String, Tensor> state) {
            this(model, state, new HashSet<>());
        }

        Tensor take(String name) {
            Tensor t = state.get(name);
            if (t == null) throw new IllegalStateException(model + " has no parameter '" + name + "' (the ONNX writer and the model disagree)");
            taken.add(name);
            return t;
        }

        /** @throws IllegalStateException naming a parameter neither taken nor {@code outsideTheGraph} */
        void checkAllTaken(Predicate<String> outsideTheGraph) {
            for (String k : state.keySet())
                if (!taken.contains(k) && !outsideTheGraph.test(k))
                    throw new IllegalStateException(model + " parameter '" + k + "' has no place in the ONNX graph (the ONNX writer and the model disagree)");
        }
    }
}
