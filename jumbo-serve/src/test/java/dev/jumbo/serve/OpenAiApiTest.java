package dev.jumbo.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jumbo.models.GenerationConfig;
import dev.jumbo.models.Generator;
import dev.jumbo.models.LanguageModel;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The OpenAI-compatible endpoints of a real server with the bundled stories260K and the default limits. */
class OpenAiApiTest {
    private static TestServer api;
    private static LanguageModel reference;

    @BeforeAll
    static void start() {
        api = TestServer.start(TestServer.options(null, 8, 32, 1 << 20));
        reference = TestServer.bundled();
    }

    @AfterAll
    static void stop() throws Exception {
        api.close();
        reference.close();
    }

    private static String completion(String prompt, int maxTokens, String extra) {
        return "{\"model\":\"stories260K\",\"prompt\":" + TestServer.JSON.valueToTree(prompt) + ",\"max_tokens\":" + maxTokens + extra + "}";
    }

    private static String greedyReference(String prompt, int maxTokens) {
        return Generator.generate(reference.model(), reference.tokenizer(), prompt, GenerationConfig.defaults().greedy(true).maxNewTokens(maxTokens)
                .bosTokenId(reference.bosFor(prompt)).eosTokenId(reference.eos()), null).sequences().getFirst().text();
    }

    @Test
    void listsTheServedModels() {
        HttpResponse<String> r = api.get("/v1/models");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        JsonNode list = TestServer.json(r);
        assertThat(list.get("object").asText()).isEqualTo("list");
        assertThat(list.get("data")).hasSize(1);
        JsonNode model = list.get("data").get(0);
        assertThat(model.get("id").asText()).isEqualTo("stories260K");
        assertThat(model.get("object").asText()).isEqualTo("model");
        assertThat(model.get("created").asLong()).isPositive();
        assertThat(model.get("owned_by").isTextual()).isTrue();
    }

    @Test
    void aGreedyCompletionIsGeneratorsGreedyText() {
        JsonNode c = TestServer.json(api.post("/v1/completions", completion("Once upon a time", 60, ",\"temperature\":0")));
        assertThat(c.get("object").asText()).isEqualTo("text_completion");
        assertThat(c.get("id").asText()).startsWith("cmpl-");
        assertThat(c.get("model").asText()).isEqualTo("stories260K");
        JsonNode choice = c.get("choices").get(0);
        assertThat(choice.get("text").asText()).isEqualTo(greedyReference("Once upon a time", 60)).hasSizeGreaterThan(20);
        assertThat(choice.get("index").asInt()).isZero();
        assertThat(choice.get("finish_reason").asText()).isIn("stop", "length");
        JsonNode usage = c.get("usage");
        int promptTokens = reference.tokenizer().encode("Once upon a time").length + 1; // and BOS
        assertThat(usage.get("prompt_tokens").asInt()).isEqualTo(promptTokens);
        assertThat(usage.get("completion_tokens").asInt()).isBetween(1, 60);
        assertThat(usage.get("total_tokens").asInt()).isEqualTo(promptTokens + usage.get("completion_tokens").asInt());
        if (choice.get("finish_reason").asText().equals("length")) assertThat(usage.get("completion_tokens").asInt()).isEqualTo(60);
    }

    @Test
    void streamedChunksAddUpToTheCompletionAndEndWithDone() {
        String body = completion("The cat", 40, ",\"temperature\":0.9,\"seed\":5");
        String whole = TestServer.json(api.post("/v1/completions", body)).get("choices").get(0).get("text").asText();
        HttpResponse<String> r = api.post("/v1/completions", body.replace("}", ",\"stream\":true}"));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/event-stream");
        List<String> events = TestServer.events(r.body());
        assertThat(events.getLast()).isEqualTo("[DONE]");
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (String e : events.subList(0, events.size() - 1)) {
            JsonNode chunk = TestServer.json((e));
            assertThat(chunk.get("object").asText()).isEqualTo("text_completion");
            JsonNode choice = chunk.get("choices").get(0);
            assertThat(finish).as("nothing after the finishing chunk").isNull();
            text.append(choice.get("text").asText());
            if (!choice.get("finish_reason").isNull()) finish = choice.get("finish_reason").asText();
        }
        assertThat(text.toString()).isEqualTo(whole).isNotEmpty();
        assertThat(finish).isIn("stop", "length");
        assertThat(events.size()).isGreaterThan(3); // streamed piece by piece, not all at once
    }

