package dev.jumbo.train;

import dev.jumbo.data.Dataset;
import dev.jumbo.data.TensorDataset;
import dev.jumbo.io.AtomicFiles;
import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import dev.jumbo.io.Safetensors;
import dev.jumbo.loss.Loss;
import dev.jumbo.loss.Losses;
import dev.jumbo.nn.Layer;
import dev.jumbo.nn.Layers;
import dev.jumbo.nn.Module;
import dev.jumbo.nn.Parameter;
import dev.jumbo.optim.Optimizer;
import dev.jumbo.tensor.DType;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A stack of layers trained the Keras way: {@code compile}, {@code fit}, {@code evaluate},
 * {@code predict}, {@code summary}, {@code save}/{@link #load}. It is an ordinary {@link Module},
 * so it also works in a hand-written loop.
 *
 * <pre>{@code
 * Sequential model = new Sequential(Shape.of(784),
 *         new Dense(64, Activation.RELU), new Dense(64, Activation.RELU), new Dense(10, Activation.SOFTMAX));
 * model.compile(new Adam(1e-3), "sparse_categorical_crossentropy", "accuracy");
 * History h = model.fit(x, y, FitOptions.defaults().epochs(5).batchSize(32).validationSplit(0.1));
 * }</pre>
 */
public final class Sequential extends Module {
    /** File names of a saved model folder. */
    public static final String CONFIG_FILE = "config.json", WEIGHTS_FILE = "model.safetensors";

    private final Shape inputShape;
    private final List<Layer> layers = new ArrayList<>();
    private Trainer trainer;

    /** A model taking examples of {@code inputShape} (without the batch dimension). */
    public Sequential(Shape inputShape, Layer... layers) {
        this.inputShape = inputShape;
        for (Layer l : layers) add(l);
    }

    /** Appends a layer and builds it for the current output shape. */
    public Sequential add(Layer layer) {
        Shape in = outputShape();
        layer.build(in);
        register(Integer.toString(layers.size()), layer);
        layers.add(layer);
        return this;
    }

    /** The shape of one example going in (no batch dimension). */
    public Shape inputShape() {
        return inputShape;
    }

    /** The shape of one example coming out. */
    public Shape outputShape() {
        Shape s = inputShape;
        for (Layer l : layers) s = l.outputShape(s);
        return s;
    }

    public List<Layer> layers() {
        return List.copyOf(layers);
    }

    /**
     * A new model made of this one's layers but the last {@code layersToDrop} (Keras'
     * {@code include_top=False}): the same layer objects, so their trained weights are shared,
     * not copied; {@link #add} a new head to it. Parameter paths ({@link Parameter#name()}) stay
     * those of this model; {@link #stateDict()} and {@link #save} number the layers anew.
     *
     * <pre>{@code
     * Sequential backbone = Sequential.load(dir).withoutTop(1);      // drop the softmax layer
     * for (Layer l : backbone.layers()) l.trainable(false);
     * backbone.add(new Dense(5, Activation.SOFTMAX));                // built for the backbone's output
     * }</pre>
     *
     * @throws IllegalArgumentException if {@code layersToDrop} is negative or would leave no layer
     */
    public Sequential withoutTop(int layersToDrop) {
        if (layersToDrop < 0 || layersToDrop >= layers.size())
            throw new IllegalArgumentException("cannot drop " + layersToDrop + " top layers of a model with " + layers.size()
                    + ": drop between 0 and " + (layers.size() - 1));
        return new Sequential(inputShape, layers.subList(0, layers.size() - layersToDrop).toArray(Layer[]::new));
    }

    /** Layer {@code i}'s name as {@link #summary()} prints it: the type's name and the index, e.g. {@code "conv2d_0"}. */
    public String layerName(int i) {
        return layers.get(i).name() + "_" + i;
    }

    /**
     * The index of the layer that {@code ref} names: its index ({@code "3"}, or {@code "-1"} for the
     * last) or its name as {@link #summary()} prints it ({@code "max_pool2d_3"}).
     *
     * @throws IllegalArgumentException quoting {@code ref} and listing the layer names
     */
    public int layerIndex(String ref) {
        for (int i = 0; i < layers.size(); i++) if (layerName(i).equals(ref)) return i;
        try {
            int i = Integer.parseInt(ref.strip());
            if (i < 0) i += layers.size();
            if (i >= 0 && i < layers.size()) return i;
        } catch (NumberFormatException e) {
            // not an index either: the error below lists the names
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) names.add(layerName(i));
        throw new IllegalArgumentException("no layer '" + ref + "' in the model: give an index 0.." + (layers.size() - 1)
                + " (or -1 for the last) or one of " + String.join(", ", names));
    }

    /** Sets {@link Layer#trainable(boolean)} on layers {@code from} (inclusive) to {@code to} (exclusive); returns this. */
    public Sequential trainable(int from, int to, boolean trainable) {
        if (from < 0 || to > layers.size() || from > to)
            throw new IllegalArgumentException("layer range [" + from + ", " + to + ") is outside the model's " + layers.size() + " layers");
        for (Layer l : layers.subList(from, to)) l.trainable(trainable);
        return this;
    }

    /** The number of values in trainable parameters (what an optimizer bound by {@link #compile} updates). */
    public long trainableParameterCount() {
        long n = 0;
        for (Parameter p : parameters()) if (p.trainable()) n += p.value().size();
        return n;
    }

    /** The number of values in all parameters and buffers, as {@link #summary()}'s "Total params" (Keras counts buffers too). */
    public long parameterCount() {
        long n = 0;
        for (Tensor t : stateDict().values()) n += t.size();
        return n;
    }

    @Override
    public Tensor forward(Tensor x) {
        int[] want = inputShape.toArray(), got = x.shape().toArray();
        if (got.length != want.length + 1 || !Arrays.equals(Arrays.copyOfRange(got, 1, got.length), want))
            throw new IllegalArgumentException("model expects batches of shape [batch, " + join(want) + "], got " + x.shape());
        for (Layer l : layers) x = l.forward(x);
        return x;
    }

    private static String join(int[] d) {
        return Arrays.toString(d).replace("[", "").replace("]", "");
    }

    // ---------------------------------------------------------------- Keras API

    /** Chooses the optimizer, loss and metrics (e.g. "accuracy") for {@link #fit}. */
    public void compile(Optimizer optimizer, Loss loss, String... metrics) {
        trainer = new Trainer(this, optimizer, loss, List.of(metrics));
    }

    /** {@link #compile(Optimizer, Loss, String...)} with a loss by its Keras name. */
    public void compile(Optimizer optimizer, String loss, String... metrics) {
        compile(optimizer, Losses.of(loss), metrics);
    }

    /** The trainer set up by {@code compile}. */
    public Trainer trainer() {
        if (trainer == null) throw new IllegalStateException("call compile(optimizer, loss, metrics...) before fit/evaluate");
        return trainer;
    }

    /** Trains on in-memory examples {@code x} ([n, ...inputShape]) and targets {@code y}. */
    public History fit(Tensor x, Tensor y, FitOptions options) {
        return fit(new TensorDataset(x, y), options);
    }

    /** Trains on a dataset. */
    public History fit(Dataset data, FitOptions options) {
        return trainer().fit(data, options);
    }

    /** Loss and metrics on {@code data}. */
    public Map<String, Double> evaluate(Dataset data, int batchSize) {
        return trainer().evaluate(data, batchSize);
    }

    /** Loss and metrics on in-memory examples. */
    public Map<String, Double> evaluate(Tensor x, Tensor y, int batchSize) {
        return evaluate(new TensorDataset(x, y), batchSize);
    }

    /** Outputs for a batch of inputs, computed in inference mode, {@code batchSize} at a time. */
    public Tensor predict(Tensor x, int batchSize) {
        boolean was = isTraining();
        train(false);
        try (var scope = dev.jumbo.tensor.GradMode.noGrad()) {
            List<Tensor> outs = new ArrayList<>();
            for (int i = 0; i < x.dim(0); i += batchSize) outs.add(forward(x.slice(0, i, Math.min(x.dim(0), i + batchSize))));
            return outs.size() == 1 ? outs.getFirst() : Tensor.concat(0, outs);
        } finally {
            train(was);
        }
    }

    /** A table of layers, output shapes, parameter counts and FLOPs per example (Keras' summary()). */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        String fmt = "%-44s %-20s %12s %14s%n";
        String rule = "-".repeat(93) + "\n";
        sb.append("Model: Sequential, input ").append(inputShape).append('\n').append(rule);
        sb.append(String.format(fmt, "Layer (type)", "Output shape", "Params", "FLOPs/example")).append(rule.replace('-', '='));
        Shape s = inputShape;
        long total = 0, trainable = 0, flops = 0;
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            Shape out = l.outputShape(s);
            // like Keras, buffers (e.g. batch-norm moving statistics) count as non-trainable parameters
            long params = 0;
            for (Tensor t : l.stateDict().values()) params += t.size();
            for (Parameter p : l.parameters()) if (p.trainable()) trainable += p.value().size();
            long f = l.flops(s);
            sb.append(String.format(fmt, layerName(i) + " (" + l.config().get("type") + ")" + (l.trainable() ? "" : " frozen"), "(None, " + join(out.toArray()) + ")",
                    String.format("%,d", params), String.format("%,d", f)));
            total += params;
            flops += f;
            s = out;
        }
        sb.append(rule.replace('-', '='));
        sb.append(String.format("Total params: %,d%nTrainable params: %,d%nNon-trainable params: %,d%nFLOPs per example: %,d%n",
                total, trainable, total - trainable, flops));
        return sb.toString();
    }

    // ---------------------------------------------------------------- save and load

    /** The architecture as JSON: input shape and each layer's config. */
    public String configJson() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("format", FORMAT);
        c.put("input_shape", Arrays.stream(inputShape.toArray()).boxed().toList());
        c.put("layers", layers.stream().map(Layer::config).toList());
        return Json.write(c, true);
    }

    /** The {@code format} that {@link #configJson} writes, by which a folder's config says it is a Sequential's. */
    public static final String FORMAT = "jumbo-sequential/1";

    /** Whether {@code dir} holds a model {@link #save} wrote: both files, its config naming {@link #FORMAT}. */
    public static boolean isModelFolder(Path dir) throws IOException {
        Path config = dir.resolve(CONFIG_FILE);
        if (!Files.isRegularFile(config) || !Files.isRegularFile(dir.resolve(WEIGHTS_FILE))) return false;
        try {
            return Json.parse(Files.readString(config)) instanceof Map<?, ?> c && FORMAT.equals(c.get("format"));
        } catch (Json.ParseException e) {
            return false; // not a config of ours: the caller tries the other kinds, whose loaders say what is wrong
        }
    }

    /** Saves {@code config.json} (architecture) and {@code model.safetensors} (weights) into {@code dir}, each atomically. */
    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        Map<String, DType> types = new LinkedHashMap<>();
        for (int i = 0; i < layers.size(); i++)
            for (var e : layers.get(i).storedTypes().entrySet()) types.put(i + "." + e.getKey(), e.getValue());
        Safetensors.write(dir.resolve(WEIGHTS_FILE), stateDict(), Map.of("format", "jumbo"), types);
        AtomicFiles.writeString(dir.resolve(CONFIG_FILE), configJson());
    }

    /** Rebuilds a model from its architecture JSON, with freshly initialised weights. */
    public static Sequential fromConfig(String json, Path source) throws FormatException {
        try {
            if (!(Json.parse(json) instanceof Map<?, ?> c)) throw new IllegalArgumentException("expected a JSON object");
            if (!(c.get("input_shape") instanceof List<?> dims)) throw new IllegalArgumentException("missing 'input_shape'");
            if (!(c.get("layers") instanceof List<?> ls)) throw new IllegalArgumentException("missing 'layers'");
            Sequential m = new Sequential(Shape.of(dims.stream().mapToInt(d -> ((Number) d).intValue()).toArray()));
            for (Object l : ls) {
                if (!(l instanceof Map<?, ?> lm)) throw new IllegalArgumentException("a layer entry is not an object: " + l);
                @SuppressWarnings("unchecked")
                Map<String, Object> config = (Map<String, Object>) lm;
                m.add(Layers.fromConfig(config));
            }
            return m;
        } catch (RuntimeException e) {
            throw new FormatException(source, e.getMessage());
        }
    }

    /** Loads a folder written by {@link #save}. */
    public static Sequential load(Path dir) throws IOException {
        Path config = dir.resolve(CONFIG_FILE), weights = dir.resolve(WEIGHTS_FILE);
        if (!Files.isDirectory(dir)) throw new NoSuchFileException(dir.toString(), null, "no such model folder");
        if (!Files.isRegularFile(config)) throw new FormatException(config, "missing: a model folder needs " + CONFIG_FILE + " and " + WEIGHTS_FILE);
        Sequential m = fromConfig(Files.readString(config), config);
        Map<String, Tensor> state = Safetensors.read(weights);
        try {
            m.loadStateDict(state);
        } catch (RuntimeException e) {
            throw new FormatException(weights, "does not fit " + CONFIG_FILE + ": " + e.getMessage());
        }
        return m;
    }
}
