package dev.jumbo.cli;

import dev.jumbo.models.Bert;
import dev.jumbo.onnx.OnnxBert;
import dev.jumbo.text.WordPiece;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jumbo convert}: a BERT-family ONNX file to a HuggingFace-layout safetensors folder. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Convert a BERT-family ONNX encoder (and its tokenizer.json) to a HuggingFace-layout folder.",
                "Example: jumbo convert --model all-minilm-l6-v2.onnx --tokenizer all-minilm-l6-v2-tokenizer.json --out models/all-MiniLM-L6-v2"})
final class ConvertCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "FILE.onnx", description = "The ONNX file.")
    Path model;

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE", description = "Its tokenizer.json (checked, then copied).")
    Path tokenizer;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder for config.json, model.safetensors and tokenizer.json.")
    Path out;

    @Override
    public Integer call() throws Exception {
        Main.banner(spec.commandLine().getErr());
        Bert bert = OnnxBert.load(model);
        WordPiece.fromTokenizerJson(tokenizer); // fails here, naming the file, rather than in a later embed
        bert.save(out);
        Files.copy(tokenizer, out.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        spec.commandLine().getOut().printf("%s: BERT, %d layers, width %d, %d heads -> %s%n", model, bert.config().numHiddenLayers(),
                bert.config().hiddenSize(), bert.config().numAttentionHeads(), out);
        return 0;
    }
}