    @Test
    void aChatStreamOpensWithTheRoleAndCanEndWithUsage() {
        String body = "{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story.\"}],\"max_tokens\":30,"
                + "\"temperature\":0,\"stream\":true,\"stream_options\":{\"include_usage\":true}}";
        List<String> events = TestServer.events(api.post("/v1/chat/completions", body).body());
        assertThat(events.getLast()).isEqualTo("[DONE]");
        JsonNode first = TestServer.json((events.getFirst()));
        assertThat(first.get("object").asText()).isEqualTo("chat.completion.chunk");
        assertThat(first.get("choices").get(0).get("delta").get("role").asText()).isEqualTo("assistant");
        JsonNode usage = TestServer.json((events.get(events.size() - 2)));
        assertThat(usage.get("choices")).isEmpty();
        StringBuilder text = new StringBuilder();
        for (String e : events.subList(0, events.size() - 2)) {
            JsonNode delta = TestServer.json((e)).get("choices").get(0).get("delta");
            if (delta.has("content")) text.append(delta.get("content").asText());
        }
        JsonNode whole = TestServer.json(api.post("/v1/chat/completions", body.replace("\"stream\":true", "\"stream\":false")));
        assertThat(text.toString()).isEqualTo(whole.get("choices").get(0).get("message").get("content").asText());
        assertThat(usage.get("usage").get("completion_tokens").asInt()).isEqualTo(whole.get("usage").get("completion_tokens").asInt()).isPositive();
    }

    @Test
    void aChatCompletionAnswersAsTheAssistant() {
        String body = "{\"model\":\"stories260K\",\"messages\":[{\"role\":\"system\",\"content\":\"You tell stories.\"},"
                + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Once\"}]}],\"max_tokens\":25,\"temperature\":0}";
        HttpResponse<String> r = api.post("/v1/chat/completions", body);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode c = TestServer.json(r);
        assertThat(c.get("object").asText()).isEqualTo("chat.completion");
        assertThat(c.get("id").asText()).startsWith("chatcmpl-");
        JsonNode message = c.get("choices").get(0).get("message");
        assertThat(message.get("role").asText()).isEqualTo("assistant");
        // stories260K has no chat template: the conversation is written out plainly, as jumbo chat does
        String prompt = "System: You tell stories.\nUser: Once\nAssistant:";
        String expected = Generator.generate(reference.model(), reference.tokenizer(), prompt, GenerationConfig.defaults().greedy(true).maxNewTokens(25)
                .stopStrings(List.of("\nUser:")).bosTokenId(reference.bosFor(prompt)).eosTokenId(reference.eos()), null).sequences().getFirst().text();
        assertThat(message.get("content").asText()).isEqualTo(expected).isNotEmpty();
        assertThat(c.get("usage").get("prompt_tokens").asInt()).isEqualTo(reference.tokenizer().encode(prompt).length + 1);
    }

