package dev.jumbo.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.jumbo.io.FormatException;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.ActivationLayer;
import dev.jumbo.nn.AvgPool2D;
import dev.jumbo.nn.BatchNormalization;
import dev.jumbo.nn.Conv2D;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.GlobalAveragePooling2D;
import dev.jumbo.nn.Layer;
import dev.jumbo.nn.MaxPool2D;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Reads an ONNX model whose graph is a chain (each node feeding the next, weights as initializers
 * or Constant nodes) into a built {@link Sequential} holding the graph's weights: what
 * {@link SequentialOnnx} writes, and what PyTorch's exporter gives for a plain CNN or MLP.
 *
 * <pre>{@code
 * Sequential backbone = OnnxSequential.load(Path.of("cnn.onnx"));
 * Tensor probabilities = backbone.predict(nhwcImages, 64);
 * }</pre>
 *
 * <p><b>Layouts.</b> Jumbo keeps images NHWC. A rank-4 graph input is read as ONNX's NCHW unless
 * the graph transposes it to NCHW first or was written by Jumbo (producer {@code jumbo}); an NCHW
 * input {@code [batch, c, h, w]} becomes the model's input shape {@code [h, w, c]}, so the caller
 * transposes its images once ({@code x.permute(0, 2, 3, 1)}), and an image-shaped output comes out
 * NHWC too. Convolution kernels go from {@code [f, c, kh, kw]} to {@code [kh, kw, c, f]}, and the
 * first Dense after a Flatten of channel-first activations gets its kernel rows reordered from
 * {@code (c, h, w)} to Jumbo's {@code (h, w, c)}, so the outputs match the graph's.
 *
 * <p><b>Operators.</b> Conv (2-D, group 1, no dilation), MaxPool, AveragePool, GlobalAveragePool,
 * ReduceMean over height and width, BatchNormalization, Flatten, Reshape to {@code [batch, -1]} (its
 * target a constant or computed from the value's Shape, as PyTorch writes {@code x.view(x.size(0), -1)}),
 * Squeeze of a pooled image, MatMul (+ Add), Gemm, Relu, Sigmoid, Tanh, Softmax (over the channels),
 * LeakyRelu (slope 0.2, Jumbo's), Gelu and GELU written out in elementwise nodes (as SequentialOnnx
 * and PyTorch write it), runs of Sub/Div/Mul/Add by per-channel constants (as a BatchNormalization),
 * Transpose between NHWC and NCHW, a Pad of nothing (PyTorch's before AveragePool), Dropout and Identity. An activation right
 * after a Dense or Conv2D becomes that layer's activation. Padding must be none or Keras' "same"
 * for the input size (the odd pixel at the bottom/right); PyTorch's symmetric padding is that for a
 * stride-1 convolution with an odd kernel.
 *
 * <p>An inference graph does not say everything a Jumbo config does: Dropout layers are gone (the
 * identity at inference), batch normalization gets Keras' momentum 0.99, and when it was written as
 * {@code (x - mean) / std * gamma + beta} its epsilon is 1e-3 (or less, to keep the variance
 * {@code std² - epsilon} positive). Anything else (a residual Add, a branch, an operator Jumbo has no
 * layer for, attribute values its layers cannot express) is refused with a {@link FormatException}
 * naming the node (index, name, operator) and what is wrong.
 */
public final class OnnxSequential {
    private static final Set<String> ACTIVATIONS = Set.of("Relu", "Sigmoid", "Tanh", "LeakyRelu", "Softmax", "Gelu");
    private static final Set<String> AFFINE = Set.of("Sub", "Div", "Mul", "Add");
    /** Operators of a Reshape's target computed from a Shape. */
    private static final Set<String> SHAPE_OPS = Set.of("Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast", "Slice", "Identity");
    /** The batch size in a shape computed from the graph (symbolic). */
    private static final long BATCH = Long.MIN_VALUE;
    /** Elementwise operators an activation written out in nodes may use. */
    private static final Set<String> ELEMENTWISE = Set.of("Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Erf", "Tanh", "Sigmoid", "Exp", "Neg",
            "Reciprocal", "Abs", "Relu");
    private static final String SUPPORTED = "Conv, MaxPool, AveragePool, GlobalAveragePool, ReduceMean, BatchNormalization, Flatten, Reshape, "
            + "Squeeze, MatMul, Gemm, Add, Sub, Mul, Div, Relu, Sigmoid, Tanh, LeakyRelu, Softmax, Gelu, Transpose, Dropout, Identity, Constant, "
            + "Pad by nothing, GELU written out (Div, Erf, Add, Mul) and a Reshape's target computed by Shape, Gather, Unsqueeze, Concat, Slice";

    private OnnxSequential() {}

    /**
     * The model in {@code file}, built, with the graph's weights.
     *
     * @throws FormatException naming the file and the problem: not an ONNX model, a graph that is not
     *     a chain, a node Jumbo's layers cannot express (named by index, name and operator)
     */
    public static Sequential load(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString(), null, "no such ONNX file");
        ModelProto model;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            model = ModelProto.parseFrom(in);
        } catch (InvalidProtocolBufferException e) {
            throw new FormatException(file, oneLine("not an ONNX model (" + e.getMessage() + ")"), e);
        }
        return fromModel(model, file);
    }

    /** {@link #load} for a model already parsed; {@code source} names it in errors. */
    public static Sequential fromModel(ModelProto model, Path source) throws FormatException {
        if (!model.hasGraph() || model.getGraph().getNodeCount() == 0)
            throw new FormatException(source, "holds no ONNX graph (no nodes): not an ONNX model?");
        return new Reader(model, source).read();
    }

    /** {@code s} with control characters (a newline in a node's name) escaped. */
    private static String oneLine(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(c -> {
            if (Character.isISOControl(c)) b.append(String.format("\\u%04x", c));
            else b.appendCodePoint(c);
        });
        return b.toString();
    }

    /** How the graph's current value lays out Jumbo's current example shape. */
    private enum Layout {
        /** The same dimensions in the same order. */
        PLAIN,
        /** Jumbo's {@code [h, w, c]} image as ONNX's {@code [c, h, w]}. */
        CHANNEL_FIRST,
        /** Jumbo's {@code [c]} (pooled) as ONNX's {@code [c, 1, 1]}. */
        POOLED
    }

    /** One Jumbo layer to be: how to make it with a given activation, that activation, its weights by local name. */
    private record Step(Function<Activation, Layer> make, Activation activation, Map<String, Tensor> weights) {
        Step withActivation(Activation a) {
            return new Step(make, a, weights);
        }
    }

    /** Walks the graph's nodes in order, keeping Jumbo's shape and the ONNX layout of the current value. */
    private static final class Reader {
        private final Path file;
        private final ModelProto model;
        private final GraphProto graph;
        private final int opset;
        private final Map<String, TensorProto> constants = new HashMap<>();
        /** The nodes other than Constant, with their indices in the graph (for messages). */
        private final List<NodeProto> nodes = new ArrayList<>();
        private final List<Integer> index = new ArrayList<>();
        /** For each value, the graph indices of the nodes reading it (-1: a graph output). */
        private final Map<String, List<Integer>> readers = new HashMap<>();
        private final List<Step> steps = new ArrayList<>();
        private String input, x;
        private long inputBatch = -1; // the input's fixed batch size, if it has one
        private Shape inputShape, shape;
        private Layout layout = Layout.PLAIN;
        /** After a Flatten of a channel-first image: its {@code [h, w, c]}, by which Jumbo's features are in another order than ONNX's; else null. */
        private int[] flattenedChw;
        /** Whether the last step is a Dense or Conv2D without activation that no layer has followed yet. */
        private boolean fusable;
        private int at; // position in nodes of the node being read

        Reader(ModelProto model, Path file) throws FormatException {
            this.file = file;
            this.model = model;
            this.graph = model.getGraph();
            int version = -1;
            for (OperatorSetIdProto o : model.getOpsetImportList())
                if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) version = (int) o.getVersion();
            if (version < 0) throw problem("imports no opset of the default ONNX domain");
            this.opset = version;
        }

        Sequential read() throws FormatException {
            for (TensorProto t : graph.getInitializerList()) constants.put(t.getName(), t);
            List<NodeProto> all = graph.getNodeList();
            for (int i = 0; i < all.size(); i++) {
                NodeProto n = all.get(i);
                if (n.getOutputCount() == 0 || n.getOutput(0).isEmpty()) throw refuse(i, n, "has no output");
                if (!n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx"))
                    throw refuse(i, n, "is in domain '" + n.getDomain() + "': only the default ONNX operators load");
                if (n.getOpType().equals("Constant")) constants.put(n.getOutput(0), constantValue(i, n));
                else {
                    nodes.add(n);
                    index.add(i);
                }
                for (String in : n.getInputList()) if (!in.isEmpty()) readers.computeIfAbsent(in, k -> new ArrayList<>()).add(i);
            }
            for (ValueInfoProto o : graph.getOutputList()) readers.computeIfAbsent(o.getName(), k -> new ArrayList<>()).add(-1);
            readInput();
            for (at = 0; at < nodes.size(); at++) readNode(nodes.get(at));
            if (graph.getOutputCount() != 1)
                throw problem("the graph has " + graph.getOutputCount() + " outputs; a Sequential has one");
            if (!graph.getOutput(0).getName().equals(x))
                throw problem("the graph's output '" + graph.getOutput(0).getName() + "' is not the last node's output '" + x + "'");
            checkDeclaredOutput(graph.getOutput(0));
            return build();
        }

        // ------------------------------------------------------------ the input

        private void readInput() throws FormatException {
            List<ValueInfoProto> inputs = graph.getInputList().stream().filter(v -> !constants.containsKey(v.getName())).toList();
            if (inputs.size() != 1)
                throw problem("the graph has " + inputs.size() + " inputs (" + inputs.stream().map(ValueInfoProto::getName).toList()
                        + "); a Sequential has one");
            ValueInfoProto v = inputs.getFirst();
            input = x = v.getName();
            if (!v.getType().hasTensorType() || v.getType().getTensorType().getElemType() != TensorProto.DataType.FLOAT_VALUE)
                throw problem("the graph input '" + input + "' is not a float tensor");
            List<TensorShapeProto.Dimension> dims = v.getType().getTensorType().getShape().getDimList();
            if (dims.size() < 2) throw problem("the graph input '" + input + "' has rank " + dims.size() + "; it needs [batch, ...example]");
            if (dims.getFirst().hasDimValue()) inputBatch = dims.getFirst().getDimValue();
            int[] d = new int[dims.size() - 1];
            for (int i = 1; i < dims.size(); i++) {
                TensorShapeProto.Dimension dim = dims.get(i);
                if (!dim.hasDimValue() || dim.getDimValue() <= 0 || dim.getDimValue() > Integer.MAX_VALUE)
                    throw problem("the graph input '" + input + "' has dimension " + i + " "
                            + (dim.hasDimParam() ? "'" + dim.getDimParam() + "' (symbolic)" : dim.hasDimValue() ? dim.getDimValue() : "unknown")
                            + ": Jumbo needs a fixed example shape");
                d[i - 1] = (int) dim.getDimValue();
            }
            try {
                if (d.length == 3 && !startsNhwc()) {
                    inputShape = Shape.of(d[1], d[2], d[0]); // NCHW: Jumbo's model takes the NHWC transpose
                    layout = Layout.CHANNEL_FIRST;
                } else inputShape = Shape.of(d);
            } catch (IllegalArgumentException e) {
                throw problem("the graph input '" + input + "': " + e.getMessage());
            }
            shape = inputShape;
        }

        /** Whether an image input is NHWC: Jumbo wrote the file, or the first node transposes it to NCHW. */
        private boolean startsNhwc() {
            if (model.getProducerName().equals("jumbo")) return true;
            NodeProto first = nodes.isEmpty() ? null : nodes.getFirst();
            return first != null && first.getOpType().equals("Transpose") && first.getInputList().contains(input)
                    && Arrays.equals(attrInts(first, "perm"), new long[] {0, 3, 1, 2});
        }

        // ------------------------------------------------------------ the chain

        private void readNode(NodeProto n) throws FormatException {
            if (writtenOutActivation() || reshapeByComputedShape()) return;
            checkChain(n);
            switch (n.getOpType()) {
                case "Identity" -> { }
                case "Dropout" -> {
                    if (n.getInputCount() > 2 && !n.getInput(2).isEmpty() && scalar(n.getInput(2), n, "training_mode") != 0)
                        throw refuse(n, "runs in training mode: only inference graphs load");
                }
                case "Pad" -> {
                    // PyTorch writes a Pad of nothing before an AveragePool; padding of any other kind has no Jumbo layer
                    long[] pads = n.getInputCount() > 1 && !n.getInput(1).isEmpty() ? longs(n.getInput(1), n) : attrInts(n, "pads");
                    if (pads != null && Arrays.stream(pads).anyMatch(v -> v != 0))
                        throw refuse(n, "pads by " + Arrays.toString(pads) + ": Jumbo pads only inside Conv2D and pooling layers ('same')");
                }
                case "Transpose" -> transpose(n);
                case "Conv" -> conv(n);
                case "MaxPool", "AveragePool" -> pool(n);
                case "GlobalAveragePool" -> {
                    requireLayout(n, Layout.CHANNEL_FIRST, "an NCHW image");
                    addStep(n, a -> new GlobalAveragePooling2D(), Map.of(), false);
                    layout = Layout.POOLED;
                }
                case "ReduceMean" -> reduceMean(n);
                case "BatchNormalization" -> batchNorm(n);
                case "Flatten" -> {
                    long axis = attrInt(n, "axis", 1);
                    if (axis != 1 && axis != 1 - onnxRank()) throw refuse(n, "flattens from axis " + axis + "; only axis 1 (each example to a vector) loads");
                    flatten(n);
                }
                case "Reshape" -> reshape(n);
                case "Squeeze" -> squeeze(n);
                case "MatMul" -> matMul(n);
                case "Gemm" -> gemm(n);
                case "Sub", "Div", "Mul", "Add" -> affine(n);
                case "Relu", "Sigmoid", "Tanh", "LeakyRelu", "Softmax", "Gelu" -> activation(n);
                default -> throw refuse(n, "is not supported: Jumbo maps only " + SUPPORTED + " onto its layers");
            }
            x = nodes.get(at).getOutput(0); // a node may have taken in the ones after it

        }

        /** The node reads the current value (and constants) only, nothing else reads the current value, and its other outputs are unused. */
        private void checkChain(NodeProto n) throws FormatException {
            List<String> computed = n.getInputList().stream().filter(s -> !s.isEmpty() && !constants.containsKey(s)).toList();
            if (computed.isEmpty()) throw refuse(n, "reads only constants: the graph is not a chain of layers");
            if (computed.size() > 1)
                throw refuse(n, "joins " + computed.size() + " computed values (" + String.join(", ", computed)
                        + "), as a residual connection or a branch does: only chain-shaped graphs, each node feeding the next, load");
            if (!computed.getFirst().equals(x))
                throw refuse(n, "reads '" + computed.getFirst() + "', which is not the output of the node before it (" + x
                        + "): only chain-shaped graphs, each node feeding the next, load");
            List<Integer> users = readers.getOrDefault(x, List.of()).stream().distinct().toList();
            if (users.size() > 1) {
                // name the node where the paths meet again (a residual Add), if there is one
                for (int u : users) {
                    if (u < 0) continue;
                    NodeProto join = graph.getNode(u);
                    List<String> joined = join.getInputList().stream().filter(s -> !s.isEmpty() && !constants.containsKey(s)).toList();
                    if (joined.size() > 1)
                        throw refuse(u, join, "joins " + joined.size() + " computed values (" + String.join(", ", joined) + "; '" + x
                                + "' also feeds " + describe(index.get(at)) + "), as a residual connection does: only chain-shaped graphs, each node feeding the next, load");
                }
                throw refuse(n, "reads '" + x + "', which also feeds " + users.stream().filter(u -> u != index.get(at)).map(this::describe)
                        .collect(Collectors.joining(", ")) + ": only chain-shaped graphs, each node feeding the next, load");
            }
            for (int o = 1; o < n.getOutputCount(); o++)
                if (!n.getOutput(o).isEmpty() && readers.containsKey(n.getOutput(o)))
                    throw refuse(n, "has its output " + o + " ('" + n.getOutput(o) + "') read by " + readers.get(n.getOutput(o)).stream()
                            .map(this::describe).collect(Collectors.joining(", ")) + ": only its first output can go on");
        }

        /** The node after the current one if it is {@code op} and reads the current node's output, else null. */
        private NodeProto next(NodeProto n, Set<String> ops) {
            if (at + 1 >= nodes.size()) return null;
            NodeProto m = nodes.get(at + 1);
            return ops.contains(m.getOpType()) && m.getInputList().contains(n.getOutput(0)) ? m : null;
        }

        /** Moves on to the next node, which the current one takes in (a MatMul's Add, a run of affine ops). */
        private void advance(NodeProto m) throws FormatException {
            x = nodes.get(at).getOutput(0);
            at++;
            checkChain(m);
        }

        // ------------------------------------------------------------ layouts and shapes

        private void transpose(NodeProto n) throws FormatException {
            long[] perm = attrInts(n, "perm");
            int rank = onnxRank();
            if (perm == null) throw refuse(n, "has no 'perm' (reverses every axis, the batch's too)");
            long[] identity = new long[rank];
            for (int i = 0; i < rank; i++) identity[i] = i;
            if (Arrays.equals(perm, identity)) return;
            if (layout == Layout.PLAIN && rank == 4 && Arrays.equals(perm, new long[] {0, 3, 1, 2})) layout = Layout.CHANNEL_FIRST;
            else if (layout == Layout.CHANNEL_FIRST && Arrays.equals(perm, new long[] {0, 2, 3, 1})) layout = Layout.PLAIN;
            else throw refuse(n, "permutes axes " + Arrays.toString(perm) + " of " + describeValue()
                        + ": only NHWC <-> NCHW transposes of an image load (Jumbo keeps images NHWC)");
        }

        private void flatten(NodeProto n) throws FormatException {
            switch (layout) {
                case POOLED -> layout = Layout.PLAIN; // [c, 1, 1] -> [c]: Jumbo's pooling gave [c] already
                case CHANNEL_FIRST -> {
                    int[] chw = shape.toArray();
                    addStep(n, a -> new Flatten(), Map.of(), false);
                    layout = Layout.PLAIN;
                    flattenedChw = chw;
                }
                case PLAIN -> {
                    if (shape.rank() > 1) addStep(n, a -> new Flatten(), Map.of(), false);
                }
            }
        }

        /** A Reshape that flattens each example ({@code [batch, -1]}) is a Flatten; any other is refused. */
        private void reshape(NodeProto n) throws FormatException {
            if (n.getInputCount() < 2 || !constants.containsKey(n.getInput(1)))
                throw refuse(n, "takes its target shape from a computed value; only a constant shape loads (export with constant folding)");
            reshapeTo(n, longs(n.getInput(1), n));
        }

        /** {@link #reshape} to {@code target}, whose entries may be {@link #BATCH}. */
        private void reshapeTo(NodeProto n, long[] target) throws FormatException {
            long size = shape.size();
            boolean zeroCopies = attrInt(n, "allowzero", 0) == 0;
            if (target.length == 2) {
                boolean batchKept = target[0] == BATCH || (target[0] == 0 && zeroCopies) || (target[0] == -1 && target[1] == size)
                        || (inputBatch > 0 && target[0] == inputBatch);
                if (batchKept && (target[1] == -1 || target[1] == size)) {
                    flatten(n);
                    return;
                }
            }
            long[] same = onnxDims();
            if (target.length == same.length + 1 && (target[0] == BATCH || target[0] == 0 || target[0] == -1 || target[0] == inputBatch)
                    && Arrays.equals(Arrays.copyOfRange(target, 1, target.length), same)) return;
            throw refuse(n, "reshapes " + describeValue() + " to " + Arrays.stream(target).mapToObj(d -> d == BATCH ? "batch" : Long.toString(d)).toList()
                    + "; only a flatten to [batch, -1] loads");
        }

        /**
         * A Reshape whose target is computed from the current value's Shape (PyTorch's
         * {@code x.view(x.size(0), -1)} exported with a dynamic batch: Shape, Gather, Unsqueeze, Concat):
         * the nodes from here to the Reshape are evaluated on integers, the batch symbolic, and the
         * Reshape read as if its target were a constant. False when the nodes are not such a subgraph.
         */
        private boolean reshapeByComputedShape() throws FormatException {
            List<Integer> users = readers.getOrDefault(x, List.of()).stream().distinct().toList();
            if (users.size() != 2) return false;
            int end = -1;
            Set<Integer> region = new HashSet<>();
            for (int k = at; k < nodes.size() && end < 0; k++) {
                NodeProto m = nodes.get(k);
                if (m.getOpType().equals("Reshape") && m.getInputCount() == 2 && m.getInput(0).equals(x)) end = k;
                else if (!SHAPE_OPS.contains(m.getOpType()) || m.getOutputCount() != 1) return false;
                region.add(index.get(k));
            }
            if (end <= at) return false;
            Map<String, long[]> values = new HashMap<>();
            for (int k = at; k < end; k++) {
                NodeProto m = nodes.get(k);
                for (int r : readers.getOrDefault(m.getOutput(0), List.of())) if (!region.contains(r)) return false;
                long[] in = integers(m, 0, values);
                if (in == null) return false;
                long[] out = switch (m.getOpType()) {
                    case "Shape" -> {
                        if (!m.getInput(0).equals(x)) yield null;
                        long[] all = onnxDimsWithBatch();
                        all[0] = BATCH;
                        int rank = all.length, from = (int) attrInt(m, "start", 0), to = (int) attrInt(m, "end", rank);
                        from = Math.clamp(from < 0 ? from + rank : from, 0, rank);
                        to = Math.clamp(to < 0 ? to + rank : to, 0, rank);
                        yield from <= to ? Arrays.copyOfRange(all, from, to) : new long[0];
                    }
                    case "Gather" -> {
                        long[] indices = integers(m, 1, values);
                        if (indices == null || attrInt(m, "axis", 0) != 0) yield null;
                        long[] picked = new long[indices.length];
                        for (int i = 0; i < indices.length; i++) {
                            long j = indices[i] < 0 ? indices[i] + in.length : indices[i];
                            if (j < 0 || j >= in.length) yield null;
                            picked[i] = in[(int) j];
                        }
                        yield picked;
                    }
                    case "Concat" -> {
                        long[] joined = new long[0];
                        for (int i = 0; i < m.getInputCount(); i++) {
                            long[] part = integers(m, i, values);
                            if (part == null) yield null;
                            long[] both = Arrays.copyOf(joined, joined.length + part.length);
                            System.arraycopy(part, 0, both, joined.length, part.length);
                            joined = both;
                        }
                        yield joined;
                    }
                    case "Slice" -> {
                        long[] starts = integers(m, 1, values), ends = integers(m, 2, values);
                        long[] steps = m.getInputCount() > 4 ? integers(m, 4, values) : new long[] {1};
                        if (starts == null || ends == null || starts.length != 1 || ends.length != 1 || steps == null || steps[0] != 1) yield null;
                        int len = in.length;
                        long from = Math.clamp(starts[0] < 0 ? starts[0] + len : starts[0], 0, len), to = Math.clamp(ends[0] < 0 ? ends[0] + len : ends[0], 0, len);
                        yield from <= to ? Arrays.copyOfRange(in, (int) from, (int) to) : new long[0];
                    }
                    default -> in; // Unsqueeze, Squeeze, Cast, Identity: the same integers
                };
                if (out == null) return false;
                values.put(m.getOutput(0), out);
            }
            NodeProto reshape = nodes.get(end);
            long[] target = values.get(reshape.getInput(1));
            if (target == null) return false;
            at = end;
            reshapeTo(reshape, target);
            x = reshape.getOutput(0);
            return true;
        }

        /** Input {@code i} of {@code m} as integers: computed in the shape subgraph or a constant; null otherwise. */
        private long[] integers(NodeProto m, int i, Map<String, long[]> values) throws FormatException {
            if (i >= m.getInputCount() || m.getInput(i).isEmpty()) return null;
            String name = m.getInput(i);
            if (name.equals(x)) return new long[0]; // the data Shape reads: its integers are its dimensions, taken by Shape itself
            if (values.containsKey(name)) return values.get(name);
            TensorProto t = constants.get(name);
            if (t == null || (t.getDataType() != TensorProto.DataType.INT64_VALUE && t.getDataType() != TensorProto.DataType.INT32_VALUE)) return null;
            return longs(name, m);
        }

        /** Squeezing the 1x1 of a pooled image leaves Jumbo's [c]. */
        private void squeeze(NodeProto n) throws FormatException {
            long[] axes = n.getInputCount() > 1 && !n.getInput(1).isEmpty() ? longs(n.getInput(1), n) : attrInts(n, "axes");
            if (layout == Layout.POOLED && axes != null && Set.copyOf(normalize(axes)).equals(Set.of(2L, 3L))) {
                layout = Layout.PLAIN;
                return;
            }
            throw refuse(n, "squeezes axes " + (axes == null ? "(all of size 1)" : Arrays.toString(axes)) + " of " + describeValue()
                    + "; only the 1x1 of a pooled image (axes 2, 3) loads");
        }

        // ------------------------------------------------------------ convolution and pooling

        private void conv(NodeProto n) throws FormatException {
            requireLayout(n, Layout.CHANNEL_FIRST, "an NCHW image");
            TensorProto wProto = constant(n, 1, "weights");
            int[] wd = dims(wProto);
            if (wd.length != 4) throw refuse(n, "has a weight of shape " + Arrays.toString(wd) + ": only 2-D convolutions ([f, c, kh, kw]) load");
            long group = attrInt(n, "group", 1);
            if (group != 1) throw refuse(n, "has groups=" + group + ": Jumbo's Conv2D has no grouped or depthwise convolution");
            checkOnes(n, "dilations", "Jumbo's Conv2D has no dilation");
            int f = wd[0], c = wd[1], kh = wd[2], kw = wd[3];
            long[] ks = attrInts(n, "kernel_shape");
            if (ks != null && !Arrays.equals(ks, new long[] {kh, kw}))
                throw refuse(n, "has kernel_shape " + Arrays.toString(ks) + " but weights of shape " + Arrays.toString(wd));
            if (c != shape.dim(2)) throw refuse(n, "has weights for " + c + " input channels; its input has " + shape.dim(2));
            int[] s = strides(n);
            boolean same = padding(n, new int[] {kh, kw}, s);
            float[] w = floats(wProto, n), kernel = new float[w.length];
            for (int y = 0; y < kh; y++)
                for (int xx = 0; xx < kw; xx++)
                    for (int ci = 0; ci < c; ci++)
                        for (int fi = 0; fi < f; fi++)
                            kernel[((y * kw + xx) * c + ci) * f + fi] = w[((fi * c + ci) * kh + y) * kw + xx];
            float[] bias = n.getInputCount() > 2 && !n.getInput(2).isEmpty() ? vector(n, 2, "bias", f) : new float[f];
            String padding = same ? "same" : "valid";
            addStep(n, a -> new Conv2D(f, kh, kw, s[0], s[1], padding, a),
                    Map.of("kernel", Tensor.of(kernel, kh, kw, c, f), "bias", Tensor.of(bias, f)), true);
        }

        private void pool(NodeProto n) throws FormatException {
            requireLayout(n, Layout.CHANNEL_FIRST, "an NCHW image");
            long[] ks = attrInts(n, "kernel_shape");
            if (ks == null || ks.length != 2) throw refuse(n, "has kernel_shape " + (ks == null ? "missing" : Arrays.toString(ks)) + ": only 2-D pooling loads");
            int[] k = {(int) ks[0], (int) ks[1]};
            checkOnes(n, "dilations", "Jumbo's pooling has no dilation");
            if (attrInt(n, "storage_order", 0) != 0) throw refuse(n, "has storage_order 1 (for its indices output, which Jumbo has not)");
            int[] s = strides(n);
            boolean same = padding(n, k, s);
            boolean max = n.getOpType().equals("MaxPool");
            if (!max && attrInt(n, "count_include_pad", 0) != 0 && same && Arrays.stream(samePads(k, s)).anyMatch(p -> p > 0))
                throw refuse(n, "has count_include_pad=1 with padding: Jumbo's AvgPool2D leaves padding out of the mean");
            if (attrInt(n, "ceil_mode", 0) != 0) {
                int[] pads = same ? samePads(k, s) : new int[4];
                for (int a = 0; a < 2; a++) {
                    int in = shape.dim(a), total = pads[a] + pads[a + 2];
                    if ((in + total - k[a]) % s[a] != 0) throw refuse(n, "has ceil_mode=1, which adds a partial window here; Jumbo's pooling rounds down");
                }
            }
            addStep(n, a -> max ? new MaxPool2D(k[0], k[1], s[0], s[1], same ? "same" : "valid")
                    : new AvgPool2D(k[0], k[1], s[0], s[1], same ? "same" : "valid"), Map.of(), false);
        }

        private int[] strides(NodeProto n) throws FormatException {
            long[] s = attrInts(n, "strides");
            if (s == null) return new int[] {1, 1};
            if (s.length != 2 || s[0] <= 0 || s[1] <= 0) throw refuse(n, "has strides " + Arrays.toString(s));
            return new int[] {(int) s[0], (int) s[1]};
        }

        /**
         * True for Keras' "same" padding, false for none ("valid"); anything else is refused. Explicit
         * pads are {@code [top, left, bottom, right]}; "same" puts the odd pixel at the bottom/right, as
         * ONNX's SAME_UPPER does.
         */
        private boolean padding(NodeProto n, int[] k, int[] s) throws FormatException {
            String auto = attrString(n, "auto_pad", "NOTSET");
            int[] same = samePads(k, s);
            switch (auto) {
                case "VALID" -> { return false; }
                case "SAME_UPPER" -> { return true; }
                case "SAME_LOWER" -> {
                    if (same[0] == same[2] && same[1] == same[3]) return true;
                    throw refuse(n, "has auto_pad SAME_LOWER, which puts the odd pixel at the top/left here; Jumbo's 'same' puts it at the bottom/right");
                }
                case "NOTSET" -> { }
                default -> throw refuse(n, "has auto_pad '" + auto + "'");
            }
            long[] pads = attrInts(n, "pads");
            if (pads == null || Arrays.stream(pads).allMatch(p -> p == 0)) return false;
            if (pads.length == 4 && Arrays.equals(pads, Arrays.stream(same).asLongStream().toArray())) return true;
            throw refuse(n, "has pads " + Arrays.toString(pads) + " [top, left, bottom, right] on a " + shape.dim(0) + "x" + shape.dim(1)
                    + " input: Jumbo's layers pad none ('valid') or as Keras' 'same' does, " + Arrays.toString(same) + " here");
        }

        /** Keras' "same" padding for the current image as {@code [top, left, bottom, right]}, as SequentialOnnx writes it. */
        private int[] samePads(int[] k, int[] s) {
            int[] pad = new int[4];
            for (int a = 0; a < 2; a++) {
                int in = shape.dim(a), out = Math.ceilDiv(in, s[a]);
                int total = Math.max(0, (out - 1) * s[a] + k[a] - in);
                pad[a] = total / 2;
                pad[a + 2] = total - total / 2;
            }
            return pad;
        }

        private void reduceMean(NodeProto n) throws FormatException {
            long[] axes = n.getInputCount() > 1 && !n.getInput(1).isEmpty() ? longs(n.getInput(1), n) : attrInts(n, "axes");
            boolean keep = attrInt(n, "keepdims", 1) != 0;
            Set<Long> set = axes == null ? Set.of() : Set.copyOf(normalize(axes));
            if (layout == Layout.CHANNEL_FIRST && set.equals(Set.of(2L, 3L))) {
                addStep(n, a -> new GlobalAveragePooling2D(), Map.of(), false);
                layout = keep ? Layout.POOLED : Layout.PLAIN;
            } else if (layout == Layout.PLAIN && shape.rank() == 3 && set.equals(Set.of(1L, 2L)) && !keep) {
                addStep(n, a -> new GlobalAveragePooling2D(), Map.of(), false);
            } else
                throw refuse(n, "averages over axes " + (axes == null ? "(all)" : Arrays.toString(axes)) + (keep ? " keeping them" : "")
                        + " of " + describeValue() + "; only the mean over an image's height and width (GlobalAveragePooling2D) loads");
        }

        // ------------------------------------------------------------ normalization and affine runs

        private void batchNorm(NodeProto n) throws FormatException {
            if (attrInt(n, "training_mode", 0) != 0) throw refuse(n, "runs in training mode: only inference graphs load");
            if (opset < 9 && attrInt(n, "spatial", 1) != 1) throw refuse(n, "has spatial=0 (statistics per pixel), which Jumbo's BatchNormalization has not");
            if (layout == Layout.PLAIN && shape.rank() != 1)
                throw refuse(n, "normalizes axis 1 of " + describeValue() + ", which is not its channel (last) axis, the one Jumbo's BatchNormalization normalizes");
            int c = shape.dim(-1);
            float[] gamma = vector(n, 1, "scale", c), beta = vector(n, 2, "bias", c), mean = vector(n, 3, "mean", c), var = vector(n, 4, "variance", c);
            double eps = attrFloat(n, "epsilon", 1e-5f);
            addBatchNorm(n, eps, gamma, beta, mean, var);
        }

        /**
         * A run of Sub, Div, Mul and Add by per-channel constants: Sub, Div, Mul, Add exactly as
         * SequentialOnnx writes batch normalization becomes one with those statistics; any other run
         * becomes the same affine map {@code x · a + b} as a BatchNormalization with mean 0 and variance 1.
         */
        private void affine(NodeProto n) throws FormatException {
            NodeProto first = n;
            int c = shape.dim(-1);
            List<String> ops = new ArrayList<>();
            List<float[]> values = new ArrayList<>();
            while (true) {
                int other = n.getInput(0).equals(x) ? 1 : 0;
                if (n.getInputCount() != 2 || (other == 0 && !n.getInput(1).equals(x)))
                    throw refuse(n, "does not read the previous node's output");
                if (other == 0 && (n.getOpType().equals("Sub") || n.getOpType().equals("Div")))
                    throw refuse(n, "computes constant " + n.getOpType() + " value, not value " + n.getOpType() + " constant: Jumbo has no layer for it");
                ops.add(n.getOpType());
                values.add(perChannel(n, n.getInput(other), c));
                NodeProto m = next(n, AFFINE);
                if (m == null) break;
                advance(m);
                n = m;
            }
            if (ops.equals(List.of("Sub", "Div", "Mul", "Add"))) {
                float[] mean = values.get(0), std = values.get(1), var = new float[c];
                double minSquare = Double.MAX_VALUE;
                for (float s : std) {
                    if (!(s > 0)) throw refuse(first, "is followed by a division by " + s + ": not batch normalization's standard deviation");
                    minSquare = Math.min(minSquare, (double) s * s);
                }
                double eps = Math.min(1e-3, minSquare / 2);
                for (int j = 0; j < c; j++) var[j] = (float) ((double) std[j] * std[j] - eps);
                addBatchNorm(first, eps, values.get(2), values.get(3), mean, var);
                return;
            }
            float[] scale = new float[c], shift = new float[c];
            Arrays.fill(scale, 1);
            for (int k = 0; k < ops.size(); k++) {
                float[] v = values.get(k);
                for (int j = 0; j < c; j++) {
                    switch (ops.get(k)) {
                        case "Add" -> shift[j] += v[j];
                        case "Sub" -> shift[j] -= v[j];
                        case "Mul" -> { scale[j] *= v[j]; shift[j] *= v[j]; }
                        default -> {
                            if (v[j] == 0) throw refuse(first, "starts a run of per-channel operations that divides by zero");
                            scale[j] /= v[j];
                            shift[j] /= v[j];
                        }
                    }
                }
            }
            double eps = 1e-3;
            float[] mean = new float[c], var = new float[c];
            Arrays.fill(var, (float) (1 - eps));
            addBatchNorm(first, eps, scale, shift, mean, var);
        }

        private void addBatchNorm(NodeProto n, double eps, float[] gamma, float[] beta, float[] mean, float[] var) throws FormatException {
            int c = gamma.length;
            addStep(n, a -> new BatchNormalization(0.99, eps), Map.of("gamma", Tensor.of(gamma, c), "beta", Tensor.of(beta, c),
                    "moving_mean", Tensor.of(mean, c), "moving_variance", Tensor.of(var, c)), false);
        }

        /**
         * A constant that varies along the channel axis only (broadcast against the current value),
         * as {@code c} values in Jumbo's feature order.
         */
        private float[] perChannel(NodeProto n, String name, int c) throws FormatException {
            TensorProto t = constants.get(name);
            int[] d = dims(t);
            int rank = onnxRank(), channelAxis = layout == Layout.PLAIN ? rank - 1 : 1;
            if (d.length > rank) throw refuse(n, "has a constant of shape " + Arrays.toString(d) + " for " + describeValue());
            for (int i = 0; i < d.length; i++) {
                int axis = rank - d.length + i;
                if (d[i] != 1 && !(axis == channelAxis && d[i] == c))
                    throw refuse(n, "has a constant of shape " + Arrays.toString(d) + " for " + describeValue()
                            + ": only a value per channel (or one for all) has a Jumbo layer");
            }
            float[] v = floats(t, n);
            float[] out = new float[c];
            for (int j = 0; j < c; j++) out[j] = v.length == 1 ? v[0] : v[j];
            return permuted(out);
        }

        // ------------------------------------------------------------ dense layers

        /** MatMul by a constant {@code [in, out]}, with the bias of an Add right after it: a Dense. */
        private void matMul(NodeProto n) throws FormatException {
            if (!n.getInput(0).equals(x)) throw refuse(n, "multiplies a constant by the previous output; only value x weights loads");
            if (layout != Layout.PLAIN)
                throw refuse(n, "multiplies " + describeValue() + " along its last axis, which is not Jumbo's channel axis");
            TensorProto wProto = constant(n, 1, "weights");
            int[] wd = dims(wProto);
            int in = shape.dim(-1);
            if (wd.length != 2 || wd[0] != in) throw refuse(n, "has weights of shape " + Arrays.toString(wd) + " for inputs of " + in + " features");
            int units = wd[1];
            float[] kernel = rowsPermuted(floats(wProto, n), in, units);
            float[] bias = new float[units];
            NodeProto add = next(n, Set.of("Add"));
            if (add != null && add.getInputCount() == 2 && constants.containsKey(add.getInput(add.getInput(0).equals(n.getOutput(0)) ? 1 : 0))) {
                String b = add.getInput(add.getInput(0).equals(n.getOutput(0)) ? 1 : 0);
                int[] bd = dims(constants.get(b));
                if (Arrays.stream(bd).asLongStream().reduce(1, (p, q) -> p * q) == units && bd.length >= 1 && bd[bd.length - 1] == units && bd.length <= onnxRank()) {
                    advance(add);
                    bias = floats(constants.get(b), add);
                    n = add;
                }
            }
            float[] biasFinal = bias;
            addStep(n, a -> new Dense(units, a), Map.of("kernel", Tensor.of(kernel, in, units), "bias", Tensor.of(biasFinal, units)), true);
        }

        /** {@code alpha · x · B' + beta · C} (B' = B or its transpose) on a batch of vectors: a Dense. */
        private void gemm(NodeProto n) throws FormatException {
            if (!n.getInput(0).equals(x)) throw refuse(n, "multiplies a constant by the previous output; only value x weights loads");
            if (layout != Layout.PLAIN || shape.rank() != 1) throw refuse(n, "needs a batch of vectors; it gets " + describeValue());
            if (attrInt(n, "transA", 0) != 0) throw refuse(n, "has transA=1, which would mix the examples of a batch");
            TensorProto bProto = constant(n, 1, "weights");
            int[] bd = dims(bProto);
            boolean transB = attrInt(n, "transB", 0) != 0;
            int in = shape.dim(0);
            if (bd.length != 2 || bd[transB ? 1 : 0] != in)
                throw refuse(n, "has weights of shape " + Arrays.toString(bd) + (transB ? " (transB=1)" : "") + " for inputs of " + in + " features");
            int units = bd[transB ? 0 : 1];
            float alpha = attrFloat(n, "alpha", 1f), beta = attrFloat(n, "beta", 1f);
            float[] b = floats(bProto, n), w = new float[in * units];
            for (int r = 0; r < in; r++)
                for (int o = 0; o < units; o++) w[r * units + o] = alpha * (transB ? b[o * in + r] : b[r * units + o]);
            float[] kernel = rowsPermuted(w, in, units);
            float[] bias = new float[units];
            if (n.getInputCount() > 2 && !n.getInput(2).isEmpty()) {
                TensorProto cProto = constant(n, 2, "bias");
                int[] cd = dims(cProto);
                float[] cv = floats(cProto, n);
                boolean perUnit = cv.length == units && (cd.length == 1 || (cd.length == 2 && cd[0] == 1));
                if (!perUnit && cv.length != 1) throw refuse(n, "has a bias of shape " + Arrays.toString(cd) + ": Dense adds one per unit");
                for (int o = 0; o < units; o++) bias[o] = beta * (perUnit ? cv[o] : cv[0]);
            }
            addStep(n, a -> new Dense(units, a), Map.of("kernel", Tensor.of(kernel, in, units), "bias", Tensor.of(bias, units)), true);
        }

        /** The kernel's rows in Jumbo's feature order (after a Flatten of a channel-first image). */
        private float[] rowsPermuted(float[] w, int in, int units) {
            if (flattenedChw == null) return w;
            float[] out = new float[w.length];
            for (int r = 0; r < in; r++) System.arraycopy(w, onnxFeature(r) * units, out, r * units, units);
            return out;
        }

        private float[] permuted(float[] v) {
            if (flattenedChw == null) return v;
            float[] out = new float[v.length];
            for (int j = 0; j < v.length; j++) out[j] = v[onnxFeature(j)];
            return out;
        }

        /** ONNX's index of Jumbo's feature {@code j} of a flattened image: Jumbo flattens {@code (h, w, c)}, ONNX {@code (c, h, w)}. */
        private int onnxFeature(int j) {
            int h = flattenedChw[0], w = flattenedChw[1], c = flattenedChw[2];
            int y = j / (w * c), xx = j / c % w, ch = j % c;
            return (ch * h + y) * w + xx;
        }

        // ------------------------------------------------------------ activations

        private void activation(NodeProto n) throws FormatException {
            Activation a = switch (n.getOpType()) {
                case "Relu" -> Activation.RELU;
                case "Sigmoid" -> Activation.SIGMOID;
                case "Tanh" -> Activation.TANH;
                case "LeakyRelu" -> {
                    float alpha = attrFloat(n, "alpha", 0.01f);
                    if (alpha != Activation.LEAKY_RELU_SLOPE)
                        throw refuse(n, "has slope alpha=" + alpha + "; Jumbo's leaky_relu has " + Activation.LEAKY_RELU_SLOPE);
                    yield Activation.LEAKY_RELU;
                }
                case "Gelu" -> switch (attrString(n, "approximate", "none")) {
                    case "none" -> Activation.GELU;
                    case "tanh" -> Activation.GELU_TANH;
                    default -> throw refuse(n, "has approximate='" + attrString(n, "approximate", "") + "'");
                };
                default -> {
                    checkSoftmaxAxis(n);
                    yield Activation.SOFTMAX;
                }
            };
            applyActivation(n, a);
        }

        /** The activation becomes the last layer's if it is a Dense or Conv2D without one, else an ActivationLayer. */
        private void applyActivation(NodeProto n, Activation a) throws FormatException {
            if (fusable) {
                steps.set(steps.size() - 1, steps.getLast().withActivation(a));
                fusable = false;
            } else addStep(n, b -> new ActivationLayer(a), Map.of(), false);
        }

        /**
         * An activation written out as elementwise nodes that read the current value more than once
         * (GELU as {@code 0.5 x (1 + erf(x / sqrt 2))}, its tanh form, as SequentialOnnx and PyTorch
         * write them): the longest run of elementwise nodes with scalar constants, closed (nothing
         * outside reads its inner values), that computes one of Jumbo's activations on probe values.
         * Taken in as that activation; false when there is none, leaving the graph to be refused.
         */
        private boolean writtenOutActivation() throws FormatException {
            NodeProto first = nodes.get(at);
            List<Integer> users = readers.getOrDefault(x, List.of());
            if (users.size() < 2 || users.contains(-1)) return false;
            Set<String> inside = new HashSet<>(Set.of(x));
            Set<Integer> region = new HashSet<>();
            int best = -1;
            Activation found = null;
            for (int k = at; k < nodes.size(); k++) {
                NodeProto m = nodes.get(k);
                if (!ELEMENTWISE.contains(m.getOpType()) || m.getOutputCount() != 1) break;
                boolean reads = true;
                for (String in : m.getInputList())
                    if (!in.isEmpty() && !inside.contains(in) && !(constants.containsKey(in) && isScalar(constants.get(in)))) reads = false;
                if (!reads) break;
                inside.add(m.getOutput(0));
                region.add(index.get(k));
                boolean closed = true;
                for (String v : inside)
                    if (!v.equals(m.getOutput(0))) for (int r : readers.getOrDefault(v, List.of())) if (!region.contains(r)) closed = false;
                if (!closed) continue;
                Activation a = identify(at, k);
                if (a != null) {
                    best = k;
                    found = a;
                }
            }
            if (found == null) return false;
            at = best;
            applyActivation(first, found);
            x = nodes.get(at).getOutput(0);
            return true;
        }

        /** The Jumbo activation nodes {@code from..to} compute from the current value, checked on probe values, or null. */
        private Activation identify(int from, int to) throws FormatException {
            double[] probes = {-4, -2.5, -1.2, -0.6, -0.15, 0, 0.1, 0.45, 0.9, 1.7, 3.2};
            double[] got = new double[probes.length];
            for (int p = 0; p < probes.length; p++) {
                Map<String, Double> v = new HashMap<>(Map.of(x, probes[p]));
                for (int k = from; k <= to; k++) {
                    NodeProto m = nodes.get(k);
                    double a = operand(m, 0, v), b = m.getInputCount() > 1 ? operand(m, 1, v) : Double.NaN;
                    v.put(m.getOutput(0), switch (m.getOpType()) {
                        case "Add" -> a + b;
                        case "Sub" -> a - b;
                        case "Mul" -> a * b;
                        case "Div" -> a / b;
                        case "Pow" -> Math.pow(a, b);
                        case "Sqrt" -> Math.sqrt(a);
                        case "Erf" -> erf(a);
                        case "Tanh" -> Math.tanh(a);
                        case "Sigmoid" -> 1 / (1 + Math.exp(-a));
                        case "Exp" -> Math.exp(a);
                        case "Neg" -> -a;
                        case "Reciprocal" -> 1 / a;
                        case "Abs" -> Math.abs(a);
                        default -> Math.max(a, 0); // Relu
                    });
                }
                got[p] = v.get(nodes.get(to).getOutput(0));
            }
            for (Activation a : List.of(Activation.GELU, Activation.GELU_TANH, Activation.SIGMOID, Activation.TANH, Activation.RELU, Activation.LEAKY_RELU)) {
                boolean same = true;
                for (int p = 0; p < probes.length && same; p++) same = Math.abs(got[p] - reference(a, probes[p])) <= 1e-5 * (1 + Math.abs(got[p]));
                if (same) return a;
            }
            return null;
        }

        private double operand(NodeProto m, int i, Map<String, Double> values) throws FormatException {
            String name = m.getInput(i);
            Double v = values.get(name);
            return v != null ? v : floats(constants.get(name), m)[0];
        }

        private static double reference(Activation a, double t) {
            return switch (a) {
                case GELU -> 0.5 * t * (1 + erf(t / Math.sqrt(2)));
                case GELU_TANH -> 0.5 * t * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (t + 0.044715 * t * t * t)));
                case SIGMOID -> 1 / (1 + Math.exp(-t));
                case TANH -> Math.tanh(t);
                case RELU -> Math.max(t, 0);
                case LEAKY_RELU -> t > 0 ? t : Activation.LEAKY_RELU_SLOPE * t;
                default -> Double.NaN;
            };
        }

        /** erf to about 1e-12 (its Maclaurin series near 0, the continued fraction of erfc beyond), for telling activations apart. */
        private static double erf(double t) {
            double z = Math.abs(t);
            double r;
            if (z < 2.5) {
                double sum = 0, term = z;
                for (int n = 0; n < 60; n++) {
                    sum += term / (2 * n + 1);
                    term *= -z * z / (n + 1);
                }
                r = 2 / Math.sqrt(Math.PI) * sum;
            } else {
                double f = 0; // erfc(z) = exp(-z²)/sqrt(pi) · 1/(z + 1/2/(z + 1/(z + 3/2/(z + ...))))
                for (int n = 60; n >= 1; n--) f = (n / 2.0) / (z + f);
                r = 1 - Math.exp(-z * z) / Math.sqrt(Math.PI) / (z + f);
            }
            return t < 0 ? -r : r;
        }

        private boolean isScalar(TensorProto t) {
            long n = 1;
            for (long d : t.getDimsList()) n *= d;
            return n == 1;
        }

        /** Jumbo's softmax is over the channels (its last axis); ONNX's axis must say the same. */
        private void checkSoftmaxAxis(NodeProto n) throws FormatException {
            int rank = onnxRank(), channelAxis = layout == Layout.PLAIN ? rank - 1 : 1;
            long axis = attrInt(n, "axis", opset >= 13 ? -1 : 1);
            if (axis < 0) axis += rank;
            long[] d = onnxDimsWithBatch();
            boolean ok;
            if (opset >= 13) ok = axis == channelAxis;
            else { // opset < 13: softmax over everything from axis on, flattened
                ok = axis >= 1 && axis <= channelAxis;
                for (int i = (int) Math.max(axis, 1); i < rank; i++) if (i != channelAxis && d[i] != 1) ok = false;
            }
            if (!ok) throw refuse(n, "takes softmax over axis " + attrInt(n, "axis", opset >= 13 ? -1 : 1) + " of " + describeValue()
                    + (opset < 13 ? " (opset " + opset + ": over every axis from it on)" : "") + "; Jumbo's is over the channels");
        }

        // ------------------------------------------------------------ steps and the model

        /** Appends a layer-to-be; its output shape is Jumbo's from here on. */
        private void addStep(NodeProto n, Function<Activation, Layer> make, Map<String, Tensor> weights, boolean fusesActivation) throws FormatException {
            try {
                shape = make.apply(Activation.LINEAR).outputShape(shape);
            } catch (IllegalArgumentException e) {
                throw refuse(n, "cannot be a Jumbo layer: " + e.getMessage());
            }
            steps.add(new Step(make, Activation.LINEAR, weights));
            fusable = fusesActivation;
            if (!weights.isEmpty() && !(make.apply(Activation.LINEAR) instanceof BatchNormalization)) flattenedChw = null;
        }

        private Sequential build() throws FormatException {
            Sequential m = new Sequential(inputShape);
            Map<String, Tensor> state = new LinkedHashMap<>();
            try {
                for (int i = 0; i < steps.size(); i++) {
                    Step s = steps.get(i);
                    m.add(s.make().apply(s.activation()));
                    for (var e : s.weights().entrySet()) state.put(i + "." + e.getKey(), e.getValue());
                }
                m.loadStateDict(state);
            } catch (IllegalArgumentException e) {
                throw problem("the layers read from the graph do not fit together: " + e.getMessage());
            }
            return m;
        }

        /** The graph's declared output shape, where it gives sizes, must be what the layers give. */
        private void checkDeclaredOutput(ValueInfoProto out) throws FormatException {
            if (!out.getType().hasTensorType() || !out.getType().getTensorType().hasShape()) return;
            List<TensorShapeProto.Dimension> dims = out.getType().getTensorType().getShape().getDimList();
            long[] got = onnxDims();
            boolean fits = dims.size() == got.length + 1;
            for (int i = 1; fits && i < dims.size(); i++) if (dims.get(i).hasDimValue() && dims.get(i).getDimValue() != got[i - 1]) fits = false;
            if (!fits)
                throw problem("the graph declares its output '" + out.getName() + "' as " + dims.stream()
                        .map(d -> d.hasDimValue() ? Long.toString(d.getDimValue()) : d.getDimParam()).toList()
                        + " but its layers give [batch, " + Arrays.stream(got).mapToObj(Long::toString).collect(Collectors.joining(", ")) + "]");
        }

        // ------------------------------------------------------------ the current value

        /** The current value's dimensions in the graph, without the batch. */
        private long[] onnxDims() {
            int[] d = shape.toArray();
            return switch (layout) {
                case PLAIN -> Arrays.stream(d).asLongStream().toArray();
                case CHANNEL_FIRST -> new long[] {d[2], d[0], d[1]};
                case POOLED -> new long[] {d[0], 1, 1};
            };
        }

        private long[] onnxDimsWithBatch() {
            long[] d = onnxDims(), out = new long[d.length + 1];
            out[0] = -1;
            System.arraycopy(d, 0, out, 1, d.length);
            return out;
        }

        private int onnxRank() {
            return onnxDims().length + 1;
        }

        private String describeValue() {
            String dims = Arrays.stream(onnxDims()).mapToObj(Long::toString).collect(Collectors.joining(", "));
            return switch (layout) {
                case PLAIN -> "a value of shape [batch, " + dims + "]";
                case CHANNEL_FIRST -> "an NCHW image [batch, " + dims + "]";
                case POOLED -> "a pooled image [batch, " + dims + "]";
            };
        }

        private void requireLayout(NodeProto n, Layout want, String what) throws FormatException {
            if (layout != want) throw refuse(n, "needs " + what + "; it gets " + describeValue()
                    + (layout == Layout.PLAIN && shape.rank() == 3 ? " (channel-last: Jumbo's own layout, which ONNX's " + n.getOpType() + " does not read)" : ""));
        }

        private List<Long> normalize(long[] axes) {
            int rank = onnxRank();
            return Arrays.stream(axes).map(a -> a < 0 ? a + rank : a).boxed().toList();
        }

        // ------------------------------------------------------------ constants and attributes

        private TensorProto constant(NodeProto n, int input, String what) throws FormatException {
            if (n.getInputCount() <= input || n.getInput(input).isEmpty()) throw refuse(n, "has no " + what + " (input " + input + ")");
            TensorProto t = constants.get(n.getInput(input));
            if (t == null) throw refuse(n, "computes its " + what + " (input " + input + ") in the graph; only constant weights load");
            return t;
        }

        /** Input {@code input}, a constant of {@code c} values in Jumbo's feature order. */
        private float[] vector(NodeProto n, int input, String what, int c) throws FormatException {
            float[] v = floats(constant(n, input, what), n);
            if (v.length != c) throw refuse(n, "has a " + what + " of " + v.length + " values for " + c + " channels");
            return permuted(v);
        }

        private long scalar(String name, NodeProto n, String what) throws FormatException {
            TensorProto t = constants.get(name);
            if (t == null) throw refuse(n, "computes its " + what + " in the graph");
            if (t.getDataType() == TensorProto.DataType.BOOL_VALUE) {
                if (!t.getRawData().isEmpty()) return t.getRawData().byteAt(0);
                if (t.getInt32DataCount() > 0) return t.getInt32Data(0);
                throw refuse(n, "has an empty " + what);
            }
            long[] v = longs(name, n);
            if (v.length == 0) throw refuse(n, "has an empty " + what);
            return v[0];
        }

        private int[] dims(TensorProto t) throws FormatException {
            int[] d = new int[t.getDimsCount()];
            for (int i = 0; i < d.length; i++) {
                long v = t.getDims(i);
                if (v < 0 || v > Integer.MAX_VALUE) throw problem("tensor '" + t.getName() + "' has dimension " + v);
                d[i] = (int) v;
            }
            return d;
        }

        /** A float tensor's values (FLOAT, FLOAT16 or DOUBLE, raw little-endian or typed fields), its size checked against its shape. */
        private float[] floats(TensorProto t, NodeProto n) throws FormatException {
            long count = elements(t);
            if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL)
                throw problem("tensor '" + t.getName() + "' is stored in an external data file, which this loader does not read");
            int size = (int) count, raw = t.getRawData().size();
            int width = switch (t.getDataType()) {
                case TensorProto.DataType.FLOAT_VALUE -> 4;
                case TensorProto.DataType.FLOAT16_VALUE -> 2;
                case TensorProto.DataType.DOUBLE_VALUE -> 8;
                default -> throw refuse(n, "has tensor '" + t.getName() + "' of element type " + TensorProto.DataType.forNumber(t.getDataType())
                        + "; weights load as FLOAT, FLOAT16 or DOUBLE");
            };
            // sizes checked before anything is allocated: a file cannot make us allocate more than it holds
            if (raw > 0) checkBytes(t, raw, (long) width * size);
            else checkCount(t, switch (width) {
                case 4 -> t.getFloatDataCount();
                case 2 -> t.getInt32DataCount();
                default -> t.getDoubleDataCount();
            }, size);
            float[] v = new float[size];
            ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            switch (t.getDataType()) {
                case TensorProto.DataType.FLOAT_VALUE -> {
                    if (raw > 0) {
                        b.asFloatBuffer().get(v);
                    } else {
                        for (int i = 0; i < size; i++) v[i] = t.getFloatData(i);
                    }
                }
                case TensorProto.DataType.FLOAT16_VALUE -> {
                    if (raw > 0) {
                        for (int i = 0; i < size; i++) v[i] = Float.float16ToFloat(b.getShort());
                    } else {
                        for (int i = 0; i < size; i++) v[i] = Float.float16ToFloat((short) t.getInt32Data(i));
                    }
                }
                case TensorProto.DataType.DOUBLE_VALUE -> {
                    if (raw > 0) {
                        for (int i = 0; i < size; i++) v[i] = (float) b.getDouble();
                    } else {
                        for (int i = 0; i < size; i++) v[i] = (float) t.getDoubleData(i);
                    }
                }
                default -> throw new IllegalStateException(); // refused above
            }
            return v;
        }

        /** An integer constant's values (INT64 or INT32): shapes and axes. */
        private long[] longs(String name, NodeProto n) throws FormatException {
            TensorProto t = constants.get(name);
            if (t == null) throw refuse(n, "computes '" + name + "' in the graph; only a constant loads there");
            long count = elements(t);
            if (count > 64) throw refuse(n, "has '" + name + "' of " + count + " integers where a shape or axes belong");
            int size = (int) count, raw = t.getRawData().size();
            ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            long[] v = new long[size];
            switch (t.getDataType()) {
                case TensorProto.DataType.INT64_VALUE -> {
                    if (raw > 0) {
                        checkBytes(t, raw, 8L * size);
                        for (int i = 0; i < size; i++) v[i] = b.getLong();
                    } else {
                        checkCount(t, t.getInt64DataCount(), size);
                        for (int i = 0; i < size; i++) v[i] = t.getInt64Data(i);
                    }
                }
                case TensorProto.DataType.INT32_VALUE -> {
                    if (raw > 0) {
                        checkBytes(t, raw, 4L * size);
                        for (int i = 0; i < size; i++) v[i] = b.getInt();
                    } else {
                        checkCount(t, t.getInt32DataCount(), size);
                        for (int i = 0; i < size; i++) v[i] = t.getInt32Data(i);
                    }
                }
                default -> throw refuse(n, "has '" + name + "' of element type " + TensorProto.DataType.forNumber(t.getDataType()) + " where integers belong");
            }
            return v;
        }

        /** The number of elements the tensor's shape holds, refused past 2^31. */
        private long elements(TensorProto t) throws FormatException {
            long count = 1;
            for (int d : dims(t)) {
                count *= d;
                if (count > Integer.MAX_VALUE) throw problem("tensor '" + t.getName() + "' has shape " + t.getDimsList() + ", over 2^31 elements");
            }
            return count;
        }

        private void checkBytes(TensorProto t, long got, long want) throws FormatException {
            if (got != want) throw problem("tensor '" + t.getName() + "' holds " + got + " bytes; its shape " + t.getDimsList() + " needs " + want);
        }

        private void checkCount(TensorProto t, int got, int want) throws FormatException {
            if (got != want) throw problem("tensor '" + t.getName() + "' holds " + got + " values; its shape " + t.getDimsList() + " needs " + want);
        }

        /** A Constant node's value as a tensor. */
        private TensorProto constantValue(int i, NodeProto n) throws FormatException {
            if (n.getAttributeCount() != 1) throw refuse(i, n, "has " + n.getAttributeCount() + " attributes; a Constant has one");
            AttributeProto a = n.getAttribute(0);
            TensorProto.Builder t = TensorProto.newBuilder().setName(n.getOutput(0));
            switch (a.getName()) {
                case "value" -> { return a.getT().toBuilder().setName(n.getOutput(0)).build(); }
                case "value_float" -> t.setDataType(TensorProto.DataType.FLOAT_VALUE).addFloatData(a.getF());
                case "value_floats" -> t.setDataType(TensorProto.DataType.FLOAT_VALUE).addDims(a.getFloatsCount()).addAllFloatData(a.getFloatsList());
                case "value_int" -> t.setDataType(TensorProto.DataType.INT64_VALUE).addInt64Data(a.getI());
                case "value_ints" -> t.setDataType(TensorProto.DataType.INT64_VALUE).addDims(a.getIntsCount()).addAllInt64Data(a.getIntsList());
                default -> throw refuse(i, n, "has a '" + a.getName() + "' value, which this loader does not read");
            }
            return t.build();
        }

        private static AttributeProto attr(NodeProto n, String name) {
            for (AttributeProto a : n.getAttributeList()) if (a.getName().equals(name)) return a;
            return null;
        }

        private static long attrInt(NodeProto n, String name, long otherwise) {
            AttributeProto a = attr(n, name);
            return a == null ? otherwise : a.getI();
        }

        private static float attrFloat(NodeProto n, String name, float otherwise) {
            AttributeProto a = attr(n, name);
            return a == null ? otherwise : a.getF();
        }

        private static String attrString(NodeProto n, String name, String otherwise) {
            AttributeProto a = attr(n, name);
            return a == null ? otherwise : a.getS().toStringUtf8();
        }

        /** The attribute's integers, or null when absent. */
        private static long[] attrInts(NodeProto n, String name) {
            AttributeProto a = attr(n, name);
            return a == null ? null : a.getIntsList().stream().mapToLong(Long::longValue).toArray();
        }

        private void checkOnes(NodeProto n, String name, String why) throws FormatException {
            long[] v = attrInts(n, name);
            if (v != null && Arrays.stream(v).anyMatch(d -> d != 1)) throw refuse(n, "has " + name + " " + Arrays.toString(v) + ": " + why);
        }

        // ------------------------------------------------------------ messages

        private FormatException refuse(NodeProto n, String problem) {
            return refuse(index.get(nodes.indexOf(n) >= 0 ? nodes.indexOf(n) : at), n, problem);
        }

        private FormatException refuse(int graphIndex, NodeProto n, String problem) {
            return problem(describe(graphIndex, n) + " " + problem);
        }

        /** The error, on one line whatever names the file gave its nodes and values. */
        private FormatException problem(String problem) {
            return new FormatException(file, oneLine(problem));
        }

        private String describe(int graphIndex) {
            return graphIndex < 0 ? "the graph output" : describe(graphIndex, graph.getNode(graphIndex));
        }

        private static String describe(int graphIndex, NodeProto n) {
            return "node " + graphIndex + (n.getName().isEmpty() ? "" : " '" + n.getName() + "'") + " (" + n.getOpType() + ")";
        }
    }
}
