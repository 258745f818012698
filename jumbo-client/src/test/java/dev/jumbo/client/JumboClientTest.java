package dev.jumbo.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.models.GenerationConfig;
import dev.jumbo.models.Generator;
import dev.jumbo.models.LanguageModel;
import java.net.URI;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** JumboClient against a real jumbo serve (the bundled stories260K) on a loopback port. */
class JumboClientTest {
    private static LocalServer local;
    private static JumboClient client;
    private static LanguageModel reference;

    @BeforeAll
    static void start() {
        local = LocalServer.start(null);
        client = JumboClient.connect(local.address());
        reference = LocalServer.bundled();
    }

    @AfterAll
    static void stop() throws Exception {
        client.close();
        local.close();
        reference.close();
    }

    private static String greedyReference(String prompt, int maxTokens) {
        return Generator.generate(reference.model(), reference.tokenizer(), prompt, GenerationConfig.defaults().greedy(true).maxNewTokens(maxTokens)
                .bosTokenId(reference.bosFor(prompt)).eosTokenId(reference.eos()), null).sequences().getFirst().text();
    }

    @Test
    void listsTheServedModels() {
        List<ModelInfo> models = client.models();
        assertThat(models).extracting(ModelInfo::id).containsExactly(LocalServer.MODEL);
        assertThat(models.getFirst().created()).isPositive();
        assertThat(models.getFirst().ownedBy()).isEqualTo("jumbo");
    }

    @Test
    void acceptsTheBaseAddressWithV1AndATrailingSlash() {
        try (JumboClient withV1 = JumboClient.connect(URI.create(local.server.address() + "/v1/"))) {
            assertThat(withV1.models()).extracting(ModelInfo::id).containsExactly(LocalServer.MODEL);
        }
    }

    @Test
    void aGreedyCompletionIsTheModelsGreedyText() {
        CompletionResult r = client.complete(CompletionRequest.of(LocalServer.MODEL, "Once upon a time").maxTokens(50).temperature(0));
        assertThat(r.text()).isEqualTo(greedyReference("Once upon a time", 50)).hasSizeGreaterThan(20);
        assertThat(r.id()).startsWith("cmpl-");
        assertThat(r.model()).isEqualTo(LocalServer.MODEL);
        assertThat(r.finishReason()).isIn("stop", "length");
        int promptTokens = reference.tokenizer().encode("Once upon a time").length + 1; // and BOS
        assertThat(r.usage().promptTokens()).isEqualTo(promptTokens);
        assertThat(r.usage().completionTokens()).isBetween(1, 50);
        assertThat(r.usage().totalTokens()).isEqualTo(promptTokens + r.usage().completionTokens());
    }

    @Test
    void severalSeededChoicesComeBackInOrder() {
        CompletionRequest request = CompletionRequest.of(LocalServer.MODEL, "The dog").maxTokens(30).temperature(0.9).topP(0.95).seed(11).n(3);
        CompletionResult r = client.complete(request);
        assertThat(r.choices()).extracting(CompletionResult.Choice::index).containsExactly(0, 1, 2);
        assertThat(client.complete(request).choices()).isEqualTo(r.choices()); // the same seed, the same texts
        assertThat(r.choices()).extracting(CompletionResult.Choice::text).doesNotHaveDuplicates();
    }

    @Test
    void aStopStringEndsTheText() {
        String whole = client.complete(CompletionRequest.of(LocalServer.MODEL, "Once upon a time").maxTokens(60).temperature(0)).text();
        String stop = whole.substring(10, 13);
        CompletionResult r = client.complete(CompletionRequest.of(LocalServer.MODEL, "Once upon a time").maxTokens(60).temperature(0).stop(stop));
        assertThat(r.text()).isEqualTo(whole.substring(0, whole.indexOf(stop)));
        assertThat(r.finishReason()).isEqualTo("stop");
    }

