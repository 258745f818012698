package dev.jumbo.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.jumbo.models.Bert;
import dev.jumbo.models.BertConfig;
import dev.jumbo.nn.Init;
import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Tensor;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** BERT encoders exported to ONNX and run in ONNX Runtime, against {@link Bert#forward(Tensor, Tensor)}, padding included. */
class BertOnnxTest {
    @TempDir
    Path tmp;

    private final Random rnd = new Random(20261203);

    @Test
    void aRandomBertWithPaddingMatchesOnnxRuntime() throws Exception {
        Init.seed(21);
        Bert bert = new Bert(new BertConfig(40, 24, 2, 3, 48, 12, 2, 1e-12), true, true); // pooler and head stay out of the graph
        for (var e : bert.stateDict().entrySet()) {
            float[] v = e.getValue().buffer();
            boolean gamma = e.getKey().endsWith("gamma");
            for (int i = 0; i < v.length; i++) v[i] = gamma ? 0.5f + rnd.nextFloat() : (float) rnd.nextGaussian() * 0.3f;
        }
        Path file = tmp.resolve("bert.onnx");
        BertOnnx.write(bert, file);
        // the second sequence is padded after 5 tokens; the third is one token long
        long[][] ids = new long[3][9], mask = new long[3][9];
        int[] lengths = {9, 5, 1};
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 9; j++) {
                ids[i][j] = j < lengths[i] ? rnd.nextInt(40) : 0;
                mask[i][j] = j < lengths[i] ? 1 : 0;
            }
        double max = compare(bert, file, ids, mask);
        System.out.printf("random BERT: max abs difference %.2e%n", max);
        assertThat(max).as("max abs difference of hidden states, ONNX Runtime against Jumbo").isLessThanOrEqualTo(1e-4);
    }

    @Test
    void miniLmReExportedMatchesOnnxRuntime() throws Exception {
        Path original = tmp.resolve("all-minilm-l6-v2.onnx");
        try (InputStream in = BertOnnxTest.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
            assertThat(in).as("all-minilm-l6-v2.onnx on the test class path").isNotNull();
            Files.copy(in, original);
        }
        Bert bert = OnnxBert.load(original);
        Path file = tmp.resolve("minilm-again.onnx");
        BertOnnx.write(bert, file);
        long[][] ids = {{101, 7592, 2088, 1010, 2129, 2024, 2017, 102}, {101, 3376, 2154, 102, 0, 0, 0, 0}};
        long[][] mask = {{1, 1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 0, 0, 0, 0}};
        double max = compare(bert, file, ids, mask);
        System.out.printf("all-MiniLM-L6-v2 re-exported: max abs difference %.2e%n", max);
        assertThat(max).as("max abs difference of hidden states, ONNX Runtime against Jumbo").isLessThanOrEqualTo(1e-4);
    }

    private static double compare(Bert bert, Path file, long[][] ids, long[][] mask) throws Exception {
        int b = ids.length, t = ids[0].length;
        float[] idsF = new float[b * t], maskF = new float[b * t];
        long[] idsFlat = new long[b * t], maskFlat = new long[b * t];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < t; j++) {
                idsF[i * t + j] = idsFlat[i * t + j] = ids[i][j];
                maskF[i * t + j] = maskFlat[i * t + j] = mask[i][j];
            }
        float[] want;
        try (var scope = GradMode.noGrad()) {
            want = bert.forward(Tensor.of(idsF, b, t), Tensor.of(maskF, b, t)).toFloatArray();
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        float[] got;
        try (OrtSession session = env.createSession(file.toString(), new OrtSession.SessionOptions());
             OnnxTensor i = OnnxTensor.createTensor(env, LongBuffer.wrap(idsFlat), new long[] {b, t});
             OnnxTensor m = OnnxTensor.createTensor(env, LongBuffer.wrap(maskFlat), new long[] {b, t});
             OrtSession.Result r = session.run(Map.of(BertOnnx.INPUT_IDS, i, BertOnnx.ATTENTION_MASK, m))) {
            OnnxTensor out = (OnnxTensor) r.get(BertOnnx.OUTPUT).orElseThrow();
            assertThat(out.getInfo().getShape()).containsExactly(b, t, bert.config().hiddenSize());
            FloatBuffer fb = out.getFloatBuffer();
            got = new float[fb.remaining()];
            fb.get(got);
        }
        double max = 0;
        for (int k = 0; k < got.length; k++) max = Math.max(max, Math.abs(got[k] - want[k]));
        return max;
    }
}
