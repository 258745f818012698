package dev.jumbo.serve;

import dev.jumbo.models.ChatTemplate;
import dev.jumbo.models.LanguageModel;
import dev.jumbo.models.TextEncoder;
import dev.jumbo.train.Sequential;
import java.util.List;

/**
 * A model the server answers for, by its name in requests ({@code "model"}), with when it was
 * loaded (OpenAI's {@code created}, seconds since the epoch). What it is decides the endpoint that
 * runs it: a generator {@code /v1/completions} and {@code /v1/chat/completions}, an encoder
 * {@code /v1/embeddings}, a classifier {@code /v1/predict}.
 */
sealed interface ServedModel {
    String name();

    long created();

    /** What it is, as error messages name it ("a text generation model"). */
    String kind();

    /** The endpoint that runs it. */
    String endpoint();

    /** A language model, its chat prompts written as {@code chatTemplate} says, generating on its own decode loop. */
    record Generator(String name, LanguageModel model, ChatTemplate chatTemplate, DecodeLoop loop, long created) implements ServedModel {
        @Override
        public String kind() {
            return "a text generation model";
        }

        @Override
        public String endpoint() {
            return "/v1/completions or /v1/chat/completions";
        }
    }

    /** A text encoder: texts in, vectors out, one request at a time through {@code gate}. */
    record Encoder(String name, TextEncoder encoder, RequestGate gate, long created) implements ServedModel {
        @Override
        public String kind() {
            return "an embedding model";
        }

        @Override
        public String endpoint() {
            return "/v1/embeddings";
        }
    }

    /**
     * A classifier saved by {@code jumbo train}: examples in, class probabilities out, one request
     * at a time through {@code gate}; {@code labels} names the classes (empty when unknown);
     * {@code logits} says its last layer is not a softmax, so the server applies one.
     */
    record Classifier(String name, Sequential model, List<String> labels, boolean logits, RequestGate gate, long created) implements ServedModel {
        @Override
        public String kind() {
            return "a classifier";
        }

        @Override
        public String endpoint() {
            return "/v1/predict";
        }
    }
}
