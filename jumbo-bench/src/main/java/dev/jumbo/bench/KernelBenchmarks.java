package dev.jumbo.bench;

import dev.jumbo.kernel.Conv2dKernel;
import dev.jumbo.kernel.ConvGeometry;
import dev.jumbo.kernel.Gemm;
import dev.jumbo.kernel.Pool2dKernel;
import dev.jumbo.kernel.VectorMath;
import dev.jumbo.nn.LayerNorm;
import dev.jumbo.tensor.Tensor;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Micro-benchmarks of the kernels, each on the shapes the Fashion-MNIST CNN and transformer
 * layers use. Run them with the command in the README ("Benchmarks"); {@code -p n=512} and
 * the usual JMH flags narrow a run.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class KernelBenchmarks {
    @Param({"256", "1024"})
    public int n;

    private float[] a, b, c;
    // conv2 of the Fashion-MNIST CNN: [64, 13, 13, 32] * [3, 3, 32, 64]
    private final ConvGeometry conv = ConvGeometry.of(64, 13, 13, 32, 3, 3, 1, 1, false, 64);
    private float[] x, w, bias, y, dy, dx, dw, db;
    // conv1 of the same CNN, a short patch (K = 9) that takes the direct path: [64, 28, 28, 1] * [3, 3, 1, 32]
    private final ConvGeometry conv1 = ConvGeometry.of(64, 28, 28, 1, 3, 3, 1, 1, false, 32);
    private float[] x1, w1, bias1, y1, dw1, db1;
    // its 2x2 max pooling: [64, 26, 26, 32] -> [64, 13, 13, 32]
    private final ConvGeometry pool = ConvGeometry.of(64, 26, 26, 32, 2, 2, 2, 2, false, 32);
    private float[] pooled, poolDx;
    private int[] argmax;
    private float[] rows, rowsOut;
    private Tensor normInput;
    private final LayerNorm layerNorm = new LayerNorm();

    @Setup
    public void setUp() {
        Random r = new Random(1);
        a = random(r, n * n);
        b = random(r, n * n);
        c = new float[n * n];
        x = random(r, conv.n() * conv.h() * conv.w() * conv.c());
        w = random(r, conv.kh() * conv.kw() * conv.c() * conv.outC());
        bias = random(r, conv.outC());
        y = new float[conv.n() * conv.outH() * conv.outW() * conv.outC()];
        dy = random(r, y.length);
        dx = new float[x.length];
        dw = new float[w.length];
        db = new float[conv.outC()];
        x1 = random(r, conv1.n() * conv1.h() * conv1.w());
        w1 = random(r, 9 * conv1.outC());
        bias1 = random(r, conv1.outC());
        y1 = random(r, conv1.n() * conv1.outH() * conv1.outW() * conv1.outC());
        dw1 = new float[w1.length];
        db1 = new float[conv1.outC()];
        pooled = new float[pool.n() * pool.outH() * pool.outW() * pool.c()];
        argmax = new int[pooled.length];
        poolDx = new float[y1.length];
        rows = random(r, 512 * 1024);
        rowsOut = new float[rows.length];
        normInput = Tensor.randn(r, 512, 768);
        layerNorm.forward(normInput); // builds gamma and beta
    }

    private static float[] random(Random r, int size) {
        float[] v = new float[size];
        for (int i = 0; i < size; i++) v[i] = r.nextFloat() - 0.5f;
        return v;
    }

    /** Square sgemm, n x n x n. */
    @Benchmark
    public float[] gemm() {
        Gemm.sgemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
        return c;
    }

    /** Square sgemm with B transposed (the x W^T of a linear layer). */
    @Benchmark
    public float[] gemmTransposedB() {
        Gemm.sgemm(false, true, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
        return c;
    }

    @Benchmark
    public float[] conv2dForward() {
        Conv2dKernel.forward(conv, x, w, bias, y);
        return y;
    }

    @Benchmark
    public void conv2dBackward(Blackhole bh) {
        Conv2dKernel.backwardInput(conv, dy, w, dx);
        Conv2dKernel.backwardFilter(conv, x, dy, dw, db);
        bh.consume(dx);
        bh.consume(dw);
    }

    /** The first layer's forward: a 3x3 filter over one channel, straight from x (no patch matrix). */
    @Benchmark
    public float[] conv2dShortPatchForward() {
        Conv2dKernel.forward(conv1, x1, w1, bias1, y1);
        return y1;
    }

    /** The first layer's filter and bias gradients (its input needs none). */
    @Benchmark
    public float[] conv2dShortPatchBackwardFilter() {
        Conv2dKernel.backwardFilter(conv1, x1, y1, dw1, db1);
        return dw1;
    }

    /** 2x2 max pooling forward and backward over the first layer's output. */
    @Benchmark
    public float[] maxPool() {
        Pool2dKernel.maxForward(pool, y1, pooled, argmax);
        Pool2dKernel.maxBackward(pool, pooled, argmax, poolDx);
        return poolDx;
    }

    /** Softmax over 512 rows of 1024 (attention-sized). */
    @Benchmark
    public float[] softmax() {
        VectorMath.softmaxRows(rows, 0, rowsOut, 0, 512, 1024);
        return rowsOut;
    }

    /** The LayerNorm layer's forward over [512, 768] (BERT-sized rows). */
    @Benchmark
    public Tensor layerNorm() {
        return layerNorm.forward(normInput);
    }

    /** Elementwise add and relu over 512K floats. */
    @Benchmark
    public float[] elementwiseAddRelu() {
        VectorMath.add(rows, 0, rows, 0, rowsOut, 0, rows.length);
        VectorMath.relu(rowsOut, 0, rowsOut, 0, rows.length);
        return rowsOut;
    }
}
