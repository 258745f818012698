package dev.jumbo.explain;

/**
 * The colours attributions are drawn in. {@link #DIVERGING} is for signed maps (Integrated
 * Gradients, SHAP, LIME): blue for negative, white at 0, red for positive, symmetric about 0 so a
 * colour means the same size either way. {@link #SEQUENTIAL} is for maps that are never negative
 * (saliency, Grad-CAM): from transparent through yellow to red, so that where nothing happens the
 * picture underneath shows through.
 *
 * <p>Colours take a value already normalised by the scale's end ({@link #normalise}): -1 to 1 on the
 * diverging scale, 0 to 1 on the sequential one; values beyond are clamped.
 *
 * <pre>{@code
 * ColourScale scale = ColourScale.of(e.attributions());   // SEQUENTIAL when nothing is negative
 * float end = e.maxAbs();
 * int rgb = scale.rgb(scale.normalise(e.attributions()[0], end));
 * }</pre>
 */
public enum ColourScale {
    /** Blue (-1), white (0), red (+1): ColorBrewer's RdBu, five stops. */
    DIVERGING(new double[] {-1, -0.5, 0, 0.5, 1},
            new int[] {0x2166AC, 0x67A9CF, 0xFFFFFF, 0xEF8A62, 0xB2182B}),
    /** Pale yellow (0, and transparent in overlays), yellow, orange, red (1). */
    SEQUENTIAL(new double[] {0, 0.35, 0.7, 1},
            new int[] {0xFFFFB2, 0xFED976, 0xFD8D3C, 0xBD0026});

    private final double[] stops;
    private final int[] colours;

    ColourScale(double[] stops, int[] colours) {
        this.stops = stops;
        this.colours = colours;
    }

    /** {@link #SEQUENTIAL} when no value is negative, else {@link #DIVERGING}. */
    public static ColourScale of(float[] values) {
        for (float v : values) if (v < 0) return DIVERGING;
        return SEQUENTIAL;
    }

    /** The smallest normalised value this scale shows: -1 or 0. */
    public double low() {
        return stops[0];
    }

    /**
     * {@code value / end} clamped to the scale ({@link #low()} to 1); 0 when {@code end} is 0 (an
     * all-zero map is drawn as nothing rather than as a division by zero).
     *
     * @throws IllegalArgumentException if {@code value} is NaN or {@code end} is negative or not finite
     */
    public double normalise(float value, float end) {
        if (Float.isNaN(value)) throw new IllegalArgumentException("cannot colour NaN");
        if (!(end >= 0) || Float.isInfinite(end)) throw new IllegalArgumentException("scale end " + end + " is not a finite value >= 0");
        if (end == 0) return 0;
        return Math.clamp(value / (double) end, low(), 1);
    }

    /** The opaque colour of normalised value {@code t}, as {@code 0xFFRRGGBB}. */
    public int rgb(double t) {
        t = Math.clamp(t, low(), 1);
        int i = 1;
        while (i < stops.length - 1 && t > stops[i]) i++;
        double f = (t - stops[i - 1]) / (stops[i] - stops[i - 1]);
        int a = colours[i - 1], b = colours[i];
        int r = mix(a >> 16 & 0xFF, b >> 16 & 0xFF, f), g = mix(a >> 8 & 0xFF, b >> 8 & 0xFF, f), bl = mix(a & 0xFF, b & 0xFF, f);
        return 0xFF000000 | r << 16 | g << 8 | bl;
    }

    /**
     * The colour of {@code t} for drawing over a picture: {@link #rgb} with alpha
     * {@code maxAlpha * sqrt|t|}, so 0 leaves the picture as it is and the ends cover it most. The
     * square root keeps middling values visible: their colours are already pale, and a linear alpha
     * would fade them twice.
     */
    public int argb(double t, double maxAlpha) {
        if (!(maxAlpha >= 0 && maxAlpha <= 1)) throw new IllegalArgumentException("maxAlpha " + maxAlpha + " is not in [0, 1]");
        t = Math.clamp(t, low(), 1);
        int alpha = (int) Math.round(255 * maxAlpha * Math.sqrt(Math.abs(t)));
        return alpha << 24 | rgb(t) & 0xFFFFFF;
    }

    /** {@link #rgb} as a CSS colour, {@code #rrggbb}. */
    public String css(double t) {
        return String.format("#%06x", rgb(t) & 0xFFFFFF);
    }

    /** Black or white, whichever reads better on {@link #rgb}{@code (t)}. */
    public int textRgb(double t) {
        int c = rgb(t);
        double luminance = 0.299 * (c >> 16 & 0xFF) + 0.587 * (c >> 8 & 0xFF) + 0.114 * (c & 0xFF);
        return luminance > 140 ? 0xFF000000 : 0xFFFFFFFF;
    }

    /** {@code argb} composited over an opaque {@code under}. */
    static int over(int argb, int under) {
        double a = (argb >>> 24) / 255.0;
        int r = mix(under >> 16 & 0xFF, argb >> 16 & 0xFF, a), g = mix(under >> 8 & 0xFF, argb >> 8 & 0xFF, a), b = mix(under & 0xFF, argb & 0xFF, a);
        return 0xFF000000 | r << 16 | g << 8 | b;
    }

    private static int mix(int a, int b, double f) {
        return (int) Math.round(a + (b - a) * f);
    }
}
