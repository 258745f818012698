package dev.jumbo.cli;

import dev.jumbo.models.Gpt2;
import dev.jumbo.models.Perplexity;
import dev.jumbo.tensor.DType;
import dev.jumbo.text.Tokenizer;
import dev.jumbo.text.Tokenizers;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jumbo perplexity}: a GPT-2 folder's perplexity on a text at F32 and at quantized
 * precisions, with the KL divergence of each quantized model's next-token distributions from F32's.
 */
@Command(name = "perplexity", mixinStandardHelpOptions = true,
        description = {"Perplexity of a GPT-2 folder (jumbo train-lm writes one) on a text, at F32 and with its matrices through Q8_0 and Q4_0,"
                + " and the KL divergence of the quantized next-token distributions from F32's.",
                "Example: jumbo perplexity --model runs/shakespeare --text ../shared/data/tinyshakespeare.txt --json"})
final class PerplexityCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "A GPT-2 folder with its tokenizer (config.json, model.safetensors, tokenizer.json).")
    Path dir;

    @Option(names = "--text", required = true, paramLabel = "FILE", description = "UTF-8 text to score.")
    Path text;

    @Option(names = "--split", defaultValue = "val", paramLabel = "val|all",
            description = "val: the last 10%% of the text's tokens, the part jumbo train-lm holds out; all: the whole text (default: ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--types", defaultValue = "f32,q8_0,q4_0", split = ",", description = "Precisions to score, f32 first (default: ${DEFAULT-VALUE}).")
    List<String> types;

    @Option(names = "--window", paramLabel = "N", description = "Tokens per window (default: the model's context).")
    Integer window;

    @Option(names = "--max-tokens", paramLabel = "N", description = "Score only the first N tokens of the split.")
    Integer maxTokens;

    @Option(names = "--json", description = "Print one JSON object with the rows as the last line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Main.banner(spec.commandLine().getErr());
        if (!split.equals("val") && !split.equals("all")) throw new IllegalArgumentException("--split must be val or all, got '" + split + "'");
        List<DType> precisions = new ArrayList<>();
        for (String t : types) {
            DType d = switch (t.toLowerCase(Locale.ROOT)) {
                case "f32" -> DType.F32;
                case "f16" -> DType.F16;
                case "q8_0" -> DType.Q8_0;
                case "q4_0" -> DType.Q4_0;
                default -> throw new IllegalArgumentException("--types takes f32, f16, q8_0 and q4_0, got '" + t + "'");
            };
            precisions.add(d);
        }
        if (precisions.isEmpty() || precisions.getFirst() != DType.F32) throw new IllegalArgumentException("--types must start with f32, the reference");
        Gpt2 f32 = Gpt2.load(dir);
        Tokenizer tokenizer = Tokenizers.load(dir);
        String corpus;
        try {
            corpus = Files.readString(text, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(text.toString(), null, "no such file");
        }
        int[] tokens = tokenizer.encode(corpus);
        if (split.equals("val")) tokens = Arrays.copyOfRange(tokens, (int) (tokens.length * 0.9), tokens.length); // as LmTrainer splits
        if (maxTokens != null) {
            if (maxTokens < 2) throw new IllegalArgumentException("--max-tokens must be at least 2, got " + maxTokens);
            tokens = Arrays.copyOf(tokens, Math.min(tokens.length, maxTokens));
        }
        int w = window != null ? window : f32.contextLength();
        PrintWriter out = spec.commandLine().getOut();
        List<Map<String, Object>> rows = new ArrayList<>();
        double base = Double.NaN;
        for (DType type : precisions) {
            Gpt2 model = type == DType.F32 ? f32 : Perplexity.roundTrip(f32, type);
            Perplexity.Result r = Perplexity.evaluate(model, type == DType.F32 ? null : f32, tokens, w);
            if (type == DType.F32) base = r.perplexity();
            double change = 100 * (r.perplexity() / base - 1);
            out.printf("%-5s perplexity %.4f (%+.3f%%)%s over %,d tokens%n", type.name().toLowerCase(Locale.ROOT), r.perplexity(), change,
                    type == DType.F32 ? "" : String.format(", KL from f32 %.6f", r.meanKl()), r.tokens());
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("type", type.name().toLowerCase(Locale.ROOT));
            row.put("perplexity", r.perplexity());
            row.put("perplexity_change_percent", change);
            row.put("kl_from_f32", type == DType.F32 ? 0.0 : r.meanKl());
            row.put("tokens", r.tokens());
            rows.add(row);
        }
        if (json) out.println(JsonOutput.line(Map.of("window", w, "rows", rows)));
        out.flush();
        return 0;
    }
}
