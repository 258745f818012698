package dev.jumbo.tensor;

import dev.jumbo.kernel.VectorMath;

/**
 * The elementwise functions of {@link Tensor}, each with its derivative beside it; the parameter
 * {@code p} is the exponent, slope or bound where the function has one.
 */
enum Pointwise {
    POW, SQRT, EXP, LOG, ABS, TANH, SIGMOID, RELU, LEAKY_RELU, GELU, GELU_TANH, CLAMP_LO, CLAMP_HI;

    /** The function at {@code x} with parameter {@code p}. */
    float apply(float x, float p) {
        return switch (this) {
            case POW -> (float) Math.pow(x, p);
            case SQRT -> (float) Math.sqrt(x);
            case EXP -> (float) Math.exp(x);
            case LOG -> (float) Math.log(x);
            case ABS -> Math.abs(x);
            case TANH -> (float) Math.tanh(x);
            case SIGMOID -> x >= 0 ? (float) (1 / (1 + Math.exp(-x))) : (float) (Math.exp(x) / (1 + Math.exp(x)));
            case RELU -> Math.max(x, 0f); // NaN stays NaN, as in PyTorch
            case LEAKY_RELU -> x > 0 ? x : p * x;
            case GELU -> (float) (0.5 * x * (1 + Erf.erf(x / Math.sqrt(2))));
            case GELU_TANH -> VectorMath.geluTanh(x);
            case CLAMP_LO -> Math.max(x, p);
            case CLAMP_HI -> Math.min(x, p);
        };
    }

    /** Its derivative at {@code x}, given the output {@code y} there (cheaper for exp, tanh, sigmoid). */
    float derivative(float x, float y, float p) {
        return switch (this) {
            case POW -> (float) (p * Math.pow(x, p - 1));
            case SQRT -> 0.5f / y;
            case EXP -> y;
            case LOG -> 1f / x;
            case ABS -> Math.signum(x);
            case TANH -> 1 - y * y;
            case SIGMOID -> y * (1 - y);
            case RELU -> x > 0 ? 1f : 0f;
            case LEAKY_RELU -> x > 0 ? 1f : p;
            case GELU -> (float) (0.5 * (1 + Erf.erf(x / Math.sqrt(2))) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI));
            case GELU_TANH -> VectorMath.geluTanhDerivative(x);
            case CLAMP_LO -> x >= p ? 1f : 0f;
            case CLAMP_HI -> x <= p ? 1f : 0f;
        };
    }
}
