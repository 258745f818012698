package dev.jumbo.nn;

import dev.jumbo.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A piece of a network that maps a tensor to a tensor and owns parameters, buffers and child
 * modules, PyTorch style. Everything a module registers is kept in registration order, which
 * fixes the order of {@link #parameters()} and the keys of {@link #stateDict()}.
 *
 * <pre>{@code
 * final class TwoLayer extends Module {
 *     private final Dense hidden = register("hidden", new Dense(32, Activation.RELU));
 *     private final Dense out = register("out", new Dense(10));
 *     public Tensor forward(Tensor x) { return out.forward(hidden.forward(x)); }
 * }
 * // parameters(): hidden.kernel, hidden.bias, out.kernel, out.bias (after the first forward)
 * }</pre>
 */
public abstract class Module {
    /** Children, parameters and buffers under their local names, in registration order. */
    private final LinkedHashMap<String, Object> entries = new LinkedHashMap<>();
    private Module parent;
    private String nameInParent;
    private boolean training = true;

    /** Maps a batch of inputs to outputs. */
    public abstract Tensor forward(Tensor x);

    // ---------------------------------------------------------------- registration

    /** Registers {@code child} under {@code name}; returns it so a field can be initialised in one line. */
    protected <M extends Module> M register(String name, M child) {
        checkName(name);
        for (Module m = this; m != null; m = m.parent)
            if (m == child) throw new IllegalArgumentException("registering '" + name + "' would make a module its own descendant");
        // a module shared by two parents keeps the path of the first: Parameter.name() needs one path
        Module c = child; // private fields are not reachable through the type variable
        if (c.parent == null) {
            c.parent = this;
            c.nameInParent = name;
        }
        entries.put(name, child);
        return child;
    }

    /** Adds a trainable parameter holding a copy of {@code value}. */
    protected Parameter addParameter(String name, Tensor value) {
        checkName(name);
        Parameter p = new Parameter(this, name, denseCopy(value));
        entries.put(name, p);
        return p;
    }

    /**
     * Adds a buffer: state saved in {@link #stateDict()} but not trained (e.g. BatchNorm's moving
     * statistics). Returns the stored copy of {@code value}, which the module updates in place.
     */
    protected Tensor addBuffer(String name, Tensor value) {
        checkName(name);
        Tensor b = denseCopy(value);
        entries.put(name, b);
        return b;
    }

    private void checkName(String name) {
        if (name == null || name.isEmpty() || name.contains("."))
            throw new IllegalArgumentException("module entry names must be non-empty and contain no '.', got '" + name + "'");
        if (entries.containsKey(name))
            throw new IllegalArgumentException("'" + name + "' is already registered in " + getClass().getSimpleName());
    }

    /** A fresh dense leaf: the module then owns storage no one else writes to, and buffer() works on it. */
    private static Tensor denseCopy(Tensor t) {
        return Tensor.of(t.toFloatArray(), t.shape());
    }

    /** This module's path from the outermost module, with a trailing dot (empty for the outermost). */
    String pathPrefix() {
        return parent == null ? "" : parent.pathPrefix() + nameInParent + ".";
    }

    // ---------------------------------------------------------------- traversal

    /** The directly registered child modules by local name, in registration order (read-only). */
    public Map<String, Module> children() {
        LinkedHashMap<String, Module> out = new LinkedHashMap<>();
        entries.forEach((k, v) -> {
            if (v instanceof Module m) out.put(k, m);
        });
        return Collections.unmodifiableMap(out);
    }

    /**
     * All parameters of this module and its descendants, depth first in registration order, each
     * once even if a module is shared. Frozen parameters are included (see {@link Parameter#trainable()}).
     */
    public List<Parameter> parameters() {
        List<Parameter> out = new ArrayList<>();
        collectParameters(out, Collections.newSetFromMap(new IdentityHashMap<>()));
        return out;
    }

    private void collectParameters(List<Parameter> out, Set<Object> seen) {
        for (Object v : entries.values()) {
            if (!seen.add(v)) continue;
            if (v instanceof Parameter p) out.add(p);
            else if (v instanceof Module m) m.collectParameters(out, seen);
        }
    }

    /**
     * Parameters and buffers by dot-joined path relative to this module (e.g. {@code "dense.kernel"},
     * {@code "bn.moving_mean"}), in the order of {@link #parameters()} with buffers where they were
     * registered. The values are the live tensors, not copies: copy them to keep a snapshot.
     */
    public Map<String, Tensor> stateDict() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        collectState("", out);
        return out;
    }

    private void collectState(String prefix, Map<String, Tensor> out) {
        entries.forEach((k, v) -> {
            switch (v) {
                case Parameter p -> out.put(prefix + k, p.value());
                case Tensor t -> out.put(prefix + k, t);
                case Module m -> m.collectState(prefix + k + ".", out);
                default -> throw new IllegalStateException("unexpected entry " + v);
            }
        });
    }

    /**
     * Copies every value of {@code state} into the matching parameter or buffer. Nothing is copied
     * unless all keys match and all shapes agree.
     *
     * @throws IllegalArgumentException naming the key on a missing key, an unexpected key or a shape mismatch
     */
    public void loadStateDict(Map<String, Tensor> state) {
        Map<String, Tensor> own = stateDict();
        for (var e : own.entrySet()) {
            Tensor src = state.get(e.getKey());
            if (src == null) throw new IllegalArgumentException("state dict is missing key '" + e.getKey() + "'");
            if (!src.shape().equals(e.getValue().shape()))
                throw new IllegalArgumentException("shape mismatch for '" + e.getKey() + "': module has " + e.getValue().shape() + ", state dict has " + src.shape());
        }
        for (String k : state.keySet())
            if (!own.containsKey(k))
                throw new IllegalArgumentException("unexpected key '" + k + "' in state dict"
                        + (hasUnbuiltLayer() ? " (some layers are not built yet: they create their weights on the first forward or build())" : ""));
        for (var e : own.entrySet()) {
            float[] from = state.get(e.getKey()).toFloatArray();
            System.arraycopy(from, 0, e.getValue().buffer(), 0, from.length);
        }
        stateLoaded();
    }

    private void stateLoaded() {
        onStateLoaded();
        for (Object v : entries.values())
            if (v instanceof Module m) m.stateLoaded();
    }

    /**
     * Called after {@link #loadStateDict} has written new values into this module's parameters and
     * buffers; a module that keeps a derived form of them (packed int8 weights) drops it here.
     */
    protected void onStateLoaded() {}

    private boolean hasUnbuiltLayer() {
        if (this instanceof Layer l && !l.isBuilt()) return true;
        for (Object v : entries.values())
            if (v instanceof Module m && m.hasUnbuiltLayer()) return true;
        return false;
    }

    // ---------------------------------------------------------------- modes and gradients

    /** Switches training mode (dropout active, batch statistics) on or off here and in all descendants. */
    public void train(boolean training) {
        this.training = training;
        for (Object v : entries.values())
            if (v instanceof Module m) m.train(training);
    }

    /** Whether in training mode; modules start in training mode, as in PyTorch. */
    public boolean isTraining() {
        return training;
    }

    /** Forgets the accumulated gradients of all parameters. */
    public void zeroGrad() {
        for (Parameter p : parameters()) p.value().zeroGrad();
    }
}
