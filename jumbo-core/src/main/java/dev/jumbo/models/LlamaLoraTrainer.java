package dev.jumbo.models;

import dev.jumbo.nn.Parameter;
import dev.jumbo.optim.AdamW;
import dev.jumbo.optim.CosineDecay;
import dev.jumbo.optim.Optimizer;
import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Random;

/**
 * A LoRA fine-tune of a {@link LlamaGraph} made from a model with adapters
 * ({@link Llama#withAdapters}) on a token stream: random windows of {@code context + 1} tokens from
 * the first 90% (the rest held out), cross-entropy of every next token, AdamW on the adapters alone
 * (the optimizer holds moments for them and nothing else; the base weights are frozen and never
 * written), gradient norm clipped to 1, cosine decay to a tenth after a short warm-up.
 *
 * <pre>{@code
 * try (Llama base = Llama2c.load(Path.of("stories260K.bin"))) {
 *     LlamaLora init = LlamaLora.init(base.config(), LoraConfig.defaults(List.of("q_proj", "v_proj")), new Random(1));
 *     LlamaGraph graph = LlamaGraph.of(base.withAdapters(init));
 *     LlamaLoraTrainer t = new LlamaLoraTrainer(graph, tokens, new LlamaLoraTrainer.Options(64, 8, 200, 1e-2, 1));
 *     for (int i = 0; i < 200; i++) t.step();
 *     graph.adapters().write(Path.of("runs/lora"), "stories260K");
 * }
 * }</pre>
 */
public final class LlamaLoraTrainer {
    /**
     * @param context      tokens a window predicts from
     * @param batchSize    windows per step
     * @param iterations   steps the schedule spans
     * @param learningRate peak rate
     * @param seed         order of the windows
     */
    public record Options(int context, int batchSize, int iterations, double learningRate, long seed) {
        public Options {
            if (context <= 0 || batchSize <= 0 || iterations <= 0)
                throw new IllegalArgumentException("context, batch size and iterations must be positive, got " + context + ", " + batchSize + ", " + iterations);
            if (!(learningRate > 0) || Double.isInfinite(learningRate)) throw new IllegalArgumentException("learning rate must be positive, got " + learningRate);
        }
    }

    private final LlamaGraph graph;
    private final int[] train, validation;
    private final Options options;
    private final Optimizer optimizer;
    private final Random random;
    private final List<Parameter> adapters;

    /**
     * @throws IllegalArgumentException if the graph has no adapters, a window is longer than its
     *     context, or either split is shorter than one window
     */
    public LlamaLoraTrainer(LlamaGraph graph, int[] tokens, Options options) {
        this.graph = Objects.requireNonNull(graph, "graph");
        this.options = Objects.requireNonNull(options, "options");
        adapters = graph.adapterParameters();
        if (adapters.isEmpty()) throw new IllegalArgumentException("the graph has no adapters to train: make it from Llama.withAdapters");
        if (options.context() > graph.config().contextLength())
            throw new IllegalArgumentException("context " + options.context() + " is longer than the model's " + graph.config().contextLength());
        int split = (int) (tokens.length * 0.9);
        train = Arrays.copyOfRange(tokens, 0, split);
        validation = Arrays.copyOfRange(tokens, split, tokens.length);
        if (train.length <= options.context() + 1 || validation.length <= options.context() + 1)
            throw new IllegalArgumentException("the text has " + tokens.length + " tokens: too few for windows of " + (options.context() + 1)
                    + " in both its first 90% and its last 10%");
        for (int id : tokens)
            if (id < 0 || id >= graph.config().vocabSize()) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + graph.config().vocabSize());
        random = new Random(options.seed());
        int warmup = Math.min(10, options.iterations() / 10);
        // no weight decay: it would pull B back towards zero, i.e. towards the base model
        optimizer = new AdamW(options.learningRate(), 0.9, 0.999, 1e-8, 0)
                .schedule(new CosineDecay(options.learningRate() / Math.max(1, warmup), Math.max(1, options.iterations() - warmup), 0.1,
                        options.learningRate(), warmup))
                .clipNorm(1.0);
        optimizer.bind(adapters.stream().map(Parameter::value).toList());
    }

    /** One optimizer step on a fresh batch of training windows; returns its loss. */
    public double step() {
        graph.train(true);
        Tensor loss = loss(batch(train, random));
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
        graph.train(false);
        try (var scope = GradMode.noGrad()) {
            for (int i = 0; i < batches; i++) sum += loss(batch(data, r)).item();
        } finally {
            graph.train(true);
        }
        return sum / batches;
    }

    /** Steps taken. */
    public long iterations() {
        return optimizer.iterations();
    }

    /** Weights the optimizer trains (and holds moments for): the adapters'. */
    public long trainableParameters() {
        return adapters.stream().mapToLong(p -> p.value().size()).sum();
    }

    /**
     * Values the optimizer keeps between steps (AdamW's two moments of each trained weight, once
     * it has stepped): the adapters' alone, where a full fine-tune keeps them for every weight.
     */
    public long optimizerStateValues() {
        long n = 0;
        for (var e : optimizer.state().entrySet())
            if (e.getKey().contains(".") && !e.getKey().startsWith("step.")) n += e.getValue().size();
        return n;
    }

    private Tensor[] batch(int[] data, Random r) {
        return TokenWindows.batch(data, options.batchSize(), options.context(), r);
    }

    private Tensor loss(Tensor[] xy) {
        return TokenWindows.loss(graph.forward(xy[0]), xy[1]);
    }
}
