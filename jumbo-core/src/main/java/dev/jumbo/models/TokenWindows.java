package dev.jumbo.models;

import dev.jumbo.tensor.Tensor;
import java.util.Random;

/**
 * Next-token training batches cut from a token stream, as nanoGPT cuts them, and their loss: the
 * language-model trainers ({@link LmTrainer}, {@link LlamaLoraTrainer}) share both.
 */
final class TokenWindows {
    private TokenWindows() {}

    /** {inputs [b, t], targets [b t]}: {@code b} random windows of {@code data} and the same windows one token later. */
    static Tensor[] batch(int[] data, int b, int t, Random r) {
        float[] x = new float[b * t], y = new float[b * t];
        for (int i = 0; i < b; i++) {
            int start = r.nextInt(data.length - t);
            for (int j = 0; j < t; j++) {
                x[i * t + j] = data[start + j];
                y[i * t + j] = data[start + j + 1];
            }
        }
        return new Tensor[] {Tensor.of(x, b, t), Tensor.of(y, b * t)};
    }

    /** Mean cross-entropy of the next tokens {@code targets} under {@code logits} {@code [b, t, vocab]}. */
    static Tensor loss(Tensor logits, Tensor targets) {
        float[] y = targets.toFloatArray();
        int[] ids = new int[y.length];
        for (int i = 0; i < y.length; i++) ids[i] = (int) y[i];
        return logits.reshape(ids.length, -1).logSoftmax().pick(ids).mean().neg();
    }
}
