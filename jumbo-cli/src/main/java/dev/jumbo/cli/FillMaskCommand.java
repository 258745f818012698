package dev.jumbo.cli;

import dev.jumbo.models.Bert;
import dev.jumbo.text.Tokenizer;
import dev.jumbo.text.Tokenizers;
import dev.jumbo.text.WordPiece;
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

/** {@code jumbo fill-mask}: the most likely tokens for a text's [MASK]. */
@Command(name = "fill-mask", mixinStandardHelpOptions = true,
        description = {"Predict the [MASK] token of a text with a BERT masked-LM folder (HuggingFace layout with cls.predictions.*).",
                "Example: jumbo fill-mask --model models/bert-base-uncased --text \"Paris is the [MASK] of France.\" --top-k 5"})
final class FillMaskCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "HuggingFace-layout BertForMaskedLM folder.")
    Path model;

    @Option(names = "--text", required = true, description = "Text with one [MASK].")
    String text;

    @Option(names = "--top-k", defaultValue = "5", description = "Candidates to print (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--adapter", paramLabel = "DIR", description = "A LoRA adapter (PEFT's adapter_config.json + adapter_model.safetensors) run beside the weights, unmerged.")
    Path adapter;

    @Option(names = "--json", description = "Print {\"predictions\": [{\"token\", \"token_id\", \"score\", \"sequence\"}, ...]} as the last line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Main.banner(spec.commandLine().getErr());
        if (topK <= 0) throw new IllegalArgumentException("--top-k must be positive, got " + topK);
        Bert bert = Bert.load(model);
        if (adapter != null) AdapterFolders.attach(bert.loraModules(), adapter, model, spec.commandLine().getErr());
        Tokenizer t = Tokenizers.load(model);
        if (!(t instanceof WordPiece tokenizer)) throw new IllegalArgumentException(model + ": its tokenizer is not WordPiece, as a BERT model needs");
        int mask = tokenizer.id("[MASK]");
        int[] ids = tokenizer.encodeWithSpecialTokens(text);
        int at = -1;
        for (int i = 0; i < ids.length; i++) if (ids[i] == mask) at = at < 0 ? i : -2;
        if (at < 0) throw new IllegalArgumentException("the text needs exactly one [MASK], found " + (at == -1 ? "none" : "several"));
        int v = bert.config().vocabSize();
        float[] logits = bert.maskedLmLogits(ids);
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int k = 0; k < v; k++) max = Math.max(max, logits[at * v + k]);
        double[] p = new double[v];
        for (int k = 0; k < v; k++) sum += p[k] = Math.exp(logits[at * v + k] - max);
        Integer[] order = new Integer[v];
        for (int k = 0; k < v; k++) order[k] = k;
        java.util.Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
        PrintWriter out = spec.commandLine().getOut();
        List<Map<String, Object>> predictions = new ArrayList<>();
        for (int r = 0; r < Math.min(topK, v); r++) {
            int id = order[r];
            int[] filled = java.util.Arrays.copyOfRange(ids, 1, ids.length - 1);
            filled[at - 1] = id;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("token", tokenizer.decode(new int[] {id}));
            m.put("token_id", id);
            m.put("score", p[id] / sum);
            m.put("sequence", tokenizer.decode(filled));
            predictions.add(m);
            if (!json) out.printf("%.4f  %-15s %s%n", p[id] / sum, m.get("token"), m.get("sequence"));
        }
        if (json) out.println(JsonOutput.line(Map.of("predictions", predictions)));
        return 0;
    }
}
