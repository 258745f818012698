package dev.jumbo.models;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumbo.tensor.DType;
import dev.jumbo.tensor.WeightMatrix;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Decoding allocates nothing once a session's buffers and cache blocks exist, for Llama's and
 * GPT-2's runtimes: Flight Recorder samples no allocation in the models' own code, and the bytes
 * per token counted on the decoding thread and the compute threads stay within what the kernels
 * allocate per call; for a tiny model of each and one big enough that the products are split, by
 * {@link AllocationProbe} in a JVM of its own (what the JIT inlines, and so where the Vector API
 * still allocates, depends on everything else a JVM has run).
 */
class DecodingAllocationTest {
    private static final Pattern BYTES = Pattern.compile(
            "(\\S+ dim \\d+): (\\d+) bytes per token on the decoding thread, (\\d+) on the compute threads, after \\d+ sessions \\(allowed (\\d+)\\)");

    /**
     * Each model decodes within its allowance in a JVM of its own. A model over it is measured again
     * in a fresh JVM, twice at most: the JIT's decisions differ from one JVM to the next, and once in
     * CI every wide model (its attention heads on the full-width vector path) allocated 256 KB a token
     * for 45 s, the Vector API's boxes of code left uncompiled, where the next JVMs settled at 3 KB.
     * Allocation in Jumbo's own code shows in every JVM, and fails the test.
     */
    @Test
    void decodingATokenAllocatesNothing() throws Exception {
        List<String> pending = AllocationProbe.models().stream().map(AllocationProbe.Probe::name).toList();
        Map<String, String> last = new java.util.LinkedHashMap<>();
        for (int attempt = 0; attempt < 3 && !pending.isEmpty(); attempt++) {
            String out = probe(pending);
            List<String> over = new java.util.ArrayList<>();
            for (String name : pending) {
                String line = out.lines().filter(l -> l.startsWith(name + ": ") && l.contains("bytes per token")).findFirst()
                        .orElseThrow(() -> new AssertionError("no figure for " + name + " in:\n" + out));
                assertThat(out.lines().filter(l -> l.startsWith(name + ": ") && l.contains("allocations sampled in the model's own code")))
                        .as(out).containsExactly(name + ": 0 allocations sampled in the model's own code");
                Matcher m = BYTES.matcher(line);
                assertThat(m.matches()).as(line).isTrue();
                long caller = Long.parseLong(m.group(2)), pool = Long.parseLong(m.group(3)), allowed = Long.parseLong(m.group(4));
                last.put(name, line);
                if (caller > allowed || pool > allowed) over.add(name);
            }
            pending = over;
        }
        assertThat(pending).as("over their allowance in three JVMs: " + last).isEmpty();
    }

