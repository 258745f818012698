package dev.jumbo.compress;

import dev.jumbo.train.Callback;
import dev.jumbo.train.Sequential;
import dev.jumbo.train.TrainingRun;
import java.util.Map;

/**
 * Prunes a model while it fine-tunes: at the start of each epoch it chooses a new magnitude mask
 * at the schedule's sparsity (pruned weights are zero, so they stay among the smallest and the
 * mask only grows) and zeroes those weights; after every optimizer step it zeroes them again, so
 * the step's update to a pruned weight (Adam moves even weights whose gradient is zero, through its
 * moments) never survives into the next forward pass.
 *
 * <pre>{@code
 * model.fit(train, FitOptions.defaults().epochs(3)
 *         .callbacks(new GradualPruning(model, new PolynomialSchedule(0, 0.8, 3), PruningMask.Scope.PER_LAYER)));
 * }</pre>
 */
public final class GradualPruning implements Callback {
    private final Sequential model;
    private final PolynomialSchedule schedule;
    private final PruningMask.Scope scope;
    private PruningMask mask;

    /** Prunes {@code model} along {@code schedule}, counting sparsity per {@code scope}. */
    public GradualPruning(Sequential model, PolynomialSchedule schedule, PruningMask.Scope scope) {
        this.model = model;
        this.schedule = schedule;
        this.scope = scope;
    }

    @Override
    public void onEpochBegin(TrainingRun run, int epoch) {
        mask = PruningMask.magnitude(model, schedule.sparsityAt(epoch), scope).union(mask);
        mask.apply();
    }

    @Override
    public void onBatchEnd(TrainingRun run, int epoch, int batch, Map<String, Double> logs) {
        mask.apply();
    }

    /** The mask in force (null before the first epoch). */
    public PruningMask mask() {
        return mask;
    }
}
