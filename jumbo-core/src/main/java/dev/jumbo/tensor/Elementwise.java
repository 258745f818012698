package dev.jumbo.tensor;

import dev.jumbo.kernel.VectorMath;

/**
 * Broadcasting elementwise loops over (possibly strided) tensors. Resolves shapes and strides
 * once, then runs a tight loop over the innermost dimension; contiguous same-shape operands go
 * straight to {@link VectorMath}.
 */
final class Elementwise {
    private Elementwise() {}

    enum Binary { ADD, SUB, MUL, DIV, MAX }

    /** {@code op(a, b)} broadcast to {@code out}, as a new dense array. */
    static float[] binary(Binary op, Tensor a, Tensor b, Shape out) {
        float[] y = new float[out.size()];
        if (a.isDense() && b.isDense() && a.shape().equals(out) && b.shape().equals(out)) {
            row(op, a.storageArray(), 0, 1, b.storageArray(), 0, 1, y, 0, y.length);
            return y;
        }
        int r = out.rank();
        if (r == 0) {
            row(op, a.storageArray(), a.offset(), 0, b.storageArray(), b.offset(), 0, y, 0, 1);
            return y;
        }
        int[] as = broadcastStrides(a, out), bs = broadcastStrides(b, out);
        int inner = out.dim(r - 1);
        if (inner == 0) return y;
        int outer = out.size() / inner;
        int[] idx = new int[r];
        int ao = a.offset(), bo = b.offset();
        float[] ad = a.storageArray(), bd = b.storageArray();
        for (int o = 0; o < outer; o++) {
            row(op, ad, ao, as[r - 1], bd, bo, bs[r - 1], y, o * inner, inner);
            for (int d = r - 2; d >= 0; d--) {
                idx[d]++;
                ao += as[d];
                bo += bs[d];
                if (idx[d] < out.dim(d)) break;
                ao -= as[d] * idx[d];
                bo -= bs[d] * idx[d];
                idx[d] = 0;
            }
        }
        return y;
    }

    /** Strides of {@code t} seen as a tensor of shape {@code out}: 0 along stretched dimensions. */
    static int[] broadcastStrides(Tensor t, Shape out) {
        int r = out.rank(), tr = t.shape().rank();
        int[] s = new int[r];
        int[] ts = t.strides();
        for (int i = 0; i < tr; i++) {
            int oi = i + r - tr;
            s[oi] = t.shape().dim(i) == 1 && out.dim(oi) != 1 ? 0 : ts[i];
        }
        return s;
    }

    /** Copies a strided tensor's elements in row-major order into {@code y}. */
    static void gather(Tensor t, float[] y) {
        Shape s = t.shape();
        int r = s.rank();
        float[] d = t.storageArray();
        if (r == 0) {
            y[0] = d[t.offset()];
            return;
        }
        int[] st = t.strides();
        int inner = s.dim(r - 1);
        if (inner == 0) return;
        int outer = s.size() / inner, is = st[r - 1];
        int[] idx = new int[r];
        int off = t.offset();
        for (int o = 0; o < outer; o++) {
            int yo = o * inner;
            if (is == 1) System.arraycopy(d, off, y, yo, inner);
            else for (int j = 0; j < inner; j++) y[yo + j] = d[off + j * is];
            for (int k = r - 2; k >= 0; k--) {
                idx[k]++;
                off += st[k];
                if (idx[k] < s.dim(k)) break;
                off -= st[k] * idx[k];
                idx[k] = 0;
            }
        }
    }

    private static void row(Binary op, float[] a, int ao, int as, float[] b, int bo, int bs, float[] y, int yo, int n) {
        if (as == 1 && bs == 1) {
            switch (op) {
                case ADD -> { VectorMath.add(a, ao, b, bo, y, yo, n); return; }
                case MUL -> { VectorMath.mul(a, ao, b, bo, y, yo, n); return; }
                default -> { }
            }
        }
        switch (op) {
            case ADD -> { for (int i = 0; i < n; i++) y[yo + i] = a[ao + i * as] + b[bo + i * bs]; }
            case SUB -> { for (int i = 0; i < n; i++) y[yo + i] = a[ao + i * as] - b[bo + i * bs]; }
            case MUL -> { for (int i = 0; i < n; i++) y[yo + i] = a[ao + i * as] * b[bo + i * bs]; }
            case DIV -> { for (int i = 0; i < n; i++) y[yo + i] = a[ao + i * as] / b[bo + i * bs]; }
            case MAX -> { for (int i = 0; i < n; i++) y[yo + i] = Math.max(a[ao + i * as], b[bo + i * bs]); }
        }
    }
}