    /** Runs {@link AllocationProbe} on the named models in a fresh JVM and returns what it printed. */
    private static String probe(List<String> names) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-Xmx1g", "-cp", System.getProperty("java.class.path"), AllocationProbe.class.getName()));
        command.addAll(names);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
        System.out.print(out);
        return out;
    }

    /** Measures bytes allocated per decoded token after the JIT has settled; run by {@link #decodingATokenAllocatesNothing}. */
    static final class AllocationProbe {
        /**
         * Bytes allowed per kernel call of a token for what the kernels under the models allocate: a
         * capturing lambda per product or norm, Parallel's job record when it splits a call, and
         * vector boxes where the JIT did not inline a Vector API helper. Independent of the widths,
         * unlike any buffer (the larger models' activations alone are 4 KB a token, a key/value
         * row 2 KB a layer).
         */
        static final long RESIDUE_PER_CALL = 1024;

        /** A model to probe, and its kernel calls per token. */
        record Probe(String name, CausalLm model, int vocab, long callsPerToken) {}

        static List<Probe> models() {
            LlamaConfig tiny = LlamaTest.tiny(4, 2, LlamaConfig.RopeStyle.NORM, true);
            LlamaConfig wide = new LlamaConfig(256, 768, 2, 8, 4, 1000, 128, 1e-5f, 10000, LlamaConfig.RopeStyle.NEOX, false);
            dev.jumbo.nn.Init.seed(5);
            Gpt2Config smallGpt2 = new Gpt2Config(97, 128, 32, 2, 4, 1e-5), wideGpt2 = new Gpt2Config(1000, 128, 256, 2, 8, 1e-5);
            // Llama: 7 products a layer and the classifier; GPT-2: 4 products, 2 norms and the GELU a layer, the final norm and the classifier
            Llama wideLlama = LlamaTest.Weights.random(wide, 3).llama();
            return List.of(new Probe("llama dim " + tiny.dim(), LlamaTest.Weights.random(tiny, 3).llama(), tiny.vocabSize(), 7L * tiny.layers() + 1),
                    new Probe("llama dim " + wide.dim(), wideLlama, wide.vocabSize(), 7L * wide.layers() + 1),
                    // quantized weights multiply activations quantized to 8 bits on the fly, into scratch that must be reused
                    new Probe("llama-q4_0 dim " + wide.dim(), encoded(wideLlama, DType.Q4_0), wide.vocabSize(), 7L * wide.layers() + 1),
                    new Probe("llama-q8_0 dim " + wide.dim(), encoded(wideLlama, DType.Q8_0), wide.vocabSize(), 7L * wide.layers() + 1),
                    // LoRA adapters run unmerged on every projection: two more products a projection, in the session's buffers
                    new Probe("llama-lora dim " + wide.dim(), wideLlama.withAdapters(LlamaLoraTest.random(wide, 8, 16,
                            java.util.EnumSet.allOf(LlamaLora.Projection.class), new java.util.Random(4), 0.02)), wide.vocabSize(), 3 * 7L * wide.layers() + 1),
                    new Probe("gpt2 dim " + smallGpt2.nEmbd(), new Gpt2(smallGpt2), smallGpt2.vocabSize(), 7L * smallGpt2.nLayer() + 2),
                    new Probe("gpt2 dim " + wideGpt2.nEmbd(), new Gpt2(wideGpt2), wideGpt2.vocabSize(), 7L * wideGpt2.nLayer() + 2));
        }

        /** The same model with its matrices (all but the embedding) stored in {@code type}. */
        static Llama encoded(Llama f32, DType type) {
            java.util.function.UnaryOperator<WeightMatrix> enc = m -> {
                float[] values = new float[m.rows() * m.cols()];
                for (int r = 0; r < m.rows(); r++) m.row(r, values, r * m.cols());
                return WeightMatrix.quantize(values, m.rows(), m.cols(), type);
            };
            List<Llama.Layer> layers = f32.layers().stream().map(w -> new Llama.Layer(w.attentionNorm(), enc.apply(w.wq()), enc.apply(w.wk()),
                    enc.apply(w.wv()), enc.apply(w.wo()), w.ffnNorm(), enc.apply(w.w1()), enc.apply(w.w2()), enc.apply(w.w3()))).toList();
            return new Llama(f32.config(), f32.embedding(), layers, f32.finalNorm(), enc.apply(f32.output()), null);
        }

        public static void main(String[] args) {
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            for (Probe probe : models()) {
                if (args.length > 0 && !List.of(args).contains(probe.name())) continue;
                CausalLm model = probe.model();
                int[] ids = LlamaTest.randomIds(127, probe.vocab(), 4);
                int[][] one = new int[ids.length][];
                for (int t = 0; t < ids.length; t++) one[t] = new int[] {ids[t]};
                int tokens = ids.length - 70;
                long allowed = RESIDUE_PER_CALL * probe.callsPerToken();
                long caller = Long.MAX_VALUE, pool = Long.MAX_VALUE;
                long deadline = System.nanoTime() + 20_000_000_000L; // it ends once settled, within a few seconds in a JVM that compiles the kernels
                int rounds = 0;
                // the Vector API allocates until the JIT has compiled its callers: decode sessions until
                // the count settles well below the allowance (or time is up), keeping the best session; at
                // least 10 sessions whatever the clock says, since on a machine loaded with other work one
                // session once took the whole 20 s and the JIT had not yet compiled anything (CI, 9 MB a token)
                while ((caller > allowed / 4 || pool > allowed / 4) && (System.nanoTime() < deadline || rounds < 10)) {
                    CausalLm.Session s = model.start();
                    s.feed(Arrays.copyOf(ids, 70)); // buffers and both cache blocks exist from here
                    long[] workers = computeThreads();
                    long workersBefore = sum(threads.getThreadAllocatedBytes(workers));
                    long before = threads.getCurrentThreadAllocatedBytes();
                    for (int t = 70; t < ids.length; t++) s.feed(one[t]);
                    long c0 = (threads.getCurrentThreadAllocatedBytes() - before) / tokens;
                    long p0 = (sum(threads.getThreadAllocatedBytes(workers)) - workersBefore) / tokens;
                    if (Math.max(c0, p0) < Math.max(caller, pool)) {
                        caller = c0;
                        pool = p0;
                    }
                    rounds++;
                }
                System.out.printf("%s: %d bytes per token on the decoding thread, %d on the compute threads, after %d sessions (allowed %d)%n",
                        probe.name(), caller, pool, rounds, allowed);
                System.out.printf("%s: %d allocations sampled in the model's own code%n", probe.name(), ownAllocations(model, ids));
            }
        }

        /**
         * Allocations whose allocating method is in the models' package (the model, its session,
         * its attention cache), sampled by Flight Recorder while sessions prepared beforehand decode
         * tokens: unlike the byte counts, blind to the kernels.
         */
        static long ownAllocations(CausalLm model, int[] ids) {
            List<CausalLm.Session> sessions = new java.util.ArrayList<>();
            for (int i = 0; i < 100; i++) {
                CausalLm.Session s = model.start();
                s.feed(Arrays.copyOf(ids, 70));
                sessions.add(s);
            }
            int[][] one = new int[ids.length][];
            for (int t = 0; t < ids.length; t++) one[t] = new int[] {ids[t]};
            try (jdk.jfr.Recording r = new jdk.jfr.Recording()) {
                r.enable("jdk.ObjectAllocationSample").with("throttle", "100000/s").withStackTrace();
                r.start();
                for (CausalLm.Session s : sessions) for (int t = 70; t < ids.length; t++) s.feed(one[t]);
                r.stop();
                Path file = Files.createTempFile("decode-alloc", ".jfr");
                r.dump(file);
                long ours = 0;
                for (jdk.jfr.consumer.RecordedEvent e : jdk.jfr.consumer.RecordingFile.readAllEvents(file)) {
                    var frames = e.getStackTrace() == null ? List.<jdk.jfr.consumer.RecordedFrame>of() : e.getStackTrace().getFrames();
                    if (!frames.isEmpty() && frames.getFirst().getMethod().getType().getName().startsWith("dev.jumbo.models.")) {
                        ours++;
                        System.out.println("  allocated in " + frames.getFirst().getMethod().getType().getName() + "." + frames.getFirst().getMethod().getName()
                                + ": " + e.getClass("objectClass").getName());
                    }
                }
                Files.delete(file);
                return ours;
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        private static long[] computeThreads() {
            return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("jumbo-compute-")).mapToLong(Thread::threadId).toArray();
        }

        private static long sum(long[] xs) {
            long s = 0;
            for (long x : xs) s += Math.max(0, x);
            return s;
        }
    }
}
