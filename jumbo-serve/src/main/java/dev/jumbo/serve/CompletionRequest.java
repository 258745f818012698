package dev.jumbo.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jumbo.models.ChatTemplate;
import dev.jumbo.models.GenerationConfig;
import dev.jumbo.models.Generator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntFunction;

/**
 * A completion or chat request, checked and turned into what the decode loop runs: the prompt's
 * token ids and the generation settings of each of its {@code n} choices.
 *
 * @param config      the settings of choice 0; choice i draws with seed {@code config.seed() + i}
 * @param topLogprobs the most likely tokens to report beside each generated token's log-probability, or -1 for none
 */
record CompletionRequest(Endpoint endpoint, ServedModel.Generator model, int[] promptIds, int n, boolean stream, boolean includeUsage,
                         GenerationConfig config, int topLogprobs) {

    /** OpenAI's limits on the alternatives reported per token: 5 for completions, 20 for chat. */
    static final int MAX_LOGPROBS = 5, MAX_TOP_LOGPROBS = 20;

    /** OpenAI's limit on stop strings. */
    static final int MAX_STOP_STRINGS = 4;

    /**
     * Reads {@code body} as OpenAI documents it (defaults included: 16 tokens for a completion,
     * the rest of the context for a chat reply; temperature 1; top_p 1).
     *
     * @param models     the served generator of a name (refusing other names with a 4xx)
     * @param maxChoices the most sequences the model's loop can hold ({@code n} beyond is refused)
     */
    static CompletionRequest parse(JsonRequest body, Endpoint endpoint, java.util.function.Function<String, ServedModel.Generator> models, int maxChoices) {
        String name = body.requiredString("model");
        ServedModel.Generator model = models.apply(name);
        rejectUnsupported(body);
        String promptParam = endpoint == Endpoint.CHAT ? "messages" : "prompt";
        String prompt = endpoint == Endpoint.CHAT ? model.chatTemplate().format(messages(body)) : body.string("prompt", "");
        List<String> stops = new ArrayList<>(body.stopStrings("stop", MAX_STOP_STRINGS));
        if (endpoint == Endpoint.CHAT) stops.addAll(model.chatTemplate().stops());
        int n = body.integer("n", 1, 1, maxChoices);
        boolean stream = body.bool("stream", false);
        boolean includeUsage = false;
        JsonNode streamOptions = body.get("stream_options");
        if (streamOptions != null) {
            if (!streamOptions.isObject()) throw ApiException.invalid("'stream_options' must be an object, got " + JsonRequest.kind(streamOptions) + ".", "stream_options");
            JsonNode usage = streamOptions.get("include_usage");
            if (usage != null && !usage.isNull() && !usage.isBoolean()) throw ApiException.invalid("'stream_options.include_usage' must be a boolean.", "stream_options");
            includeUsage = usage != null && usage.booleanValue();
        }
        double temperature = body.number("temperature", 1, 0, 2);
        double topP = body.number("top_p", 1, 0, 1);
        Long seed = body.optionalLong("seed");

        int[] promptIds = Generator.promptIds(model.model().tokenizer(), prompt, model.model().bosFor(prompt));
        int context = model.model().model().contextLength();
        if (promptIds.length == 0) throw ApiException.invalid("The prompt is empty and the model has no start token to begin from.", promptParam);
        if (promptIds.length >= context)
            throw new ApiException(400, "invalid_request_error", "This model's maximum context length is " + context + " tokens; the prompt has "
                    + promptIds.length + ", leaving no room for a completion.", promptParam, "context_length_exceeded", null);
        int room = context - promptIds.length;
        // max_tokens is capped by the context: a large value means "as much as fits", as the context allows
        int maxTokens = maxTokens(body, endpoint, room);

        boolean greedy = temperature == 0 || topP == 0;
        GenerationConfig config = GenerationConfig.defaults().maxNewTokens(Math.min(maxTokens, room)).greedy(greedy)
                .temperature(greedy ? 1 : temperature).topP(greedy ? 1 : topP).stopStrings(stops)
                .seed(seed != null ? seed : ThreadLocalRandom.current().nextLong())
                .bosTokenId(model.model().bosFor(prompt)).eosTokenId(model.model().eos());
        return new CompletionRequest(endpoint, model, promptIds, n, stream, includeUsage, config, topLogprobs(body, endpoint, stream));
    }

    /** The sequences of the {@code n} choices, each with its own seed and its sink (or null). */
    List<SequenceRequest> sequences(IntFunction<TokenSink> sinks) {
        List<SequenceRequest> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(new SequenceRequest(promptIds, config.seed(config.seed() + i), sinks.apply(i), topLogprobs));
        return out;
    }

    /**
     * What the request asks of log-probabilities: a completion's {@code logprobs} (0 to 5
     * alternatives), a chat's {@code logprobs: true} with {@code top_logprobs} (0 to 20); -1 for none.
     */
    private static int topLogprobs(JsonRequest body, Endpoint endpoint, boolean stream) {
        int top;
        if (endpoint == Endpoint.COMPLETIONS) {
            top = body.integer("logprobs", -1, 0, MAX_LOGPROBS);
        } else {
            boolean wanted = body.bool("logprobs", false);
            top = body.integer("top_logprobs", wanted ? 0 : -1, 0, MAX_TOP_LOGPROBS);
            if (!wanted && body.get("top_logprobs") != null)
                throw ApiException.invalid("'top_logprobs' needs 'logprobs': true.", "top_logprobs");
        }
        if (top >= 0 && stream)
            throw ApiException.invalid("jumbo serve reports log-probabilities on whole responses only: send 'stream': false with 'logprobs'.", "logprobs");
        return top;
    }

    private static int maxTokens(JsonRequest body, Endpoint endpoint, int room) {
        String param = endpoint == Endpoint.CHAT && body.get("max_completion_tokens") != null ? "max_completion_tokens" : "max_tokens";
        return body.integer(param, endpoint == Endpoint.CHAT ? room : 16, 1, Integer.MAX_VALUE);
    }

    /** A chat request's {@code messages}: roles system (or developer), user and assistant, with text content. */
    private static List<ChatTemplate.Message> messages(JsonRequest body) {
        JsonNode messages = body.get("messages");
        if (messages == null) throw ApiException.invalid("Missing required parameter: 'messages'.", "messages");
        if (!messages.isArray() || messages.isEmpty()) throw ApiException.invalid("'messages' must be a non-empty array of messages.", "messages");
        List<ChatTemplate.Message> out = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            String at = "messages[" + i + "]";
            JsonNode m = messages.get(i);
            if (!m.isObject()) throw ApiException.invalid("'" + at + "' must be an object, got " + JsonRequest.kind(m) + ".", at);
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual()) throw ApiException.invalid("'" + at + ".role' must be a string.", at + ".role");
            String r = switch (role.textValue()) {
                case "system", "developer" -> "system"; // OpenAI's newer name for the system message
                case "user" -> "user";
                case "assistant" -> "assistant";
                default -> throw ApiException.invalid("'" + at + ".role' is '" + role.textValue()
                        + "'; jumbo serve takes 'system', 'developer', 'user' and 'assistant'.", at + ".role");
            };
            out.add(new ChatTemplate.Message(r, content(m.get("content"), at + ".content")));
        }
        return out;
    }

    /** A message's content: a string, or an array of {@code {"type":"text","text":...}} parts (joined). */
    private static String content(JsonNode content, String param) {
        if (content == null || content.isNull()) throw ApiException.invalid("'" + param + "' is required.", param);
        if (content.isTextual()) return content.textValue();
        if (!content.isArray()) throw ApiException.invalid("'" + param + "' must be a string or an array of text parts, got " + JsonRequest.kind(content) + ".", param);
        StringBuilder text = new StringBuilder();
        for (JsonNode part : content) {
            if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual())
                throw ApiException.invalid("'" + param + "' parts must be {\"type\": \"text\", \"text\": ...}; jumbo serve's models read text only.", param);
            text.append(part.get("text").textValue());
        }
        return text.toString();
    }

    /** Parameters OpenAI has and Jumbo does not implement yet: refused unless they ask for the default. */
    private static void rejectUnsupported(JsonRequest body) {
        body.unsupportedUnless("echo", v -> v.isBoolean() && !v.booleanValue());
        body.unsupportedUnless("suffix", v -> false);
        body.unsupportedUnless("best_of", v -> v.isNumber() && v.asInt() == 1);
        body.unsupportedUnless("presence_penalty", v -> v.isNumber() && v.asDouble() == 0);
        body.unsupportedUnless("frequency_penalty", v -> v.isNumber() && v.asDouble() == 0);
        body.unsupportedUnless("logit_bias", v -> v.isObject() && v.isEmpty());
        body.unsupportedUnless("tools", v -> v.isArray() && v.isEmpty());
        body.unsupportedUnless("functions", v -> v.isArray() && v.isEmpty());
        body.unsupportedUnless("response_format", v -> v.isObject() && "text".equals(v.path("type").asText()));
    }
}
