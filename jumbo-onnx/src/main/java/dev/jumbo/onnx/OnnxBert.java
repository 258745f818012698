package dev.jumbo.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.jumbo.io.FormatException;
import dev.jumbo.models.Bert;
import dev.jumbo.models.BertConfig;
import dev.jumbo.tensor.Tensor;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads a BERT-family encoder exported to ONNX (as HuggingFace's exporters write it) into a
 * {@link Bert}: the graph's initializers are its weights; the graph itself is only checked.
 *
 * <pre>{@code
 * Bert miniLm = OnnxBert.load(Path.of("all-minilm-l6-v2.onnx"));
 * }</pre>
 *
 * <p>Exporters name LayerNorm, embedding and bias tensors after the PyTorch module but give
 * linear weights anonymous names ({@code onnx::MatMul_787}, stored [in, out] as MatMul reads
 * them); a weight is named here after the {@code X.bias} added to its MatMul's output. The head
 * count is read from the shape the query projection is reshaped to ({@code [batch, time, heads, headDim]}).
 */
public final class OnnxBert {
    /** The operators of an exported BERT encoder; anything else is a graph this loader does not understand. */
    private static final Set<String> SUPPORTED = Set.of("Add", "Cast", "Concat", "Constant", "ConstantOfShape", "Div", "Equal",
            "Erf", "Expand", "Gather", "MatMul", "Mul", "Pow", "ReduceMean", "Reshape", "Shape", "Slice", "Softmax", "Sqrt", "Sub",
            "Transpose", "Unsqueeze", "Where", "Identity");
    private static final Pattern LAYER = Pattern.compile("^encoder\\.layer\\.(\\d+)\\.");

    private OnnxBert() {}

    /**
     * @throws FormatException naming the file and the problem: not an ONNX model, an operator
     *     outside a BERT encoder, a missing or misshapen weight
     */
    public static Bert load(Path file) throws IOException {
        ModelProto model;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            model = ModelProto.parseFrom(in);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new FormatException(file, "not an ONNX model (" + e.getMessage() + ")", e);
        }
        GraphProto graph = model.getGraph();
        if (graph.getNodeCount() == 0) throw new FormatException(file, "the graph has no nodes (not an ONNX model?)");
        for (NodeProto n : graph.getNodeList())
            if (!SUPPORTED.contains(n.getOpType()))
                throw new FormatException(file, "operator " + n.getOpType() + " (node '" + n.getName() + "') is not supported: only BERT-family encoder graphs load");
        Map<String, TensorProto> init = new HashMap<>();
        for (TensorProto t : graph.getInitializerList()) init.put(t.getName(), t);
        Map<String, NodeProto> producer = new HashMap<>();
        for (NodeProto n : graph.getNodeList()) for (String o : n.getOutputList()) producer.put(o, n);

        Map<String, Tensor> weights = new LinkedHashMap<>();
        for (TensorProto t : graph.getInitializerList())
            if (t.getDataType() == TensorProto.DataType.FLOAT_VALUE && !t.getName().startsWith("onnx::"))
                weights.put(t.getName().startsWith("bert.") ? t.getName().substring(5) : t.getName(), floats(file, t));
        // name each anonymous MatMul weight after the bias added to the MatMul's output
        for (NodeProto mm : graph.getNodeList()) {
            if (!mm.getOpType().equals("MatMul")) continue;
            String w = mm.getInput(1);
            if (!init.containsKey(w) || !w.startsWith("onnx::")) continue;
            for (NodeProto add : graph.getNodeList()) {
                if (!add.getOpType().equals("Add") || !add.getInputList().contains(mm.getOutput(0))) continue;
                for (String in : add.getInputList())
                    if (in.endsWith(".bias") && init.containsKey(in)) {
                        String base = in.substring(0, in.length() - ".bias".length());
                        weights.put((base.startsWith("bert.") ? base.substring(5) : base) + ".weight", floats(file, init.get(w)).transpose(0, 1));
                    }
            }
        }
        BertConfig config = config(file, weights, graph, producer, init);
        try {
            return Bert.withWeights(config, weights);
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, e.getMessage());
        }
    }

    private static BertConfig config(Path file, Map<String, Tensor> w, GraphProto graph, Map<String, NodeProto> producer,
                                     Map<String, TensorProto> init) throws FormatException {
        Tensor words = require(file, w, "embeddings.word_embeddings.weight"), positions = require(file, w, "embeddings.position_embeddings.weight");
        Tensor types = w.get("embeddings.token_type_embeddings.weight");
        int layers = 0;
        for (String k : w.keySet()) {
            Matcher m = LAYER.matcher(k);
            if (m.find()) layers = Math.max(layers, Integer.parseInt(m.group(1)) + 1);
        }
        if (layers == 0) throw new FormatException(file, "no encoder.layer.N weights: not a BERT encoder");
        int hidden = words.dim(1), intermediate = require(file, w, "encoder.layer.0.intermediate.dense.bias").dim(0);
        int heads = heads(file, graph, producer, init, hidden);
        try {
            return new BertConfig(words.dim(0), hidden, layers, heads, intermediate, positions.dim(0), types == null ? 1 : types.dim(0), 1e-12);
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, e.getMessage());
        }
    }

    /** The third entry of the shape the first layer's query is reshaped to. */
    private static int heads(Path file, GraphProto graph, Map<String, NodeProto> producer, Map<String, TensorProto> init, int hidden)
            throws FormatException {
        for (NodeProto n : graph.getNodeList()) {
            if (!n.getOpType().equals("Reshape") || !n.getInput(0).contains("layer.0/attention/self/query")) continue;
            NodeProto shape = producer.get(n.getInput(1));
            Long h = null;
            if (shape != null && shape.getOpType().equals("Concat") && shape.getInputCount() == 4) h = scalar(shape.getInput(2), producer, init);
            else if (init.containsKey(n.getInput(1))) {
                long[] v = int64s(init.get(n.getInput(1)));
                if (v.length == 4) h = v[2];
            }
            if (h != null && h > 0 && hidden % h == 0) return h.intValue();
        }
        throw new FormatException(file, "cannot find the number of attention heads (the query's Reshape to [batch, time, heads, headDim])");
    }

    private static Long scalar(String name, Map<String, NodeProto> producer, Map<String, TensorProto> init) {
        if (init.containsKey(name)) {
            long[] v = int64s(init.get(name));
            return v.length == 1 ? v[0] : null;
        }
        NodeProto p = producer.get(name);
        if (p == null) return null;
        if (p.getOpType().equals("Unsqueeze") || p.getOpType().equals("Identity") || p.getOpType().equals("Cast"))
            return scalar(p.getInput(0), producer, init);
        if (p.getOpType().equals("Constant") && p.getAttributeCount() > 0 && p.getAttribute(0).hasT()) {
            long[] v = int64s(p.getAttribute(0).getT());
            return v.length == 1 ? v[0] : null;
        }
        return null;
    }

    private static long[] int64s(TensorProto t) {
        if (t.getDataType() != TensorProto.DataType.INT64_VALUE) return new long[0];
        if (t.getInt64DataCount() > 0) return t.getInt64DataList().stream().mapToLong(Long::longValue).toArray();
        ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        long[] v = new long[b.remaining() / 8];
        for (int i = 0; i < v.length; i++) v[i] = b.getLong();
        return v;
    }

    private static Tensor require(Path file, Map<String, Tensor> w, String name) throws FormatException {
        Tensor t = w.get(name);
        if (t == null) throw new FormatException(file, "no initializer '" + name + "': not a BERT encoder export");
        return t;
    }

    /** A float initializer, from raw little-endian bytes or float_data, with its size checked against its dims. */
    private static Tensor floats(Path file, TensorProto t) throws FormatException {
        List<Long> dims = t.getDimsList();
        long n = 1;
        int[] shape = new int[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            long d = dims.get(i);
            if (d < 0 || d > Integer.MAX_VALUE) throw new FormatException(file, "initializer '" + t.getName() + "' has dimension " + d);
            shape[i] = (int) d;
            n = Math.multiplyExact(n, d);
        }
        if (n > Integer.MAX_VALUE) throw new FormatException(file, "initializer '" + t.getName() + "' has " + n + " elements (over 2^31)");
        float[] v = new float[(int) n];
        if (t.getRawData().size() > 0) {
            if (t.getRawData().size() != n * 4)
                throw new FormatException(file, "initializer '" + t.getName() + "' holds " + t.getRawData().size() + " bytes, its shape " + dims + " needs " + n * 4);
            t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        } else {
            if (t.getFloatDataCount() != n)
                throw new FormatException(file, "initializer '" + t.getName() + "' holds " + t.getFloatDataCount() + " floats, its shape " + dims + " needs " + n);
            for (int i = 0; i < v.length; i++) v[i] = t.getFloatData(i);
        }
        return Tensor.of(v, shape);
    }
}
