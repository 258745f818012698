package dev.jumbo.nn;

import dev.jumbo.tensor.DType;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A module with the Keras lifecycle: the constructor validates the arguments, the weights are
 * created when the first input arrives (so {@code new Dense(64)} needs no input size), and
 * {@link #call} holds the arithmetic. Shapes given to {@link #build}, {@link #outputShape} and
 * {@link #flops} leave out the batch dimension; tensors given to {@link #forward} have it first.
 *
 * <pre>{@code
 * Layer dense = new Dense(3, Activation.RELU);
 * Tensor y = dense.forward(Tensor.ones(8, 5));   // builds kernel [5, 3] and bias [3]; y is [8, 3]
 * dense.outputShape(Shape.of(5));                // [3]
 * Layers.fromConfig(dense.config());             // an equal, unbuilt Dense
 * }</pre>
 *
 * <p>Until it is built a layer has no parameters; call {@link #build} to create them without data.
 */
public abstract class Layer extends Module {
    private boolean built;
    private boolean trainable = true;

    /** Builds on the first call (from the input's shape without its batch dimension), then applies the layer. */
    @Override
    public final Tensor forward(Tensor x) {
        if (x.rank() < 1) throw new IllegalArgumentException(name() + " needs a batch dimension first, got a scalar input");
        build(withoutBatch(x.shape()));
        return call(x);
    }

    /**
     * Creates the weights for inputs of the given shape (without batch) unless already built; in
     * either case checks that the shape suits the layer and its weights.
     *
     * @throws IllegalArgumentException naming the layer and the bad shape
     */
    public final void build(Shape inputShape) {
        outputShape(inputShape); // every layer validates its input there, built or not
        if (built) return;
        onBuild(inputShape);
        built = true;
        if (!trainable) trainable(false); // weights created after the layer was frozen start frozen
    }

    /**
     * Freezes ({@code false}) or unfreezes ({@code true}) every parameter of this layer and of the
     * layers inside it, as Keras' {@code layer.trainable = False}: optimizers bound afterwards skip
     * the frozen ones (compile again after changing it, as in Keras), autograd computes no gradient
     * for them, and a frozen {@link BatchNormalization} runs in inference mode even while the
     * model trains. The flag is saved in {@link #config()} as {@code "trainable": false} (left out
     * when true, Keras' default). Returns this.
     *
     * <pre>{@code
     * for (Layer l : backbone.layers()) l.trainable(false);   // transfer learning: train only the new head
     * }</pre>
     */
    public Layer trainable(boolean trainable) {
        this.trainable = trainable;
        for (Parameter p : parameters()) {
            if (trainable) p.unfreeze();
            else p.freeze();
        }
        for (Module child : children().values())
            if (child instanceof Layer l) l.trainable(trainable);
        return this;
    }

    /** Whether the layer trains ({@link #trainable(boolean)}); true unless frozen. */
    public boolean trainable() {
        return trainable;
    }

    /** Whether the weights exist. */
    public boolean isBuilt() {
        return built;
    }

    /** Creates parameters and buffers for a validated input shape (without batch). */
    protected abstract void onBuild(Shape inputShape);

    /** The layer's computation on a batch; the layer is built. */
    protected abstract Tensor call(Tensor x);

    /**
     * The output shape (without batch) for an input shape (without batch).
     *
     * @throws IllegalArgumentException naming the layer and the shape if the layer cannot take it
     */
    public abstract Shape outputShape(Shape inputShape);

    /** Floating-point operations per example, counting 2 per multiply-add; 0 when negligible or not counted. */
    public long flops(Shape inputShape) {
        return 0;
    }

    /** The Keras-style name: the type in snake case, e.g. {@code "dense"}, {@code "batch_normalization"}. */
    public String name() {
        return snakeCase(getClass().getSimpleName());
    }

    /**
     * The constructor arguments as a JSON-ready map, {@code "type"} first, then Keras-named fields:
     * values are only String, Number, Boolean, List and Map. {@link Layers#fromConfig} inverts it.
     */
    public Map<String, Object> config() {
        LinkedHashMap<String, Object> c = new LinkedHashMap<>();
        c.put("type", getClass().getSimpleName());
        addConfig(c);
        if (!trainable) c.put("trainable", false);
        return c;
    }

    /**
     * The {@link #stateDict()} entries to store in a type narrower than F32, by key (e.g. int8
     * weights as {@link DType#I8}); default none. Their values must be exact in that type.
     */
    public Map<String, DType> storedTypes() {
        return Map.of();
    }

    /** Puts this layer's constructor arguments into {@code config}; default none. */
    protected void addConfig(Map<String, Object> config) {}

    /** An exception for an input shape this layer cannot take: "dense expects rank >= 1 ..., got input shape [] ...". */
    protected IllegalArgumentException badInput(Shape inputShape, String expectation) {
        return new IllegalArgumentException(name() + " expects " + expectation + ", got input shape " + inputShape + " (without the batch dimension)");
    }

    /** {@code [batch, d1, d2...]} without its first dimension. */
    static Shape withoutBatch(Shape s) {
        int[] d = s.toArray();
        return Shape.of(Arrays.copyOfRange(d, 1, d.length));
    }

    /** {@code inputShape} with its last dimension replaced. */
    static Shape withLast(Shape s, int last) {
        int[] d = s.toArray();
        d[d.length - 1] = last;
        return Shape.of(d);
    }

    static String snakeCase(String camel) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < camel.length(); i++) {
            char c = camel.charAt(i);
            if (Character.isUpperCase(c) && i > 0) {
                char prev = camel.charAt(i - 1);
                boolean nextLower = i + 1 < camel.length() && Character.isLowerCase(camel.charAt(i + 1));
                // "SimpleRNN" -> simple_rnn, "LSTM" -> lstm, "Conv2D" -> conv2d
                if (Character.isLowerCase(prev) || Character.isUpperCase(prev) && nextLower) sb.append('_');
            }
            sb.append(Character.toLowerCase(c));
        }
        return sb.toString();
    }
}
