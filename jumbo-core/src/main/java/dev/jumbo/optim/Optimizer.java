package dev.jumbo.optim;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Updates parameters in place from their gradients. Bind it to the parameters once, then after
 * each backward pass call {@link #step()} and {@link #zeroGrad()}:
 *
 * <pre>{@code
 * Optimizer opt = new Adam(1e-3).clipNorm(1.0).bind(model.parameters());
 * for (Batch b : batches) {
 *     loss.compute(model.forward(b.x()), b.y()).backward();
 *     opt.step();
 *     opt.zeroGrad();
 * }
 * }</pre>
 *
 * <p>A step skips frozen parameters (those with {@code requiresGrad() == false} or no gradient);
 * their slots (moments, accumulators) are created only when they first receive an update, so a
 * frozen base model costs no optimizer memory. Updates write {@link Tensor#buffer()} directly and
 * record no graph. Non-finite gradients are not rejected here: the trainer checks the loss, and
 * {@link GradClip#byGlobalNorm} returns the norm for callers that want to skip such steps.
 *
 * <p>{@link #state()} and {@link #loadState} carry everything a resumed run needs to continue
 * bit-identically: the iteration count, and per parameter its slots and its own update count.
 * Counts are stored as one-element float tensors, exact up to 2^24 (16.7 million) steps.
 */
public abstract class Optimizer {
    private final String[] slotNames;
    private LearningRateSchedule schedule;
    private double clipNorm, clipValue;   // 0: off
    private List<Tensor> params = List.of();
    private float[][][] slots = new float[0][][];   // [param][slot], null until the param's first update
    private long[] steps = new long[0];             // updates applied to each param
    private long iterations;

    /**
     * @param learningRate the constant rate, until {@link #schedule} replaces it
     * @param slotNames    the per-parameter state each update keeps, e.g. {@code "m", "v"} for Adam
     */
    protected Optimizer(double learningRate, String... slotNames) {
        this.schedule = new Constant(learningRate);
        this.slotNames = slotNames.clone();
    }

    // ---------------------------------------------------------------- what subclasses define

    /**
     * Applies one update to one parameter, in place.
     *
     * @param param the parameter's values
     * @param grad  its gradient, already clipped
     * @param slots its slots in the order of the constructor's names, initialised by {@link #initialSlotValue}
     * @param lr    the learning rate of this iteration
     * @param step  1 for this parameter's first update, then 2, 3, ... (for bias corrections)
     */
    protected abstract void update(float[] param, float[] grad, float[][] slots, float lr, long step);

    /** The value slot {@code slot} starts from; 0 unless overridden (AdaGrad starts its accumulator at 0.1). */
    protected float initialSlotValue(int slot) {
        return 0f;
    }

    /** Adds this optimizer's hyperparameters, under Keras' names, to {@code config}. */
    protected abstract void hyperparameters(Map<String, Object> config);

    // ---------------------------------------------------------------- binding and stepping

    /**
     * Attaches the parameters to update and returns this. Rebinding keeps the slots of tensors
     * that were bound before (by identity), so adding parameters after unfreezing continues the
     * others' moments; the iteration count (and so the schedule) also continues.
     *
     * @throws IllegalArgumentException if a parameter is a view without its own storage or is listed twice
     */
    public Optimizer bind(List<Tensor> params) {
        List<Tensor> next = List.copyOf(params);
        Map<Tensor, Integer> previous = new IdentityHashMap<>(), seen = new IdentityHashMap<>();
        for (int i = 0; i < this.params.size(); i++) previous.put(this.params.get(i), i);
        float[][][] nextSlots = new float[next.size()][][];
        long[] nextSteps = new long[next.size()];
        for (int i = 0; i < next.size(); i++) {
            Tensor p = next.get(i);
            Integer dup = seen.put(p, i);
            if (dup != null) throw new IllegalArgumentException("parameter " + i + " is the same tensor as parameter " + dup);
            try {
                p.buffer();
            } catch (IllegalStateException e) {
                throw new IllegalArgumentException("parameter " + i + " cannot be updated in place: " + e.getMessage(), e);
            }
            Integer old = previous.get(p);
            if (old != null) {
                nextSlots[i] = slots[old];
                nextSteps[i] = steps[old];
            }
        }
        this.params = next;
        this.slots = nextSlots;
        this.steps = nextSteps;
        return this;
    }

    /** The bound parameters, in binding order (which numbers the keys of {@link #state()}). */
    public List<Tensor> params() {
        return params;
    }

    /**
     * Applies one update to every bound parameter that requires a gradient and has one: clips
     * the gradients (by value, then by global norm, when configured), then updates with the
     * learning rate of the current iteration, then counts the iteration.
     */
    public void step() {
        List<Integer> active = new ArrayList<>();
        List<Tensor> activeParams = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            Tensor p = params.get(i);
            if (p.requiresGrad() && p.grad() != null) {
                active.add(i);
                activeParams.add(p);
            }
        }
        if (clipValue > 0) GradClip.byValue(activeParams, clipValue);
        if (clipNorm > 0) GradClip.byGlobalNorm(activeParams, clipNorm);
        float lr = learningRate();
        for (int i : active) {
            Tensor p = params.get(i);
            if (slots[i] == null) slots[i] = newSlots(p.size());
            update(p.buffer(), p.grad().buffer(), slots[i], lr, ++steps[i]);
        }
        iterations++;
    }

    private float[][] newSlots(int size) {
        float[][] s = new float[slotNames.length][size];
        for (int k = 0; k < s.length; k++) {
            float v = initialSlotValue(k);
            if (v != 0) Arrays.fill(s[k], v);
        }
        return s;
    }

    /** Forgets the gradients of the bound parameters. */
    public void zeroGrad() {
        for (Tensor p : params) p.zeroGrad();
    }

    /** The number of completed {@link #step()} calls. */
    public long iterations() {
        return iterations;
    }

    // ---------------------------------------------------------------- learning rate and clipping

    /** The learning rate the next step will use (the schedule's value at {@link #iterations()}). */
    public float learningRate() {
        return (float) schedule.at(iterations);
    }

    /** Replaces the schedule with a constant rate (what ReduceLROnPlateau-style callbacks call); returns this. */
    public Optimizer learningRate(double learningRate) {
        this.schedule = new Constant(learningRate);
        return this;
    }

    /** The learning-rate schedule ({@link Constant} unless set). */
    public LearningRateSchedule schedule() {
        return schedule;
    }

    /** Sets the learning-rate schedule, evaluated at the iteration count; returns this. */
    public Optimizer schedule(LearningRateSchedule schedule) {
        if (schedule == null) throw new IllegalArgumentException("schedule is null; use learningRate(double) for a constant rate");
        this.schedule = schedule;
        return this;
    }

    /** Clips gradients to a joint L2 norm of at most {@code globalNorm} before each update (0 turns it off); returns this. */
    public Optimizer clipNorm(double globalNorm) {
        this.clipNorm = requireClip("global clip norm", globalNorm);
        return this;
    }

    /** Clamps every gradient element to {@code [-v, v]} before each update (0 turns it off); returns this. */
    public Optimizer clipValue(double v) {
        this.clipValue = requireClip("clip value", v);
        return this;
    }

    private static double requireClip(String what, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) throw new IllegalArgumentException(what + " must be positive and finite (or 0 for none), got " + v);
        return v;
    }

    // ---------------------------------------------------------------- configuration and state

    /**
     * A JSON-ready description: {@code "type"} (the class name), {@code "learning_rate"} (a number,
     * or the schedule's config), the hyperparameters under Keras' names, and
     * {@code "global_clipnorm"} / {@code "clipvalue"} when set. {@link Optimizers#fromConfig} reverses it.
     */
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("type", getClass().getSimpleName());
        c.put("learning_rate", schedule instanceof Constant k ? (Object) k.learningRate() : schedule.config());
        hyperparameters(c);
        if (clipNorm > 0) c.put("global_clipnorm", clipNorm);
        if (clipValue > 0) c.put("clipvalue", clipValue);
        return c;
    }

    /**
     * A copy of everything needed to resume: {@code "iterations"}; for each parameter {@code i}
     * that has been updated, {@code "step.i"} (its update count) and one tensor per slot,
     * {@code "<slot>.i"} shaped like the parameter (e.g. {@code "m.0"}, {@code "v.0"}); and
     * {@code "learning_rate"} when the rate is constant (it may have been changed by a callback).
     */
    public Map<String, Tensor> state() {
        Map<String, Tensor> s = new LinkedHashMap<>();
        s.put("iterations", count(iterations));
        if (schedule instanceof Constant k) s.put("learning_rate", Tensor.of(new float[] {(float) k.learningRate()}, 1));
        for (int i = 0; i < params.size(); i++) {
            if (slots[i] == null) continue;
            s.put("step." + i, count(steps[i]));
            Shape shape = params.get(i).shape();
            for (int k = 0; k < slotNames.length; k++) s.put(slotNames[k] + "." + i, Tensor.of(slots[i][k].clone(), shape));
        }
        return s;
    }

    private static Tensor count(long n) {
        return Tensor.of(new float[] {(float) n}, 1);
    }

    /**
     * Restores a {@link #state()} taken from an optimizer of the same kind bound to parameters of
     * the same shapes; the values are copied. Nothing changes unless the whole state is valid.
     *
     * @throws IllegalArgumentException naming the key that is unknown, missing, misshaped or out of range
     */
    public void loadState(Map<String, Tensor> state) {
        int n = params.size();
        float[][][] nextSlots = new float[n][][];
        long[] nextSteps = new long[n];
        Tensor it = state.get("iterations");
        if (it == null) throw new IllegalArgumentException(kind() + " state has no \"iterations\"");
        long nextIterations = readCount("iterations", it);
        Double nextRate = null;
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            String key = e.getKey();
            Tensor t = e.getValue();
            if (key.equals("iterations")) continue;
            if (key.equals("learning_rate")) {
                if (!(schedule instanceof Constant))
                    throw new IllegalArgumentException(kind() + " state key \"learning_rate\" holds a constant rate, but this optimizer follows a schedule " + schedule);
                if (t.size() != 1) throw new IllegalArgumentException(kind() + " state key \"learning_rate\" has shape " + t.shape() + ", expected one value");
                nextRate = Configs.requireRate("state key \"learning_rate\"", t.toFloatArray()[0]);
                continue;
            }
            int dot = key.lastIndexOf('.');
            String name = dot < 0 ? key : key.substring(0, dot);
            int slot = Arrays.asList(slotNames).indexOf(name);
            if (dot < 0 || slot < 0 && !name.equals("step"))
                throw new IllegalArgumentException("unknown " + kind() + " state key \"" + key + "\"; expected iterations, learning_rate, step.<i>"
                        + Arrays.stream(slotNames).map(s -> ", " + s + ".<i>").reduce("", String::concat));
            int i;
            try {
                i = Integer.parseInt(key.substring(dot + 1));
            } catch (NumberFormatException x) {
                throw new IllegalArgumentException(kind() + " state key \"" + key + "\" does not end in a parameter index");
            }
            if (i < 0 || i >= n) throw new IllegalArgumentException(kind() + " state key \"" + key + "\" refers to parameter " + i + " but " + n + " are bound");
            if (slot < 0) {
                nextSteps[i] = readCount(key, t);
                if (nextSteps[i] == 0) throw new IllegalArgumentException(kind() + " state key \"" + key + "\" is 0; a parameter with slots has been updated at least once");
            } else {
                Shape expected = params.get(i).shape();
                if (!t.shape().equals(expected))
                    throw new IllegalArgumentException(kind() + " state key \"" + key + "\" has shape " + t.shape() + " but parameter " + i + " has shape " + expected);
                if (nextSlots[i] == null) nextSlots[i] = new float[slotNames.length][];
                nextSlots[i][slot] = t.toFloatArray();
            }
        }
        for (int i = 0; i < n; i++) {
            boolean updated = nextSteps[i] > 0;
            if (!updated && nextSlots[i] != null)
                throw new IllegalArgumentException(kind() + " state has slots for parameter " + i + " but no \"step." + i + "\"");
            for (int k = 0; updated && k < slotNames.length; k++)
                if (nextSlots[i] == null || nextSlots[i][k] == null)
                    throw new IllegalArgumentException(kind() + " state has \"step." + i + "\" but no \"" + slotNames[k] + "." + i + "\"");
            if (updated && nextSlots[i] == null) nextSlots[i] = new float[0][];
        }
        this.iterations = nextIterations;
        this.steps = nextSteps;
        this.slots = nextSlots;
        if (nextRate != null) this.schedule = new Constant(nextRate);
    }

    private String kind() {
        return getClass().getSimpleName();
    }

    private long readCount(String key, Tensor t) {
        if (t.size() != 1) throw new IllegalArgumentException(kind() + " state key \"" + key + "\" has shape " + t.shape() + ", expected one value");
        float v = t.toFloatArray()[0];
        if (!(v >= 0) || v != Math.rint(v) || Float.isInfinite(v))
            throw new IllegalArgumentException(kind() + " state key \"" + key + "\" is " + v + ", expected a non-negative whole number");
        return (long) v;
    }

    @Override
    public String toString() {
        return config().toString();
    }
}
