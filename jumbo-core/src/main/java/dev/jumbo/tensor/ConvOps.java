package dev.jumbo.tensor;

import dev.jumbo.kernel.Conv2dKernel;
import dev.jumbo.kernel.ConvGeometry;
import dev.jumbo.kernel.Pool2dKernel;
import dev.jumbo.kernel.VectorMath;

/** Convolution and pooling as differentiable tensor operations (NHWC, Keras layout). */
final class ConvOps {
    private ConvOps() {}

    /** The convolution, followed by a relu in place when {@code relu} is set. */
    static Tensor conv2d(Tensor x, Tensor filter, Tensor bias, int strideH, int strideW, boolean same, boolean relu) {
        if (x.rank() != 4) throw new IllegalArgumentException("conv2d input must be [batch, height, width, channels], got " + x.shape());
        if (filter.rank() != 4 || filter.dim(2) != x.dim(3))
            throw new IllegalArgumentException("conv2d filter must be [kh, kw, " + x.dim(3) + ", outChannels], got " + filter.shape());
        int outC = filter.dim(3);
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != outC))
            throw new IllegalArgumentException("conv2d bias must be [" + outC + "], got " + bias.shape());
        ConvGeometry g = ConvGeometry.of(x.dim(0), x.dim(1), x.dim(2), x.dim(3), filter.dim(0), filter.dim(1), strideH, strideW, same, outC);
        float[] xd = x.dense(), wd = filter.dense(), bd = bias == null ? null : bias.dense();
        float[] y = new float[g.n() * g.outH() * g.outW() * outC];
        Conv2dKernel.forward(g, xd, wd, bd, y);
        if (relu) VectorMath.relu(y, 0, y, 0, y.length);
        Tensor.Backward backward = gy -> {
            float[] dy = gy.dense();
            if (relu) {
                // y > 0 exactly where the convolution was > 0 (and a NaN stays NaN, passing no
                // gradient either way), so the relu's mask is read from the output it kept.
                float[] masked = new float[dy.length];
                VectorMath.reluBackward(y, 0, dy, 0, masked, 0, dy.length);
                dy = masked;
            }
            if (x.requiresGrad()) {
                float[] dx = new float[xd.length];
                Conv2dKernel.backwardInput(g, dy, wd, dx);
                x.addFreshGrad(dx);
            }
            PerExampleGrads perFilter = PerExampleGrads.forParameter(filter), perBias = bias == null ? null : PerExampleGrads.forParameter(bias);
            if (perFilter != null || perBias != null) {
                perExampleFilterGradients(g, xd, dy, filter, bias, perFilter, perBias);
            } else if (filter.requiresGrad() || bias != null && bias.requiresGrad()) {
                float[] dw = new float[wd.length], db = bias == null ? null : new float[outC];
                Conv2dKernel.backwardFilter(g, xd, dy, dw, db);
                filter.addFreshGrad(dw);
                if (bias != null) bias.addFreshGrad(db);
            }
        };
        Shape out = Shape.of(g.n(), g.outH(), g.outW(), outC);
        return bias == null ? Tensor.result(y, out, backward, x, filter) : Tensor.result(y, out, backward, x, filter, bias);
    }

    /**
     * Each example's filter and bias gradients under {@link PerExampleGrads}: one gemm of
     * example b's patches^T dy_b each, examples in parallel.
     * A parameter the scope does not cover still gets its batch gradient.
     */
    private static void perExampleFilterGradients(ConvGeometry g, float[] xd, float[] dy, Tensor filter, Tensor bias,
                                                  PerExampleGrads perFilter, PerExampleGrads perBias) {
        PerExampleGrads scope = perFilter != null ? perFilter : perBias;
        int batch = scope.batch(), examples = g.n(), outC = g.outC();
        if (examples != batch)
            throw new IllegalArgumentException("conv2d input of " + examples + " images does not match the " + batch + " examples of the batch: per-example gradients need the batch outermost");
        float[] dw = new float[batch * filter.size()], db = bias == null ? null : new float[batch * outC];
        Conv2dKernel.backwardFilterPerExample(g, xd, dy, dw, db);
        if (perFilter != null) perFilter.add(filter, dw);
        else if (filter.requiresGrad()) filter.addFreshGrad(sumOverExamples(dw, batch, filter.size()));
        if (bias != null) {
            if (perBias != null) perBias.add(bias, db);
            else if (bias.requiresGrad()) bias.addFreshGrad(sumOverExamples(db, batch, outC));
        }
    }

    private static float[] sumOverExamples(float[] perExample, int batch, int size) {
        float[] sum = new float[size];
        for (int b = 0; b < batch; b++) VectorMath.add(sum, 0, perExample, b * size, sum, 0, size);
        return sum;
    }

    static Tensor pool2d(Tensor x, int kh, int kw, int strideH, int strideW, boolean same, boolean max) {
        if (x.rank() != 4) throw new IllegalArgumentException("pooling input must be [batch, height, width, channels], got " + x.shape());
        ConvGeometry g = ConvGeometry.of(x.dim(0), x.dim(1), x.dim(2), x.dim(3), kh, kw, strideH, strideW, same, x.dim(3));
        float[] xd = x.dense();
        int outSize = g.n() * g.outH() * g.outW() * g.c();
        float[] y = new float[outSize];
        Shape out = Shape.of(g.n(), g.outH(), g.outW(), g.c());
        if (max) {
            int[] argmax = new int[outSize];
            Pool2dKernel.maxForward(g, xd, y, argmax);
            return Tensor.result(y, out, gy -> {
                float[] dx = new float[xd.length];
                Pool2dKernel.maxBackward(g, gy.dense(), argmax, dx);
                x.addFreshGrad(dx);
            }, x);
        }
        Pool2dKernel.avgForward(g, xd, y);
        return Tensor.result(y, out, gy -> {
            float[] dx = new float[xd.length];
            Pool2dKernel.avgBackward(g, gy.dense(), dx);
            x.addFreshGrad(dx);
        }, x);
    }

}
