package dev.jumbo.models;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Gguf;
import dev.jumbo.io.GgufFile;
import dev.jumbo.io.Json;
import dev.jumbo.text.SentencePieceBpe;
import dev.jumbo.text.Tokenizer;
import dev.jumbo.text.Tokenizers;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

/**
 * A generative model loaded from a file or folder, with its tokenizer, the ids that start and end
 * a sequence (-1 for none), its chat template (Jinja text, or null) and what to close. A folder is
 * GPT-2 or, when its config.json says {@code "model_type": "llama"}, Llama; a {@code .gguf} file is
 * Llama or GPT-2 by its {@code general.architecture}; another file is a llama2.c checkpoint. The
 * {@code generate} and {@code chat} commands and the server load models through it.
 *
 * <pre>{@code
 * try (LanguageModel lm = LanguageModel.load(Path.of("stories260K.bin"), null, 0, new PrintWriter(System.err, true))) {
 *     String prompt = "Once upon a time";
 *     Generation g = Generator.generate(lm.model(), lm.tokenizer(), prompt,
 *             GenerationConfig.defaults().greedy(true).bosTokenId(lm.bosFor(prompt)).eosTokenId(lm.eos()), null);
 * }
 * }</pre>
 *
 * @param bos          the token a sequence starts from, or -1
 * @param bosAlways    whether BOS goes before every prompt (Llama, whose tokenizer expects it) or only
 *                     before an empty one (GPT-2, trained without one before texts)
 * @param eos          the token that ends a sequence, or -1
 * @param chatTemplate the model's Jinja chat template (see {@link ChatTemplate#detect}), or null
 * @param resources    what {@link #close()} closes (a mapped file), or null
 */
public record LanguageModel(CausalLm model, Tokenizer tokenizer, int bos, boolean bosAlways, int eos, String chatTemplate,
                            AutoCloseable resources) implements AutoCloseable {

    /**
     * @param tokenizerFile a llama2.c checkpoint's tokenizer, or null to find it beside the checkpoint (named on {@code err})
     * @param context       positions a GGUF Llama may use; 0 for the file's own
     */
    public static LanguageModel load(Path model, Path tokenizerFile, int context, PrintWriter err) throws IOException {
        if (!Files.isDirectory(model)) {
            if (!Files.exists(model)) throw new NoSuchFileException(model.toString());
            if (model.getFileName().toString().endsWith(".gguf")) {
                if (tokenizerFile != null) throw new IllegalArgumentException("--tokenizer is for llama2.c checkpoints; a GGUF file carries its tokenizer");
                return gguf(model, context);
            }
            Path tokenizerPath = tokenizerFile;
            if (tokenizerPath == null) {
                tokenizerPath = Llama2c.findTokenizer(model);
                err.println("tokenizer: " + tokenizerPath + " (found beside the checkpoint)");
            }
            Llama llama = Llama2c.load(model);
            try {
                SentencePieceBpe tokenizer = Llama2c.loadTokenizer(tokenizerPath, llama.vocabSize());
                // run.c ends a story when the model produces BOS, which separates stories in its training data
                return new LanguageModel(llama, tokenizer, tokenizer.bosId(), true, Llama2c.BOS, null, llama);
            } catch (IOException | RuntimeException e) {
                llama.close();
                throw e;
            }
        }
        if (tokenizerFile != null)
            throw new IllegalArgumentException("--tokenizer is for llama2.c checkpoints; a model folder's tokenizer is read from the folder");
        String template = chatTemplate(model.resolve("tokenizer_config.json"));
        if ("llama".equals(modelType(model.resolve("config.json")))) {
            Llama llama = LlamaSafetensors.load(model);
            try {
                Tokenizer tokenizer = Tokenizers.load(model);
                if (!(tokenizer instanceof SentencePieceBpe spm))
                    throw new FormatException(model, "a Llama folder needs a SentencePiece tokenizer, found " + tokenizer.getClass().getSimpleName());
                return new LanguageModel(llama, spm, spm.bosId(), true, spm.eosId(), template, llama);
            } catch (IOException | RuntimeException e) {
                llama.close(); // the weights are mapped: unmap them now, not when the process ends
                throw e;
            }
        }
        Gpt2 gpt2 = Gpt2.load(model);
        Tokenizer tokenizer = Tokenizers.load(model);
        int endOfText = tokenizer.id("<|endoftext|>");
        return new LanguageModel(gpt2, tokenizer, endOfText, false, endOfText, template, null);
    }

    /** The token to put before {@code prompt}: BOS for Llama, for GPT-2 only when the prompt is empty; -1 for none. */
    public int bosFor(String prompt) {
        return bosAlways || prompt.isEmpty() ? bos : -1;
    }

    @Override
    public void close() throws Exception {
        if (resources != null) resources.close();
    }

    private static LanguageModel gguf(Path file, int context) throws IOException {
        String arch;
        Tokenizer tokenizer;
        int bos, eos;
        String template;
        try (GgufFile g = Gguf.open(file)) {
            arch = g.string("general.architecture");
            if (arch.equals("bert")) throw new FormatException(file, "a BERT model does not generate text: use jumbo embed");
            tokenizer = Tokenizers.fromGguf(g);
            bos = (int) g.integer("tokenizer.ggml.bos_token_id", -1);
            eos = (int) g.integer("tokenizer.ggml.eos_token_id", -1);
            template = g.string("tokenizer.chat_template", null);
        }
        return switch (arch) {
            case "llama" -> {
                Llama llama = LlamaGguf.load(file, context);
                yield new LanguageModel(llama, tokenizer, bos, true, eos, template, llama);
            }
            case "gpt2" -> new LanguageModel(GgufModels.gpt2(file), tokenizer, bos, false, eos, template, null);
            default -> throw new FormatException(file, "general.architecture is '" + arch + "'; generate runs llama and gpt2 files");
        };
    }

    /** {@code model_type} of a config.json, or null when it has none (or is no JSON object: the loader says why). */
    public static String modelType(Path configJson) throws IOException {
        return stringField(configJson, "model_type");
    }

    /** A folder's Jinja chat template ({@code tokenizer_config.json}'s {@code chat_template}), or null. */
    private static String chatTemplate(Path tokenizerConfig) throws IOException {
        return stringField(tokenizerConfig, "chat_template");
    }

    private static String stringField(Path json, String field) throws IOException {
        if (!Files.isRegularFile(json)) return null;
        try {
            return Json.parse(Files.readString(json, StandardCharsets.UTF_8)) instanceof Map<?, ?> c && c.get(field) instanceof String s ? s : null;
        } catch (Json.ParseException e) {
            return null;
        }
    }
}
