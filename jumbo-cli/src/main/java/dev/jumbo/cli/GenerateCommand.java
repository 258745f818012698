package dev.jumbo.cli;

import dev.jumbo.models.GenerationConfig;
import dev.jumbo.models.Generator;
import dev.jumbo.models.LanguageModel;
import dev.jumbo.text.Tokenizer;
import java.io.PrintWriter;
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

    @Option(names = "--model", required = true, paramLabel = "DIR|FILE", description = "HuggingFace-layout GPT-2 or Llama folder, a GGUF file (Llama or GPT-2), or a llama2.c checkpoint file.")
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

    @Option(names = "--context", defaultValue = "0", paramLabel = "N",
            description = "Positions a GGUF Llama may use (llama.cpp's -c); 0 for the file's context_length (default: ${DEFAULT-VALUE}).")
    int context;

    @Option(names = "--adapter", paramLabel = "DIR",
            description = "A LoRA adapter folder (adapter_config.json + adapter_model.safetensors, PEFT's layout) run beside a GPT-2 or Llama model's weights, unmerged.")
    Path adapter;

    @Option(names = "--json", description = "Print one JSON object as the last line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Main.banner(spec.commandLine().getErr());
        if (context < 0) throw new IllegalArgumentException("--context must be positive (or 0 for the model's own), got " + context);
        try (LanguageModel loaded = LanguageModel.load(model, tokenizerFile, context, spec.commandLine().getErr())) {
            return generate(adapter == null ? loaded : withAdapter(loaded));
        }
    }

    /**
     * The loaded model running {@link #adapter} beside its weights: a GPT-2 gets the adapters on
     * its layers, a Llama runs them through {@link dev.jumbo.models.Llama#withAdapters}. An adapter
     * made for another model is refused, naming the file.
     */
    private LanguageModel withAdapter(LanguageModel loaded) throws java.io.IOException {
        if (loaded.model() instanceof dev.jumbo.models.Llama llama) {
            dev.jumbo.models.LlamaLora lora = dev.jumbo.models.LlamaLora.read(adapter, llama.config());
            spec.commandLine().getErr().printf("LoRA adapter %s: %d modules, %d parameters%n", adapter, lora.deltas().size(), lora.parameterCount());
            return new LanguageModel(llama.withAdapters(lora), loaded.tokenizer(), loaded.bos(), loaded.bosAlways(), loaded.eos(), loaded.chatTemplate(),
                    loaded.resources());
        }
        if (!(loaded.model() instanceof dev.jumbo.models.Gpt2 gpt2))
            throw new IllegalArgumentException("--adapter is supported for GPT-2 and Llama models; " + model + " holds a " + loaded.model().getClass().getSimpleName());
        AdapterFolders.attach(gpt2.loraModules(), adapter, model, spec.commandLine().getErr());
        return loaded;
    }

    private int generate(LanguageModel loaded) {
        Tokenizer tokenizer = loaded.tokenizer();
        GenerationConfig config = GenerationConfig.defaults().maxNewTokens(maxNewTokens).greedy(greedy).temperature(temperature)
                .topK(topK).topP(topP).repetitionPenalty(repetitionPenalty).seed(seed).stopStrings(stops)
                .eosTokenId(loaded.eos()).bosTokenId(loaded.bosFor(prompt)).numReturnSequences(numReturnSequences).slidingWindow(slidingWindow);
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
        int used = g.promptTokenIds().length + g.sequences().getLast().tokenIds().length;
        if (!slidingWindow && g.sequences().getLast().tokenIds().length < maxNewTokens && used >= loaded.model().contextLength())
            spec.commandLine().getErr().printf("stopped at the model's context of %d tokens (--sliding-window goes on)%n", loaded.model().contextLength());
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
