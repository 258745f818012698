package dev.jumbo.explain;

/**
 * Where along the path from baseline to input Integrated Gradients samples the gradient, and how
 * much each sample weighs: the rules Captum offers, by its names. Gauss-Legendre is exact for
 * polynomials of degree up to {@code 2n - 1} in {@code n} points, so it needs far fewer steps than
 * the Riemann sums for the same completeness gap.
 */
public enum Quadrature {
    GAUSS_LEGENDRE, RIEMANN_LEFT, RIEMANN_RIGHT, RIEMANN_MIDDLE, RIEMANN_TRAPEZOID;

    /** Points {@code alphas} in [0, 1] and {@code weights} summing to 1. */
    public record Rule(double[] alphas, double[] weights) {}

    /**
     * The rule with {@code n} points.
     *
     * @throws IllegalArgumentException if {@code n < 1} (or {@code n < 2} for the trapezoid rule)
     */
    public Rule points(int n) {
        if (n < 1 || (this == RIEMANN_TRAPEZOID && n < 2))
            throw new IllegalArgumentException(name().toLowerCase() + " needs at least " + (this == RIEMANN_TRAPEZOID ? 2 : 1) + " steps, got " + n);
        double[] a = new double[n], w = new double[n];
        switch (this) {
            case GAUSS_LEGENDRE -> gaussLegendre(n, a, w);
            case RIEMANN_LEFT, RIEMANN_RIGHT, RIEMANN_MIDDLE -> {
                double shift = this == RIEMANN_LEFT ? 0 : this == RIEMANN_RIGHT ? 1 : 0.5;
                for (int i = 0; i < n; i++) {
                    a[i] = (i + shift) / n;
                    w[i] = 1.0 / n;
                }
            }
            case RIEMANN_TRAPEZOID -> {
                for (int i = 0; i < n; i++) {
                    a[i] = (double) i / (n - 1);
                    w[i] = (i == 0 || i == n - 1 ? 0.5 : 1.0) / (n - 1);
                }
            }
        }
        return new Rule(a, w);
    }

    /** The command line's spelling: {@code gausslegendre}, {@code riemann_left}... (Captum's). */
    public static Quadrature parse(String name) {
        return switch (name.toLowerCase().replace('-', '_')) {
            case "gausslegendre", "gauss_legendre" -> GAUSS_LEGENDRE;
            case "riemann_left" -> RIEMANN_LEFT;
            case "riemann_right" -> RIEMANN_RIGHT;
            case "riemann_middle" -> RIEMANN_MIDDLE;
            case "riemann_trapezoid" -> RIEMANN_TRAPEZOID;
            default -> throw new IllegalArgumentException("unknown integration rule '" + name
                    + "': use gausslegendre, riemann_left, riemann_right, riemann_middle or riemann_trapezoid");
        };
    }

    /**
     * Nodes and weights of Gauss-Legendre quadrature moved from [-1, 1] to [0, 1]: each node is a
     * root of the Legendre polynomial P_n, found by Newton's method from the Chebyshev-like guess
     * cos(pi (i + 3/4) / (n + 1/2)); its weight is 2 / ((1 - x^2) P_n'(x)^2).
     */
    private static void gaussLegendre(int n, double[] alphas, double[] weights) {
        for (int i = 0; i < n; i++) {
            double x = Math.cos(Math.PI * (i + 0.75) / (n + 0.5)), derivative = 0;
            for (int iter = 0; iter < 100; iter++) {
                double p0 = 1, p1 = x;
                for (int j = 2; j <= n; j++) {
                    double p2 = ((2 * j - 1) * x * p1 - (j - 1) * p0) / j;
                    p0 = p1;
                    p1 = p2;
                }
                derivative = n * (x * p1 - p0) / (x * x - 1);
                double dx = p1 / derivative;
                x -= dx;
                if (Math.abs(dx) < 1e-15) break;
            }
            alphas[n - 1 - i] = (x + 1) / 2;
            weights[n - 1 - i] = 1 / ((1 - x * x) * derivative * derivative);
        }
    }
}
