package dev.jumbo.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DataLoaderTest {
    private final TensorDataset ten = TensorDatasetTest.numbered(10);

    /** The example indices of one epoch, batch by batch (labels are 10 * index). */
    private static List<List<Integer>> epoch(DataLoader loader) {
        List<List<Integer>> batches = new ArrayList<>();
        for (Batch b : loader) {
            List<Integer> ids = new ArrayList<>();
            for (float label : b.y().toFloatArray()) ids.add((int) label / 10);
            for (int i = 0; i < ids.size(); i++) assertThat(b.x().get(i, 0)).isEqualTo((float) ids.get(i)); // x and y stay paired
            batches.add(ids);
        }
        return batches;
    }

    @Test
    void coversEveryIndexOncePerEpoch() {
        DataLoader loader = new DataLoader(ten, 3, true, false, new Random(1));
        for (int e = 0; e < 3; e++) {
            List<List<Integer>> batches = epoch(loader);
            assertThat(batches).hasSize(4);
            assertThat(batches.stream().map(List::size).toList()).containsExactly(3, 3, 3, 1);
            assertThat(batches.stream().flatMap(List::stream).sorted().toList()).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        }
    }

    @Test
    void shufflesDifferentlyEachEpochAndReproduciblyPerSeed() {
        DataLoader loader = new DataLoader(ten, 4, true, false, new Random(5));
        List<List<Integer>> first = epoch(loader), second = epoch(loader);
        assertThat(first).isNotEqualTo(second);
        DataLoader again = new DataLoader(ten, 4, true, false, new Random(5));
        assertThat(epoch(again)).isEqualTo(first);
        assertThat(epoch(again)).isEqualTo(second);
    }

    @Test
    void keepsFileOrderWithoutShuffling() {
        DataLoader loader = new DataLoader(ten, 4, false, false, null);
        assertThat(epoch(loader)).containsExactly(List.of(0, 1, 2, 3), List.of(4, 5, 6, 7), List.of(8, 9));
    }

    @Test
    void dropsTheLastPartialBatchOnlyWhenAsked() {
        DataLoader keep = new DataLoader(ten, 4, false, false, null);
        DataLoader drop = new DataLoader(ten, 4, false, true, null);
        assertThat(keep.batchesPerEpoch()).isEqualTo(3);
        assertThat(drop.batchesPerEpoch()).isEqualTo(2);
        assertThat(epoch(drop)).containsExactly(List.of(0, 1, 2, 3), List.of(4, 5, 6, 7));
        DataLoader exact = new DataLoader(ten, 5, false, true, null);
        assertThat(exact.batchesPerEpoch()).isEqualTo(2);
        assertThat(new DataLoader(ten, 11, false, true, null).batchesPerEpoch()).isZero();
        assertThat(new DataLoader(ten, Integer.MAX_VALUE, false, false, null).batchesPerEpoch()).isEqualTo(1);
    }

    @Test
    void indexBatchesAreTheIteratorsBatchesForTheSameRandom() {
        for (boolean dropLast : new boolean[] {false, true}) {
            List<List<Integer>> batches = epoch(new DataLoader(ten, 3, true, dropLast, new Random(11)));
            List<List<Integer>> indices = new ArrayList<>();
            for (Iterator<int[]> it = new DataLoader(ten, 3, true, dropLast, new Random(11)).indexBatches(); it.hasNext(); )
                indices.add(java.util.Arrays.stream(it.next()).boxed().toList());
            assertThat(indices).isEqualTo(batches);
            assertThat(indices).hasSize(dropLast ? 3 : 4);
        }
    }

    @Test
    void iteratorStopsAtTheEndOfTheEpoch() {
        Iterator<Batch> it = new DataLoader(ten, 10, false, false, null).iterator();
        it.next();
        assertThat(it.hasNext()).isFalse();
        assertThatThrownBy(it::next).isInstanceOf(NoSuchElementException.class);
    }

    @Test
    void rejectsBadArguments() {
        assertThatThrownBy(() -> new DataLoader(ten, 0, false, false, null)).hasMessage("batch size must be at least 1, got 0");
        assertThatThrownBy(() -> new DataLoader(ten, 4, true, false, null)).hasMessageContaining("shuffle needs a Random");
    }
}
