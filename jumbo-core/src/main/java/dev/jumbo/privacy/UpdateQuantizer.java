package dev.jumbo.privacy;

/**
 * Turns a model update into integers modulo 2^32 that can be summed by secure aggregation or
 * Paillier encryption, and turns their sum back into floats.
 *
 * <p>Each coordinate is clipped to {@code [-clip, clip]} and rounded to the nearest multiple of
 * {@link #step()}. By default the step is the finest one for which the sum of {@code maxSummands} quantised
 * updates still fits a signed 32-bit integer, so a sum of up to that many updates, computed with
 * Java's wrapping {@code int} addition (arithmetic mod 2^32), decodes exactly to the sum of the
 * quantised values, which is within {@code summands * step / 2} of the sum of the clipped floats.
 *
 * <pre>{@code
 * UpdateQuantizer q = new UpdateQuantizer(1.0, 10);
 * int[] sum = new int[dim];
 * for (float[] update : updates) UpdateQuantizer.addInto(sum, q.quantize(update));
 * float[] mean = q.decodeMean(sum, updates.size());
 * }</pre>
 *
 * <p>A coarser grid ({@code maxLevel} below the largest) makes the integers shorter, which is what
 * Paillier packing wants: 8-bit levels (127) fit more values in each ciphertext than 31-bit ones.
 *
 * @param clip the largest magnitude a coordinate keeps, {@code > 0}
 * @param maxSummands how many quantised updates may be summed before the sum could overflow
 * @param maxLevel the integer that {@code clip} becomes; {@code maxSummands * maxLevel <= 2^31 - 1}
 */
public record UpdateQuantizer(double clip, int maxSummands, int maxLevel) {
    /** The finest grid for {@code maxSummands}: {@code maxLevel = (2^31 - 1) / maxSummands}. */
    public UpdateQuantizer(double clip, int maxSummands) {
        this(clip, maxSummands, Integer.MAX_VALUE / Math.max(1, maxSummands));
    }

    /** Validates the arguments. */
    public UpdateQuantizer {
        if (!(clip > 0) || Double.isInfinite(clip)) {
            throw new IllegalArgumentException("UpdateQuantizer: clip must be finite and > 0, got " + clip);
        }
        if (maxSummands < 1) {
            throw new IllegalArgumentException("UpdateQuantizer: maxSummands must be >= 1, got " + maxSummands);
        }
        if (maxLevel < 1 || (long) maxLevel * maxSummands > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("UpdateQuantizer: maxLevel must be >= 1 and maxLevel * maxSummands <= 2^31 - 1, got "
                    + maxLevel + " * " + maxSummands);
        }
    }

    /** Integers per unit of the update's scale. */
    public double scale() {
        return maxLevel() / clip;
    }

    /** The value of one integer unit: the rounding error of one coordinate is at most half of it. */
    public double step() {
        return clip / maxLevel();
    }

    /** Clips and rounds one update to integers (two's complement, so negatives are their value mod 2^32). */
    public int[] quantize(float[] update) {
        int[] out = new int[update.length];
        double scale = scale();
        int max = maxLevel();
        for (int i = 0; i < update.length; i++) {
            float x = update[i];
            if (!Float.isFinite(x)) {
                throw new IllegalArgumentException("UpdateQuantizer: coordinate " + i + " is " + x + ", not a finite number");
            }
            double clipped = Math.max(-clip, Math.min(clip, x));
            long level = Math.round(clipped * scale);
            // the product can round a hair past maxLevel; clamp so the overflow guarantee holds
            out[i] = (int) Math.max(-max, Math.min(max, level));
        }
        return out;
    }

    /** Adds {@code update} into {@code sum} modulo 2^32 (Java's {@code int} addition wraps). */
    public static void addInto(int[] sum, int[] update) {
        if (sum.length != update.length) {
            throw new IllegalArgumentException(
                    "UpdateQuantizer: cannot add an update of length " + update.length + " to a sum of length " + sum.length);
        }
        for (int i = 0; i < sum.length; i++) {
            sum[i] += update[i];
        }
    }

    /** Subtracts {@code update} from {@code sum} modulo 2^32. */
    public static void subtractFrom(int[] sum, int[] update) {
        if (sum.length != update.length) {
            throw new IllegalArgumentException(
                    "UpdateQuantizer: cannot subtract an update of length " + update.length + " from a sum of length " + sum.length);
        }
        for (int i = 0; i < sum.length; i++) {
            sum[i] -= update[i];
        }
    }

    /**
     * Decodes a sum of at most {@link #maxSummands()} quantised updates: the residue mod 2^32 read
     * as a signed integer is the exact integer sum, times {@link #step()}.
     */
    public double[] decodeSum(int[] sum) {
        double step = step();
        double[] out = new double[sum.length];
        for (int i = 0; i < sum.length; i++) {
            out[i] = sum[i] * step;
        }
        return out;
    }

    /** The mean of {@code summands} updates from their quantised sum, as floats. */
    public float[] decodeMean(int[] sum, int summands) {
        if (summands < 1 || summands > maxSummands) {
            throw new IllegalArgumentException(
                    "UpdateQuantizer: summands must be in [1, " + maxSummands + "], got " + summands);
        }
        double[] total = decodeSum(sum);
        float[] out = new float[sum.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (total[i] / summands);
        }
        return out;
    }
}
