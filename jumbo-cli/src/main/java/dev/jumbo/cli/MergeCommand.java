package dev.jumbo.cli;

import dev.jumbo.io.AtomicFiles;
import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import dev.jumbo.lora.LoraAdapters;
import dev.jumbo.lora.PeftAdapter;
import dev.jumbo.models.LanguageModel;
import dev.jumbo.models.Bert;
import dev.jumbo.models.Gpt2;
import dev.jumbo.models.LlamaLora;
import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code jumbo merge}: a LoRA adapter folded into its base model's weights, written as a model
 * folder of the base's kind. The outputs of base + adapter and of the merged model are compared
 * on a probe sequence and the largest difference reported.
 */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = {"Fold a LoRA adapter (adapter_config.json + adapter_model.safetensors, PEFT's layout) into a GPT-2, BERT or Llama model's weights"
                + " (a Llama as a HuggingFace folder, a GGUF file or a llama2.c checkpoint, written in the same format).",
                "Example: jumbo merge --model runs/shakespeare --adapter runs/lora --out runs/merged"})
final class MergeCommand implements Callable<Integer> {
    /** Files of the base folder that the merged folder needs as they are. */
    private static final List<String> CARRIED = List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt", "vocab.txt");

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR|FILE", description = "The base model: a GPT-2, BERT or Llama folder (HuggingFace layout), or a Llama GGUF or llama2.c file.")
    Path model;

    @Option(names = "--adapter", required = true, paramLabel = "DIR", description = "The LoRA adapter folder.")
    Path adapter;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The merged model folder (written whole or not at all; never the base).")
    Path out;

    @Option(names = "--json", description = "Print one JSON object as the last line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Main.banner(spec.commandLine().getErr());
        if (!Files.isDirectory(model) || "llama".equals(LanguageModel.modelType(model.resolve("config.json")))) return mergeLlama();
        OutputFolder.requireSeparate(out, model, "--model");
        OutputFolder.requireSeparate(out, adapter, "--adapter");
        PeftAdapter peft = PeftAdapter.read(adapter);
        Path config = model.resolve("config.json");
        if (!Files.isRegularFile(config)) throw new FormatException(config, "missing: --model must be a GPT-2 or BERT folder");
        Object type = Json.readObject(config).get("model_type");
        double maxDiff;
        AtomicFiles.IoConsumer<Path> write;
        if ("gpt2".equals(type)) {
            Gpt2 gpt2 = Gpt2.load(model);
            gpt2.train(false);
            LoraAdapters lora = AdapterFolders.attach(gpt2.loraModules(), adapter, model, null);
            int[] probe = probe(gpt2.vocabSize(), Math.min(16, gpt2.contextLength()));
            float[] adapted = gpt2.logits(probe);
            lora.merge();
            maxDiff = maxAbsDiff(adapted, gpt2.logits(probe));
            write = gpt2::save;
        } else if ("bert".equals(type)) {
            Bert bert = Bert.load(model);
            bert.train(false);
            LoraAdapters lora = AdapterFolders.attach(bert.loraModules(), adapter, model, null);
            int[] probe = probe(bert.config().vocabSize(), Math.min(16, bert.config().maxPositionEmbeddings()));
            float[] adapted = hidden(bert, probe);
            lora.merge();
            maxDiff = maxAbsDiff(adapted, hidden(bert, probe));
            write = dir -> {
                if (bert.hasMlmHead())
                    throw new IllegalArgumentException("--model " + model + " has a masked-LM head, which Jumbo's BERT writer does not save yet: merge into a BertModel folder");
                bert.save(dir);
            };
        } else {
            throw new FormatException(config, "\"model_type\" is " + type + ": jumbo merge takes GPT-2 (gpt2) and BERT (bert) folders");
        }
        AtomicFiles.IoConsumer<Path> body = write;
        OutputFolder.write(out, model, "--model", dir -> {
            body.accept(dir);
            for (String f : CARRIED) {
                Path from = model.resolve(f);
                if (Files.isRegularFile(from)) Files.copy(from, dir.resolve(f));
            }
        });
        var w = spec.commandLine().getOut();
        w.printf("merged %d adapted modules of %s into %s; outputs of base + adapter and merged differ by at most %.2e on a probe sequence%n",
                peft.modules().size(), model, out, maxDiff);
        if (json) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("modules", peft.modules().size());
            r.put("adapter_parameters", peft.parameterCount());
            r.put("max_abs_diff", maxDiff);
            w.println(JsonOutput.line(r));
        }
        return 0;
    }

    /** A Llama's merge, in its own format ({@link LlamaLora#mergeFiles}). */
    private int mergeLlama() throws java.io.IOException {
        if (!Files.exists(model)) throw new java.nio.file.NoSuchFileException(model.toString());
        LlamaLora.MergedFile merged = LlamaLora.mergeFiles(model, adapter, out);
        var w = spec.commandLine().getOut();
        w.printf("merged %d adapted modules of %s into %s (%s, %s)%n", merged.modules(), model, out, merged.format(), merged.type());
        if (json) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("modules", merged.modules());
            r.put("format", merged.format());
            r.put("type", merged.type().toString());
            w.println(JsonOutput.line(r));
        }
        return 0;
    }

    /** A fixed pseudo-random sequence of token ids. */
    private static int[] probe(int vocab, int length) {
        java.util.Random r = new java.util.Random(42);
        int[] ids = new int[length];
        for (int i = 0; i < length; i++) ids[i] = r.nextInt(vocab);
        return ids;
    }

    private static float[] hidden(Bert bert, int[] ids) {
        float[] f = new float[ids.length];
        for (int i = 0; i < ids.length; i++) f[i] = ids[i];
        try (var scope = GradMode.noGrad()) {
            return bert.forward(Tensor.of(f, 1, ids.length)).toFloatArray();
        }
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
