package dev.jumbo.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.jumbo.models.Gpt2;
import dev.jumbo.models.Gpt2Config;
import dev.jumbo.nn.Init;
import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Tensor;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A small GPT-2 with random weights exported to ONNX and run in ONNX Runtime, against {@link Gpt2#forward}. */
class Gpt2OnnxTest {
    @TempDir
    Path tmp;

    private final Random rnd = new Random(20261202);

    @Test
    void logitsMatchOnnxRuntimeForSeveralLengthsAndBatches() throws Exception {
        Init.seed(11);
        Gpt2 gpt = new Gpt2(new Gpt2Config(67, 16, 32, 2, 4, 1e-5));
        // layer norms away from their initial ones and zeros, and weights large enough that attention is not uniform
        for (var e : gpt.stateDict().entrySet()) {
            float[] v = e.getValue().buffer();
            boolean gamma = e.getKey().endsWith("gamma");
            for (int i = 0; i < v.length; i++) v[i] = gamma ? 0.5f + rnd.nextFloat() : (float) rnd.nextGaussian() * 0.3f;
        }
        Path file = tmp.resolve("gpt2.onnx");
        Gpt2Onnx.write(gpt, file);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(file.toString(), new OrtSession.SessionOptions())) {
            for (int[] bt : new int[][] {{1, 1}, {2, 7}, {3, 16}}) {
                int b = bt[0], t = bt[1];
                long[] ids = new long[b * t];
                float[] asFloats = new float[ids.length];
                for (int i = 0; i < ids.length; i++) asFloats[i] = ids[i] = rnd.nextInt(67);
                float[] want;
                try (var scope = GradMode.noGrad()) {
                    want = gpt.forward(Tensor.of(asFloats, b, t)).toFloatArray();
                }
                float[] got;
                try (OnnxTensor in = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {b, t});
                     OrtSession.Result r = session.run(Map.of(Gpt2Onnx.INPUT, in))) {
                    OnnxTensor out = (OnnxTensor) r.get(Gpt2Onnx.OUTPUT).orElseThrow();
                    assertThat(out.getInfo().getShape()).containsExactly(b, t, 67);
                    FloatBuffer fb = out.getFloatBuffer();
                    got = new float[fb.remaining()];
                    fb.get(got);
                }
                double max = 0, scale = 0;
                for (int i = 0; i < got.length; i++) {
                    max = Math.max(max, Math.abs(got[i] - want[i]));
                    scale = Math.max(scale, Math.abs(want[i]));
                }
                System.out.printf("GPT-2 batch %d, length %d: max |logit| %.3f, max abs difference %.2e%n", b, t, scale, max);
                assertThat(scale).as("logits are not all tiny").isGreaterThan(1);
                assertThat(max).as("max abs difference of logits at batch " + b + ", length " + t).isLessThanOrEqualTo(1e-4);
            }
        }
    }
}
