package dev.jumbo.cli;

import dev.jumbo.models.Bert;
import dev.jumbo.models.TextEncoder;
import dev.jumbo.text.WordPiece;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jumbo embed}: one vector per text from a BERT folder. */
@Command(name = "embed", mixinStandardHelpOptions = true,
        description = {"Sentence embeddings from a BERT model folder (config.json, model.safetensors, tokenizer.json or vocab.txt).",
                "Example: jumbo embed --model models/all-MiniLM-L6-v2 --normalize \"Hello world\" \"The quick brown fox\""})
final class EmbedCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR|FILE.onnx|FILE.gguf", description = "HuggingFace-layout BERT folder, a BERT GGUF file (its tokenizer inside), or a BERT-family ONNX file (with --tokenizer).")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json or vocab.txt (default: the one in the model folder).")
    Path tokenizerFile;

    @Option(names = "--pooling", defaultValue = "mean", description = "mean (over the tokens), cls (the first token) or pooler (tanh(dense(first token)), BertModel's pooler_output) (default: ${DEFAULT-VALUE}).")
    String pooling;

    @Option(names = "--adapter", paramLabel = "DIR", description = "A LoRA adapter (PEFT's adapter_config.json + adapter_model.safetensors) run beside the weights, unmerged.")
    Path adapter;

    @Option(names = "--normalize", description = "Scale each vector to length 1.")
    boolean normalize;

    @Option(names = "--json", description = "Print {\"embeddings\": [[...], ...]} as the last line.")
    boolean json;

    @Parameters(arity = "1..*", paramLabel = "TEXT", description = "Texts to embed.")
    List<String> texts;

    @Override
    public Integer call() throws Exception {
        Main.banner(spec.commandLine().getErr());
        Bert.Pooling how = switch (pooling) {
            case "mean" -> Bert.Pooling.MEAN;
            case "cls" -> Bert.Pooling.CLS;
            case "pooler" -> Bert.Pooling.POOLER;
            default -> throw new IllegalArgumentException("--pooling must be mean, cls or pooler, got " + pooling);
        };
        String name = model.getFileName().toString();
        boolean onnx = name.endsWith(".onnx"), gguf = name.endsWith(".gguf");
        if (onnx && tokenizerFile == null) throw new IllegalArgumentException("an ONNX model needs --tokenizer tokenizer.json");
        TextEncoder encoder;
        if (tokenizerFile == null) {
            encoder = TextEncoder.load(model);
        } else {
            Bert bert = onnx ? dev.jumbo.onnx.OnnxBert.load(model) : gguf ? dev.jumbo.models.GgufModels.bert(model) : Bert.load(model);
            WordPiece tokenizer = tokenizerFile.getFileName().toString().endsWith(".txt")
                    ? WordPiece.fromVocabTxt(tokenizerFile, true) : WordPiece.fromTokenizerJson(tokenizerFile);
            encoder = new TextEncoder(bert, tokenizer);
        }
        if (adapter != null) AdapterFolders.attach(encoder.bert().loraModules(), adapter, model, spec.commandLine().getErr());
        float[][] vectors = encoder.embed(encoder.encode(texts), how, normalize);
        PrintWriter out = spec.commandLine().getOut();
        List<float[]> rows = new ArrayList<>();
        for (int i = 0; i < vectors.length; i++) {
            rows.add(vectors[i]);
            if (!json) {
                StringBuilder sb = new StringBuilder();
                for (int k = 0; k < Math.min(8, vectors[i].length); k++) sb.append(String.format("%s%.4f", k == 0 ? "" : " ", vectors[i][k]));
                out.printf("%s  [%s ...] (%d dims)%n", texts.get(i), sb, vectors[i].length);
            }
        }
        if (json) out.println(JsonOutput.line(Map.of("embeddings", rows)));
        return 0;
    }
}