    @Test
    void streamedTextAddsUpToTheWholeCompletion() {
        CompletionRequest request = CompletionRequest.of(LocalServer.MODEL, "The cat").maxTokens(40).temperature(0.8).seed(5);
        CompletionResult whole = client.complete(request);
        List<String> pieces = new ArrayList<>();
        CompletionResult streamed = client.stream(request.includeUsage(true), pieces::add);
        assertThat(pieces.size()).isGreaterThan(3); // piece by piece, not at once
        assertThat(String.join("", pieces)).isEqualTo(streamed.text()).isEqualTo(whole.text()).isNotEmpty();
        assertThat(streamed.finishReason()).isEqualTo(whole.finishReason());
        assertThat(streamed.usage()).isEqualTo(whole.usage());
        assertThat(streamed.id()).startsWith("cmpl-");
    }

    @Test
    void aStreamOfChunksEndsWithTheFinishReasonAndTheUsage() {
        List<Chunk> chunks;
        try (Stream<Chunk> stream = client.stream(CompletionRequest.of(LocalServer.MODEL, "Lily").maxTokens(20).temperature(0).includeUsage(true))) {
            chunks = stream.toList();
        }
        Chunk usage = chunks.getLast(), last = chunks.get(chunks.size() - 2);
        assertThat(usage.index()).isEqualTo(-1);
        assertThat(usage.usage().completionTokens()).isBetween(1, 20);
        assertThat(last.finishReason()).isIn("stop", "length");
        assertThat(chunks.subList(0, chunks.size() - 2)).allSatisfy(c -> {
            assertThat(c.index()).isZero();
            assertThat(c.finishReason()).isNull();
            assertThat(c.text()).isNotEmpty();
        });
        StringBuilder text = new StringBuilder();
        chunks.forEach(c -> text.append(c.text()));
        assertThat(text.toString()).isEqualTo(greedyReference("Lily", 20));
    }

    @Test
    void aChatReplyIsTheAssistantsAndStreamsTheSame() {
        ChatRequest request = ChatRequest.of(LocalServer.MODEL, ChatMessage.system("You tell stories."), ChatMessage.user("Once"))
                .maxTokens(25).temperature(0);
        CompletionResult whole = client.chat(request);
        assertThat(whole.id()).startsWith("chatcmpl-");
        // stories260K has no chat template: the server writes the conversation out plainly, as jumbo chat does
        String prompt = "System: You tell stories.\nUser: Once\nAssistant:";
        String expected = Generator.generate(reference.model(), reference.tokenizer(), prompt, GenerationConfig.defaults().greedy(true).maxNewTokens(25)
                .stopStrings(List.of("\nUser:")).bosTokenId(reference.bosFor(prompt)).eosTokenId(reference.eos()), null).sequences().getFirst().text();
        assertThat(whole.text()).isEqualTo(expected).isNotEmpty();

        StringBuilder pieces = new StringBuilder();
        CompletionResult streamed = client.stream(request.includeUsage(true), pieces::append);
        assertThat(pieces.toString()).isEqualTo(streamed.text()).isEqualTo(whole.text());
        assertThat(streamed.id()).startsWith("chatcmpl-");
        assertThat(streamed.finishReason()).isEqualTo(whole.finishReason());
        assertThat(streamed.usage()).isEqualTo(whole.usage());
        try (Stream<Chunk> chunks = client.stream(request)) {
            assertThat(chunks.map(Chunk::text).reduce("", String::concat)).isEqualTo(whole.text());
        }
    }

    @Test
    void theFirstPieceArrivesWhileTheRestIsStillBeingGenerated() throws Exception {
        try (LocalServer slow = LocalServer.start(null, 20); JumboClient c = JumboClient.connect(slow.address())) {
            // 20 ms a step and up to 200 tokens: seconds of generation, of which the first piece needs one step
            CompletionRequest request = CompletionRequest.of(LocalServer.MODEL, "Once upon a time").maxTokens(200).temperature(0);
            try (Stream<Chunk> stream = c.stream(request)) {
                Iterator<Chunk> pieces = stream.iterator();
                assertThat(pieces.next().text()).isNotEmpty();
                assertThat(slow.loop().active()).as("the sequence is still generating when its first piece is read").isEqualTo(1);
                assertThat(pieces.next().text()).isNotEmpty();
            } // closing the stream early drops the connection: the server stops the sequence
            slow.awaitIdle();
            int whole = client.complete(request).usage().completionTokens();
            assertThat(slow.loop().generatedTokens()).as("tokens generated of the %d the whole completion has", whole).isLessThan(whole / 2);
        }
    }

