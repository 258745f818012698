package dev.jumbo.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.tensor.DType;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GgmlTypeTest {
    @Test
    void idsAreGgmlsAndRemovedOnesAreUnknown() {
        assertThat(GgmlType.byId(0)).contains(GgmlType.F32);
        assertThat(GgmlType.byId(8)).contains(GgmlType.Q8_0);
        assertThat(GgmlType.byId(12)).contains(GgmlType.Q4_K);
        assertThat(GgmlType.byId(14)).contains(GgmlType.Q6_K);
        assertThat(GgmlType.byId(24)).contains(GgmlType.I8);
        assertThat(GgmlType.byId(30)).contains(GgmlType.BF16);
        assertThat(GgmlType.byId(39)).contains(GgmlType.MXFP4);
        assertThat(GgmlType.byId(42)).contains(GgmlType.Q2_0);
        for (long removed : new long[] {4, 5, 31, 32, 33, 36, 37, 38, 43, -1, Long.MAX_VALUE})
            assertThat(GgmlType.byId(removed)).as("id " + removed).isEmpty();
        Set<Integer> ids = new HashSet<>();
        for (GgmlType t : GgmlType.values()) {
            assertThat(ids.add(t.id())).as(t.name()).isTrue();
            assertThat(GgmlType.byId(t.id())).contains(t);
        }
        assertThat(ids).hasSize(43 - 8); // ids 0 to 42 but the 8 removed
    }

    @Test
    void blockGeometryGivesTheWellKnownBitsPerWeight() {
        // the figures llama.cpp's quantize tool prints, derived here from (bytes * 8 / block size)
        assertThat(bitsPerWeight(GgmlType.Q4_0)).isEqualTo(4.5);
        assertThat(bitsPerWeight(GgmlType.Q4_1)).isEqualTo(5.0);
        assertThat(bitsPerWeight(GgmlType.Q5_0)).isEqualTo(5.5);
        assertThat(bitsPerWeight(GgmlType.Q5_1)).isEqualTo(6.0);
        assertThat(bitsPerWeight(GgmlType.Q8_0)).isEqualTo(8.5);
        assertThat(bitsPerWeight(GgmlType.Q2_K)).isEqualTo(2.625);
        assertThat(bitsPerWeight(GgmlType.Q3_K)).isEqualTo(3.4375);
        assertThat(bitsPerWeight(GgmlType.Q4_K)).isEqualTo(4.5);
        assertThat(bitsPerWeight(GgmlType.Q5_K)).isEqualTo(5.5);
        assertThat(bitsPerWeight(GgmlType.Q6_K)).isEqualTo(6.5625);
        assertThat(bitsPerWeight(GgmlType.IQ2_XXS)).isEqualTo(2.0625);
        assertThat(bitsPerWeight(GgmlType.IQ2_XS)).isEqualTo(2.3125);
        assertThat(bitsPerWeight(GgmlType.IQ2_S)).isEqualTo(2.5625);
        assertThat(bitsPerWeight(GgmlType.IQ3_XXS)).isEqualTo(3.0625);
        assertThat(bitsPerWeight(GgmlType.IQ3_S)).isEqualTo(3.4375);
        assertThat(bitsPerWeight(GgmlType.IQ1_S)).isEqualTo(1.5625);
        assertThat(bitsPerWeight(GgmlType.IQ1_M)).isEqualTo(1.75);
        assertThat(bitsPerWeight(GgmlType.IQ4_NL)).isEqualTo(4.5);
        assertThat(bitsPerWeight(GgmlType.IQ4_XS)).isEqualTo(4.25);
        assertThat(bitsPerWeight(GgmlType.TQ1_0)).isEqualTo(1.6875);
        assertThat(bitsPerWeight(GgmlType.TQ2_0)).isEqualTo(2.0625);
        assertThat(bitsPerWeight(GgmlType.MXFP4)).isEqualTo(4.25);
        assertThat(bitsPerWeight(GgmlType.NVFP4)).isEqualTo(4.5);
        assertThat(bitsPerWeight(GgmlType.BF16)).isEqualTo(16);
        assertThat(GgmlType.Q4_K.byteSize(4096L * 4096)).isEqualTo(9_437_184L);
        assertThatThrownBy(() -> GgmlType.Q4_K.byteSize(100)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> GgmlType.F64.byteSize(Long.MAX_VALUE)).isInstanceOf(ArithmeticException.class);
    }

    private static double bitsPerWeight(GgmlType t) {
        return t.bytesPerBlock() * 8.0 / t.blockSize();
    }

    @Test
    void everyJumboDTypeOfTheSameNameHasTheSameLayout() {
        assertThat(GgmlType.F32.dtype()).contains(DType.F32);
        assertThat(GgmlType.F16.dtype()).contains(DType.F16);
        assertThat(GgmlType.BF16.dtype()).contains(DType.BF16);
        assertThat(GgmlType.Q8_0.dtype()).contains(DType.Q8_0);
        assertThat(GgmlType.Q4_0.dtype()).contains(DType.Q4_0);
        assertThat(GgmlType.F64.dtype()).isEmpty();
        assertThat(GgmlType.IQ2_XXS.dtype()).isEmpty();
        for (GgmlType t : GgmlType.values()) {
            t.dtype().ifPresent(d -> {
                assertThat(d.blockSize()).as(t.name()).isEqualTo(t.blockSize());
                assertThat(d.bytesPerBlock()).as(t.name()).isEqualTo(t.bytesPerBlock());
            });
        }
        // and a DType whose name ggml knows is always picked up (Q4_K, Q6_K ... once they exist)
        for (DType d : DType.values()) {
            for (GgmlType t : GgmlType.values()) if (t.name().equals(d.name())) assertThat(t.dtype()).contains(d);
        }
    }

    @Test
    void quantizedMeansStoredInBlocks() {
        assertThat(GgmlType.Q4_K.isQuantized()).isTrue();
        assertThat(GgmlType.F16.isQuantized()).isFalse();
        assertThat(GgmlType.I32.isQuantized()).isFalse();
    }
}
