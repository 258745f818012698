package dev.jumbo.nn;

import dev.jumbo.tensor.Tensor;

/**
 * Elementwise activation functions by their Keras names.
 *
 * <pre>{@code
 * Activation a = Activation.of("relu");   // a.apply(x) == x.relu(), a.id() == "relu"
 * }</pre>
 */
public enum Activation {
    /** Identity. */
    LINEAR("linear"),
    /** {@code max(x, 0)}. */
    RELU("relu"),
    /** {@code x > 0 ? x : 0.2 x} (Keras 3's default negative slope). */
    LEAKY_RELU("leaky_relu"),
    /** Logistic sigmoid. */
    SIGMOID("sigmoid"),
    /** Hyperbolic tangent. */
    TANH("tanh"),
    /** Softmax over the last axis. */
    SOFTMAX("softmax"),
    /** Gaussian error linear unit, exact (erf) form. */
    GELU("gelu"),
    /** GELU's tanh approximation, GPT-2's (HuggingFace's {@code gelu_new}). */
    GELU_TANH("gelu_tanh");

    /** Negative slope of {@link #LEAKY_RELU}. */
    public static final float LEAKY_RELU_SLOPE = 0.2f;

    private final String id;

    Activation(String id) {
        this.id = id;
    }

    /** Applies the function. */
    public Tensor apply(Tensor x) {
        return switch (this) {
            case LINEAR -> x;
            case RELU -> x.relu();
            case LEAKY_RELU -> x.leakyRelu(LEAKY_RELU_SLOPE);
            case SIGMOID -> x.sigmoid();
            case TANH -> x.tanh();
            case SOFTMAX -> x.softmax();
            case GELU -> x.gelu();
            case GELU_TANH -> x.geluTanh();
        };
    }

    /** The Keras name, e.g. {@code "relu"}. */
    public String id() {
        return id;
    }

    /**
     * The activation with the given Keras name (case-insensitive); {@code null} means {@link #LINEAR}.
     *
     * @throws IllegalArgumentException quoting an unknown name
     */
    public static Activation of(String name) {
        if (name == null) return LINEAR;
        for (Activation a : values())
            if (a.id.equalsIgnoreCase(name)) return a;
        throw new IllegalArgumentException("unknown activation '" + name + "'; known: linear, relu, leaky_relu, sigmoid, tanh, softmax, gelu, gelu_tanh");
    }
}
