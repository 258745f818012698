package dev.jumbo.explain;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ColourScaleTest {

    @Test
    void divergingMapsZeroToWhiteAndTheEndsToBlueAndRed() {
        assertThat(ColourScale.DIVERGING.rgb(0)).isEqualTo(0xFFFFFFFF);
        assertThat(ColourScale.DIVERGING.rgb(-1)).isEqualTo(0xFF2166AC);
        assertThat(ColourScale.DIVERGING.rgb(1)).isEqualTo(0xFFB2182B);
        assertThat(ColourScale.DIVERGING.rgb(7)).as("clamped").isEqualTo(0xFFB2182B);
        assertThat(ColourScale.DIVERGING.css(0)).isEqualTo("#ffffff");
        assertThat(ColourScale.DIVERGING.argb(0, 0.8) >>> 24).as("0 is transparent over a picture").isZero();
        assertThat(ColourScale.DIVERGING.argb(-1, 0.8) >>> 24).isEqualTo(204);
    }

    @Test
    void sequentialRunsFromTransparentYellowToOpaqueRed() {
        ColourScale s = ColourScale.SEQUENTIAL;
        assertThat(s.argb(0, 1) >>> 24).isZero();
        assertThat(s.argb(1, 1)).isEqualTo(0xFFBD0026);
        assertThat(s.argb(-3, 1)).as("negative clamps to 0").isEqualTo(s.argb(0, 1));
        int yellow = s.rgb(0.35);
        assertThat(yellow >> 16 & 0xFF).isGreaterThan(240);
        assertThat(yellow >> 8 & 0xFF).isGreaterThan(200);
        assertThat(yellow & 0xFF).isLessThan(130);
    }

    /** Piecewise-linear interpolation written the other way round: from the segment's end, by float arithmetic per channel. */
    private static int reference(double[] stops, int[] colours, double t) {
        for (int i = stops.length - 1; i > 0; i--) {
            if (t >= stops[i - 1] && t <= stops[i]) {
                double f = (stops[i] - t) / (stops[i] - stops[i - 1]);
                int out = 0xFF000000;
                for (int shift = 16; shift >= 0; shift -= 8) {
                    double a = colours[i - 1] >> shift & 0xFF, b = colours[i] >> shift & 0xFF;
                    out |= (int) Math.round(b + (a - b) * f) << shift;
                }
                return out;
            }
        }
        throw new AssertionError(t);
    }

    @Test
    void coloursMatchANaiveInterpolationOnRandomValues() {
        Random r = new Random(System.nanoTime());
        double[] dStops = {-1, -0.5, 0, 0.5, 1};
        int[] dColours = {0x2166AC, 0x67A9CF, 0xFFFFFF, 0xEF8A62, 0xB2182B};
        double[] sStops = {0, 0.35, 0.7, 1};
        int[] sColours = {0xFFFFB2, 0xFED976, 0xFD8D3C, 0xBD0026};
        for (int k = 0; k < 2000; k++) {
            double t = r.nextDouble() * 2 - 1;
            int want = reference(dStops, dColours, t), got = ColourScale.DIVERGING.rgb(t);
            for (int shift = 0; shift <= 16; shift += 8)
                assertThat(Math.abs((got >> shift & 0xFF) - (want >> shift & 0xFF))).as("t=%s", t).isLessThanOrEqualTo(1);
            double u = r.nextDouble();
            want = reference(sStops, sColours, u);
            got = ColourScale.SEQUENTIAL.rgb(u);
            for (int shift = 0; shift <= 16; shift += 8)
                assertThat(Math.abs((got >> shift & 0xFF) - (want >> shift & 0xFF))).as("u=%s", u).isLessThanOrEqualTo(1);
        }
    }

    @Test
    void normalisesByTheEndAndRefusesNaN() {
        assertThat(ColourScale.DIVERGING.normalise(-2, 4)).isEqualTo(-0.5);
        assertThat(ColourScale.SEQUENTIAL.normalise(-2, 4)).isEqualTo(0);
        assertThat(ColourScale.DIVERGING.normalise(3, 0)).as("an all-zero map").isEqualTo(0);
        assertThatThrownBy(() -> ColourScale.DIVERGING.normalise(Float.NaN, 1)).hasMessageContaining("NaN");
        assertThatThrownBy(() -> ColourScale.DIVERGING.normalise(1, -1)).hasMessageContaining("-1");
        assertThat(ColourScale.of(new float[] {0, 1, 2})).isEqualTo(ColourScale.SEQUENTIAL);
        assertThat(ColourScale.of(new float[] {0, -1e-9f, 2})).isEqualTo(ColourScale.DIVERGING);
    }

    @Test
    void textIsBlackOnPaleBoxesAndWhiteOnDarkOnes() {
        assertThat(ColourScale.DIVERGING.textRgb(0)).isEqualTo(0xFF000000);
        assertThat(ColourScale.DIVERGING.textRgb(1)).isEqualTo(0xFFFFFFFF);
        assertThat(ColourScale.DIVERGING.textRgb(-1)).isEqualTo(0xFFFFFFFF);
    }
}
