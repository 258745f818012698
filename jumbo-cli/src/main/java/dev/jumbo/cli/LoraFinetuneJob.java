package dev.jumbo.cli;

import dev.jumbo.io.AtomicFiles;
import dev.jumbo.lora.LoraAdapters;
import dev.jumbo.lora.LoraConfig;
import dev.jumbo.models.Gpt2;
import dev.jumbo.models.LanguageModel;
import dev.jumbo.models.Llama;
import dev.jumbo.models.LlamaGraph;
import dev.jumbo.models.LlamaLora;
import dev.jumbo.models.LmTrainer;
import dev.jumbo.nn.Init;
import dev.jumbo.nn.Parameter;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.text.Tokenizer;
import dev.jumbo.text.Tokenizers;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;

/**
 * {@code jumbo finetune --task lm}: a GPT-2 folder (as {@code jumbo train-lm} writes it) fine-tuned
 * on a new text, nanoGPT style ({@link LmTrainer}: the text's last 10% is the validation set).
 * With LoRA (the default) the base weights are frozen, adapters are attached to the target
 * modules and only they train; the output folder gets PEFT's {@code adapter_config.json} and
 * {@code adapter_model.safetensors}. With {@code full} every weight trains and the output is a
 * whole model folder. Either way a progress bar runs, the output is written at every evaluation
 * (each file replaced atomically) and {@value #CHART} charts the losses.
 *
 * <p>Memory is measured for the comparison the two modes exist for: the peak of the heap pools
 * (their peaks summed, reset after the model is loaded: an upper bound, and it depends on when the
 * collector ran: garbage not yet collected counts), the largest heap in use just after any
 * collection during training (what training really kept alive: weights, gradients, optimizer
 * state, the activations of the step under way), the heap in use after a full collection at the
 * end, and the optimizer's state itself.
 */
final class LoraFinetuneJob {
    /** The loss chart written into the output folder. */
    static final String CHART = "finetune-loss.png";

    /**
     * What to run.
     *
     * @param tokenizer a llama2.c checkpoint's tokenizer file, or null (beside the checkpoint)
     * @param lora      null for full fine-tuning
     */
    record Settings(Path model, Path tokenizer, Path data, Path out, LoraConfig lora, int iters, int batchSize, int context, double learningRate,
                    int evalEvery, long seed) {}

    /** What came of it. */
    record Outcome(long trainableParameters, long totalParameters, double valLossBefore, double valLoss, double trainLoss,
                   long peakHeapBytes, long peakHeapAfterGcBytes, long liveHeapBytes, long optimizerStateBytes) {}

    private LoraFinetuneJob() {}

    /** PEFT's default targets for the model at {@code model}: GPT-2's fused attention, a Llama's query and value projections. */
    static List<String> defaultTargets(Path model) throws IOException {
        return isGpt2Folder(model) ? List.of("c_attn") : List.of("q_proj", "v_proj");
    }

    private static boolean isGpt2Folder(Path model) throws IOException {
        return Files.isDirectory(model) && !"llama".equals(LanguageModel.modelType(model.resolve("config.json")));
    }

    /**
     * What the loop below trains, whichever model it is: the trainer, the model's parameter count
     * (adapters included), how to write the result into a folder, and what to close afterwards.
     */
    private record Tuning(LmTrainer trainer, long totalParameters, Saver save, LanguageModel resources) {}

    private interface Saver {
        /** Writes the adapter (or the whole model) into {@code out}, each file atomically. */
        void into(Path out) throws IOException;
    }

