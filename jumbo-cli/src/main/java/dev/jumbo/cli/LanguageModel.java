package dev.jumbo.cli;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Gguf;
import dev.jumbo.io.GgufFile;
import dev.jumbo.io.Json;
import dev.jumbo.models.CausalLm;
import dev.jumbo.models.GgufModels;
import dev.jumbo.models.Gpt2;
import dev.jumbo.models.Llama;
import dev.jumbo.models.Llama2c;
import dev.jumbo.models.LlamaGguf;
import dev.jumbo.models.LlamaSafetensors;
import dev.jumbo.text.SentencePieceBpe;
import dev.jumbo.text.Tokenizer;
import dev.jumbo.text.Tokenizers;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A generative model as {@code generate} and {@code chat} load it, with its tokenizer, the ids
 * that start and end a sequence (-1 for none), its chat template (Jinja text, or null) and what
 * to close. A folder is GPT-2 or, when its config.json says {@code "model_type": "llama"}, Llama;
 * a {@code .gguf} file is Llama or GPT-2 by its {@code general.architecture}; another file is a
 * llama2.c checkpoint. GPT-2 starts from {@code <|endoftext|>} only when the prompt is empty (it
 * was trained without one before texts); Llama always starts from BOS, as its tokenizer expects.
 */
record LanguageModel(CausalLm model, Tokenizer tokenizer, int bos, int eos, String chatTemplate, AutoCloseable resources) {

    /**
     * @param tokenizerFile a llama2.c checkpoint's tokenizer, or null to find it beside the checkpoint
     * @param emptyPrompt   whether generation starts without a prompt
     * @param context       positions a GGUF Llama may use; 0 for the file's own
     */
    static LanguageModel load(Path model, Path tokenizerFile, boolean emptyPrompt, int context, PrintWriter err) throws IOException {
        if (!Files.isDirectory(model)) {
            if (!Files.exists(model)) throw new java.nio.file.NoSuchFileException(model.toString());
            if (model.getFileName().toString().endsWith(".gguf")) {
                if (tokenizerFile != null) throw new IllegalArgumentException("--tokenizer is for llama2.c checkpoints; a GGUF file carries its tokenizer");
                return gguf(model, emptyPrompt, context);
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
                return new LanguageModel(llama, tokenizer, tokenizer.bosId(), Llama2c.BOS, null, llama);
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
                return new LanguageModel(llama, spm, spm.bosId(), spm.eosId(), template, llama);
            } catch (IOException | RuntimeException e) {
                llama.close(); // the weights are mapped: unmap them now, not when the process ends
                throw e;
            }
        }
        Gpt2 gpt2 = Gpt2.load(model);
        Tokenizer tokenizer = Tokenizers.load(model);
        int endOfText = tokenizer.id("<|endoftext|>");
        return new LanguageModel(gpt2, tokenizer, emptyPrompt ? endOfText : -1, endOfText, template, null);
    }

    private static LanguageModel gguf(Path file, boolean emptyPrompt, int context) throws IOException {
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
                yield new LanguageModel(llama, tokenizer, bos, eos, template, llama);
            }
            case "gpt2" -> new LanguageModel(GgufModels.gpt2(file), tokenizer, emptyPrompt ? bos : -1, eos, template, null);
            default -> throw new FormatException(file, "general.architecture is '" + arch + "'; generate runs llama and gpt2 files");
        };
    }

    /** {@code model_type} of a config.json, or null when it has none (or is no JSON object: the loader says why). */
    private static String modelType(Path configJson) throws IOException {
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
