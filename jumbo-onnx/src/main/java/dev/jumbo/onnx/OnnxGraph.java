package dev.jumbo.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import dev.jumbo.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * An ONNX graph being built by the exporters: nodes in order, initializers, the name of the latest
 * value {@code x} (each node added becomes it) and, for images, whether that value is in ONNX's
 * channel-first layout rather than Jumbo's NHWC.
 */
final class OnnxGraph {
    final GraphProto.Builder graph = GraphProto.newBuilder();
    String x;
    boolean channelFirst;
    private int transposes;

    /** A graph whose current value is the input {@code input}. */
    OnnxGraph(String input) {
        x = input;
    }

    NodeProto.Builder builder(String op, String output, List<String> inputs) {
        return NodeProto.newBuilder().setOpType(op).setName(output).addAllInput(inputs).addOutput(output);
    }

    /** Adds the node; its output, which becomes the current value. */
    String add(NodeProto.Builder node) {
        graph.addNode(node);
        x = node.getOutput(0);
        return x;
    }

    /** A binary op of the current value and {@code other}. */
    String apply(String op, String output, String other) {
        return node(op, output, List.of(x, other));
    }

    String node(String op, String output, List<String> inputs) {
        return add(builder(op, output, inputs));
    }

    /** Makes the current value channel-first, transposing an NHWC image. */
    void nchw() {
        if (channelFirst) return;
        add(builder("Transpose", "to_nchw_" + transposes++, List.of(x)).addAttribute(ints("perm", 0, 3, 1, 2)));
        channelFirst = true;
    }

    /** Makes the current value Jumbo's layout again, transposing a channel-first image back. */
    void nhwc() {
        if (!channelFirst) return;
        add(builder("Transpose", "to_nhwc_" + transposes++, List.of(x)).addAttribute(ints("perm", 0, 2, 3, 1)));
        channelFirst = false;
    }

    /** Adds {@code t} as a float initializer (little-endian raw data) named {@code "w_" + label}, apart from node outputs; that name. */
    String initializer(String label, Tensor t) {
        String name = "w_" + label;
        float[] v = t.toFloatArray();
        ByteBuffer bytes = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(v);
        TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE).setRawData(ByteString.copyFrom(bytes.array()));
        for (int d : t.shape().toArray()) b.addDims(d);
        graph.addInitializer(b);
        return name;
    }

    /** A float scalar initializer. */
    String scalar(String label, float value) {
        return initializer(label, Tensor.scalar(value));
    }

    /** A 1-D int64 initializer (shapes, slice bounds, axes). */
    String int64s(String label, long... values) {
        String name = "w_" + label;
        TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE).addDims(values.length);
        for (long v : values) b.addInt64Data(v);
        graph.addInitializer(b);
        return name;
    }

    /** GELU, {@code 0.5 x (1 + erf(x / sqrt 2))}, of {@code x}: opset 17 has Erf but no Gelu. Node names start with {@code p}. */
    String gelu(String x, String p) {
        String e = node("Erf", p + "erf", List.of(node("Mul", p + "x_over_sqrt2", List.of(x, scalar(p + "inv_sqrt2", (float) (1 / Math.sqrt(2)))))));
        String onePlus = node("Add", p + "one_plus_erf", List.of(e, scalar(p + "one", 1f)));
        return node("Mul", p + "gelu", List.of(node("Mul", p + "half_x", List.of(x, scalar(p + "half", 0.5f))), onePlus));
    }

    /** GELU's tanh form, {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}, of {@code x}. Node names start with {@code p}. */
    String geluTanh(String x, String p) {
        String cube = node("Mul", p + "x3", List.of(node("Mul", p + "x2", List.of(x, x)), x));
        String inner = node("Add", p + "inner", List.of(x, node("Mul", p + "cubic", List.of(cube, scalar(p + "c044715", 0.044715f)))));
        String t = node("Tanh", p + "tanh", List.of(node("Mul", p + "scaled", List.of(inner, scalar(p + "sqrt_2_over_pi", (float) Math.sqrt(2 / Math.PI))))));
        String onePlus = node("Add", p + "one_plus_tanh", List.of(t, scalar(p + "one", 1f)));
        return node("Mul", p + "gelu", List.of(node("Mul", p + "half_x", List.of(x, scalar(p + "half", 0.5f))), onePlus));
    }

    static AttributeProto ints(String name, int... values) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (int v : values) b.addInts(v);
        return b.build();
    }

    static AttributeProto integer(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    static AttributeProto real(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    /** A tensor value of element type {@code elemType} whose dimensions are names (symbolic) or Integers. */
    static ValueInfoProto valueInfo(String name, int elemType, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
            if (d instanceof String symbol) dim.setDimParam(symbol);
            else dim.setDimValue(((Number) d).longValue());
            shape.addDim(dim);
        }
        TypeProto type = TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape)).build();
        return ValueInfoProto.newBuilder().setName(name).setType(type).build();
    }
}
