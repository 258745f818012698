package dev.jumbo.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@link AttentionKernel} against {@link Reference}'s double-precision attention on fresh random inputs. */
class AttentionKernelTest {
    /** {batch, heads, tq, tk, headDim}: tiny, odd, around the vector width, a baby GPT's, and tq != tk. */
    private static final int[][] SIZES = {{1, 1, 1, 1, 1}, {2, 3, 5, 5, 7}, {1, 2, 17, 33, 16}, {3, 4, 64, 64, 32}, {2, 2, 3, 70, 9}};

    @Test
    void forwardAndBackwardMatchTheDefinitionOnFusedProjectionsWithACausalMask() {
        for (int[] size : SIZES) {
            Fixture f = new Fixture();
            AttentionKernel.Shape s = new AttentionKernel.Shape(size[0], size[1], size[2], size[3], size[4]);
            int d = s.heads() * s.headDim();
            // q from a [b, tq, 3d] projection (columns 0..d), k and v from one [b, tk, 2d] (columns 0..d and d..2d)
            float[] qProj = f.floats(3 + s.batch() * s.tq() * 3 * d), kvProj = f.floats(s.batch() * s.tk() * 2 * d);
            var qo = new AttentionKernel.Operand(3, s.tq() * 3 * d, 3 * d);
            var ko = new AttentionKernel.Operand(0, s.tk() * 2 * d, 2 * d);
            var vo = new AttentionKernel.Operand(d, s.tk() * 2 * d, 2 * d);
            // a [tq, tk] mask shared by batches and heads: -infinity above the diagonal (as far as tk allows), random elsewhere
            float[] maskData = f.floats(s.tq() * s.tk());
            for (int i = 0; i < s.tq(); i++)
                for (int j = i + 1 + Math.max(0, s.tk() - s.tq()); j < s.tk(); j++) maskData[i * s.tk() + j] = Float.NEGATIVE_INFINITY;
            var mask = new AttentionKernel.Mask(maskData, 0, 0, 0, s.tk(), 1);
            check(f, s, qProj, qo, kvProj, ko, kvProj, vo, mask, "fused, causal " + java.util.Arrays.toString(size));
        }
    }

    @Test
    void forwardAndBackwardMatchTheDefinitionOnSeparateInputsWithAPaddingMask() {
        for (int[] size : SIZES) {
            Fixture f = new Fixture();
            AttentionKernel.Shape s = new AttentionKernel.Shape(size[0], size[1], size[2], size[3], size[4]);
            int d = s.heads() * s.headDim();
            float[] q = f.floats(s.batch() * s.tq() * d), k = f.floats(s.batch() * s.tk() * d), v = f.floats(s.batch() * s.tk() * d);
            var qo = new AttentionKernel.Operand(0, s.tq() * d, d);
            var kvo = new AttentionKernel.Operand(0, s.tk() * d, d);
            // [batch, 1, 1, tk] read with a column stride of 2 (every other value of its array)
            float[] maskData = f.floats(s.batch() * s.tk() * 2);
            var mask = new AttentionKernel.Mask(maskData, 0, s.tk() * 2, 0, 0, 2);
            check(f, s, q, qo, k, kvo, v, kvo, mask, "separate, padding " + java.util.Arrays.toString(size));
            check(f, s, q, qo, k, kvo, v, kvo, null, "separate, no mask " + java.util.Arrays.toString(size));
        }
    }

    @Test
    void backwardComputesOnlyTheGradientsAskedFor() {
        Fixture f = new Fixture();
        var s = new AttentionKernel.Shape(2, 2, 6, 6, 4);
        int n = 2 * 6 * 8;
        float[] q = f.floats(n), k = f.floats(n), v = f.floats(n), g = f.floats(n), probs = new float[2 * 2 * 36], out = new float[n];
        var o = new AttentionKernel.Operand(0, 48, 8);
        AttentionKernel.forward(s, 0.5f, q, o, k, o, v, o, null, probs, out);
        float[] dq = new float[n], dk = new float[n], dv = new float[n], onlyK = new float[n];
        AttentionKernel.backward(s, 0.5f, q, o, k, o, v, o, probs, g, dq, dk, dv);
        AttentionKernel.backward(s, 0.5f, q, o, k, o, v, o, probs, g, null, onlyK, null);
        assertThat(onlyK).containsExactly(dk);
    }

    private static void check(Fixture f, AttentionKernel.Shape s, float[] q, AttentionKernel.Operand qo, float[] k, AttentionKernel.Operand ko,
                              float[] v, AttentionKernel.Operand vo, AttentionKernel.Mask mask, String what) {
        int d = s.heads() * s.headDim(), nq = s.batch() * s.tq() * d, nk = s.batch() * s.tk() * d;
        float scale = (float) (1 / Math.sqrt(s.headDim()));
        float[] out = f.nans(nq), expected = f.nans(nq), probs = f.nans(s.batch() * s.heads() * s.tq() * s.tk());
        AttentionKernel.forward(s, scale, q, qo, k, ko, v, vo, mask, probs, out);
        Reference.attentionForward(s, scale, q, qo, k, ko, v, vo, mask, expected);
        f.assertClose(expected, out, 1e-5, what + " output");
        float[] g = f.floats(nq);
        float[] dq = f.nans(nq), dk = f.nans(nk), dv = f.nans(nk), edq = new float[nq], edk = new float[nk], edv = new float[nk];
        AttentionKernel.backward(s, scale, q, qo, k, ko, v, vo, probs, g, dq, dk, dv);
        Reference.attentionBackward(s, scale, q, qo, k, ko, v, vo, mask, g, edq, edk, edv);
        f.assertClose(edq, dq, 1e-5, what + " dq");
        f.assertClose(edk, dk, 1e-5, what + " dk");
        f.assertClose(edv, dv, 1e-5, what + " dv");
    }
}
