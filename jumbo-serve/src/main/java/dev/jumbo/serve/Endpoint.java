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

    /** The whole response of a request that did not stream. */
    ObjectNode response(String id, long created, String model, java.util.List<Completion> choices) {
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
            choice.putNull("logprobs");
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
