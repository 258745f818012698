package dev.jumbo.cli;

import dev.jumbo.data.Splits;
import dev.jumbo.data.TensorDataset;
import dev.jumbo.kernel.Gemm;
import dev.jumbo.kernel.Parallel;
import dev.jumbo.nn.Init;
import dev.jumbo.optim.Adam;
import dev.jumbo.train.FitOptions;
import dev.jumbo.train.Sequential;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jumbo bench}: speed figures, medians over repeats. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks: gemm GFLOPS, training seconds per epoch, inference images per second.",
        subcommands = {BenchCommand.GemmBench.class, BenchCommand.TrainBench.class, BenchCommand.InferBench.class, BenchCommand.GenerateBench.class, ServeLoad.class, CompressBench.class, TransferBench.class, ExplainBench.class, SparkBench.class})
final class BenchCommand {

    static double median(List<Double> v) {
        double[] s = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** Peak resident memory of this process in MB (Linux), or -1 where unknown. */
    static double peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status")))
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    @Command(name = "gemm", mixinStandardHelpOptions = true, description = "sgemm GFLOPS (C = A B, square n x n), median of repeats.")
    static final class GemmBench implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--sizes", split = ",", defaultValue = "256,512,1024,2048", description = "Matrix sizes (default: ${DEFAULT-VALUE}).")
        int[] sizes;

        @Option(names = "--threads", split = ",", description = "Thread counts to try (default: all cores).")
        int[] threads;

        @Option(names = "--repeats", defaultValue = "9", description = "Timed samples (about 0.3 s each) per size (default: ${DEFAULT-VALUE}).")
        int repeats;

        @Option(names = "--warmup", defaultValue = "1", description = "Seconds of untimed products per size, while the JIT compiles (default: ${DEFAULT-VALUE}).")
        double warmupSeconds;

        @Option(names = "--json", description = "Print one JSON object as the last line.")
        boolean json;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            Main.banner(spec.commandLine().getErr());
            int[] ts = threads != null ? threads : new int[] {Parallel.threads()};
            List<Map<String, Object>> rows = new ArrayList<>();
            out.printf("%6s %8s %10s%n", "n", "threads", "GFLOPS");
            Random rnd = new Random(1);
            for (int n : sizes) {
                float[] a = new float[n * n], b = new float[n * n], c = new float[n * n];
                for (int i = 0; i < a.length; i++) {
                    a[i] = rnd.nextFloat() - 0.5f;
                    b[i] = rnd.nextFloat() - 0.5f;
                }
                for (int t : ts) {
                    double gflops = Parallel.withThreads(t, () -> {
                        Runnable product = () -> Gemm.sgemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
                        // Warm up (the JIT compiles the kernels meanwhile), then time samples of
                        // about 0.3 s each, as the OpenBLAS peer script does.
                        long warmUntil = System.nanoTime() + (long) (warmupSeconds * 1e9);
                        int calls = 0;
                        while (System.nanoTime() < warmUntil || calls < 3) {
                            product.run();
                            calls++;
                        }
                        long t1 = System.nanoTime();
                        product.run();
                        int reps = (int) Math.max(1, Math.min(10_000, 3e8 / Math.max(1, System.nanoTime() - t1)));
                        double flops = 2.0 * n * n * n * reps;
                        List<Double> g = new ArrayList<>();
                        for (int r = 0; r < repeats; r++) {
                            long t0 = System.nanoTime();
                            for (int i = 0; i < reps; i++) product.run();
                            g.add(flops / (System.nanoTime() - t0));
                        }
                        return median(g);
                    });
                    out.printf("%6d %8d %10.1f%n", n, t, gflops);
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("n", n);
                    row.put("threads", t);
                    row.put("gflops", Math.round(gflops * 10) / 10.0);
                    rows.add(row);
                }
            }
            if (json) out.println(JsonOutput.line(Map.of("gemm", rows)));
            return 0;
        }
    }

    @Command(name = "train", mixinStandardHelpOptions = true, description = "Fashion-MNIST training seconds per epoch (mlp at batch 32, cnn at batch 64): the median epoch, and the first one (with the JIT's warm-up).")
    static final class TrainBench implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--arch", defaultValue = "cnn", description = "mlp or cnn (default: ${DEFAULT-VALUE}).")
        String arch;

        @Option(names = "--epochs", defaultValue = "1", description = "Epochs to time (default: ${DEFAULT-VALUE}).")
        int epochs;

        @Option(names = "--batch-size", description = "Default: 32 for mlp, 64 for cnn.")
        Integer batchSize;

        @Option(names = "--data", paramLabel = "DIR", description = "Folder holding the Fashion-MNIST files.")
        Path dataDir;

        @Option(names = "--json", description = "Print one JSON object as the last line.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            Main.banner(spec.commandLine().getErr());
            Splits s = DataOptions.of("fashion-mnist", dataDir).load();
            int batch = batchSize != null ? batchSize : Architectures.defaultBatchSize(arch);
            Init.seed(1);
            Sequential m = Architectures.build(arch, s.train().exampleShape(), 10);
            TensorDataset train = DataOptions.fit(s.train(), m.inputShape()), test = DataOptions.fit(s.test(), m.inputShape());
            m.compile(new Adam(1e-3), "sparse_categorical_crossentropy", "accuracy");
            TrainCommand.EpochTimer timer = new TrainCommand.EpochTimer(spec.commandLine().getErr());
            m.fit(train, FitOptions.defaults().epochs(epochs).batchSize(batch).seed(1).callbacks(timer));
            double acc = m.evaluate(test, 256).get("accuracy");
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("arch", arch);
            r.put("batch_size", batch);
            r.put("threads", Parallel.threads());
            r.put("seconds_per_epoch", Math.round(timer.medianSeconds() * 100) / 100.0);
            r.put("first_epoch_seconds", Math.round(timer.firstSeconds() * 100) / 100.0);
            r.put("peak_rss_mb", Math.round(peakRssMb()));
            r.put("test_accuracy", Math.round(acc * 10000) / 10000.0);
            out.printf("%s batch %d: %.2f s/epoch, peak RSS %.0f MB, test accuracy %.4f%n", arch, batch, timer.medianSeconds(), peakRssMb(), acc);
            if (json) out.println(JsonOutput.line(r));
            return 0;
        }
    }

    @Command(name = "infer", mixinStandardHelpOptions = true,
            description = "Inference images/s of a built-in architecture (fresh weights) or a saved model, on random 28x28x1 batches; median of repeats.")
    static final class InferBench implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--arch", defaultValue = "cnn", description = "mlp or cnn (default: ${DEFAULT-VALUE}).")
        String arch;

        @Option(names = "--model", paramLabel = "DIR", description = "A saved model instead of --arch.")
        Path model;

        @Option(names = "--batch-size", defaultValue = "256", description = "Images per forward pass (default: ${DEFAULT-VALUE}).")
        int batchSize;

        @Option(names = "--repeats", defaultValue = "15", description = "Timed repeats of 10 batches (default: ${DEFAULT-VALUE}).")
        int repeats;

        @Option(names = "--json", description = "Print one JSON object as the last line.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            Main.banner(spec.commandLine().getErr());
            if (batchSize <= 0) throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
            Init.seed(1);
            Sequential m = model != null ? Sequential.load(model) : Architectures.build(arch, dev.jumbo.tensor.Shape.of(28, 28, 1), 10);
            int[] dims = new int[m.inputShape().rank() + 1];
            dims[0] = batchSize;
            System.arraycopy(m.inputShape().toArray(), 0, dims, 1, m.inputShape().rank());
            dev.jumbo.tensor.Tensor x = dev.jumbo.tensor.Tensor.uniform(new Random(1), 0f, 1f, dims);
            for (int i = 0; i < 5; i++) m.predict(x, batchSize); // warm-up: JIT and buffers
            List<Double> rates = new ArrayList<>();
            for (int r = 0; r < repeats; r++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < 10; i++) m.predict(x, batchSize);
                rates.add(10.0 * batchSize / ((System.nanoTime() - t0) / 1e9));
            }
            double median = median(rates);
            String name = model != null ? model.toString() : arch;
            out.printf("%s batch %d: %.0f images/s (median of %d)%n", name, batchSize, median, repeats);
            if (json) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("arch", name);
                row.put("batch_size", batchSize);
                row.put("threads", Parallel.threads());
                row.put("images_per_second", Math.round(median));
                out.println(JsonOutput.line(row));
            }
            return 0;
        }
    }

    @Command(name = "generate", mixinStandardHelpOptions = true,
            description = {"Prefill and decode tokens/s: a random-weight model of a known shape (--arch llama|gpt2 --shape NAME --dtype TYPE),",
                    "a random GPT-2 of the given size (the default: GPT-2 small, 124M), or a Llama from a file (--model FILE), mapped;",
                    "medians of --rounds runs after --warmup seconds of them. For a file, peak RSS is checked against its size",
                    "plus the KV cache plus 300 MB. --save-model FILE writes a random Llama to a GGUF file instead of timing it."})
    static final class GenerateBench implements Callable<Integer> {
        /** What a process may hold beyond a mapped model file and its KV cache: the JVM, the code, buffers. */
        static final double RSS_ALLOWANCE_MB = 300;

        @Spec
        CommandSpec spec;

        @Option(names = "--model", paramLabel = "FILE", description = "A llama2.c checkpoint (.bin), a Llama GGUF (.gguf) or a HuggingFace Llama folder to run instead of random weights.")
        java.nio.file.Path model;

        @Option(names = "--save-model", paramLabel = "FILE.gguf",
                description = "Write the random Llama of --shape, --dtype and --seed to this GGUF file (a band of rows at a time; replaced atomically) instead of timing it; --model FILE then runs it.")
        java.nio.file.Path saveModel;

        @Option(names = "--arch", description = "llama or gpt2 (default: that of --shape, else gpt2).")
        String arch;

        @Option(names = "--shape", description = "stories110M, tinyllama-1.1b (Llama) or gpt2-124m (default with --arch llama: stories110M).")
        String shape;

        @Option(names = "--dtype", description = "Weight type of a random Llama: f32, f16, q8_0 or q4_0 (default: f32; GPT-2 runs in f32 only).")
        String dtype;

        @Option(names = "--seed", defaultValue = "1", description = "Seed of the random weights and tokens (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--warmup", defaultValue = "3", description = "Seconds of runs before measuring (default: ${DEFAULT-VALUE}).")
        double warmup;

        @Option(names = "--rounds", defaultValue = "5", description = "Measured runs; medians are reported (default: ${DEFAULT-VALUE}).")
        int rounds;

        @Option(names = "--layers", defaultValue = "12", description = "GPT-2 blocks (default: ${DEFAULT-VALUE}).")
        int layers;

        @Option(names = "--dim", defaultValue = "768", description = "GPT-2 width (default: ${DEFAULT-VALUE}).")
        int dim;

        @Option(names = "--heads", defaultValue = "12", description = "GPT-2 attention heads (default: ${DEFAULT-VALUE}).")
        int heads;

        @Option(names = "--vocab", defaultValue = "50257", description = "GPT-2 vocabulary (default: ${DEFAULT-VALUE}).")
        int vocab;

        @Option(names = "--prompt-tokens", defaultValue = "512", description = "Prompt length for prefill (default: ${DEFAULT-VALUE}).")
        int promptTokens;

        @Option(names = "--sequences", defaultValue = "1", description = {"Sequences decoded together, one token each per step (CausalLm.step: a server's",
                "continuous batching); decode tokens/s is then their sum (default: ${DEFAULT-VALUE})."})
        int sequences;

        @Option(names = "--new-tokens", defaultValue = "32", description = "Tokens decoded one at a time after the prompt (default: ${DEFAULT-VALUE}).")
        int newTokens;

        @Option(names = "--json", description = "Print one JSON object as the last line.")
        boolean json;

        @Override
        public Integer call() throws java.io.IOException {
            PrintWriter out = spec.commandLine().getOut();
            if (rounds < 1) throw new IllegalArgumentException("--rounds must be at least 1, got " + rounds);
            if (promptTokens < 1 || newTokens < 0)
                throw new IllegalArgumentException("--prompt-tokens must be at least 1 and --new-tokens at least 0, got " + promptTokens + " and " + newTokens);
            BenchModels.Shape named = shape != null ? BenchModels.shape(shape) : null;
            String a = arch != null ? arch.toLowerCase(java.util.Locale.ROOT) : named != null ? named.arch() : model != null ? "llama" : "gpt2";
            if (!a.equals("llama") && !a.equals("gpt2")) throw new IllegalArgumentException("--arch '" + arch + "' is not one of llama, gpt2");
            if (named != null && !named.arch().equals(a))
                throw new IllegalArgumentException("--shape " + named.name() + " is a " + named.arch() + " shape, not " + a);
            if (model != null && (named != null || dtype != null || a.equals("gpt2") || saveModel != null))
                throw new IllegalArgumentException("--model runs a Llama file in its stored types; --shape, --dtype, --arch gpt2 and --save-model are for random weights");
            if (saveModel != null && a.equals("gpt2"))
                throw new IllegalArgumentException("--save-model writes a random Llama (--arch llama, a Llama --shape); GPT-2 is not written as GGUF here");
            dev.jumbo.tensor.DType type = dtype != null ? BenchModels.dtype(dtype) : dev.jumbo.tensor.DType.F32;
            if (a.equals("gpt2") && type != dev.jumbo.tensor.DType.F32)
                throw new IllegalArgumentException("--arch gpt2 runs Jumbo's trainable GPT-2 in f32 only; --dtype " + dtype
                        + " is for --arch llama (quantized weights are Llama's runtime)");
            Main.banner(spec.commandLine().getErr());
            Map<String, Object> row = new LinkedHashMap<>();
            long t0 = System.nanoTime();
            if (a.equals("gpt2")) {
                Init.seed(seed);
                dev.jumbo.models.Gpt2 gpt2 = new dev.jumbo.models.Gpt2(
                        new dev.jumbo.models.Gpt2Config(vocab, promptTokens + newTokens, dim, layers, heads, 1e-5));
                long[] bytes = BenchModels.gpt2Bytes(gpt2);
                row.put("arch", "gpt2");
                if (named != null) row.put("shape", named.name());
                row.put("dtype", "f32");
                row.put("layers", layers);
                row.put("dim", dim);
                measure(gpt2, row, bytes[0], bytes[1], -1, (System.nanoTime() - t0) / 1e9, out);
                return 0;
            }
            dev.jumbo.models.Llama llama;
            long fileBytes = -1;
            if (named == null && model == null) named = BenchModels.shape("stories110M");
            if (saveModel != null) {
                saveRandom(named, type, out);
                return 0;
            }
            if (model != null) {
                fileBytes = BenchModels.fileBytes(model);
                llama = BenchModels.loadLlama(model);
                row.put("model", model.toString());
            } else {
                llama = BenchModels.randomLlama(named.llama(), type, seed);
                row.put("arch", "llama");
                row.put("shape", named.name());
                row.put("dtype", type.name().toLowerCase(java.util.Locale.ROOT));
            }
            try (llama) {
                var c = llama.config();
                row.put("layers", c.layers());
                row.put("dim", c.dim());
                row.put("heads", c.heads());
                row.put("kv_heads", c.kvHeads());
                row.put("vocab", c.vocabSize());
                measure(llama, row, BenchModels.weightBytes(llama), BenchModels.streamedBytes(llama), fileBytes, (System.nanoTime() - t0) / 1e9, out);
            }
            return 0;
        }

        /** --save-model: the random Llama written to a GGUF file; prints its size, the time and the writer's peak RSS. */
        private void saveRandom(BenchModels.Shape named, dev.jumbo.tensor.DType type, PrintWriter out) throws java.io.IOException {
            PrintWriter err = spec.commandLine().getErr();
            long t0 = System.nanoTime();
            String name = named.name() + "-random-" + type.name().toLowerCase(java.util.Locale.ROOT);
            BenchModels.saveRandomLlama(named.llama(), type, seed, name, saveModel, kept -> err.println("kept F32: " + kept));
            double seconds = (System.nanoTime() - t0) / 1e9, fileMb = BenchModels.mb(java.nio.file.Files.size(saveModel)), rss = peakRssMb();
            out.printf("wrote %s: %s %s, seed %d, %.1f MB in %.1f s; peak RSS while writing %s%n", saveModel, named.name(), type.name().toLowerCase(java.util.Locale.ROOT),
                    seed, fileMb, seconds, rss < 0 ? "unknown" : String.format("%.0f MB", rss));
            if (!json) return;
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("saved_model", saveModel.toString());
            row.put("shape", named.name());
            row.put("dtype", type.name().toLowerCase(java.util.Locale.ROOT));
            row.put("seed", seed);
            row.put("file_mb", fileMb);
            row.put("seconds", Math.round(seconds * 10) / 10.0);
            if (rss >= 0) row.put("peak_rss_mb", Math.round(rss));
            out.println(JsonOutput.line(row));
        }

        /**
         * Random prompts of --prompt-tokens, then --new-tokens decoded: warm-up, then medians of --rounds; prints the figures,
         * and for a model file ({@code fileBytes >= 0}) whether peak RSS stayed within the file, the KV cache and {@value #RSS_ALLOWANCE_MB} MB.
         */
        private void measure(dev.jumbo.models.CausalLm model, Map<String, Object> row, long weightBytes, long bytesPerToken, long fileBytes, double buildSeconds, PrintWriter out) {
            int context = model.contextLength();
            if (promptTokens + newTokens > context)
                throw new IllegalArgumentException("--prompt-tokens " + promptTokens + " and --new-tokens " + newTokens
                        + " must fit in the model's context of " + context);
            if (sequences < 1) throw new IllegalArgumentException("--sequences must be at least 1, got " + sequences);
            Random rnd = new Random(seed);
            int[] prompt = rnd.ints(promptTokens, 0, model.vocabSize()).toArray();
            // the Vector API runs slowly until the JIT has compiled the kernels: warm up first
            int warmups = 0;
            for (long end = System.nanoTime() + (long) (warmup * 1e9); System.nanoTime() < end || warmups == 0; warmups++)
                run(model, prompt, newTokens, sequences, rnd);
            double[] prefill = new double[rounds], decode = new double[rounds];
            long kvBytes = -1;
            for (int i = 0; i < rounds; i++) {
                Run r = run(model, prompt, newTokens, sequences, rnd);
                prefill[i] = r.prefill();
                decode[i] = r.decode();
                kvBytes = r.kvCacheBytes();
            }
            java.util.Arrays.sort(prefill);
            java.util.Arrays.sort(decode);
            double p = prefill[rounds / 2], d = decode[rounds / 2], limit = BenchModels.BANDWIDTH / bytesPerToken, rss = peakRssMb();
            if (sequences > 1) out.printf("%d sequences decoded together: decode tokens/s is their sum%n", sequences);
            out.printf("prefill %d tokens: %.1f tokens/s; decode %d tokens: %.1f tokens/s (bandwidth limit at 36 GB/s: %.1f); weights %.0f MB; peak RSS %s (%s; medians of %d after %d warm-up runs)%n",
                    promptTokens, p, newTokens, d, limit, BenchModels.mb(weightBytes), rss < 0 ? "unknown" : String.format("%.0f MB", rss),
                    row.getOrDefault("model", row.get("arch") + " " + row.getOrDefault("shape", "") + " " + row.get("dtype")).toString().strip(), rounds, warmups);
            double rssLimit = -1;
            if (fileBytes >= 0 && kvBytes >= 0) {
                // the must-show of a mapped file: nothing beyond its pages, the cache and the JVM's own
                rssLimit = Math.round((BenchModels.mb(fileBytes) + BenchModels.mb(kvBytes) + RSS_ALLOWANCE_MB) * 10) / 10.0;
                out.printf("memory: file %.1f MB + KV cache %.1f MB + %.0f MB = limit %.1f MB; peak RSS %s%n", BenchModels.mb(fileBytes), BenchModels.mb(kvBytes),
                        RSS_ALLOWANCE_MB, rssLimit, rss < 0 ? "unknown" : String.format("%.0f MB, %s", rss, rss <= rssLimit ? "within the limit" : "OVER the limit"));
            }
            if (!json) return;
            row.put("prompt_tokens", promptTokens);
            row.put("new_tokens", newTokens);
            row.put("sequences", sequences);
            row.put("threads", Parallel.threads());
            row.put("rounds", rounds);
            row.put("warmup_runs", warmups);
            row.put("build_seconds", Math.round(buildSeconds * 10) / 10.0);
            row.put("prefill_tokens_per_second", Math.round(p * 10) / 10.0);
            row.put("decode_tokens_per_second", Math.round(d * 10) / 10.0);
            if (rss >= 0) row.put("peak_rss_mb", Math.round(rss));
            row.put("weights_mb", BenchModels.mb(weightBytes));
            if (kvBytes >= 0) row.put("kv_cache_mb", BenchModels.mb(kvBytes));
            if (rssLimit >= 0) {
                row.put("file_mb", BenchModels.mb(fileBytes));
                row.put("rss_limit_mb", rssLimit);
                if (rss >= 0) row.put("within_rss_limit", rss <= rssLimit);
            }
            row.put("bytes_per_token", bytesPerToken);
            row.put("bandwidth_limit_tokens_per_second", Math.round(limit * 10) / 10.0);
            out.println(JsonOutput.line(row));
        }

        /** One run: prefill and decode tokens/s, and the bytes of KV cache its session allocated (-1 if not a Llama). */
        private record Run(double prefill, double decode, long kvCacheBytes) {}

        /**
         * The prompt fed at once, then one token at a time, in a new session (dropped at the end: only its figures are kept);
         * with several sequences, each gets the prompt and then they decode together, a {@code CausalLm.step} per token.
         */
        private static Run run(dev.jumbo.models.CausalLm model, int[] prompt, int newTokens, int sequences, Random rnd) {
            // Earlier runs' sessions are garbage, but a collector keeps them until its old generation fills:
            // collected first (outside the timing, as JMH does between iterations), peak RSS is that of one
            // generation, not of the bench's repeats (TinyLlama Q8_0, 8 runs of 544 tokens: 281 MB beyond the file and cache, against 112).
            System.gc();
            java.util.List<dev.jumbo.models.CausalLm.Session> sessions = new java.util.ArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < sequences; i++) {
                dev.jumbo.models.CausalLm.Session s = model.start();
                s.feed(prompt);
                sessions.add(s);
            }
            long t1 = System.nanoTime();
            int[] tokens = new int[sequences];
            for (int i = 0; i < newTokens; i++) {
                for (int k = 0; k < sequences; k++) tokens[k] = rnd.nextInt(model.vocabSize());
                if (sequences == 1) sessions.getFirst().feed(new int[] {tokens[0]});
                else model.step(sessions, tokens);
            }
            long t2 = System.nanoTime();
            long kv = 0;
            for (dev.jumbo.models.CausalLm.Session s : sessions) {
                long b = BenchModels.kvCacheBytes(s);
                kv = b < 0 || kv < 0 ? -1 : kv + b;
            }
            return new Run((double) sequences * prompt.length / ((t1 - t0) / 1e9), (double) sequences * newTokens / Math.max((t2 - t1) / 1e9, 1e-9), kv);
        }
    }
}
