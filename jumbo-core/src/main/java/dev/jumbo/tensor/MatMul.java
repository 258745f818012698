package dev.jumbo.tensor;

import dev.jumbo.kernel.Gemm;
import dev.jumbo.kernel.VectorMath;
import java.util.Arrays;

/** Matrix products as a differentiable operation, all through the one gemm entry point. */
final class MatMul {
    private MatMul() {}

    /**
     * Matrix product over the last two dimensions. Supported: {@code [.., m, k] x [k, n]},
     * {@code [m, k] x [b.., k, n]} and {@code [b.., m, k] x [b.., k, n]} with equal batch dimensions.
     */
    static Tensor apply(Tensor self, Tensor o) {
        if (self.rank() < 2 || o.rank() < 2)
            throw new IllegalArgumentException("matmul needs matrices, got shapes " + self.shape() + " and " + o.shape());
        int m = self.dim(-2), k = self.dim(-1), n = o.dim(-1);
        if (o.dim(-2) != k) throw new IllegalArgumentException("matmul shapes " + self.shape() + " and " + o.shape() + " do not agree: " + k + " != " + o.dim(-2));
        Shape shape = self.shape(), oShape = o.shape();
        int batchA = shape.sizeBetween(0, self.rank() - 2), batchB = oShape.sizeBetween(0, o.rank() - 2);
        Shape batchShape;
        if (o.rank() == 2) batchShape = Shape.of(Arrays.copyOf(shape.toArray(), self.rank() - 2));
        else if (self.rank() == 2) batchShape = Shape.of(Arrays.copyOf(oShape.toArray(), o.rank() - 2));
        else if (self.rank() == o.rank() && batchA == batchB && Arrays.equals(Arrays.copyOf(shape.toArray(), self.rank() - 2), Arrays.copyOf(oShape.toArray(), o.rank() - 2)))
            batchShape = Shape.of(Arrays.copyOf(shape.toArray(), self.rank() - 2));
        else throw new IllegalArgumentException("matmul batch dimensions of " + shape + " and " + oShape + " differ");
        int[] outDims = Arrays.copyOf(batchShape.toArray(), batchShape.rank() + 2);
        outDims[outDims.length - 2] = m;
        outDims[outDims.length - 1] = n;
        Shape out = Shape.of(outDims);
        float[] y = new float[out.size()];
        MatOperand a = MatOperand.of(self), b = MatOperand.of(o);
        boolean sharedA = self.rank() == 2 && o.rank() > 2;
        if (o.rank() == 2) {
            // fold A's batch into its rows: one large product
            Gemm.sgemm(a.trans, b.trans, batchA * m, n, k, 1f, a.data, 0, a.ld, b.data, 0, b.ld, 0f, y, 0, n);
        } else {
            Gemm.batched(batchB, a.trans, false, m, n, k, 1f, a.data, 0, a.ld, sharedA ? 0 : m * k,
                    b.data, 0, n, k * n, 0f, y, 0, n, m * n);
        }
        return Tensor.result(y, out, g -> {
            float[] gd = g.dense();
            if (self.requiresGrad()) {
                // dA = G B^T
                float[] da = new float[batchA * m * k];
                if (o.rank() == 2) {
                    Gemm.sgemm(false, !b.trans, batchA * m, k, n, 1f, gd, 0, n, b.data, 0, b.ld, 0f, da, 0, k);
                } else if (sharedA) {
                    float[] perBatch = new float[batchB * m * k];
                    Gemm.batched(batchB, false, true, m, k, n, 1f, gd, 0, n, m * n, b.data, 0, n, k * n, 0f, perBatch, 0, k, m * k);
                    for (int bi = 0; bi < batchB; bi++) VectorMath.add(da, 0, perBatch, bi * m * k, da, 0, m * k);
                } else {
                    Gemm.batched(batchB, false, true, m, k, n, 1f, gd, 0, n, m * n, b.data, 0, n, k * n, 0f, da, 0, k, m * k);
                }
                self.addFreshGrad(da);
            }
            if (o.requiresGrad()) {
                // dB = A^T G (summed over A's folded batch when B was shared)
                float[] db = new float[o.size()];
                if (o.rank() == 2) {
                    Gemm.sgemm(!a.trans, false, k, n, batchA * m, 1f, a.data, 0, a.ld, gd, 0, n, 0f, db, 0, n);
                } else {
                    Gemm.batched(batchB, !a.trans, false, k, n, m, 1f, a.data, 0, a.ld, sharedA ? 0 : m * k,
                            gd, 0, n, m * n, 0f, db, 0, n, k * n);
                }
                o.addFreshGrad(db);
            }
        }, self, o);
    }

