package dev.jumbo.tensor;

import dev.jumbo.kernel.LayerNormKernel;
import dev.jumbo.kernel.VectorMath;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * An n-dimensional array of numbers that remembers how it was computed, so gradients flow back
 * through it (reverse-mode automatic differentiation).
 *
 * <p>A tensor is a view: a {@link Shape}, strides and an offset into a {@link Storage}.
 * {@link #reshape}, {@link #transpose}, {@link #permute} and {@link #slice} return views that
 * share storage; arithmetic returns new dense tensors. Each differentiable operation records its
 * backward next to its forward; {@link #backward()} walks the recorded graph in reverse.
 *
 * <pre>{@code
 * Tensor w = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).requiresGrad(true);
 * Tensor x = Tensor.of(new float[] {1, 1}, 2, 1);
 * Tensor loss = w.matmul(x).square().sum();
 * loss.backward();
 * System.out.println(w.grad());   // d loss / d w
 * }</pre>
 */
public final class Tensor {
    /** How a recorded operation turns the gradient of its output into gradients of its inputs. */
    @FunctionalInterface
    public interface Backward {
        /** Called with d(loss)/d(output); calls {@link #addToGrad} on the inputs that need it. */
        void apply(Tensor gradOutput);
    }

    private record Node(Tensor[] inputs, Backward backward) {}

    private final Shape shape;
    private final int[] strides;
    private final int offset;
    private final Storage storage;

    private boolean requiresGrad;
    private Tensor grad;
    /** True while {@link #grad} shares its array with a gradient passed to {@link #addToGrad}. */
    private boolean gradShared;
    private Node node;
    /** The input of the softmax or sigmoid that produced this tensor, if one did (see {@link #logitsOf}). */
    private Tensor logits;
    private Squash squash;

    private Tensor(Shape shape, int[] strides, int offset, Storage storage) {
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
        this.storage = storage;
    }

    // ---------------------------------------------------------------- creation

    /** A tensor over {@code data} (not copied) with the given shape. */
    public static Tensor of(float[] data, int... dims) {
        Shape s = Shape.of(dims);
        if (s.size() != data.length)
            throw new IllegalArgumentException("shape " + s + " needs " + s.size() + " values but " + data.length + " were given");
        return new Tensor(s, s.contiguousStrides(), 0, new Storage.Floats(data));
    }

    /** A tensor over {@code data} (not copied) with the given shape. */
    public static Tensor of(float[] data, Shape shape) {
        return of(data, shape.toArray());
    }

    /** A rank-0 tensor holding one value. */
    public static Tensor scalar(float value) {
        return of(new float[] {value});
    }

    /** A tensor of zeros. */
    public static Tensor zeros(int... dims) {
        return of(new float[Shape.of(dims).size()], dims);
    }

    /** A tensor with every element equal to {@code value}. */
    public static Tensor full(float value, int... dims) {
        float[] d = new float[Shape.of(dims).size()];
        Arrays.fill(d, value);
        return of(d, dims);
    }

    /** A tensor of ones. */
    public static Tensor ones(int... dims) {
        return full(1f, dims);
    }

    /** Standard normal samples. */
    public static Tensor randn(Random random, int... dims) {
        float[] d = new float[Shape.of(dims).size()];
        for (int i = 0; i < d.length; i++) d[i] = (float) random.nextGaussian();
        return of(d, dims);
    }

    /** Uniform samples in [lo, hi). */
    public static Tensor uniform(Random random, float lo, float hi, int... dims) {
        float[] d = new float[Shape.of(dims).size()];
        for (int i = 0; i < d.length; i++) d[i] = lo + (hi - lo) * random.nextFloat();
        return of(d, dims);
    }

    /**
     * The result of a custom differentiable operation: {@code data} shaped {@code shape}, whose
     * {@code backward} is called with the output gradient during {@link #backward()}. Records
     * nothing when no input needs a gradient or inside {@link GradMode#noGrad()}.
     */
    public static Tensor result(float[] data, Shape shape, Backward backward, Tensor... inputs) {
        Tensor t = of(data, shape);
        if (GradMode.isEnabled()) {
            for (Tensor in : inputs) {
                if (in.requiresGrad) {
                    t.requiresGrad = true;
                    t.node = new Node(inputs, backward);
                    break;
                }
            }
        }
        return t;
    }

    private Tensor view(Shape s, int[] st, int off, Backward backward) {
        Tensor t = new Tensor(s, st, off, storage);
        if (requiresGrad && GradMode.isEnabled()) {
            t.requiresGrad = true;
            t.node = new Node(new Tensor[] {this}, backward);
        }
        return t;
    }

    // ---------------------------------------------------------------- inspection

    /** The shape. */
    public Shape shape() {
        return shape;
    }

    /** Size of dimension {@code i} (negative counts from the end). */
    public int dim(int i) {
        return shape.dim(i);
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.rank();
    }

    /** Number of elements. */
    public int size() {
        return shape.size();
    }

    /** Element type of the storage. */
    public DType dtype() {
        return storage.dtype();
    }

    int[] strides() {
        return strides;
    }

    int offset() {
        return offset;
    }

    float[] storageArray() {
        return switch (storage) {
            case Storage.Floats f -> f.data();
        };
    }

    /** True when elements are laid out row-major without gaps. */
    public boolean isContiguous() {
        int expect = 1;
        for (int i = shape.rank() - 1; i >= 0; i--) {
            if (shape.dim(i) != 1 && strides[i] != expect) return false;
            expect *= shape.dim(i);
        }
        return true;
    }

    /** Contiguous, starting at 0 and covering the whole storage: {@link #buffer()} is exactly its data. */
    public boolean isDense() {
        return offset == 0 && storage.length() == shape.size() && isContiguous();
    }

    /** The elements in row-major order, as a dense array: the storage itself when dense (do not write to it). */
    float[] dense() {
        return isDense() ? storageArray() : toFloatArray();
    }

    /**
     * The backing array, for in-place updates (optimizers, loaders).
     *
     * @throws IllegalStateException if this tensor is a view that does not own its whole storage
     */
    public float[] buffer() {
        if (!isDense()) throw new IllegalStateException("buffer() needs a dense tensor; this is a view " + shape + " (call copy())");
        return storageArray();
    }

    /** A copy of the elements in row-major order. */
    public float[] toFloatArray() {
        float[] y = new float[shape.size()];
        if (isContiguous()) System.arraycopy(storageArray(), offset, y, 0, y.length);
        else Elementwise.gather(this, y);
        return y;
    }

    /** The element at the given indices. */
    public float get(int... index) {
        if (index.length != shape.rank())
            throw new IllegalArgumentException("index " + Arrays.toString(index) + " has " + index.length + " coordinates; shape " + shape + " needs " + shape.rank());
        int off = offset;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape.dim(i))
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " is outside shape " + shape);
            off += index[i] * strides[i];
        }
        return storageArray()[off];
    }

    /** The single value of a one-element tensor. */
    public float item() {
        if (shape.size() != 1) throw new IllegalStateException("item() needs exactly one element, shape is " + shape);
        return storageArray()[offset];
    }

    /** A dense copy with its own storage; gradients flow back to this tensor. */
    public Tensor copy() {
        return result(toFloatArray(), shape, this::addToGrad, this);
    }

    /** A dense copy if this is a view with gaps or another order; this tensor otherwise. */
    public Tensor contiguous() {
        if (isContiguous()) return this;
        return result(toFloatArray(), shape, this::addToGrad, this);
    }

    @Override
    public String toString() {
        int n = Math.min(size(), 10);
        float[] d = toFloatArray();
        StringBuilder sb = new StringBuilder("Tensor").append(shape).append(" [");
        for (int i = 0; i < n; i++) sb.append(i == 0 ? "" : ", ").append(d[i]);
        if (size() > n) sb.append(", ...");
        return sb.append(']').append(requiresGrad ? " requiresGrad" : "").toString();
    }

    // ---------------------------------------------------------------- autograd

    /** Whether gradients are computed for this tensor. */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Marks this leaf tensor as needing (or not needing) a gradient; returns this. */
    public Tensor requiresGrad(boolean value) {
        if (node != null && !value) throw new IllegalStateException("cannot stop gradients of a computed tensor; use detach()");
        this.requiresGrad = value;
        return this;
    }

    /** Whether no recorded operation produced this tensor (a parameter or an input), for {@link PerExampleGrads}. */
    boolean isLeaf() {
        return node == null;
    }

    /** The accumulated gradient, or null if none has flowed here since the last {@link #zeroGrad()}. */
    public Tensor grad() {
        return grad;
    }

    /** Forgets the accumulated gradient. */
    public void zeroGrad() {
        grad = null;
    }

    /** A tensor sharing this one's data but cut off from the graph. */
    public Tensor detach() {
        return new Tensor(shape, strides, offset, storage);
    }

    /** Adds {@code g} (same shape as this tensor) to the accumulated gradient. */
    public void addToGrad(Tensor g) {
        accumulate(g, false);
    }

    /**
     * {@link #addToGrad} for a dense gradient the caller has just computed and holds nowhere else:
     * it becomes this tensor's gradient as it is (a leaf's too, without the copy {@code addToGrad}
     * makes), or takes an earlier one added into it.
     */
    void addFreshGrad(Tensor g) {
        accumulate(g, true);
    }

    /** {@link #addFreshGrad} of {@code data} shaped like this tensor. */
    void addFreshGrad(float[] data) {
        accumulate(of(data, shape), true);
    }

    private void accumulate(Tensor g, boolean fresh) {
        if (!requiresGrad) return;
        if (!g.shape.equals(shape))
            throw new IllegalArgumentException("gradient of shape " + g.shape + " for a tensor of shape " + shape);
        if (fresh && !g.isDense()) throw new IllegalArgumentException("a fresh gradient must be dense, got a view of shape " + g.shape);
        if (grad == null && fresh) {
            grad = g;
            gradShared = false;
        } else if (grad == null && node != null && g.isDense()) {
            // An intermediate gradient is only read, once, by this tensor's backward and then dropped,
            // so it may share g's array: no copy of every activation-sized gradient. A second
            // contribution then sums into a fresh array rather than into the shared one. Leaves keep
            // a private copy: optimizers and clipping write into their gradients.
            grad = g;
            gradShared = true;
        } else if (grad == null) {
            grad = of(g.toFloatArray(), shape);
            gradShared = false;
        } else if (gradShared && fresh) {
            float[] sum = g.storageArray();
            VectorMath.add(grad.storageArray(), 0, sum, 0, sum, 0, sum.length);
            grad = g;
            gradShared = false;
        } else if (gradShared) {
            float[] sum = new float[size()];
            VectorMath.add(grad.storageArray(), 0, g.dense(), 0, sum, 0, sum.length);
            grad = of(sum, shape);
            gradShared = false;
        } else {
            float[] acc = grad.storageArray();
            VectorMath.add(acc, 0, g.dense(), 0, acc, 0, acc.length);
        }
    }

    /**
     * This tensor's gradient array, for a backward to add a part into in place: zeros when no
     * gradient has arrived yet, a private copy when the gradient shares another's array.
     */
    private float[] ownGradArray() {
        if (grad == null) grad = of(new float[size()], shape);
        else if (gradShared) grad = of(grad.toFloatArray(), shape);
        gradShared = false;
        return grad.storageArray();
    }

    /** Back-propagates from this scalar (d this / d this = 1). */
    public void backward() {
        if (size() != 1) throw new IllegalStateException("backward() without a gradient needs a scalar; shape is " + shape);
        backward(ones(shape.toArray()));
    }

    /**
     * Back-propagates {@code seed} = d(loss)/d(this) through the recorded graph, accumulating into
     * the {@link #grad()} of every leaf that requires it. The graph is released afterwards.
     */
    public void backward(Tensor seed) {
        if (!requiresGrad) throw new IllegalStateException("this tensor does not require a gradient: no input of its graph has requiresGrad(true)");
        List<Tensor> order = topologicalOrder();
        addToGrad(seed);
        try (var scope = GradMode.noGrad()) {
            for (Tensor t : order) {
                Node n = t.node;
                Tensor g = t.grad;
                t.node = null;
                if (n == null) continue;
                t.grad = null; // intermediate gradients are not kept: only leaves accumulate
                if (g != null) n.backward.apply(g);
            }
        }
    }

    /** Nodes reachable from this tensor, each before every input it was computed from. */
    private List<Tensor> topologicalOrder() {
        List<Tensor> post = new ArrayList<>();
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {this, 0});
        seen.add(this);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Tensor t = (Tensor) frame[0];
            int i = (Integer) frame[1];
            Tensor[] inputs = t.node == null ? new Tensor[0] : t.node.inputs;
            if (i < inputs.length) {
                frame[1] = i + 1;
                Tensor in = inputs[i];
                if (in.requiresGrad && seen.add(in)) stack.push(new Object[] {in, 0});
            } else {
                stack.pop();
                post.add(t);
            }
        }
        Collections.reverse(post);
        return post;
    }

    /** Adds {@code g}, summed down to {@code t}'s shape (undoing broadcasting), to {@code t}'s gradient. */
    private static void flow(Tensor t, Tensor g) {
        if (!t.requiresGrad) return;
        if (g.shape.equals(t.shape)) t.addToGrad(g);
        else t.addFreshGrad(g.sumTo(t.shape));
    }

    /** The squashing functions whose inputs {@link #logitsOf} remembers. */
    public enum Squash { SOFTMAX, SIGMOID }

    /**
     * The logits this tensor was computed from by {@code squash} (its direct input), or null if
     * it was not. Cross-entropy losses given probabilities use them to compute the loss and its
     * gradient from logits, which stays exact where a probability underflows, as Keras does.
     */
    public Tensor logitsOf(Squash squash) {
        return this.squash == squash ? logits : null;
    }

    private Tensor squashed(Tensor input, Squash kind) {
        logits = input;
        squash = kind;
        return this;
    }

    // ---------------------------------------------------------------- views

    /** The same data with another shape; one dimension may be -1 (inferred). Copies only if not contiguous. */
    public Tensor reshape(int... dims) {
        int[] d = dims.clone();
        int infer = -1, known = 1;
        for (int i = 0; i < d.length; i++) {
            if (d[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("reshape " + Arrays.toString(dims) + " has more than one -1");
                infer = i;
            } else if (d[i] < 0) {
                throw new IllegalArgumentException("reshape " + Arrays.toString(dims) + " has a negative dimension");
            } else {
                known *= d[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || size() % known != 0)
                throw new IllegalArgumentException("cannot reshape " + shape + " to " + Arrays.toString(dims));
            d[infer] = size() / known;
        }
        Shape s = Shape.of(d);
        if (s.size() != size()) throw new IllegalArgumentException("cannot reshape " + shape + " (" + size() + " elements) to " + s);
        Shape from = shape;
        Tensor src = contiguous();
        return src.view(s, s.contiguousStrides(), src.offset, g -> src.addToGrad(g.reshape(from.toArray())));
    }

    /** Collapses every dimension after the first: {@code [n, ...] -> [n, rest]}. */
    public Tensor flatten() {
        return reshape(dim(0), -1);
    }

    /** Inserts a dimension of size 1 at {@code axis}. */
    public Tensor unsqueeze(int axis) {
        int a = axis < 0 ? axis + rank() + 1 : axis;
        int[] d = new int[rank() + 1];
        for (int i = 0, j = 0; i < d.length; i++) d[i] = i == a ? 1 : shape.dim(j++);
        return reshape(d);
    }

    /** Swaps two dimensions (a view). */
    public Tensor transpose(int a, int b) {
        int[] perm = new int[rank()];
        for (int i = 0; i < perm.length; i++) perm[i] = i;
        int x = shape.axis(a), y = shape.axis(b);
        perm[x] = y;
        perm[y] = x;
        return permute(perm);
    }

    /** Reorders dimensions: result dimension i is this tensor's dimension {@code order[i]} (a view). */
    public Tensor permute(int... order) {
        if (order.length != rank()) throw new IllegalArgumentException("permute " + Arrays.toString(order) + " for shape " + shape);
        int[] d = new int[order.length], st = new int[order.length], inverse = new int[order.length];
        boolean[] used = new boolean[order.length];
        for (int i = 0; i < order.length; i++) {
            int o = shape.axis(order[i]);
            if (used[o]) throw new IllegalArgumentException("permute " + Arrays.toString(order) + " repeats axis " + o);
            used[o] = true;
            d[i] = shape.dim(o);
            st[i] = strides[o];
            inverse[o] = i;
        }
        return view(Shape.of(d), st, offset, g -> addToGrad(g.permute(inverse)));
    }

    /** Elements {@code from} (inclusive) to {@code to} (exclusive) along {@code axis} (a view). */
    public Tensor slice(int axis, int from, int to) {
        int a = shape.axis(axis);
        if (from < 0 || to > shape.dim(a) || from > to)
            throw new IndexOutOfBoundsException("slice [" + from + ", " + to + ") of axis " + a + " with size " + shape.dim(a));
        int[] d = shape.toArray();
        d[a] = to - from;
        Shape full = shape;
        return view(Shape.of(d), strides, offset + from * strides[a], g -> {
            // The part goes straight into this tensor's gradient: slices of one tensor (q, k and v
            // of a fused projection) then share one array instead of one zero-padded copy each.
            if (!requiresGrad) return;
            boolean first = grad == null;
            float[] dx = ownGradArray(), gd = g.dense();
            int outer = full.sizeBetween(0, a), inner = full.sizeBetween(a + 1, full.rank()), n = full.dim(a), m = to - from;
            for (int o = 0; o < outer; o++) {
                int at = (o * n + from) * inner;
                if (first) System.arraycopy(gd, o * m * inner, dx, at, m * inner);
                else VectorMath.add(dx, at, gd, o * m * inner, dx, at, m * inner);
            }
        });
    }

    /** Joins tensors along {@code axis}; all other dimensions must agree. */
    public static Tensor concat(int axis, List<Tensor> parts) {
        if (parts.isEmpty()) throw new IllegalArgumentException("concat of no tensors");
        Shape first = parts.getFirst().shape;
        int a = first.axis(axis);
        int total = 0;
        for (Tensor p : parts) {
            Shape s = p.shape;
            boolean ok = s.rank() == first.rank();
            for (int i = 0; ok && i < s.rank(); i++) ok = i == a || s.dim(i) == first.dim(i);
            if (!ok) throw new IllegalArgumentException("concat along axis " + a + " of shapes " + first + " and " + s);
            total += s.dim(a);
        }
        int[] d = first.toArray();
        d[a] = total;
        Shape out = Shape.of(d);
        int outer = out.sizeBetween(0, a), inner = out.sizeBetween(a + 1, out.rank());
        float[] y = new float[out.size()];
        int at = 0;
        int[] starts = new int[parts.size()];
        for (int k = 0; k < parts.size(); k++) {
            Tensor p = parts.get(k);
            int m = p.dim(a);
            float[] pd = p.dense();
            for (int o = 0; o < outer; o++)
                System.arraycopy(pd, o * m * inner, y, (o * total + at) * inner, m * inner);
            starts[k] = at;
            at += m;
        }
        Tensor[] inputs = parts.toArray(Tensor[]::new);
        return result(y, out, g -> {
            for (int k = 0; k < inputs.length; k++)
                if (inputs[k].requiresGrad) inputs[k].addToGrad(g.slice(a, starts[k], starts[k] + inputs[k].dim(a)).contiguous());
        }, inputs);
    }

    /** Stacks equally shaped tensors along a new dimension {@code axis}. */
    public static Tensor stack(int axis, List<Tensor> parts) {
        List<Tensor> expanded = new ArrayList<>(parts.size());
        for (Tensor p : parts) expanded.add(p.unsqueeze(axis));
        return concat(axis, expanded);
    }

    // ---------------------------------------------------------------- elementwise

    private Tensor binary(Elementwise.Binary op, Tensor o, Backward backward) {
        Shape out = Shape.broadcast(shape, o.shape);
        return result(Elementwise.binary(op, this, o, out), out, backward, this, o);
    }

    /** {@code this + o}, broadcasting. */
    public Tensor add(Tensor o) {
        return binary(Elementwise.Binary.ADD, o, g -> {
            flow(this, g);
            flow(o, g);
        });
    }

    /** {@code this - o}, broadcasting. */
    public Tensor sub(Tensor o) {
        return binary(Elementwise.Binary.SUB, o, g -> {
            flow(this, g);
            if (o.requiresGrad) flow(o, g.neg());
        });
    }

    /** {@code this * o} elementwise, broadcasting. */
    public Tensor mul(Tensor o) {
        return binary(Elementwise.Binary.MUL, o, g -> {
            if (requiresGrad) flow(this, g.mul(o));
            if (o.requiresGrad) flow(o, g.mul(this));
        });
    }

    /** {@code this / o} elementwise, broadcasting. */
    public Tensor div(Tensor o) {
        return binary(Elementwise.Binary.DIV, o, g -> {
            if (requiresGrad) flow(this, g.div(o));
            if (o.requiresGrad) flow(o, g.mul(this).div(o.mul(o)).neg());
        });
    }

    /** Elementwise maximum; the gradient goes to the larger operand (to {@code this} on ties). */
    public Tensor maximum(Tensor o) {
        Tensor out = binary(Elementwise.Binary.MAX, o, null);
        return result(out.storageArray(), out.shape, g -> {
            Tensor takeThis = atLeast(this, o, out.shape);
            if (requiresGrad) flow(this, g.mul(takeThis));
            if (o.requiresGrad) flow(o, g.mul(takeThis.neg().add(1f)));
        }, this, o);
    }

    /** 1 where {@code a >= b} (broadcast to {@code out}), 0 elsewhere. */
    private static Tensor atLeast(Tensor a, Tensor b, Shape out) {
        float[] d = Elementwise.binary(Elementwise.Binary.SUB, a, b, out);
        for (int i = 0; i < d.length; i++) d[i] = d[i] >= 0 ? 1f : 0f;
        return of(d, out);
    }

    /** Adds a constant. */
    public Tensor add(float c) {
        float[] y = toFloatArray();
        for (int i = 0; i < y.length; i++) y[i] += c;
        return result(y, shape, this::addToGrad, this);
    }

    /** Multiplies by a constant. */
    public Tensor mul(float c) {
        float[] y = toFloatArray();
        VectorMath.scale(c, y, 0, y, 0, y.length);
        return result(y, shape, g -> addFreshGrad(g.mul(c)), this);
    }

    /** {@code -this}. */
    public Tensor neg() {
        return mul(-1f);
    }

    /** Elementwise {@code this^p}. */
    public Tensor pow(float p) {
        return map(Pointwise.POW, p);
    }

    /** Elementwise square. */
    public Tensor square() {
        return mul(this);
    }

    /** Elementwise square root. */
    public Tensor sqrt() {
        return map(Pointwise.SQRT, 0);
    }

    /** Elementwise e^x. */
    public Tensor exp() {
        return map(Pointwise.EXP, 0);
    }

    /** Elementwise natural logarithm. */
    public Tensor log() {
        return map(Pointwise.LOG, 0);
    }

    /** Elementwise absolute value. */
    public Tensor abs() {
        return map(Pointwise.ABS, 0);
    }

    /** Elementwise hyperbolic tangent. */
    public Tensor tanh() {
        return map(Pointwise.TANH, 0);
    }

    /** Elementwise logistic sigmoid {@code 1 / (1 + e^-x)}. */
    public Tensor sigmoid() {
        return map(Pointwise.SIGMOID, 0).squashed(this, Squash.SIGMOID);
    }

    /** Elementwise {@code max(x, 0)}. */
    public Tensor relu() {
        return map(Pointwise.RELU, 0);
    }

    /** Elementwise {@code x > 0 ? x : alpha * x}. */
    public Tensor leakyRelu(float alpha) {
        return map(Pointwise.LEAKY_RELU, alpha);
    }

    /** Gaussian error linear unit, exact form {@code x * Phi(x)} (PyTorch's and Keras's default). */
    public Tensor gelu() {
        return map(Pointwise.GELU, 0);
    }

    /**
     * GELU's tanh approximation {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}: GPT-2's
     * activation (PyTorch's {@code gelu(x, approximate='tanh')}, HuggingFace's {@code gelu_new}).
     */
    public Tensor geluTanh() {
        return map(Pointwise.GELU_TANH, 0);
    }

    /** Clamps each element to [lo, hi]; the gradient is zero where clamped. */
    public Tensor clamp(float lo, float hi) {
        if (!(lo <= hi)) throw new IllegalArgumentException("clamp bounds [" + lo + ", " + hi + "]");
        Tensor c = map(Pointwise.CLAMP_LO, lo);
        return c.map(Pointwise.CLAMP_HI, hi);
    }

    private Tensor map(Pointwise op, float p) {
        float[] x = dense();
        float[] y = new float[x.length];
        switch (op) {
            case RELU -> VectorMath.relu(x, 0, y, 0, x.length);
            case EXP -> VectorMath.exp(x, 0, y, 0, x.length);
            case GELU_TANH -> VectorMath.geluTanh(x, 0, y, 0, x.length);
            default -> {
                for (int i = 0; i < x.length; i++) y[i] = op.apply(x[i], p);
            }
        }
        return result(y, shape, g -> {
            float[] gd = g.dense(), dx = new float[x.length];
            if (op == Pointwise.RELU) {
                VectorMath.reluBackward(x, 0, gd, 0, dx, 0, x.length);
            } else if (op == Pointwise.GELU_TANH) {
                VectorMath.geluTanhBackward(x, 0, gd, 0, dx, 0, x.length);
            } else {
                for (int i = 0; i < x.length; i++) dx[i] = gd[i] * op.derivative(x[i], y[i], p);
            }
            addFreshGrad(dx);
        }, this);
    }

    // ---------------------------------------------------------------- reductions

    /** Sum of all elements (rank 0). */
    public Tensor sum() {
        float s = (float) VectorMath.sum(dense(), 0, size());
        Shape from = shape;
        return result(new float[] {s}, Shape.of(), g -> addFreshGrad(full(g.item(), from.toArray())), this);
    }

    /** Mean of all elements (rank 0). */
    public Tensor mean() {
        return sum().mul(1f / size());
    }

    /** Sum along {@code axis}; keeps it as size 1 when {@code keepDim}. */
    public Tensor sum(int axis, boolean keepDim) {
        int a = shape.axis(axis);
        int outer = shape.sizeBetween(0, a), n = shape.dim(a), inner = shape.sizeBetween(a + 1, rank());
        float[] x = dense(), y = new float[outer * inner];
        if (inner == 1) {
            // the last axis: one running sum per row, in the same order as the general loop
            for (int o = 0; o < outer; o++) {
                float acc = 0;
                for (int k = 0; k < n; k++) acc += x[o * n + k];
                y[o] = acc;
            }
        } else {
            for (int o = 0; o < outer; o++)
                for (int k = 0; k < n; k++)
                    VectorMath.add(y, o * inner, x, (o * n + k) * inner, y, o * inner, inner);
        }
        Shape from = shape;
        return result(y, reducedShape(a, keepDim), g -> {
            float[] gd = g.dense(), dx = new float[from.size()];
            for (int o = 0; o < outer; o++) {
                if (inner == 1) Arrays.fill(dx, o * n, (o + 1) * n, gd[o]);
                else for (int k = 0; k < n; k++) System.arraycopy(gd, o * inner, dx, (o * n + k) * inner, inner);
            }
            addFreshGrad(dx);
        }, this);
    }

    /** Mean along {@code axis}. */
    public Tensor mean(int axis, boolean keepDim) {
        return sum(axis, keepDim).mul(1f / shape.dim(axis));
    }

    /** Maximum along {@code axis}; the gradient flows to the first maximal element. */
    public Tensor max(int axis, boolean keepDim) {
        int a = shape.axis(axis);
        int outer = shape.sizeBetween(0, a), n = shape.dim(a), inner = shape.sizeBetween(a + 1, rank());
        if (n == 0) throw new IllegalArgumentException("max over an empty axis of shape " + shape);
        float[] x = dense(), y = new float[outer * inner];
        int[] at = new int[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++) {
                int best = (o * n) * inner + i;
                for (int k = 1; k < n; k++) {
                    int idx = (o * n + k) * inner + i;
                    if (x[idx] > x[best] || Float.isNaN(x[idx]) && !Float.isNaN(x[best])) best = idx;
                }
                y[o * inner + i] = x[best];
                at[o * inner + i] = best;
            }
        Shape from = shape;
        return result(y, reducedShape(a, keepDim), g -> {
            float[] gd = g.dense(), dx = new float[from.size()];
            for (int j = 0; j < at.length; j++) dx[at[j]] += gd[j];
            addFreshGrad(dx);
        }, this);
    }

    /** Index of the largest element of each row along the last axis (no gradient). */
    public int[] argmax() {
        int n = dim(-1), rows = size() / n;
        float[] x = dense();
        int[] out = new int[rows];
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int k = 1; k < n; k++) if (x[r * n + k] > x[r * n + best]) best = k;
            out[r] = best;
        }
        return out;
    }

    private Shape reducedShape(int a, boolean keepDim) {
        int[] d = shape.toArray();
        if (keepDim) {
            d[a] = 1;
            return Shape.of(d);
        }
        int[] r = new int[d.length - 1];
        for (int i = 0, j = 0; i < d.length; i++) if (i != a) r[j++] = d[i];
        return Shape.of(r);
    }

    /** Sums this (broadcast) tensor down to {@code target}, the inverse of broadcasting. */
    public Tensor sumTo(Shape target) {
        if (shape.equals(target)) return this;
        Tensor t = this;
        while (t.rank() > target.rank()) t = t.sum(0, false);
        for (int i = 0; i < target.rank(); i++)
            if (target.dim(i) == 1 && t.dim(i) != 1) t = t.sum(i, true);
        if (!t.shape.equals(target)) throw new IllegalArgumentException("cannot sum " + shape + " down to " + target);
        return t;
    }

    // ---------------------------------------------------------------- linear algebra

    /**
     * Matrix product over the last two dimensions. Supported: {@code [.., m, k] x [k, n]},
     * {@code [m, k] x [b.., k, n]} and {@code [b.., m, k] x [b.., k, n]} with equal batch dimensions.
     */
    public Tensor matmul(Tensor o) {
        return MatMul.apply(this, o);
    }

    /**
     * Multi-head scaled dot-product attention with this tensor as the queries:
     * {@code softmax(q k^T / sqrt(headDim) + mask) v} for each head, as one operation.
     *
     * <p>Queries, keys and values are {@code [batch, time, heads * headDim]} with the heads side by
     * side along the last axis (as a projection produces them; keys and values may have another
     * length than the queries), and the result is {@code [batch, tq, heads * headDim]} in the same
     * layout, the input of the output projection. It equals splitting each into
     * {@code [batch, heads, time, headDim]} ({@code reshape} then {@code permute(0, 2, 1, 3)}),
     * {@code q.matmul(k.transpose(2, 3)).mul(1 / sqrt(headDim)).add(mask).softmax().matmul(v)} and
     * merging the heads back, without the copies: slices of one fused {@code [batch, time, 3 * d]}
     * projection are read in place, and their gradients are added straight into its gradient.
     *
     * <pre>{@code
     * Tensor qkv = cAttn.forward(x);                        // [b, t, 3d]
     * Tensor y = qkv.slice(2, 0, d).attention(qkv.slice(2, d, 2 * d), qkv.slice(2, 2 * d, 3 * d), heads, causalMask);
     * }</pre>
     *
     * @param keys   {@code [batch, tk, heads * headDim]}
     * @param values like {@code keys}
     * @param mask   added to the scores, broadcast to {@code [batch, heads, tq, tk]} (a
     *               {@code [tq, tk]} causal mask of 0 and -infinity, or a {@code [batch, 1, 1, tk]}
     *               padding mask); a constant, or null for none
     */
    public Tensor attention(Tensor keys, Tensor values, int heads, Tensor mask) {
        return Attention.apply(this, keys, values, heads, mask);
    }

    /**
     * {@code this.matmul(kernel).add(bias)} as one operation, a dense layer's product: the bias is
     * the product's starting value instead of a second pass over a second array, and its
     * gradient is summed straight from the output gradient. This tensor is {@code [.., in]}
     * (any leading dimensions), {@code kernel} is {@code [in, out]} (a transposed view of an
     * {@code [out, in]} matrix is read as it lies), {@code bias} is {@code [out]} or null.
     */
    public Tensor linear(Tensor kernel, Tensor bias) {
        return MatMul.linear(this, kernel, bias);
    }

    // ---------------------------------------------------------------- softmax and friends

    /** Softmax along the last axis. */
    public Tensor softmax() {
        int n = dim(-1), rows = size() / n;
        float[] y = new float[size()];
        VectorMath.softmaxRows(dense(), 0, y, 0, rows, n);
        return result(y, shape, g -> {
            // dx = y * (g - sum(g * y))
            float[] dx = new float[y.length];
            VectorMath.softmaxBackwardRows(y, 0, g.dense(), 0, dx, 0, rows, n);
            addFreshGrad(dx);
        }, this).squashed(this, Squash.SOFTMAX);
    }

    /**
     * Layer normalization over the last axis: {@code (x - mean) / sqrt(var + eps) * gamma + beta}
     * per position, variance biased (PyTorch's {@code layer_norm}, Keras's {@code LayerNormalization}),
     * as one operation: one pass for the statistics and one for the output, and a two-pass
     * backward, instead of the eight operations it takes written out.
     *
     * @param gamma scale, shape {@code [d]} with {@code d = dim(-1)}
     * @param beta  shift, shape {@code [d]}
     * @param eps   added to the variance; finite and not negative
     */
    public Tensor layerNorm(Tensor gamma, Tensor beta, float eps) {
        if (rank() < 1 || dim(-1) == 0) throw new IllegalArgumentException("layerNorm needs a non-empty last axis, got shape " + shape);
        int d = dim(-1), rows = size() / d;
        if (!gamma.shape.equals(Shape.of(d)) || !beta.shape.equals(Shape.of(d)))
            throw new IllegalArgumentException("layerNorm of " + shape + " needs gamma and beta of shape [" + d + "], got " + gamma.shape + " and " + beta.shape);
        if (!(eps >= 0) || Float.isInfinite(eps)) throw new IllegalArgumentException("layerNorm epsilon must be finite and not negative, got " + eps);
        float[] x = dense(), gm = gamma.dense(), bt = beta.dense(), y = new float[x.length];
        float[] mean = new float[rows], rstd = new float[rows];
        LayerNormKernel.forward(x, gm, bt, eps, y, mean, rstd, rows, d);
        return result(y, shape, g -> {
            float[] dx = requiresGrad ? new float[x.length] : null;
            float[] dgamma = gamma.requiresGrad ? new float[d] : null, dbeta = beta.requiresGrad ? new float[d] : null;
            float[] gd = g.dense();
            // under PerExampleGrads a parameter gets each example's gradient instead of the batch's
            PerExampleGrads pg = PerExampleGrads.forParameter(gamma), pb = PerExampleGrads.forParameter(beta);
            if (pg != null || pb != null) {
                PerExampleGrads scope = pg != null ? pg : pb;
                int per = scope.rowsPerExample(rows, "layerNorm", shape), batch = scope.batch();
                float[] eg = pg != null ? new float[batch * d] : null, eb = pb != null ? new float[batch * d] : null;
                for (int r = 0; r < rows; r++) {
                    int o = r * d, e = r / per * d;
                    for (int j = 0; j < d; j++) {
                        if (eg != null) eg[e + j] += gd[o + j] * (x[o + j] - mean[r]) * rstd[r];
                        if (eb != null) eb[e + j] += gd[o + j];
                    }
                }
                if (pg != null) pg.add(gamma, eg);
                if (pb != null) pb.add(beta, eb);
                if (pg != null) dgamma = null;
                if (pb != null) dbeta = null;
            }
            LayerNormKernel.backward(x, gm, mean, rstd, gd, dx, dgamma, dbeta, rows, d);
            if (dx != null) addFreshGrad(dx);
            if (dgamma != null) gamma.addFreshGrad(dgamma);
            if (dbeta != null) beta.addFreshGrad(dbeta);
        }, this, gamma, beta);
    }

    /** Log of the softmax along the last axis, computed stably. */
    public Tensor logSoftmax() {
        int n = dim(-1), rows = size() / n;
        float[] y = new float[size()];
        VectorMath.logSoftmaxRows(dense(), 0, y, 0, rows, n);
        return result(y, shape, g -> {
            // dx = g - softmax * sum(g)
            float[] dx = new float[y.length];
            VectorMath.logSoftmaxBackwardRows(y, 0, g.dense(), 0, dx, 0, rows, n);
            addFreshGrad(dx);
        }, this);
    }

    /** Picks {@code x[i, index[i]]} from each row of a {@code [rows, n]} tensor: shape {@code [rows]}. */
    public Tensor pick(int[] index) {
        if (rank() != 2 || index.length != dim(0))
            throw new IllegalArgumentException("pick needs a [rows, n] tensor and one index per row; got " + shape + " and " + index.length + " indices");
        int n = dim(1);
        float[] x = dense(), y = new float[index.length];
        for (int r = 0; r < index.length; r++) {
            if (index[r] < 0 || index[r] >= n) throw new IndexOutOfBoundsException("index " + index[r] + " at row " + r + " is outside [0, " + n + ")");
            y[r] = x[r * n + index[r]];
        }
        return result(y, Shape.of(index.length), g -> {
            float[] gd = g.dense(), dx = new float[size()];
            for (int r = 0; r < index.length; r++) dx[r * n + index[r]] = gd[r];
            addFreshGrad(dx);
        }, this);
    }

    /** Rows of this {@code [v, ...]} table at the given indices: shape {@code [index.length, ...]} (embedding lookup). */
    public Tensor rows(int[] index) {
        int v = dim(0), width = size() / Math.max(v, 1);
        // a contiguous view is read in place: batching from a slice must not copy the whole slice
        boolean inPlace = isContiguous();
        float[] x = inPlace ? storageArray() : dense(), y = new float[index.length * width];
        int base = inPlace ? offset : 0;
        for (int r = 0; r < index.length; r++) {
            if (index[r] < 0 || index[r] >= v) throw new IndexOutOfBoundsException("row " + index[r] + " is outside [0, " + v + ")");
            System.arraycopy(x, base + index[r] * width, y, r * width, width);
        }
        int[] d = shape.toArray();
        d[0] = index.length;
        return result(y, Shape.of(d), g -> {
            float[] gd = g.dense();
            PerExampleGrads perExample = PerExampleGrads.forParameter(this);
            if (perExample != null) {
                // each example's rows scattered into its own copy of the table
                int per = perExample.rowsPerExample(index.length, "rows", Shape.of(index.length)), table = size();
                float[] dx = new float[perExample.batch() * table];
                for (int r = 0; r < index.length; r++) {
                    int o = r / per * table + index[r] * width;
                    VectorMath.add(dx, o, gd, r * width, dx, o, width);
                }
                perExample.add(this, dx);
                return;
            }
            float[] dx = new float[size()];
            for (int r = 0; r < index.length; r++) VectorMath.add(dx, index[r] * width, gd, r * width, dx, index[r] * width, width);
            addFreshGrad(dx);
        }, this);
    }

    // ---------------------------------------------------------------- convolution and pooling

    /**
     * 2-D convolution of this NHWC input with a {@code [kh, kw, c, outC]} filter, Keras style.
     *
     * @param bias   {@code [outC]} or null
     * @param same   'same' padding when true, 'valid' otherwise
     */
    public Tensor conv2d(Tensor filter, Tensor bias, int strideH, int strideW, boolean same) {
        return ConvOps.conv2d(this, filter, bias, strideH, strideW, same, false);
    }

    /**
     * {@code conv2d(filter, bias, strideH, strideW, same).relu()} as one operation, with the same
     * values and gradients: the relu is applied in place to the convolution's output, which saves
     * a pass and an activation-sized array (most convolutions in a CNN are followed by a relu).
     */
    public Tensor conv2dRelu(Tensor filter, Tensor bias, int strideH, int strideW, boolean same) {
        return ConvOps.conv2d(this, filter, bias, strideH, strideW, same, true);
    }

    /** Max pooling over {@code [n, h, w, c]} with the given window and strides. */
    public Tensor maxPool2d(int kh, int kw, int strideH, int strideW, boolean same) {
        return ConvOps.pool2d(this, kh, kw, strideH, strideW, same, true);
    }

    /** Average pooling over {@code [n, h, w, c]}; padding positions are not counted. */
    public Tensor avgPool2d(int kh, int kw, int strideH, int strideW, boolean same) {
        return ConvOps.pool2d(this, kh, kw, strideH, strideW, same, false);
    }
}
