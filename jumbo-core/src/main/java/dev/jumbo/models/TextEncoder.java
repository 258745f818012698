package dev.jumbo.models;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Gguf;
import dev.jumbo.io.GgufFile;
import dev.jumbo.text.EncodedBatch;
import dev.jumbo.text.Tokenizer;
import dev.jumbo.text.Tokenizers;
import dev.jumbo.text.WordPiece;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * A BERT encoder with its WordPiece tokenizer, loaded from a HuggingFace-layout folder or a BERT
 * GGUF file (its tokenizer inside): texts in, sentence vectors out. The {@code embed} command
 * and the server's {@code /v1/embeddings} load encoders through it.
 *
 * <pre>{@code
 * TextEncoder encoder = TextEncoder.load(Path.of("all-minilm-l6-v2-q8_0.gguf"));
 * float[][] v = encoder.embed(encoder.encode(List.of("Hello world")), Bert.Pooling.MEAN, true);
 * }</pre>
 */
public record TextEncoder(Bert bert, WordPiece tokenizer) {
    /**
     * @throws FormatException when the file or folder is not a BERT model, or its tokenizer is not WordPiece
     */
    public static TextEncoder load(Path model) throws IOException {
        if (!Files.exists(model)) throw new NoSuchFileException(model.toString());
        boolean gguf = !Files.isDirectory(model);
        Bert bert = gguf ? GgufModels.bert(model) : Bert.load(model);
        Tokenizer tokenizer;
        if (gguf)
            try (GgufFile g = Gguf.open(model)) {
                tokenizer = Tokenizers.fromGguf(g);
            }
        else tokenizer = Tokenizers.load(model);
        if (!(tokenizer instanceof WordPiece wordPiece))
            throw new FormatException(model, "its tokenizer is " + tokenizer.getClass().getSimpleName() + ", not the WordPiece a BERT model needs");
        return new TextEncoder(bert, wordPiece);
    }

    /** Whether {@code model} is a file or folder {@link #load} reads: a GGUF of architecture bert, or a folder whose config.json says bert. */
    public static boolean isEncoder(Path model) throws IOException {
        if (Files.isDirectory(model)) return "bert".equals(LanguageModel.modelType(model.resolve("config.json")));
        if (!model.getFileName().toString().endsWith(".gguf")) return false;
        try (GgufFile g = Gguf.open(model)) {
            return "bert".equals(g.string("general.architecture"));
        }
    }

    /** The most tokens a text may have, its [CLS] and [SEP] included. */
    public int maxTokens() {
        return bert.config().maxPositionEmbeddings();
    }

    /** The length of the vectors. */
    public int dimensions() {
        return bert.config().hiddenSize();
    }

    /** The texts as one padded batch, each with [CLS] and [SEP]; a text longer than {@link #maxTokens()} is cut to it. */
    public EncodedBatch encode(List<String> texts) {
        return tokenizer.encodeBatch(texts, maxTokens());
    }

    /** One vector per row of {@code batch}, pooled as {@code pooling} says, optionally of length 1. */
    public float[][] embed(EncodedBatch batch, Bert.Pooling pooling, boolean normalize) {
        return bert.embed(batch, pooling, normalize);
    }
}