    /** See {@link Tensor#linear}. */
    static Tensor linear(Tensor x, Tensor kernel, Tensor bias) {
        if (x.rank() < 1 || kernel.rank() != 2 || x.dim(-1) != kernel.dim(0))
            throw new IllegalArgumentException("linear needs x [.., in] and a kernel [in, out], got " + x.shape() + " and " + kernel.shape());
        int k = kernel.dim(0), n = kernel.dim(1), m = x.shape().sizeBetween(0, x.rank() - 1);
        if (bias != null && !bias.shape().equals(Shape.of(n)))
            throw new IllegalArgumentException("linear with a kernel " + kernel.shape() + " needs a bias of shape [" + n + "], got " + bias.shape());
        int[] outDims = x.shape().toArray();
        outDims[outDims.length - 1] = n;
        Shape out = Shape.of(outDims), xShape = x.shape();
        float[] xd = x.dense(), y = new float[m * n];
        MatOperand w = MatOperand.of(kernel);
        if (bias != null) {
            // C starts as the bias in every row and the product is added to it: no second pass, no second array
            float[] bd = bias.dense();
            for (int i = 0; i < m; i++) System.arraycopy(bd, 0, y, i * n, n);
        }
        Gemm.sgemm(false, w.trans, m, n, k, 1f, xd, 0, k, w.data, 0, w.ld, bias != null ? 1f : 0f, y, 0, n);
        Tensor[] inputs = bias != null ? new Tensor[] {x, kernel, bias} : new Tensor[] {x, kernel};
        return Tensor.result(y, out, g -> {
            float[] gd = g.dense();
            if (x.requiresGrad()) {
                // dx = G W^T
                float[] dx = new float[m * k];
                Gemm.sgemm(false, !w.trans, m, k, n, 1f, gd, 0, n, w.data, 0, w.ld, 0f, dx, 0, k);
                x.addFreshGrad(dx);
            }
            PerExampleGrads perKernel = PerExampleGrads.forParameter(kernel);
            if (perKernel != null) {
                // dW_b = X_b^T G_b for each example's block of rows
                int per = perKernel.rowsPerExample(m, "linear", xShape), batch = perKernel.batch();
                float[] dw = new float[batch * k * n];
                dev.jumbo.kernel.Parallel.forEach(batch, 2L * per * k * n,
                        b -> Gemm.sgemm(true, false, k, n, per, 1f, xd, b * per * k, k, gd, b * per * n, n, 0f, dw, b * k * n, n));
                perKernel.add(kernel, dw);
            } else if (kernel.requiresGrad()) {
                // dW = X^T G
                float[] dw = new float[k * n];
                Gemm.sgemm(true, false, k, n, m, 1f, xd, 0, k, gd, 0, n, 0f, dw, 0, n);
                kernel.addFreshGrad(dw);
            }
            PerExampleGrads perBias = bias == null ? null : PerExampleGrads.forParameter(bias);
            if (perBias != null) {
                int per = perBias.rowsPerExample(m, "linear", xShape);
                float[] db = new float[perBias.batch() * n];
                for (int i = 0; i < m; i++) VectorMath.add(db, i / per * n, gd, i * n, db, i / per * n, n);
                perBias.add(bias, db);
            } else if (bias != null && bias.requiresGrad()) {
                // db = the column sums of G, rows added in order
                float[] db = new float[n];
                for (int i = 0; i < m; i++) VectorMath.add(db, 0, gd, i * n, db, 0, n);
                bias.addFreshGrad(db);
            }
        }, inputs);
    }

    /**
     * A matrix operand for gemm: dense data plus whether it is stored transposed. A 2-D view that
     * is the transpose of a dense matrix is passed as such instead of being copied.
     */
    record MatOperand(float[] data, boolean trans, int ld) {
        static MatOperand of(Tensor t) {
            if (t.rank() == 2 && t.offset() == 0 && t.strides()[0] == 1 && t.strides()[1] == t.dim(0)
                    && t.storageArray().length == t.size() && t.dim(0) > 1 && t.dim(1) > 1)
                return new MatOperand(t.storageArray(), true, t.dim(0));
            return new MatOperand(t.dense(), false, t.dim(-1));
        }
    }
}
