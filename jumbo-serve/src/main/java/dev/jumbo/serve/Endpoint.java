package dev.jumbo.serve;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * OpenAI's two text-generation endpoints and the JSON each answers with: a whole response, or
 * the chunks of a stream.
 *
 * @see <a href="https://platform.openai.com/docs/api-reference/completions">/v1/completions</a>
 * @see <a href="https://platform.openai.com/docs/api-reference/chat">/v1/chat/completions</a>
 */
enum Endpoint {
    /** {@code POST /v1/completions}: a prompt string, choices with {@code text}. */
    COMPLETIONS("text_completion", "text_completion", "cmpl-"),
    /** {@code POST /v1/chat/completions}: messages, choices with a {@code message} (a {@code delta} in chunks). */
    CHAT("chat.completion", "chat.completion.chunk", "chatcmpl-");

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final String object, chunkObject, idPrefix;

    Endpoint(String object, String chunkObject, String idPrefix) {
        this.object = object;
        this.chunkObject = chunkObject;
        this.idPrefix = idPrefix;
    }

    /** A fresh response id, such as {@code cmpl-3f2a...}. */
    String newId() {
        return idPrefix + java.util.UUID.randomUUID().toString().replace("-", "");
    }

    /**
     * A token's text where it stands: after {@code previous} (a tokenizer may write a token
     * differently at the start of a text, as SentencePiece drops a word's leading space).
     */
    @FunctionalInterface
    interface TokenText {
        String of(int previous, int token);
    }

    /**
     * The whole response of a request that did not stream; {@code tokenText} writes the tokens of
     * log-probabilities, the first after {@code lastPromptToken}.
     */
    ObjectNode response(String id, long created, String model, java.util.List<Completion> choices, TokenText tokenText, int lastPromptToken) {
        ObjectNode o = head(id, object, created, model);
        var array = o.putArray("choices");
        int prompt = 0, completion = 0;
        for (int i = 0; i < choices.size(); i++) {
            Completion c = choices.get(i);
            ObjectNode choice = array.addObject();
            if (this == COMPLETIONS) {
                choice.put("text", c.text()).put("index", i);
            } else {
                choice.put("index", i);
                choice.putObject("message").put("role", "assistant").put("content", c.text());
            }
            if (c.logprobs() == null) choice.putNull("logprobs");
            else choice.set("logprobs", this == COMPLETIONS ? completionLogprobs(c.logprobs(), tokenText, lastPromptToken)
                    : chatLogprobs(c.logprobs(), tokenText, lastPromptToken));
            choice.put("finish_reason", c.finishReason().openAiName());
            prompt = c.promptTokens(); // the same prompt for every choice
            completion += c.completionTokens();
        }
        o.set("usage", usage(prompt, completion));
        return o;
    }

    /**
     * A chunk of a stream: {@code text} of choice {@code index}; with {@code finishReason} the
     * choice's last chunk. A chat choice's first chunk names the assistant's role.
     */
    ObjectNode chunk(String id, long created, String model, int index, String text, boolean first, String finishReason) {
        ObjectNode o = head(id, chunkObject, created, model);
        ObjectNode choice = o.putArray("choices").addObject();
        if (this == COMPLETIONS) {
            choice.put("text", text).put("index", index);
        } else {
            choice.put("index", index);
            ObjectNode delta = choice.putObject("delta");
            if (first) delta.put("role", "assistant");
            if (first || finishReason == null) delta.put("content", text);
        }
        choice.putNull("logprobs");
        if (finishReason == null) choice.putNull("finish_reason");
        else choice.put("finish_reason", finishReason);
        return o;
    }

    /** The last chunk of a stream that asked for usage ({@code stream_options.include_usage}): no choices, the counts. */
    ObjectNode usageChunk(String id, long created, String model, int promptTokens, int completionTokens) {
        ObjectNode o = head(id, chunkObject, created, model);
        o.putArray("choices");
        o.set("usage", usage(promptTokens, completionTokens));
        return o;
    }

    /** The legacy completions' form: parallel arrays of tokens, their log-probabilities, the alternatives (token to log-probability) and text offsets. */
    private static ObjectNode completionLogprobs(java.util.List<TokenLogprob> tokens, TokenText tokenText, int previous) {
        ObjectNode o = JSON.objectNode();
        var texts = o.putArray("tokens");
        var logprobs = o.putArray("token_logprobs");
        var top = o.putArray("top_logprobs");
        var offsets = o.putArray("text_offset");
        int offset = 0;
        for (TokenLogprob t : tokens) {
            String text = tokenText.of(previous, t.id());
            texts.add(text);
            logprobs.add(t.logprob());
            ObjectNode alternatives = top.addObject();
            for (int k = 0; k < t.topIds().length; k++) alternatives.put(tokenText.of(previous, t.topIds()[k]), t.topLogprobs()[k]);
            offsets.add(offset);
            offset += text.length();
            previous = t.id();
        }
        return o;
    }

    /** Chat's form: one entry per token with its text, UTF-8 bytes, log-probability and alternatives. */
    private static ObjectNode chatLogprobs(java.util.List<TokenLogprob> tokens, TokenText tokenText, int previous) {
        ObjectNode o = JSON.objectNode();
        var content = o.putArray("content");
        for (TokenLogprob t : tokens) {
            ObjectNode entry = tokenEntry(content.addObject(), tokenText.of(previous, t.id()), t.logprob());
            var alternatives = entry.putArray("top_logprobs");
            for (int k = 0; k < t.topIds().length; k++) tokenEntry(alternatives.addObject(), tokenText.of(previous, t.topIds()[k]), t.topLogprobs()[k]);
            previous = t.id();
        }
        o.putNull("refusal");
        return o;
    }

    private static ObjectNode tokenEntry(ObjectNode entry, String text, float logprob) {
        entry.put("token", text).put("logprob", logprob);
        var bytes = entry.putArray("bytes");
        for (byte b : text.getBytes(java.nio.charset.StandardCharsets.UTF_8)) bytes.add(b & 0xFF);
        return entry;
    }

    private static ObjectNode head(String id, String object, long created, String model) {
        ObjectNode o = JSON.objectNode();
        o.put("id", id).put("object", object).put("created", created).put("model", model);
        return o;
    }

    private static ObjectNode usage(int promptTokens, int completionTokens) {
        return JSON.objectNode().put("prompt_tokens", promptTokens).put("completion_tokens", completionTokens)
                .put("total_tokens", promptTokens + completionTokens);
    }
}
