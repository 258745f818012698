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
    void aSegmentTooSmallIsRefused() {
        assertThatThrownBy(() -> new WeightMatrix(DType.F32, java.lang.foreign.MemorySegment.ofArray(new float[5]), 2, 3))
                .hasMessageContaining("needs 24 bytes, the segment has 20");
        assertThatThrownBy(() -> new WeightMatrix(DType.Q8_0, java.lang.foreign.MemorySegment.ofArray(new byte[100]), 1, 40))
                .hasMessageContaining("not a whole number of blocks of 32");
    }
}
