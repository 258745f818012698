package dev.jumbo.data;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Random;

/**
 * Walks a dataset in batches, one epoch per {@link #iterator()}. With {@code shuffle}, each epoch
 * visits the examples in a fresh random order drawn from the given {@link Random}, so a seeded
 * Random makes the whole run reproducible. The last, smaller batch is kept unless
 * {@code dropLast}.
 *
 * <pre>{@code
 * DataLoader loader = new DataLoader(train, 32, true, false, new Random(42));
 * for (int epoch = 0; epoch < 5; epoch++)
 *     for (Batch b : loader) step(b.x(), b.y());
 * }</pre>
 */
public final class DataLoader implements Iterable<Batch> {
    private final Dataset dataset;
    private final int batchSize;
    private final boolean shuffle;
    private final boolean dropLast;
    private final Random random;

    /**
     * A loader of {@code batchSize} examples at a time.
     *
     * @param random source of the shuffles; may be null only when {@code shuffle} is false
     * @throws IllegalArgumentException if {@code batchSize < 1}, or {@code shuffle} without a Random
     */
    public DataLoader(Dataset dataset, int batchSize, boolean shuffle, boolean dropLast, Random random) {
        this.dataset = Objects.requireNonNull(dataset, "dataset");
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        if (shuffle && random == null)
            throw new IllegalArgumentException("shuffle needs a Random; pass new Random(seed) for reproducible epochs");
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.dropLast = dropLast;
        this.random = random;
    }

    /** Batches one epoch yields. */
    public int batchesPerEpoch() {
        int n = dataset.size();
        return dropLast ? n / batchSize : (int) (((long) n + batchSize - 1) / batchSize);
    }

    /** A new epoch: reshuffled when shuffling. */
    @Override
    public Iterator<Batch> iterator() {
        Iterator<int[]> indices = indexBatches();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return indices.hasNext();
            }

            @Override
            public Batch next() {
                return dataset.batch(indices.next());
            }
        };
    }

    /**
     * A new epoch as the example indices of each batch, without gathering the examples: the same
     * order, and the same draw from the Random, as {@link #iterator()}. A data-parallel trainer
     * uses it to give each worker the examples single-process training would put in a batch.
     */
    public Iterator<int[]> indexBatches() {
        int n = dataset.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        if (shuffle) {
            // Fisher-Yates: every permutation equally likely
            for (int i = n - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        int batches = batchesPerEpoch();
        return new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < batches;
            }

            @Override
            public int[] next() {
                if (!hasNext()) throw new NoSuchElementException("the epoch has " + batches + " batches");
                int from = next * batchSize, to = (int) Math.min((long) from + batchSize, n);
                next++;
                int[] indices = new int[to - from];
                System.arraycopy(order, from, indices, 0, indices.length);
                return indices;
            }
        };
    }
}
