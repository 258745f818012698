package dev.jumbo.onnx;

import static dev.jumbo.onnx.TransformerOnnx.layerNorm;
import static dev.jumbo.onnx.TransformerOnnx.linear;
import static dev.jumbo.onnx.TransformerOnnx.selfAttention;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.jumbo.io.AtomicFiles;
import dev.jumbo.models.Bert;
import dev.jumbo.models.BertConfig;
import dev.jumbo.onnx.TransformerOnnx.Weights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A {@link Bert} encoder written as an ONNX model (opset {@value SequentialOnnx#OPSET}) that ONNX
 * Runtime runs with the hidden states of {@link Bert#forward(dev.jumbo.tensor.Tensor, dev.jumbo.tensor.Tensor)}:
 * inputs {@value #INPUT_IDS} and {@value #ATTENTION_MASK} (int64 {@code [batch, sequence]}, both
 * symbolic; 1 for a token, 0 for padding), output {@value #OUTPUT} (float {@code [batch, sequence,
 * hidden]}), the names HuggingFace's exports use. Token types are all 0, as Jumbo's forward has them.
 *
 * <p>Embeddings (word + position + token type 0, then LayerNormalization), then per layer, post-LN
 * as {@link dev.jumbo.nn.TransformerBlock} runs BERT: {@code norm1(x + attention(x))} with padding
 * keys biased by -1e9, then {@code norm2(x + proj(gelu(fc(x))))}, GELU through Erf. The pooler and
 * a masked-LM head, if the model has them, are not part of the graph.
 *
 * <pre>{@code
 * BertOnnx.write(Bert.load(Path.of("models/all-MiniLM-L6-v2")), Path.of("minilm.onnx"));
 * }</pre>
 */
public final class BertOnnx {
    /** Names of the graph's inputs and output. */
    public static final String INPUT_IDS = "input_ids", ATTENTION_MASK = "attention_mask", OUTPUT = "last_hidden_state";
    /** The score added where a key is padding, as {@link dev.jumbo.nn.MultiHeadAttention} adds it. */
    private static final float PADDING = -1e9f;

    private BertOnnx() {}

    /** Writes {@code model} to {@code file}, atomically. */
    public static void write(Bert model, Path file) throws IOException {
        ModelProto proto = toModel(model);
        AtomicFiles.write(file, proto::writeTo);
    }

    /**
     * The encoder as an ONNX {@link ModelProto}; its weights are copied as they are now.
     *
     * @throws IllegalStateException if the model's parameters are not the ones this graph uses (named)
     */
    public static ModelProto toModel(Bert model) {
        BertConfig c = model.config();
        int d = c.hiddenSize();
        double eps = c.layerNormEps();
        Weights w = new Weights("BERT", model.stateDict());
        OnnxGraph g = new OnnxGraph(INPUT_IDS);

        g.node("Shape", "ids_shape", List.of(INPUT_IDS));
        String t = g.node("Slice", "sequence_length", List.of("ids_shape", g.int64s("one", 1), g.int64s("two", 2)));
        String zero = g.int64s("zero", 0), axis0 = g.int64s("axis0", 0);
        String e = "embeddings.";
        String words = g.node("Gather", "word_vectors", List.of(g.initializer("word_embeddings", w.take(e + "word_embeddings.embeddings")), INPUT_IDS));
        String positions = g.node("Slice", "position_vectors",
                List.of(g.initializer("position_embeddings", w.take(e + "position_embeddings.embeddings")), zero, t, axis0));
        String type0 = g.node("Slice", "token_type_0",
                List.of(g.initializer("token_type_embeddings", w.take(e + "token_type_embeddings.embeddings")), zero, g.int64s("one_end", 1), axis0));
        g.node("Add", "word_and_position", List.of(words, positions));
        g.apply("Add", "embedded", type0);
        String x = layerNorm(g, g.x, w, e + "LayerNorm", "embedded_norm", eps);

        // [b, t] mask -> [b, 1, 1, t] bias: 0 for a token, PADDING for padding
        g.add(g.builder("Cast", "mask_float", List.of(ATTENTION_MASK)).addAttribute(OnnxGraph.integer("to", TensorProto.DataType.FLOAT_VALUE)));
        g.node("Sub", "is_padding", List.of(g.scalar("one_f", 1f), g.x));
        g.apply("Mul", "padding_scores", g.scalar("padding", PADDING));
        String bias = g.node("Unsqueeze", "padding_bias", List.of(g.x, g.int64s("axes12", 1, 2)));

        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String b = "encoder.layer." + i + ".", n = "l" + i + "_";
            String attended = selfAttention(g, x, w, b + "attention", n, d, c.numAttentionHeads(), bias);
            x = layerNorm(g, g.node("Add", n + "residual1", List.of(x, attended)), w, b + "norm1", n + "norm1", eps);
            String hidden = g.gelu(linear(g, x, w, b + "fc", n + "fc"), n + "gelu_");
            String out = linear(g, hidden, w, b + "proj", n + "proj");
            x = layerNorm(g, g.node("Add", n + "residual2", List.of(x, out)), w, b + "norm2", n + "norm2", eps);
        }
        g.node("Identity", OUTPUT, List.of(x));
        w.checkAllTaken(name -> name.startsWith("pooler.") || name.startsWith("cls."));

        GraphProto graph = g.graph.setName("jumbo_bert")
                .addInput(OnnxGraph.valueInfo(INPUT_IDS, TensorProto.DataType.INT64_VALUE, "batch", "sequence"))
                .addInput(OnnxGraph.valueInfo(ATTENTION_MASK, TensorProto.DataType.INT64_VALUE, "batch", "sequence"))
                .addOutput(OnnxGraph.valueInfo(OUTPUT, TensorProto.DataType.FLOAT_VALUE, "batch", "sequence", d))
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
