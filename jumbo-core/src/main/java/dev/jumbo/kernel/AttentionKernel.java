package dev.jumbo.kernel;

/**
 * Multi-head scaled dot-product attention, {@code softmax(q k^T * scale + mask) v} for every
 * batch and head, and its gradient, reading q, k and v where they lie.
 *
 * <p>Each of q, k and v is a {@code [batch, time, heads * headDim]} operand whose rows may be
 * strided ({@link Operand}): head h of a row is the {@code headDim} values from column
 * {@code h * headDim}. So the q, k and v columns of one fused projection are read in place,
 * without the copies that splitting them into {@code [batch, heads, time, headDim]} takes, and
 * the output comes out as {@code [batch, time, heads * headDim]}, ready for the output
 * projection. The additive mask is read through strides as well ({@link Mask}), so a
 * {@code [tq, tk]} causal mask or a {@code [batch, 1, 1, tk]} padding mask is never expanded.
 *
 * <p>One task per (batch, head) pair, each on one thread through {@link Gemm} and the
 * {@link VectorMath} softmax rows, so the results are the same whatever the thread count. The
 * forward keeps the attention probabilities ({@code [batch, heads, tq, tk]}) for the backward.
 */
public final class AttentionKernel {
    /** Below this many multiply-adds in all, the pairs run on the calling thread. */
    private static final long PARALLEL_MIN = 1 << 16;

    private AttentionKernel() {}

    /**
     * Where a {@code [batch, time, heads * headDim]} operand lies in its array: element
     * {@code (b, t, c)} at {@code offset + b * batchStride + t * rowStride + c}.
     */
    public record Operand(int offset, int batchStride, int rowStride) {}

    /**
     * Where an additive mask broadcast to {@code [batch, heads, tq, tk]} lies: element
     * {@code (b, h, i, j)} at {@code offset + b*batchStride + h*headStride + i*rowStride + j*colStride};
     * a stride of 0 repeats the mask along that axis.
     */
    public record Mask(float[] data, int offset, int batchStride, int headStride, int rowStride, int colStride) {}

    /** Sizes of one attention call. */
    public record Shape(int batch, int heads, int tq, int tk, int headDim) {
        int width() {
            return heads * headDim;
        }

        int pairs() {
            return batch * heads;
        }

        long work() {
            return (long) pairs() * tq * tk * headDim;
        }
    }

    /**
     * Writes the attention output to {@code out} (dense {@code [batch, tq, heads * headDim]}) and
     * the probabilities to {@code probs} (dense {@code [batch, heads, tq, tk]}).
     *
     * @param mask null for none
     */
    public static void forward(Shape s, float scale, float[] q, Operand qo, float[] k, Operand ko, float[] v, Operand vo,
                               Mask mask, float[] probs, float[] out) {
        int d = s.width();
        forPairs(s, 2, (b, h) -> {
            int p = pairOffset(s, b, h), qa = at(qo, b, h, s.headDim()), ka = at(ko, b, h, s.headDim());
            // scores = scale * q k^T (+ mask), then softmax in place
            Gemm.sgemm(false, true, s.tq(), s.tk(), s.headDim(), scale, q, qa, qo.rowStride(), k, ka, ko.rowStride(),
                    0f, probs, p, s.tk());
            if (mask != null) addMask(s, mask, b, h, probs, p);
            VectorMath.softmaxRows(probs, p, probs, p, s.tq(), s.tk());
            Gemm.sgemm(false, false, s.tq(), s.headDim(), s.tk(), 1f, probs, p, s.tk(), v, at(vo, b, h, s.headDim()), vo.rowStride(),
                    0f, out, b * s.tq() * d + h * s.headDim(), d);
        });
    }

    /**
     * The gradients of {@link #forward} given {@code g} = d(loss)/d(out) (dense, like out):
     * written (not added) to {@code dq}, {@code dk} and {@code dv}, each dense
     * {@code [batch, time, heads * headDim]}; any of them may be null when not wanted.
     */
    public static void backward(Shape s, float scale, float[] q, Operand qo, float[] k, Operand ko, float[] v, Operand vo,
                                float[] probs, float[] g, float[] dq, float[] dk, float[] dv) {
        int d = s.width(), hd = s.headDim(), tq = s.tq(), tk = s.tk();
        forPairs(s, 4, (b, h) -> {
            int p = pairOffset(s, b, h), col = h * hd;
            int ga = b * tq * d + col, qa = at(qo, b, h, hd), ka = at(ko, b, h, hd), va = at(vo, b, h, hd);
            // dV = P^T dO
            if (dv != null) Gemm.sgemm(true, false, tk, hd, tq, 1f, probs, p, tk, g, ga, d, 0f, dv, b * tk * d + col, d);
            if (dq == null && dk == null) return;
            Workspace ws = Workspace.acquire();
            try {
                // dP = dO V^T, then dS = softmax gradient of dP, in place; the scale is folded into the products below
                float[] ds = ws.c(tq * tk);
                Gemm.sgemm(false, true, tq, tk, hd, 1f, g, ga, d, v, va, vo.rowStride(), 0f, ds, 0, tk);
                VectorMath.softmaxBackwardRows(probs, p, ds, 0, ds, 0, tq, tk);
                if (dq != null) Gemm.sgemm(false, false, tq, hd, tk, scale, ds, 0, tk, k, ka, ko.rowStride(), 0f, dq, b * tq * d + col, d);
                if (dk != null) Gemm.sgemm(true, false, tk, hd, tq, scale, ds, 0, tk, q, qa, qo.rowStride(), 0f, dk, b * tk * d + col, d);
            } finally {
                Workspace.release(ws);
            }
        });
    }

    @FunctionalInterface
    private interface PairBody {
        void run(int batch, int head);
    }

    /** Runs {@code body} for every (batch, head) pair, one pair per task. */
    private static void forPairs(Shape s, int products, PairBody body) {
        int pairs = s.pairs();
        java.util.function.IntConsumer task = i -> body.run(i / s.heads(), i % s.heads());
        if (products * s.work() < PARALLEL_MIN) {
            for (int i = 0; i < pairs; i++) task.accept(i);
        } else {
            Parallel.forTasks(pairs, task);
        }
    }

    private static int pairOffset(Shape s, int b, int h) {
        return (b * s.heads() + h) * s.tq() * s.tk();
    }

    private static int at(Operand o, int b, int h, int headDim) {
        return o.offset() + b * o.batchStride() + h * headDim;
    }

    private static void addMask(Shape s, Mask m, int b, int h, float[] scores, int p) {
        float[] md = m.data();
        int base = m.offset() + b * m.batchStride() + h * m.headStride();
        for (int i = 0; i < s.tq(); i++) {
            int row = base + i * m.rowStride(), so = p + i * s.tk();
            if (m.colStride() == 1) {
                VectorMath.add(scores, so, md, row, scores, so, s.tk());
            } else {
                for (int j = 0; j < s.tk(); j++) scores[so + j] += md[row + j * m.colStride()];
            }
        }
    }
}
