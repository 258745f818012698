package dev.jumbo.kernel;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** F32 weights: plain dot products over the segment, any vector width. */
final class F32Kernel extends WeightKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();

    F32Kernel() {
        super("F32", 1, 4);
    }

    @Override
    public boolean vectorized() {
        return true;
    }

    @Override
    public void dequantize(MemorySegment w, long at, int count, float[] out, int off) {
        MemorySegment.copy(w, F32_LE, at, out, off, count);
    }

    @Override
    float dot(MemorySegment w, long at, int cols, float[] x, int xOff, Int8Activations q, int i) {
        return dot(w, at, x, xOff, cols);
    }

    @Override
    void dot4(MemorySegment w, long at, int cols, float[] x, int xOff, Int8Activations q, int i, float[] y, int yAt, int yStride) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        int c = 0;
        for (int bound = S.loopBound(cols); c < bound; c += V) {
            FloatVector v = FloatVector.fromMemorySegment(S, w, at + 4L * c, LE);
            s0 = v.fma(FloatVector.fromArray(S, x, xOff + c), s0);
            s1 = v.fma(FloatVector.fromArray(S, x, xOff + cols + c), s1);
            s2 = v.fma(FloatVector.fromArray(S, x, xOff + 2 * cols + c), s2);
            s3 = v.fma(FloatVector.fromArray(S, x, xOff + 3 * cols + c), s3);
        }
        // VectorMath.lanesSum's halving written out here: four vectors handed to that call, which the
        // JIT did not inline into this method, were boxed (3.5 GB in 20 s of 4-sequence steps;
        // 12k -> 19.5k tokens/s once gone). The same additions in the same order, so the same bits.
        FloatVector h0 = s0, h1 = s1, h2 = s2, h3 = s3;
        if (V == 16) {
            h0 = ((FloatVector) h0.reinterpretShape(FloatVector.SPECIES_256, 0)).add((FloatVector) h0.reinterpretShape(FloatVector.SPECIES_256, 1));
            h1 = ((FloatVector) h1.reinterpretShape(FloatVector.SPECIES_256, 0)).add((FloatVector) h1.reinterpretShape(FloatVector.SPECIES_256, 1));
            h2 = ((FloatVector) h2.reinterpretShape(FloatVector.SPECIES_256, 0)).add((FloatVector) h2.reinterpretShape(FloatVector.SPECIES_256, 1));
            h3 = ((FloatVector) h3.reinterpretShape(FloatVector.SPECIES_256, 0)).add((FloatVector) h3.reinterpretShape(FloatVector.SPECIES_256, 1));
        }
        if (V >= 8) {
            h0 = ((FloatVector) h0.reinterpretShape(FloatVector.SPECIES_128, 0)).add((FloatVector) h0.reinterpretShape(FloatVector.SPECIES_128, 1));
            h1 = ((FloatVector) h1.reinterpretShape(FloatVector.SPECIES_128, 0)).add((FloatVector) h1.reinterpretShape(FloatVector.SPECIES_128, 1));
            h2 = ((FloatVector) h2.reinterpretShape(FloatVector.SPECIES_128, 0)).add((FloatVector) h2.reinterpretShape(FloatVector.SPECIES_128, 1));
            h3 = ((FloatVector) h3.reinterpretShape(FloatVector.SPECIES_128, 0)).add((FloatVector) h3.reinterpretShape(FloatVector.SPECIES_128, 1));
        }
        if (V >= 4) {
            h0 = ((FloatVector) h0.reinterpretShape(FloatVector.SPECIES_64, 0)).add((FloatVector) h0.reinterpretShape(FloatVector.SPECIES_64, 1));
            h1 = ((FloatVector) h1.reinterpretShape(FloatVector.SPECIES_64, 0)).add((FloatVector) h1.reinterpretShape(FloatVector.SPECIES_64, 1));
            h2 = ((FloatVector) h2.reinterpretShape(FloatVector.SPECIES_64, 0)).add((FloatVector) h2.reinterpretShape(FloatVector.SPECIES_64, 1));
            h3 = ((FloatVector) h3.reinterpretShape(FloatVector.SPECIES_64, 0)).add((FloatVector) h3.reinterpretShape(FloatVector.SPECIES_64, 1));
        }
        float t0 = V == 1 ? h0.lane(0) : h0.lane(0) + h0.lane(1), t1 = V == 1 ? h1.lane(0) : h1.lane(0) + h1.lane(1);
        float t2 = V == 1 ? h2.lane(0) : h2.lane(0) + h2.lane(1), t3 = V == 1 ? h3.lane(0) : h3.lane(0) + h3.lane(1);
        for (; c < cols; c++) {
            float v = w.get(F32_LE, at + 4L * c);
            t0 += v * x[xOff + c];
            t1 += v * x[xOff + cols + c];
            t2 += v * x[xOff + 2 * cols + c];
            t3 += v * x[xOff + 3 * cols + c];
        }
        y[yAt] = t0;
        y[yAt + yStride] = t1;
        y[yAt + 2 * yStride] = t2;
        y[yAt + 3 * yStride] = t3;
    }

    /** One F32 weight row (from byte {@code at}) times {@code x[xOff .. xOff + n)}. */
    private static float dot(MemorySegment w, long at, float[] x, int xOff, int n) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0;
        int i = 0;
        for (int bound = n - 2 * V; i <= bound; i += 2 * V) {
            s0 = FloatVector.fromMemorySegment(S, w, at + 4L * i, LE).fma(FloatVector.fromArray(S, x, xOff + i), s0);
            s1 = FloatVector.fromMemorySegment(S, w, at + 4L * (i + V), LE).fma(FloatVector.fromArray(S, x, xOff + i + V), s1);
        }
        for (int bound = S.loopBound(n); i < bound; i += V)
            s0 = FloatVector.fromMemorySegment(S, w, at + 4L * i, LE).fma(FloatVector.fromArray(S, x, xOff + i), s0);
        float s = VectorMath.lanesSum(s0.add(s1));
        for (; i < n; i++) s += w.get(F32_LE, at + 4L * i) * x[xOff + i];
        return s;
    }
}
