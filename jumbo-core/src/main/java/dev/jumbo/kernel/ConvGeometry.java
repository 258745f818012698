package dev.jumbo.kernel;

/**
 * The sizes of a 2-D convolution or pooling window over NHWC data (channels last, as Keras).
 * Input is {@code [n, h, w, c]}, output {@code [n, outH, outW, outC]}; the filter is
 * {@code [kh, kw, c, outC]}. Padding is given as the rows/columns added at the top and left;
 * the bottom/right padding is whatever makes the output size come out.
 */
public record ConvGeometry(int n, int h, int w, int c, int kh, int kw, int strideH, int strideW,
                           int padTop, int padLeft, int outH, int outW, int outC) {

    /** @throws IllegalArgumentException if a size or stride is not positive (n may be 0) or a padding is negative */
    public ConvGeometry {
        if (n < 0 || h <= 0 || w <= 0 || c <= 0 || kh <= 0 || kw <= 0 || strideH <= 0 || strideW <= 0
                || padTop < 0 || padLeft < 0 || outH <= 0 || outW <= 0 || outC <= 0)
            throw new IllegalArgumentException("invalid convolution geometry " + this);
    }

    /**
     * Geometry for Keras-style padding: {@code same} pads so that {@code out = ceil(in / stride)}
     * (extra padding at the bottom/right), {@code valid} adds none.
     */
    public static ConvGeometry of(int n, int h, int w, int c, int kh, int kw, int strideH, int strideW,
                                  boolean same, int outC) {
        int outH, outW, padTop, padLeft;
        if (same) {
            outH = Math.ceilDiv(h, strideH);
            outW = Math.ceilDiv(w, strideW);
            padTop = Math.max(0, (outH - 1) * strideH + kh - h) / 2;
            padLeft = Math.max(0, (outW - 1) * strideW + kw - w) / 2;
        } else {
            if (kh > h || kw > w)
                throw new IllegalArgumentException("window " + kh + "x" + kw + " is larger than the input " + h + "x" + w
                        + " with 'valid' padding");
            outH = (h - kh) / strideH + 1;
            outW = (w - kw) / strideW + 1;
            padTop = 0;
            padLeft = 0;
        }
        return new ConvGeometry(n, h, w, c, kh, kw, strideH, strideW, padTop, padLeft, outH, outW, outC);
    }

    /** Same geometry for a different batch size. */
    public ConvGeometry withBatch(int batch) {
        return new ConvGeometry(batch, h, w, c, kh, kw, strideH, strideW, padTop, padLeft, outH, outW, outC);
    }
}