    @Test
    void concurrentRequestsEachGetTheTextTheyGetAlone() {
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < 8; i++)
            bodies.add(completion(i % 2 == 0 ? "Once upon a time" : "Lily and Tom", 30 + 7 * i,
                    i % 3 == 0 ? ",\"temperature\":0" : ",\"temperature\":0.8,\"top_p\":0.9,\"seed\":" + (100 + i)));
        List<String> alone = bodies.stream().map(b -> text(api.post("/v1/completions", b))).toList();
        List<CompletableFuture<String>> together = bodies.stream()
                .map(b -> CompletableFuture.supplyAsync(() -> text(api.post("/v1/completions", b)))).toList();
        for (int i = 0; i < bodies.size(); i++) assertThat(together.get(i).join()).as("request %d", i).isEqualTo(alone.get(i));
        assertThat(alone.stream().distinct().count()).as("different requests, different texts").isGreaterThan(4);
    }

    @Test
    void nChoicesWithASeedDifferAndAreReproducible() {
        String body = completion("Once upon a time", 20, ",\"n\":3,\"seed\":9");
        JsonNode a = TestServer.json(api.post("/v1/completions", body)), b = TestServer.json(api.post("/v1/completions", body));
        assertThat(a.get("choices")).hasSize(3);
        assertThat(a.get("choices")).isEqualTo(b.get("choices"));
        assertThat(a.get("choices").get(0).get("text").asText()).isNotEqualTo(a.get("choices").get(1).get("text").asText());
        assertThat(a.get("choices").get(2).get("index").asInt()).isEqualTo(2);
    }

    @Test
    void aStopStringEndsTheText() {
        String full = greedyReference("Once upon a time", 60);
        String stop = full.substring(10, 14);
        JsonNode c = TestServer.json(api.post("/v1/completions", completion("Once upon a time", 60, ",\"temperature\":0,\"stop\":[" + TestServer.JSON.valueToTree(stop) + "]")));
        assertThat(c.get("choices").get(0).get("text").asText()).isEqualTo(full.substring(0, full.indexOf(stop)));
        assertThat(c.get("choices").get(0).get("finish_reason").asText()).isEqualTo("stop");
    }

    @Test
    void maxTokensIsCappedByTheContext() {
        JsonNode c = TestServer.json(api.post("/v1/completions", completion("Once upon a time", 1_000_000, ",\"temperature\":1,\"seed\":3")));
        assertThat(c.get("usage").get("total_tokens").asInt()).isLessThanOrEqualTo(512);
    }

    /** Greedy tokens with logprobs: each token's log-probability is the model's own log-softmax, the first alternative is the token itself, the tokens spell the text. */
    @Test
    void logprobsAreTheModelsLogSoftmaxOfEachToken() {
        JsonNode choice = TestServer.json(api.post("/v1/completions", completion("Once upon a time", 12, ",\"temperature\":0,\"logprobs\":3"))).get("choices").get(0);
        JsonNode lp = choice.get("logprobs");
        assertThat(lp.get("tokens")).hasSize(12);
        StringBuilder spelled = new StringBuilder();
        for (JsonNode t : lp.get("tokens")) spelled.append(t.asText());
        assertThat(spelled.toString()).isEqualTo(choice.get("text").asText());
        int[] prompt = Generator.promptIds(reference.tokenizer(), "Once upon a time", reference.bosFor("Once upon a time"));
        var session = reference.model().start();
        float[] logits = session.feed(prompt);
        int offset = 0;
        for (int i = 0; i < 12; i++) {
            int best = 0;
            for (int v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
            double max = logits[best], sum = 0;
            for (float l : logits) sum += Math.exp(l - max);
            double expected = logits[best] - max - Math.log(sum);
            assertThat(lp.get("token_logprobs").get(i).asDouble()).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-4)).isLessThanOrEqualTo(0);
            JsonNode top = lp.get("top_logprobs").get(i);
            assertThat(top.size()).isBetween(1, 3); // alternatives whose texts coincide share a key
            assertThat(top.get(lp.get("tokens").get(i).asText()).asDouble()).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-4));
            assertThat(lp.get("text_offset").get(i).asInt()).isEqualTo(offset);
            offset += lp.get("tokens").get(i).asText().length();
            logits = session.feed(new int[] {best});
        }
        JsonNode chat = TestServer.json(api.post("/v1/chat/completions",
                "{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":5,\"logprobs\":true,\"top_logprobs\":2}"));
        JsonNode content = chat.get("choices").get(0).get("logprobs").get("content");
        assertThat(content).hasSize(chat.get("usage").get("completion_tokens").asInt());
        for (JsonNode entry : content) {
            assertThat(entry.get("logprob").asDouble()).isLessThanOrEqualTo(0);
            assertThat(entry.get("top_logprobs")).hasSize(2);
            assertThat(entry.get("top_logprobs").get(0).get("logprob").asDouble()).isGreaterThanOrEqualTo(entry.get("top_logprobs").get(1).get("logprob").asDouble());
            byte[] utf8 = entry.get("token").asText().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            assertThat(entry.get("bytes")).hasSize(utf8.length);
        }
        JsonNode without = TestServer.json(api.post("/v1/completions", completion("Once", 3, ""))).get("choices").get(0);
        assertThat(without.get("logprobs").isNull()).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            bad JSON                  | {"model":"stories260K","prompt":"Hi",                                          |
            not an object             | ["stories260K"]                                                                |
            no model                  | {"prompt":"Hi"}                                                                | model
            max_tokens a string       | {"model":"stories260K","prompt":"Hi","max_tokens":"ten"}                       | max_tokens
            max_tokens negative       | {"model":"stories260K","prompt":"Hi","max_tokens":-5}                          | max_tokens
            max_tokens beyond 64 bits | {"model":"stories260K","prompt":"Hi","max_tokens":123456789012345678901234567} | max_tokens
            max_tokens a fraction     | {"model":"stories260K","prompt":"Hi","max_tokens":1.5}                         | max_tokens
            temperature too high      | {"model":"stories260K","prompt":"Hi","temperature":7}                          | temperature
            top_p above 1             | {"model":"stories260K","prompt":"Hi","top_p":1.5}                              | top_p
            prompt an array of ids    | {"model":"stories260K","prompt":[1,2,3]}                                       | prompt
            n zero                    | {"model":"stories260K","prompt":"Hi","n":0}                                    | n
            n absurd                  | {"model":"stories260K","prompt":"Hi","n":100000}                               | n
            stream a string           | {"model":"stories260K","prompt":"Hi","stream":"yes"}                           | stream
            five stop strings         | {"model":"stories260K","prompt":"Hi","stop":["a","b","c","d","e"]}             | stop
            an empty stop string      | {"model":"stories260K","prompt":"Hi","stop":""}                                | stop
            seed a string             | {"model":"stories260K","prompt":"Hi","seed":"x"}                               | seed
            logprobs beyond 5         | {"model":"stories260K","prompt":"Hi","logprobs":6}                             | logprobs
            logprobs while streaming  | {"model":"stories260K","prompt":"Hi","logprobs":1,"stream":true}               | logprobs
            """)
    void malformedCompletionsGet400WithOpenAisErrorBody(String why, String body, String param) {
        assertInvalid(api.post("/v1/completions", body), param);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            no messages              | {"model":"stories260K"}                                                         | messages
            messages empty           | {"model":"stories260K","messages":[]}                                           | messages
            a message not an object  | {"model":"stories260K","messages":["hi"]}                                       | messages[0]
            an unknown role          | {"model":"stories260K","messages":[{"role":"wizard","content":"hi"}]}           | messages[0].role
            content a number         | {"model":"stories260K","messages":[{"role":"user","content":5}]}                | messages[0].content
            an image part            | {"model":"stories260K","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]} | messages[0].content
            tools                    | {"model":"stories260K","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function"}]} | tools
            top_logprobs alone       | {"model":"stories260K","messages":[{"role":"user","content":"hi"}],"top_logprobs":2} | top_logprobs
            top_logprobs beyond 20   | {"model":"stories260K","messages":[{"role":"user","content":"hi"}],"logprobs":true,"top_logprobs":21} | top_logprobs
            """)
    void malformedChatsGet400WithOpenAisErrorBody(String why, String body, String param) {
        assertInvalid(api.post("/v1/chat/completions", body), param);
    }

    @Test
    void badJsonIsDescribedWithoutJacksonsInternals() {
        String message = TestServer.json(api.post("/v1/completions", "{\"model\": \"stories260K\",\n \"prompt\": }")).get("error").get("message").asText();
        assertThat(message).startsWith("We could not parse the JSON body of your request: ").contains("line 2").doesNotContain("Source", "REDACTED");
    }

    @Test
    void anUnknownModelIs404ModelNotFound() {
        HttpResponse<String> r = api.post("/v1/completions", "{\"model\":\"gpt-4\",\"prompt\":\"Hi\"}");
        assertThat(r.statusCode()).isEqualTo(404);
        JsonNode error = TestServer.json(r).get("error");
        assertThat(error.get("code").asText()).isEqualTo("model_not_found");
        assertThat(error.get("param").asText()).isEqualTo("model");
        assertThat(error.get("message").asText()).contains("gpt-4");
    }

    @Test
    void aPromptLongerThanTheContextIs400() {
        HttpResponse<String> r = api.post("/v1/completions", completion("Once upon a time there was a cat. ".repeat(80), 10, ""));
        assertInvalid(r, "prompt");
        assertThat(TestServer.json(r).get("error").get("code").asText()).isEqualTo("context_length_exceeded");
        assertThat(TestServer.json(r).get("error").get("message").asText()).contains("512");
    }

    @Test
    void anUnknownUrlIs404InOpenAisShape() {
        HttpResponse<String> r = api.post("/v1/engines", "{}");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(TestServer.json(r).get("error").get("message").asText()).contains("/v1/engines");
        assertThat(api.get("/v1/completions").statusCode()).isEqualTo(404); // a GET where only POST is served
    }

    @Test
    void healthAndReadinessAnswer200() {
        assertThat(api.get("/health").statusCode()).isEqualTo(200);
        assertThat(api.get("/ready").statusCode()).isEqualTo(200);
    }

    private static void assertInvalid(HttpResponse<String> r, String param) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        JsonNode error = TestServer.json(r).get("error");
        assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.get("message").asText()).isNotBlank().doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(error.has("code")).isTrue();
        if (param == null) assertThat(error.get("param").isNull()).isTrue();
        else assertThat(error.get("param").asText()).isEqualTo(param);
    }

    private static String text(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return TestServer.json(r).get("choices").get(0).get("text").asText();
    }
}
