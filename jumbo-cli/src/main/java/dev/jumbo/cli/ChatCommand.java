package dev.jumbo.cli;

import dev.jumbo.models.ChatTemplate;
import dev.jumbo.models.GenerationConfig;
import dev.jumbo.models.Generator;
import dev.jumbo.models.LanguageModel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code jumbo chat}: an interactive loop. Each line typed is the user's turn; the conversation is
 * written out in the model's chat template (recognised from the file's Jinja template, see
 * {@link ChatTemplate}) and the reply streams back. An empty line is skipped; {@code /exit} or the
 * end of input ends the chat. When the conversation outgrows the context, its oldest turns are dropped.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chat with a model: each line you type is a turn, the reply streams back; /exit or end of input quits.",
                "The model's chat template (GGUF tokenizer.chat_template or tokenizer_config.json chat_template) is applied when it has one",
                "(ChatML, Llama 2 [INST], Zephyr <|user|> are recognised); otherwise \"User: ... Assistant:\".",
                "Example: jumbo chat --model tinyllama-1.1b-chat.Q4_0.gguf --system \"You are a helpful assistant.\""})
final class ChatCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR|FILE", description = "A GGUF file, a HuggingFace-layout folder or a llama2.c checkpoint.")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "The tokenizer of a llama2.c checkpoint (default: beside it).")
    Path tokenizerFile;

    @Option(names = "--system", description = "A system message before the conversation.")
    String system;

    @Option(names = "--max-new-tokens", defaultValue = "256", description = "Tokens per reply at most (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0.8", description = "Sampling temperature (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top-p", defaultValue = "0.95", description = "Nucleus sampling mass (default: ${DEFAULT-VALUE}).")
    double topP;

    @Option(names = "--greedy", description = "Always the most likely token.")
    boolean greedy;

    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--context", defaultValue = "0", paramLabel = "N", description = "Positions a GGUF Llama may use; 0 for the file's own (default: ${DEFAULT-VALUE}).")
    int context;

    /** Where the user's lines come from: standard input, or a test's text. */
    Reader input = new InputStreamReader(System.in, StandardCharsets.UTF_8);

    @Override
    public Integer call() throws Exception {
        Main.banner(spec.commandLine().getErr());
        if (maxNewTokens < 1) throw new IllegalArgumentException("--max-new-tokens must be at least 1, got " + maxNewTokens);
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        try (LanguageModel loaded = LanguageModel.load(model, tokenizerFile, context, err)) {
            ChatTemplate template = ChatTemplate.detect(loaded.chatTemplate());
            err.println("chat template: " + template.name().toLowerCase(java.util.Locale.ROOT) + (loaded.chatTemplate() == null ? " (the model has none)" : "")
                    + "; /exit or end of input quits");
            List<ChatTemplate.Message> history = new ArrayList<>();
            if (system != null) history.add(new ChatTemplate.Message("system", system));
            GenerationConfig config = GenerationConfig.defaults().maxNewTokens(maxNewTokens).greedy(greedy).temperature(temperature).topP(topP)
                    .stopStrings(template.stops()).eosTokenId(loaded.eos());
            BufferedReader lines = new BufferedReader(input);
            int turn = 0;
            for (String line; ; ) {
                out.print("> ");
                out.flush();
                if ((line = lines.readLine()) == null || line.strip().equals("/exit")) break;
                if (line.isBlank()) continue;
                history.add(new ChatTemplate.Message("user", line.strip()));
                String prompt = fit(template, history, loaded);
                Generator.Generation g = Generator.generate(loaded.model(), loaded.tokenizer(), prompt, config.seed(seed + turn++).bosTokenId(loaded.bosFor(prompt)), (seq, id, text) -> {
                    out.print(text);
                    out.flush();
                });
                out.println();
                history.add(new ChatTemplate.Message("assistant", g.sequences().getFirst().text().strip()));
            }
            out.println();
            return 0;
        }
    }

    /** The conversation as a prompt that leaves room for a reply, dropping the oldest turns (never the system message or the last one) as needed. */
    private String fit(ChatTemplate template, List<ChatTemplate.Message> history, LanguageModel loaded) {
        int room = loaded.model().contextLength() - maxNewTokens - 1;
        String prompt = template.format(history);
        while (loaded.tokenizer().encode(prompt).length > room) {
            int first = !history.isEmpty() && history.getFirst().role().equals("system") ? 1 : 0;
            if (history.size() - first <= 1)
                throw new IllegalArgumentException("the message alone is longer than the context of " + loaded.model().contextLength()
                        + " tokens minus --max-new-tokens " + maxNewTokens);
            history.remove(first);
            prompt = template.format(history);
        }
        return prompt;
    }
}