    static Outcome run(Settings s, PrintWriter err) throws IOException {
        String text;
        try {
            text = Files.readString(s.data(), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(s.data().toString(), null, "no such file");
        }
        Tuning job = isGpt2Folder(s.model()) ? gpt2(s, text, err) : llama(s, text, err);
        Exception failure = null;
        try {
            return train(s, job, err);
        } catch (IOException | RuntimeException e) {
            failure = e;
            throw e;
        } finally {
            if (job.resources() != null) closeQuietly(job.resources(), failure);
        }
    }

    private static int[] encode(Tokenizer tokenizer, String text, Path data) {
        try {
            return tokenizer.encode(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--data " + data + " cannot be written with the model's tokenizer: " + e.getMessage(), e);
        }
    }

    /** A GPT-2 folder: LoRA adapters on its Dense modules, or every weight with {@code --full}. */
    private static Tuning gpt2(Settings s, String text, PrintWriter err) throws IOException {
        Gpt2 gpt2 = Gpt2.load(s.model());
        int[] tokens = encode(Tokenizers.load(s.model()), text, s.data());
        int context = s.context() > 0 ? s.context() : gpt2.contextLength();
        Init.seed(s.seed());
        LoraAdapters lora;
        List<Tensor> trainable;
        if (s.lora() != null) {
            for (Parameter p : gpt2.parameters()) p.freeze();
            lora = LoraAdapters.attach(gpt2.loraModules(), s.lora(), new Random(s.seed()));
            trainable = lora.parameters();
        } else {
            lora = null;
            for (Parameter p : gpt2.parameters()) p.unfreeze();
            trainable = gpt2.parameters().stream().map(Parameter::value).toList();
        }
        long base = gpt2.parameters().stream().mapToLong(p -> p.value().size()).sum();
        long total = base + (lora == null ? 0 : lora.parameterCount());
        LmTrainer trainer = new LmTrainer(gpt2, tokens,
                new LmTrainer.Options(context, s.batchSize(), s.iters(), s.learningRate(), Math.min(100, s.iters() / 10), lora == null ? 0.1 : 0.0, s.seed()),
                trainable);
        err.printf("%d tokens of %s; %s: %d of %d parameters trainable (%.2f%%)%n", tokens.length, s.data(),
                lora == null ? "full fine-tuning" : "LoRA r " + s.lora().r() + ", alpha " + fmt(s.lora().alpha()) + " on " + lora.adapters().size() + " modules",
                trainer.trainableParameters(), total, 100.0 * trainer.trainableParameters() / total);
        return new Tuning(trainer, total, out -> saveGpt2(s, gpt2, lora), null);
    }

    /**
     * A Llama (llama2.c checkpoint, GGUF file or HuggingFace folder): LoRA adapters trained through
     * {@link LlamaGraph}, the base frozen; {@code --full} is refused (the runtime's weights are not parameters).
     */
    private static Tuning llama(Settings s, String text, PrintWriter err) throws IOException {
        if (s.lora() == null)
            throw new IllegalArgumentException("--full fine-tunes GPT-2 folders; a Llama (" + s.model() + ") trains LoRA adapters: leave out --full");
        LanguageModel lm = LanguageModel.load(s.model(), s.tokenizer(), 0, err);
        try {
            if (!(lm.model() instanceof Llama base))
                throw new IllegalArgumentException(s.model() + " is not a GPT-2 folder or a Llama model");
            int[] tokens = encode(lm.tokenizer(), text, s.data());
            int context = s.context() > 0 ? s.context() : base.config().contextLength();
            LlamaLora init = LlamaLora.init(base.config(), s.lora(), new Random(s.seed()));
            LlamaGraph graph = LlamaGraph.of(base.withAdapters(init));
            LmTrainer trainer = new LmTrainer(graph, base.config().contextLength(), tokens,
                    new LmTrainer.Options(context, s.batchSize(), s.iters(), s.learningRate(), Math.min(100, s.iters() / 10), 0.0, s.seed()),
                    graph.adapterParameters().stream().map(Parameter::value).toList());
            long total = graph.parameters().stream().mapToLong(p -> p.value().size()).sum();
            err.printf("%d tokens of %s; LoRA r %d, alpha %s on %d modules: %d of %d parameters trainable (%.2f%%)%n", tokens.length, s.data(),
                    s.lora().r(), fmt(s.lora().alpha()), init.deltas().size(), trainer.trainableParameters(), total,
                    100.0 * trainer.trainableParameters() / total);
            String baseName = s.model().toAbsolutePath().normalize().toString();
            return new Tuning(trainer, total, out -> graph.adapters().write(out, baseName), lm);
        } catch (RuntimeException e) {
            closeQuietly(lm, e);
            throw e;
        }
    }

    /** Closes {@code lm} (its mapped weights); a failure is added to {@code pending}, or thrown when there is none. */
    private static void closeQuietly(LanguageModel lm, Exception pending) throws IOException {
        try {
            lm.close();
        } catch (Exception e) {
            if (pending != null) pending.addSuppressed(e);
            else throw e instanceof IOException io ? io : new IOException("closing " + lm.model().getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    private static Outcome train(Settings s, Tuning job, PrintWriter err) throws IOException {
        LmTrainer trainer = job.trainer();
        long trainableCount = trainer.trainableParameters(), total = job.totalParameters();
        double before = trainer.validationLoss(20);
        err.printf("val loss before: %.4f%n", before);
        err.flush();

        List<MemoryPoolMXBean> heap = ManagementFactory.getMemoryPoolMXBeans().stream().filter(p -> p.getType() == MemoryType.HEAP).toList();
        System.gc();
        heap.forEach(MemoryPoolMXBean::resetPeakUsage);
        AfterGcPeak afterGc = new AfterGcPeak();
        List<double[]> curve = new ArrayList<>(); // {iteration, train loss, val loss}
        double trainLoss = Double.NaN, valLoss = before, running = 0;
        int runningCount = 0;
        try (ProgressBar bar = progressBar(err, s.iters())) {
            for (int i = 1; i <= s.iters(); i++) {
                running += trainer.step();
                runningCount++;
                bar.step();
                bar.setExtraMessage(String.format(" loss %.4f", running / runningCount));
                if (i % s.evalEvery() == 0 || i == s.iters()) {
                    trainLoss = running / runningCount;
                    running = 0;
                    runningCount = 0;
                    valLoss = trainer.validationLoss(20);
                    curve.add(new double[] {i, trainLoss, valLoss});
                    bar.setExtraMessage(String.format(" loss %.4f, val %.4f", trainLoss, valLoss));
                    job.save().into(s.out());
                    chart(curve, before, s.out().resolve(CHART), s.lora() == null ? "full fine-tuning" : "LoRA");
                }
            }
        }
        long peak = heap.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
        long peakAfterGc = afterGc.stop();
        // what stays live (model, gradients, optimizer state) without the garbage the peak depends on the collector for
        System.gc();
        long live = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        err.printf("val loss %.4f -> %.4f after %d iterations; heap: peak %.1f MiB, largest after a collection %.1f MiB, live at the end %.1f MiB;"
                + " optimizer state %.1f MiB%n", before, valLoss, s.iters(), peak / 1048576.0, peakAfterGc / 1048576.0, live / 1048576.0,
                trainer.optimizerStateBytes() / 1048576.0);
        return new Outcome(trainableCount, total, before, valLoss, trainLoss, peak, peakAfterGc, live, trainer.optimizerStateBytes());
    }

    /**
     * The largest heap in use right after a garbage collection, over the collections from its
     * creation to {@link #stop}, from the collectors' notifications.
     */
    private static final class AfterGcPeak implements javax.management.NotificationListener {
        private final List<javax.management.NotificationEmitter> emitters = new ArrayList<>();
        private final java.util.concurrent.atomic.AtomicLong peak = new java.util.concurrent.atomic.AtomicLong();

        AfterGcPeak() {
            for (var gc : ManagementFactory.getGarbageCollectorMXBeans())
                if (gc instanceof javax.management.NotificationEmitter e) {
                    e.addNotificationListener(this, null, null);
                    emitters.add(e);
                }
        }

        @Override
        public void handleNotification(javax.management.Notification n, Object handback) {
            if (!n.getType().equals(com.sun.management.GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) return;
            var info = com.sun.management.GarbageCollectionNotificationInfo.from((javax.management.openmbean.CompositeData) n.getUserData());
            long used = 0;
            for (var pool : ManagementFactory.getMemoryPoolMXBeans())
                if (pool.getType() == MemoryType.HEAP && info.getGcInfo().getMemoryUsageAfterGc().containsKey(pool.getName()))
                    used += info.getGcInfo().getMemoryUsageAfterGc().get(pool.getName()).getUsed();
            peak.accumulateAndGet(used, Math::max);
        }

        long stop() {
            for (var e : emitters) {
                try {
                    e.removeNotificationListener(this);
                } catch (javax.management.ListenerNotFoundException impossible) { // added in the constructor
                    throw new IllegalStateException(impossible);
                }
            }
            return peak.get();
        }
    }

    /** The adapter (LoRA) or the whole model with its tokenizer (full); each file replaced atomically. */
    private static void saveGpt2(Settings s, Gpt2 gpt2, LoraAdapters lora) throws IOException {
        if (lora != null) {
            lora.toPeft(s.model().toAbsolutePath().normalize().toString(), "CAUSAL_LM", true).write(s.out());
            return;
        }
        gpt2.save(s.out());
        for (String f : List.of("tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json")) {
            Path from = s.model().resolve(f);
            if (Files.isRegularFile(from)) AtomicFiles.write(s.out().resolve(f), os -> Files.copy(from, os));
        }
    }

    private static ProgressBar progressBar(PrintWriter err, int iters) {
        OutputStream toErr = new OutputStream() {
            @Override
            public void write(int b) {
                err.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                err.write(new String(b, off, len, StandardCharsets.UTF_8));
            }

            @Override
            public void flush() {
                err.flush();
            }
        };
        return new ProgressBarBuilder().setTaskName("finetune").setInitialMax(iters).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250)
                .setConsumer(new ConsoleProgressBarConsumer(new PrintStream(toErr, true, StandardCharsets.UTF_8), 110))
                .setUnit(" iters", 1).showSpeed().build();
    }

    /** Training and validation loss against the iteration, the loss before fine-tuning at 0. */
    private static void chart(List<double[]> curve, double before, Path png, String title) throws IOException {
        XYChart c = new XYChartBuilder().width(700).height(450).title(title + ": loss").xAxisTitle("iteration").yAxisTitle("loss").build();
        c.getStyler().setMarkerSize(6);
        double[] x = new double[curve.size() + 1], train = new double[curve.size()], trainX = new double[curve.size()], val = new double[curve.size() + 1];
        val[0] = before;
        for (int i = 0; i < curve.size(); i++) {
            x[i + 1] = trainX[i] = curve.get(i)[0];
            train[i] = curve.get(i)[1];
            val[i + 1] = curve.get(i)[2];
        }
        c.addSeries("training", trainX, train).setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        c.addSeries("validation", x, val).setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(700, 450, java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = img.createGraphics();
        g.setRenderingHint(java.awt.RenderingHints.KEY_ANTIALIASING, java.awt.RenderingHints.VALUE_ANTIALIAS_ON);
        c.paint(g, 700, 450);
        g.dispose();
        AtomicFiles.write(png, os -> javax.imageio.ImageIO.write(img, "png", os));
    }

    /** The JSON object {@code --json} prints last. */
    static Map<String, Object> json(Outcome o, Settings s) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("trainable_parameters", o.trainableParameters());
        r.put("total_parameters", o.totalParameters());
        r.put("val_loss", round(o.valLoss()));
        r.put("val_loss_before", round(o.valLossBefore()));
        r.put("train_loss", round(o.trainLoss()));
        r.put("mode", s.lora() == null ? "full" : "lora");
        r.put("iters", s.iters());
        r.put("peak_heap_bytes", o.peakHeapBytes());
        r.put("peak_heap_after_gc_bytes", o.peakHeapAfterGcBytes());
        r.put("live_heap_after_gc_bytes", o.liveHeapBytes());
        r.put("optimizer_state_bytes", o.optimizerStateBytes());
        return r;
    }

    private static double round(double v) {
        return Math.round(v * 10000) / 10000.0;
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
