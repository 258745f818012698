package dev.jumbo.kernel;

import java.util.Arrays;

/**
 * The patch matrix of a convolution and its transpose-scatter, over NHWC data.
 *
 * <p>Output pixel {@code r = (b*outH + oh)*outW + ow} owns patch row r of length
 * {@code K = kh*kw*c}, laid out {@code [i][j][ch]} like the filter's first three axes, so
 * {@code patches x W[K x outC]} is the convolution. Padding positions read as zero. Within one
 * window row i, consecutive j read consecutive input columns (stride only moves the window),
 * so each in-range run of {@code j} is one contiguous copy of {@code run * c} floats.
 */
final class Im2Col {
    private Im2Col() {}

    /** Writes patch rows {@code r0 .. r1} into {@code dst} (row {@code r} at {@code dstOff + (r - r0) * K}). */
    static void gather(ConvGeometry g, float[] x, int r0, int r1, float[] dst, int dstOff) {
        int c = g.c(), kw = g.kw(), rowLen = g.kw() * c, k = g.kh() * rowLen;
        for (int r = r0; r < r1; r++) {
            int ow = r % g.outW(), oh = r / g.outW() % g.outH(), b = r / (g.outW() * g.outH());
            int d = dstOff + (r - r0) * k, iw0 = ow * g.strideW() - g.padLeft();
            int j0 = Math.max(0, -iw0), j1 = Math.min(kw, g.w() - iw0);
            for (int i = 0; i < g.kh(); i++, d += rowLen) {
                int ih = oh * g.strideH() - g.padTop() + i;
                if (ih < 0 || ih >= g.h() || j0 >= j1) {
                    Arrays.fill(dst, d, d + rowLen, 0f);
                    continue;
                }
                Arrays.fill(dst, d, d + j0 * c, 0f);
                System.arraycopy(x, ((b * g.h() + ih) * g.w() + iw0 + j0) * c, dst, d + j0 * c, (j1 - j0) * c);
                Arrays.fill(dst, d + j1 * c, d + rowLen, 0f);
            }
        }
    }

    /**
     * Adds patch rows {@code r0 .. r1} of {@code src} (row {@code r} at {@code srcOff + (r - r0) * K}) back
     * into the input positions they were read from, for channels {@code c0 .. c1} only. Rows of
     * different images touch disjoint parts of {@code dx}, as do disjoint channel ranges, which is
     * what lets callers run this in parallel.
     */
    static void scatterAdd(ConvGeometry g, float[] src, int srcOff, int r0, int r1, int c0, int c1, float[] dx) {
        int c = g.c(), kw = g.kw(), rowLen = kw * c, k = g.kh() * rowLen;
        boolean allChannels = c0 == 0 && c1 == c;
        for (int r = r0; r < r1; r++) {
            int ow = r % g.outW(), oh = r / g.outW() % g.outH(), b = r / (g.outW() * g.outH());
            int s = srcOff + (r - r0) * k, iw0 = ow * g.strideW() - g.padLeft();
            int j0 = Math.max(0, -iw0), j1 = Math.min(kw, g.w() - iw0);
            for (int i = 0; i < g.kh(); i++, s += rowLen) {
                int ih = oh * g.strideH() - g.padTop() + i;
                if (ih < 0 || ih >= g.h() || j0 >= j1) continue;
                int xo = ((b * g.h() + ih) * g.w() + iw0 + j0) * c, so = s + j0 * c;
                if (allChannels) {
                    VectorMath.add(dx, xo, src, so, dx, xo, (j1 - j0) * c);
                } else {
                    for (int j = j0; j < j1; j++, xo += c, so += c)
                        VectorMath.add(dx, xo + c0, src, so + c0, dx, xo + c0, c1 - c0);
                }
            }
        }
    }
}
