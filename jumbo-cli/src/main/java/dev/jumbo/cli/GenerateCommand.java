package dev.jumbo.cli;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import dev.jumbo.models.CausalLm;
import dev.jumbo.models.GenerationConfig;
import dev.jumbo.models.Generator;
import dev.jumbo.models.Gpt2;
import dev.jumbo.models.Llama;
import dev.jumbo.models.Llama2c;
import dev.jumbo.text.SentencePieceBpe;
import dev.jumbo.text.Tokenizer;
import dev.jumbo.text.Tokenizers;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jumbo generate}: text from a GPT-2 or Llama folder or a llama2.c checkpoint, streamed as it is produced. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generate text with a GPT-2 or Llama model folder (config.json, model.safetensors, and tokenizer.json or vocab.json + merges.txt)"
                + " or a llama2.c checkpoint (FILE.bin, with its tokenizer.bin or tok*.bin beside it or given by --tokenizer).",
                "Example: jumbo generate --model models/gpt2 --prompt \"Hello, I'm a language model,\" --max-new-tokens 30 --top-k 40 --seed 1",
                "Example: jumbo generate --model stories260K.bin --tokenizer tok512.bin --greedy"})
final class GenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR|FILE", description = "HuggingFace-layout GPT-2 or Llama folder, or a llama2.c checkpoint file.")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "The llama2.c tokenizer of a llama2.c checkpoint (default: tokenizer.bin beside the checkpoint, else the one tok*.bin there).")
    Path tokenizerFile;

    @Option(names = "--prompt", defaultValue = "", description = "The text to continue (default: none; generation starts from the model's BOS token).")
    String prompt;

    @Option(names = "--max-new-tokens", defaultValue = "50", description = "Tokens to generate at most (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--greedy", description = "Always the most likely token (no sampling).")
    boolean greedy;

    @Option(names = "--temperature", defaultValue = "1.0", description = "Sampling temperature (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "Sample among the k most likely tokens; 0 for all (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus sampling mass; 1 for all (default: ${DEFAULT-VALUE}).")
    double topP;

    @Option(names = "--repetition-penalty", defaultValue = "1.0", description = "HuggingFace's repetition penalty; 1 for none (default: ${DEFAULT-VALUE}).")
    double repetitionPenalty;

    @Option(names = "--num-return-sequences", defaultValue = "1", description = "Independent continuations (default: ${DEFAULT-VALUE}).")
    int numReturnSequences;

    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--stop", description = "Stop when the generated text contains this string (repeatable).")
    List<String> stops = new ArrayList<>();

    @Option(names = "--sliding-window", description = "Past the model's context, go on from its last context tokens instead of stopping.")
    boolean slidingWindow;

    @Option(names = "--json", description = "Print one JSON object as the last line.")
    boolean json;

    /** A model ready to generate: its tokenizer, the ids that start and end a sequence (-1 for none), and what to close. */
    private record Loaded(CausalLm model, Tokenizer tokenizer, int bos, int eos, AutoCloseable resources) {}

    @Override
    public Integer call() throws Exception {
        Main.banner(spec.commandLine().getErr());
        Loaded loaded = load();
        try (AutoCloseable resources = loaded.resources()) {
            return generate(loaded);
        }
    }

    /**
     * A folder is GPT-2 or, when its config.json says {@code "model_type": "llama"}, Llama; a file is a
     * llama2.c checkpoint. GPT-2 starts from {@code <|endoftext|>} only when the prompt is empty (it
     * was trained without one before texts); Llama always starts from BOS, as its tokenizer expects.
     */
    private Loaded load() throws IOException {
        if (!Files.isDirectory(model)) {
            if (!Files.exists(model)) throw new java.nio.file.NoSuchFileException(model.toString());
            Path tokenizerPath = tokenizerFile;
            if (tokenizerPath == null) {
                tokenizerPath = Llama2c.findTokenizer(model);
                spec.commandLine().getErr().println("tokenizer: " + tokenizerPath + " (found beside the checkpoint)");
            }
            Llama llama = Llama2c.load(model);
            try {
                SentencePieceBpe tokenizer = Llama2c.loadTokenizer(tokenizerPath, llama.vocabSize());
                // run.c ends a story when the model produces BOS, which separates stories in its training data
                return new Loaded(llama, tokenizer, tokenizer.bosId(), Llama2c.BOS, llama);
            } catch (IOException | RuntimeException e) {
                llama.close();
                throw e;
            }
        }
        if (tokenizerFile != null)
            throw new IllegalArgumentException("--tokenizer is for llama2.c checkpoints; a model folder's tokenizer is read from the folder");
        if ("llama".equals(modelType(model.resolve("config.json")))) {
            Llama llama = Llama.load(model);
            Tokenizer tokenizer = Tokenizers.load(model);
            if (!(tokenizer instanceof SentencePieceBpe spm))
                throw new FormatException(model, "a Llama folder needs a SentencePiece tokenizer, found " + tokenizer.getClass().getSimpleName());
            return new Loaded(llama, spm, spm.bosId(), spm.eosId(), llama);
        }
        Gpt2 gpt2 = Gpt2.load(model);
        Tokenizer tokenizer = Tokenizers.load(model);
        int endOfText = tokenizer.id("<|endoftext|>");
        return new Loaded(gpt2, tokenizer, prompt.isEmpty() ? endOfText : -1, endOfText, null);
    }

    /** {@code model_type} of a config.json, or null when it has none (or is no JSON object: Gpt2.load says why). */
    private static String modelType(Path configJson) throws IOException {
        if (!Files.isRegularFile(configJson)) return null;
        try {
            return Json.parse(Files.readString(configJson, StandardCharsets.UTF_8)) instanceof Map<?, ?> c
                    && c.get("model_type") instanceof String type ? type : null;
        } catch (Json.ParseException e) {
            return null;
        }
    }

    private int generate(Loaded loaded) {
        Tokenizer tokenizer = loaded.tokenizer();
        GenerationConfig config = GenerationConfig.defaults().maxNewTokens(maxNewTokens).greedy(greedy).temperature(temperature)
                .topK(topK).topP(topP).repetitionPenalty(repetitionPenalty).seed(seed).stopStrings(stops)
                .eosTokenId(loaded.eos()).bosTokenId(loaded.bos()).numReturnSequences(numReturnSequences).slidingWindow(slidingWindow);
        PrintWriter out = spec.commandLine().getOut();
        int[] current = {-1};
        Generator.Generation g = Generator.generate(loaded.model(), tokenizer, prompt, config, (seq, id, text) -> {
            if (seq != current[0]) {
                if (current[0] >= 0) out.println();
                if (numReturnSequences > 1) out.printf("--- sequence %d%n", seq + 1);
                out.print(prompt);
                current[0] = seq;
            }
            out.print(text);
            out.flush();
        });
        out.println();
        spec.commandLine().getErr().printf("%d tokens, %.1f tokens/s%n", g.generatedTokens(), g.tokensPerSecond());
        if (json) {
            List<Map<String, Object>> seqs = new ArrayList<>();
            for (Generator.Sequence s : g.sequences()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("text", s.text());
                m.put("token_ids", s.tokenIds());
                seqs.add(m);
            }
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("prompt_token_ids", g.promptTokenIds());
            o.put("sequences", seqs);
            o.put("generated_tokens", g.generatedTokens());
            o.put("tokens_per_second", Math.round(g.tokensPerSecond() * 10) / 10.0);
            out.println(JsonOutput.line(o));
        }
        return 0;
    }
}