    @Test
    void theTimeoutBoundsTheWaitForAnAnswerNotTheLengthOfAStream() {
        // 40 ms a step, a 1 s timeout: the margins are wide because the machine may be busy with other work
        try (LocalServer slow = LocalServer.start(null, 40);
             JumboClient c = JumboClient.connect(slow.address(), null, java.time.Duration.ofSeconds(1))) {
            CompletionRequest request = CompletionRequest.of(LocalServer.MODEL, "Once upon a time").maxTokens(60).temperature(0);
            try (JumboClient patient = JumboClient.connect(slow.address())) { // a cold JVM's first requests can take the whole timeout
                for (int i = 0; i < 3; i++) patient.stream(request.maxTokens(2), s -> {});
            }
            StringBuilder text = new StringBuilder();
            CompletionResult streamed = c.stream(request.includeUsage(true), text::append);
            assertThat(streamed.usage().completionTokens()).as("40 ms a token for longer than 1 s").isGreaterThan(30);
            assertThat(text.toString()).isEqualTo(streamed.text());
            // a whole completion must be generated within the timeout: this one cannot be
            assertThatThrownBy(() -> c.complete(request)).isInstanceOf(java.io.UncheckedIOException.class)
                    .hasCauseInstanceOf(java.net.http.HttpTimeoutException.class);
        } // closing the server ends the sequence the timed-out request left running
    }

    @Test
    void anUnknownModelIsA404WithOpenAisError() {
        assertThatThrownBy(() -> client.complete(CompletionRequest.of("no-such-model", "Hi")))
                .isInstanceOfSatisfying(JumboApiException.class, e -> {
                    assertThat(e.status()).isEqualTo(404);
                    assertThat(e.code()).isEqualTo("model_not_found");
                    assertThat(e.param()).isEqualTo("model");
                    assertThat(e.type()).isEqualTo("invalid_request_error");
                    assertThat(e.serverMessage()).contains("no-such-model");
                });
        // a streaming request fails the same way, before any piece
        assertThatThrownBy(() -> client.stream(ChatRequest.of("no-such-model", ChatMessage.user("Hi")), s -> {}))
                .isInstanceOfSatisfying(JumboApiException.class, e -> assertThat(e.status()).isEqualTo(404));
    }

    @Test
    void aValueOutOfRangeIsA400NamingTheParameter() {
        assertThatThrownBy(() -> client.complete(CompletionRequest.of(LocalServer.MODEL, "Hi").temperature(3)))
                .isInstanceOfSatisfying(JumboApiException.class, e -> {
                    assertThat(e.status()).isEqualTo(400);
                    assertThat(e.param()).isEqualTo("temperature");
                });
    }

    @Test
    void anApiKeyIsSentAsABearerToken() {
        try (LocalServer guarded = LocalServer.start("sk-test-key");
             JumboClient without = JumboClient.connect(guarded.address());
             JumboClient wrong = JumboClient.connect(guarded.address(), "sk-wrong");
             JumboClient right = JumboClient.connect(guarded.address(), "sk-test-key")) {
            for (JumboClient refused : List.of(without, wrong))
                assertThatThrownBy(refused::models).isInstanceOfSatisfying(JumboApiException.class, e -> {
                    assertThat(e.status()).isEqualTo(401);
                    assertThat(e.code()).isEqualTo("invalid_api_key");
                });
            assertThatThrownBy(() -> wrong.stream(CompletionRequest.of(LocalServer.MODEL, "Hi"), s -> {}))
                    .isInstanceOfSatisfying(JumboApiException.class, e -> assertThat(e.status()).isEqualTo(401));
            assertThat(right.models()).extracting(ModelInfo::id).containsExactly(LocalServer.MODEL);
            assertThat(right.stream(CompletionRequest.of(LocalServer.MODEL, "Hi").maxTokens(5), s -> {}).text()).isNotEmpty();
        }
    }

    @Test
    void aShapeMustHoldItsValues() {
        assertThatThrownBy(() -> client.predict("any", new float[10], 3, 3)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holds 9");
        assertThatThrownBy(() -> JumboClient.connect(URI.create("ftp://host/"))).isInstanceOf(IllegalArgumentException.class);
    }
}
