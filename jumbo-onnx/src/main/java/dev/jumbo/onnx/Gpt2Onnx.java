package dev.jumbo.onnx;

import static dev.jumbo.onnx.OnnxGraph.integer;
import static dev.jumbo.onnx.OnnxGraph.ints;
import static dev.jumbo.onnx.TransformerOnnx.layerNorm;
import static dev.jumbo.onnx.TransformerOnnx.linear;
import static dev.jumbo.onnx.TransformerOnnx.selfAttention;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.jumbo.io.AtomicFiles;
import dev.jumbo.onnx.TransformerOnnx.Weights;
import dev.jumbo.models.Gpt2;
import dev.jumbo.models.Gpt2Config;
import dev.jumbo.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

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
        int d = c.nEmbd(), heads = c.nHead(), p = c.nPositions();
        Weights w = new Weights("GPT-2", model.stateDict());
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
        for (int i = 0; i < c.nLayer(); i++) {
            String b = "h." + i + ".", n = "h" + i + "_";
            String normed = layerNorm(g, x, w, b + "norm1", n + "norm1", c.layerNormEpsilon());
            x = g.node("Add", n + "residual1", List.of(x, selfAttention(g, normed, w, b + "attention", n, d, heads, mask)));

            normed = layerNorm(g, x, w, b + "norm2", n + "norm2", c.layerNormEpsilon());
            String hidden = g.geluTanh(linear(g, normed, w, b + "fc", n + "fc"), n + "gelu_");
            x = g.node("Add", n + "residual2", List.of(x, linear(g, hidden, w, b + "proj", n + "proj")));
        }
        String last = layerNorm(g, x, w, "ln_f", "ln_f", c.layerNormEpsilon());
        String classifier = g.add(g.builder("Transpose", "wte_t", List.of(wte)).addAttribute(ints("perm", 1, 0)));
        g.node("MatMul", OUTPUT, List.of(last, classifier));
        w.checkAllTaken(name -> false);

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
}
