package dev.jumbo.tensor;

import dev.jumbo.kernel.AttentionKernel;

/** Multi-head scaled dot-product attention as one differentiable operation, over {@link AttentionKernel}. */
final class Attention {
    private Attention() {}

    /** See {@link Tensor#attention}. */
    static Tensor apply(Tensor q, Tensor k, Tensor v, int heads, Tensor mask) {
        if (q.rank() != 3 || k.rank() != 3 || v.rank() != 3)
            throw new IllegalArgumentException("attention takes q, k and v of shape [batch, time, heads * headDim], got "
                    + q.shape() + ", " + k.shape() + " and " + v.shape());
        int b = q.dim(0), tq = q.dim(1), d = q.dim(2), tk = k.dim(1);
        if (!k.shape().equals(v.shape()) || k.dim(0) != b || k.dim(2) != d)
            throw new IllegalArgumentException("attention needs k and v of shape [" + b + ", time, " + d + "] like q " + q.shape()
                    + ", got " + k.shape() + " and " + v.shape());
        if (heads <= 0 || d % heads != 0)
            throw new IllegalArgumentException("attention over " + heads + " heads needs a width divisible by them, got " + d);
        AttentionKernel.Shape s = new AttentionKernel.Shape(b, heads, tq, tk, d / heads);
        AttentionKernel.Mask m = null;
        if (mask != null) {
            if (mask.requiresGrad())
                throw new IllegalArgumentException("attention's mask is a constant; it has no gradient (call detach())");
            Shape full = Shape.of(b, heads, tq, tk);
            if (mask.rank() > 4 || !Shape.broadcast(mask.shape(), full).equals(full))
                throw new IllegalArgumentException("attention mask of shape " + mask.shape() + " does not broadcast to [batch, heads, tq, tk] = " + full);
            int[] st = Elementwise.broadcastStrides(mask, full);
            m = new AttentionKernel.Mask(mask.storageArray(), mask.offset(), st[0], st[1], st[2], st[3]);
        }
        Operand qo = Operand.of(q), ko = Operand.of(k), vo = Operand.of(v);
        float scale = (float) (1 / Math.sqrt(d / heads));
        float[] probs = new float[b * heads * tq * tk], out = new float[b * tq * d];
        AttentionKernel.forward(s, scale, qo.data, qo.layout, ko.data, ko.layout, vo.data, vo.layout, m, probs, out);
        AttentionProbe.offer(b, heads, tq, tk, probs); // attention maps read them; a ThreadLocal read when no probe records
        return Tensor.result(out, Shape.of(b, tq, d), g -> {
            float[] dq = q.requiresGrad() ? new float[q.size()] : null;
            float[] dk = k.requiresGrad() ? new float[k.size()] : null;
            float[] dv = v.requiresGrad() ? new float[v.size()] : null;
            AttentionKernel.backward(s, scale, qo.data, qo.layout, ko.data, ko.layout, vo.data, vo.layout, probs, g.dense(), dq, dk, dv);
            if (dq != null) q.addFreshGrad(dq);
            if (dk != null) k.addFreshGrad(dk);
            if (dv != null) v.addFreshGrad(dv);
        }, q, k, v);
    }

    /**
     * A {@code [batch, time, width]} tensor as the kernel reads it: in place when its rows are
     * contiguous (a slice of a wider tensor's last axis, as q, k and v of a fused projection are),
     * else a dense copy.
     */
    private record Operand(float[] data, AttentionKernel.Operand layout) {
        static Operand of(Tensor t) {
            int[] st = t.strides();
            if (st[2] == 1 || t.dim(2) == 1)
                return new Operand(t.storageArray(), new AttentionKernel.Operand(t.offset(), st[0], st[1]));
            float[] dense = t.toFloatArray();
            return new Operand(dense, new AttentionKernel.Operand(0, t.dim(1) * t.dim(2), t.dim(2)));
        }
    }
}
