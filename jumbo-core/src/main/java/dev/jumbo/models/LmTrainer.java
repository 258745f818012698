package dev.jumbo.models;

import dev.jumbo.nn.Module;
import dev.jumbo.nn.Parameter;
import dev.jumbo.optim.AdamW;
import dev.jumbo.optim.CosineDecay;
import dev.jumbo.optim.Optimizer;
import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Tensor;
import java.util.List;
import java.util.Random;

/**
 * Trains a {@link Gpt2} (or any next-token model, e.g. a {@link LlamaGraph}'s LoRA adapters) on a token stream, nanoGPT style: random windows of {@code context + 1}
 * tokens from the first 90% (the rest is held out), cross-entropy of every next token, AdamW with
 * a linear warm-up then cosine decay to a tenth, gradient norm clipped to 1.
 *
 * <pre>{@code
 * LmTrainer t = new LmTrainer(gpt2, tokens, LmTrainer.Options.babyGpt(64, 12, 5000));
 * for (int i = 0; i < 5000; i++) t.step();
 * double val = t.validationLoss(20);
 * }</pre>
 *
 * <p>For LoRA fine-tuning give the tensors to train (the adapters' A and B, with the base frozen):
 * the optimizer then keeps state for those alone.
 */
public final class LmTrainer {
    /**
     * @param context      tokens a window predicts from
     * @param batchSize    windows per step
     * @param iterations   steps the schedule spans
     * @param learningRate peak rate, reached after {@code warmup} steps
     * @param warmup       steps of linear warm-up
     * @param weightDecay  AdamW's decoupled weight decay
     * @param seed         order of the windows
     */
    public record Options(int context, int batchSize, int iterations, double learningRate, int warmup, double weightDecay, long seed) {
        public Options {
            if (context <= 0 || batchSize <= 0 || iterations <= 0 || warmup < 0)
                throw new IllegalArgumentException("context, batch size and iterations must be positive and warm-up >= 0, got "
                        + context + ", " + batchSize + ", " + iterations + ", " + warmup);
        }

        /** nanoGPT's Shakespeare settings: rate 1e-3, 100 warm-up steps, weight decay 0.1. */
        public static Options babyGpt(int context, int batchSize, int iterations) {
            return new Options(context, batchSize, iterations, 1e-3, Math.min(100, iterations / 10), 0.1, 1337);
        }
    }

    private final Module model;
    private final int[] train;
    private final int[] validation;
    private final Options options;
    private final Optimizer optimizer;
    private final Random random;

    /**
     * Trains every parameter of the model (each is made trainable).
     *
     * @throws IllegalArgumentException if either split is shorter than one window
     */
    public LmTrainer(Gpt2 model, int[] tokens, Options options) {
        this(model, tokens, options, trainAll(model));
    }

    private static List<Tensor> trainAll(Gpt2 model) {
        for (Parameter p : model.parameters()) p.unfreeze();
        return model.parameters().stream().map(Parameter::value).toList();
    }

    /**
     * Trains only {@code trainable} (e.g. LoRA adapters' A and B); the optimizer holds state for
     * those alone, and other tensors are left as they are (freeze them so no gradient is computed for them).
     *
     * @throws IllegalArgumentException if either split is shorter than one window or nothing is trainable
     */
    public LmTrainer(Gpt2 model, int[] tokens, Options options, List<Tensor> trainable) {
        this(model, model.contextLength(), tokens, options, trainable);
    }

    /**
     * Trains {@code trainable} of any next-token model: {@code model.forward} takes token ids
     * {@code [batch, time]} (as floats) and gives logits {@code [batch, time, vocab]}, as {@link Gpt2}
     * and {@link LlamaGraph} do (a Llama's LoRA adapters: {@code graph.adapterParameters()}).
     *
     * @param contextLength the most positions the model takes
     * @throws IllegalArgumentException if either split is shorter than one window or nothing is trainable
     */
    public LmTrainer(Module model, int contextLength, int[] tokens, Options options, List<Tensor> trainable) {
        if (options.context() > contextLength)
            throw new IllegalArgumentException("context " + options.context() + " is longer than the model's " + contextLength);
        int split = (int) (tokens.length * 0.9);
        train = java.util.Arrays.copyOfRange(tokens, 0, split);
        validation = java.util.Arrays.copyOfRange(tokens, split, tokens.length);
        if (train.length <= options.context() + 1 || validation.length <= options.context() + 1)
            throw new IllegalArgumentException("the text has " + tokens.length + " tokens: too few for windows of " + (options.context() + 1)
                    + " in both its first 90% and its last 10%");
        this.model = model;
        this.options = options;
        this.random = new Random(options.seed());
        if (trainable.isEmpty()) throw new IllegalArgumentException("nothing to train: the list of trainable tensors is empty");
        optimizer = new AdamW(options.learningRate(), 0.9, 0.99, 1e-8, options.weightDecay())
                .schedule(new CosineDecay(options.learningRate() / Math.max(1, options.warmup()), options.iterations() - options.warmup(),
                        0.1, options.learningRate(), options.warmup()))
                .clipNorm(1.0);
        optimizer.bind(trainable);
    }

    /** One optimizer step on a fresh batch; returns its loss. */
    public double step() {
        model.train(true);
        Tensor loss = loss(batch(train));
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
        float value = loss.item();
        if (!Float.isFinite(value))
            throw new IllegalStateException("loss became " + value + " at step " + optimizer.iterations() + " (lower the learning rate)");
        return value;
    }

    /** Mean loss over {@code batches} batches of the held-out 10% (the same ones each call), without gradients or dropout. */
    public double validationLoss(int batches) {
        return meanLoss(validation, batches);
    }

    /** Mean loss over {@code batches} batches of the training 90% (the same ones each call), without gradients or dropout. */
    public double trainingLoss(int batches) {
        return meanLoss(train, batches);
    }

    private double meanLoss(int[] data, int batches) {
        Random r = new Random(7);
        double sum = 0;
        model.train(false); // LoRA dropout, if any, is for training steps only
        try (var scope = GradMode.noGrad()) {
            for (int i = 0; i < batches; i++) sum += loss(batch(data, r)).item();
        } finally {
            model.train(true);
        }
        return sum / batches;
    }

    /** Bytes of the optimizer's state (AdamW's two moments per trained element, once a step has made them). */
    public long optimizerStateBytes() {
        long bytes = 0;
        for (var e : optimizer.state().entrySet())
            if (!e.getKey().equals("iterations") && !e.getKey().equals("learning_rate") && !e.getKey().startsWith("step.")) bytes += 4L * e.getValue().size();
        return bytes;
    }

    /** Elements the optimizer trains. */
    public long trainableParameters() {
        long n = 0;
        for (Tensor t : optimizer.params()) n += t.size();
        return n;
    }

    /** Steps taken. */
    public long iterations() {
        return optimizer.iterations();
    }

    private Tensor[] batch(int[] data) {
        return batch(data, random);
    }

    /** {inputs [b, t], targets [b t]}: random windows of the stream and the same windows one token later. */
    private Tensor[] batch(int[] data, Random r) {
        int b = options.batchSize(), t = options.context();
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

    /** Mean cross-entropy of the next tokens, from the logits. */
    private Tensor loss(Tensor[] xy) {
        Tensor logits = model.forward(xy[0]);
        float[] y = xy[1].toFloatArray();
        int[] targets = new int[y.length];
        for (int i = 0; i < y.length; i++) targets[i] = (int) y[i];
        return logits.reshape(targets.length, -1).logSoftmax().pick(targets).mean().neg();
    }
}
