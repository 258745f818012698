package dev.jumbo.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.testing.GradCheck;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Weight-matrix products against naive loops on fresh random inputs. */
class WeightMatrixTest {
    private final Random rnd = GradCheck.random();

    @Test
    void f32ProductsMatchNaiveLoops() {
        for (int[] size : new int[][] {{1, 1}, {7, 33}, {64, 100}, {129, 16}}) {
            int rows = size[0], cols = size[1], n = 3;
            float[] w = Tensor.randn(rnd, rows, cols).toFloatArray(), x = Tensor.randn(rnd, n, cols).toFloatArray();
            WeightMatrix m = WeightMatrix.of(w, rows, cols);
            float[] y = new float[rows + 2], yn = new float[n * rows], row = new float[cols];
            m.gemv(x, cols, y, 2);
            m.gemm(x, n, yn);
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < n; i++) {
                    double s = 0;
                    for (int c = 0; c < cols; c++) s += (double) w[r * cols + c] * x[i * cols + c];
                    assertThat((double) yn[i * rows + r]).isCloseTo(s, within(1e-4 * (1 + Math.abs(s))));
                    if (i == 1) assertThat((double) y[2 + r]).isCloseTo(s, within(1e-4 * (1 + Math.abs(s))));
                }
                m.row(r, row, 0);
                for (int c = 0; c < cols; c++) assertThat(row[c]).isEqualTo(w[r * cols + c]);
            }
        }
    }

    @Test
    void quantizedMatricesMultiplyAsTheirRowsDecode() {
        for (DType type : new DType[] {DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0}) {
            int rows = 2 * rnd.nextInt(20) + 1, cols = 32 * (1 + rnd.nextInt(6)), n = 1 + rnd.nextInt(5);
            float[] w = Tensor.randn(rnd, rows, cols).toFloatArray(), x = Tensor.randn(rnd, n, cols).toFloatArray();
            WeightMatrix m = WeightMatrix.quantize(w, rows, cols, type);
            assertThat(m.type()).isEqualTo(type);
            assertThat(m.data().byteSize()).isEqualTo(rows * m.rowBytes());
            float[] y = new float[rows], yn = new float[n * rows], row = new float[cols];
            m.gemv(x, (n - 1) * cols, y, 0);
            m.gemm(x, n, yn);
            for (int r = 0; r < rows; r++) {
                m.row(r, row, 0);
                for (int c = 0; c < cols; c++) // the stored weights are close to the F32 ones
                    assertThat((double) row[c]).as(type + " weight").isCloseTo(w[r * cols + c], within(weightTolerance(type, w, r * cols + c)));
                for (int i = 0; i < n; i++) {
                    double s = 0, abs = 0;
                    for (int c = 0; c < cols; c++) {
                        s += (double) row[c] * x[i * cols + c];
                        abs += Math.abs((double) row[c] * x[i * cols + c]);
                    }
                    // Q8_0 and Q4_0 quantize the activations to 8 bits: half a step of amax / 127 per value
                    double tol = type == DType.Q8_0 || type == DType.Q4_0 ? abs / 127 : 1e-5 * abs + 1e-30;
                    assertThat((double) yn[i * rows + r]).as(type + " gemm").isCloseTo(s, within(tol));
                    if (i == n - 1) assertThat((double) y[r]).as(type + " gemv").isCloseTo(s, within(tol));
                }
            }
        }
    }

    /**
     * How far GGML's rounding may move weight {@code w[i]}: a block type's step {@code d} is its block's
     * largest magnitude over 127 (Q8_0) or 8 (Q4_0), and is stored in F16 (off by 2^-11 of it, times up to
     * 127 or 8). Q8_0 rounds to the nearest step; Q4_0 may lose a whole step, where its largest positive
     * values clamp at 7 steps while the block's largest magnitude was negative (8 steps).
     */
    private static double weightTolerance(DType type, float[] w, int i) {
        int block = i / 32 * 32;
        double amax = 0;
        for (int j = block; j < block + 32; j++) amax = Math.max(amax, Math.abs(w[j]));
        return switch (type) {
            case Q8_0 -> 0.6 * amax / 127;
            case Q4_0 -> 1.01 * amax / 8;
            // F16 and BF16 keep 11 and 8 bits (relative 2^-11 and 2^-8); F16's subnormals are 2^-24 apart
            default -> 0.01 * Math.abs(w[i]) + 0x1p-24;
        };
    }

    @Test
    void quantizeNeedsAnEncoderAndWholeBlocks() {
        assertThatThrownBy(() -> WeightMatrix.quantize(new float[256], 1, 256, DType.Q4_K))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("Q4_K");
        assertThatThrownBy(() -> WeightMatrix.quantize(new float[40], 1, 40, DType.Q8_0))
                .hasMessageContaining("not a whole number of blocks of 32");
        assertThatThrownBy(() -> new WeightMatrix(DType.I8, java.lang.foreign.MemorySegment.ofArray(new byte[4]), 2, 2).gemv(new float[2], 0, new float[2], 0))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void encodeGivesTheBytesOfAQuantizedMatrixFromAnyOffset() {
        float[] v = Tensor.randn(rnd, 1, 100).toFloatArray();
        for (DType type : new DType[] {DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0}) {
            byte[] want = WeightMatrix.quantize(java.util.Arrays.copyOfRange(v, 4, 68), 2, 32, type).data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            assertThat(WeightMatrix.encode(v, 4, 64, type)).as(type.name()).isEqualTo(want);
        }
        byte[] f32 = WeightMatrix.encode(new float[] {9, 1.5f, -2}, 1, 2, DType.F32);
        assertThat(java.nio.ByteBuffer.wrap(f32).order(java.nio.ByteOrder.LITTLE_ENDIAN).getFloat(4)).isEqualTo(-2f);
        assertThat(f32).hasSize(8).startsWith(0, 0, (byte) 0xC0, 0x3F); // 1.5f little-endian
        assertThatThrownBy(() -> WeightMatrix.encode(v, 0, 40, DType.Q8_0)).hasMessage("40 values are not a whole number of Q8_0 blocks of 32");
        assertThatThrownBy(() -> WeightMatrix.encode(v, 90, 32, DType.Q8_0)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void aSegmentTooSmallIsRefused() {
        assertThatThrownBy(() -> new WeightMatrix(DType.F32, java.lang.foreign.MemorySegment.ofArray(new float[5]), 2, 3))
                .hasMessageContaining("needs 24 bytes, the segment has 20");
        assertThatThrownBy(() -> new WeightMatrix(DType.Q8_0, java.lang.foreign.MemorySegment.ofArray(new byte[100]), 1, 40))
                .hasMessageContaining("not a whole number of blocks of 32");
    }
}
