package dev.jumbo.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.models.GenerationConfig;
import dev.jumbo.models.Generator;
import dev.jumbo.models.LanguageModel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The decode loop alone, on the bundled stories260K. */
class DecodeLoopTest {
    private static LanguageModel lm;

    @BeforeAll
    static void load() {
        lm = TestServer.bundled();
    }

    @AfterAll
    static void close() throws Exception {
        lm.close();
    }

    private static SequenceRequest request(String prompt, GenerationConfig config, TokenSink sink) {
        return new SequenceRequest(Generator.promptIds(lm.tokenizer(), prompt, lm.bosFor(prompt)), config.bosTokenId(lm.bosFor(prompt)).eosTokenId(lm.eos()), sink);
    }

    @Test
    void sequencesBatchedTogetherGetTheirTextsFromAlone() throws Exception {
        GenerationConfig greedy = GenerationConfig.defaults().greedy(true).maxNewTokens(40);
        GenerationConfig sampled = GenerationConfig.defaults().temperature(0.9).maxNewTokens(50).seed(4);
        List<String> prompts = List.of("Once upon a time", "The dog", "Lily", "One day");
        try (DecodeLoop loop = DecodeLoop.start("test", lm.model(), lm.tokenizer(), 4, 0)) {
            List<SequenceRequest> requests = new ArrayList<>();
            for (String p : prompts) requests.add(request(p, p.length() % 2 == 0 ? greedy : sampled, null));
            List<CompletableFuture<Completion>> together = loop.submit(requests);
            for (int i = 0; i < prompts.size(); i++) {
                String p = prompts.get(i);
                GenerationConfig c = p.length() % 2 == 0 ? greedy : sampled;
                Generator.Generation alone = Generator.generate(lm.model(), lm.tokenizer(), p, c.bosTokenId(lm.bosFor(p)).eosTokenId(lm.eos()), null);
                Completion got = together.get(i).get();
                assertThat(got.text()).as(p).isEqualTo(alone.sequences().getFirst().text());
                assertThat(got.completionTokens()).isEqualTo(alone.sequences().getFirst().tokenIds().length);
                assertThat(got.promptTokens()).isEqualTo(alone.promptTokenIds().length);
            }
        }
    }

    @Test
    void aSinkThatRefusesTextDropsItsSequenceAndFreesItsPlace() throws Exception {
        AtomicInteger taken = new AtomicInteger();
        List<String> pieces = Collections.synchronizedList(new ArrayList<>());
        try (DecodeLoop loop = DecodeLoop.start("test", lm.model(), lm.tokenizer(), 1, 0)) {
            CompletableFuture<Completion> slow = loop.submit(List.of(request("Once", GenerationConfig.defaults().greedy(true).maxNewTokens(200),
                    text -> taken.incrementAndGet() <= 3 && pieces.add(text)))).getFirst();
            assertThatThrownBy(slow::join).isInstanceOf(CancellationException.class);
            assertThat(pieces).hasSize(3);
            assertThat(loop.generatedTokens()).isLessThan(20);
            CompletableFuture<Completion> next = loop.submit(List.of(request("Once", GenerationConfig.defaults().greedy(true).maxNewTokens(5), null))).getFirst();
            assertThat(next.get().completionTokens()).isEqualTo(5);
            assertThat(next.get().finishReason()).isEqualTo(Completion.FinishReason.LENGTH);
        }
    }

    /** A sequence's place is free before its future completes: a client that asks again at once never meets a 429 from its own last request. */
    @Test
    void aFinishedSequencesPlaceIsFreeWhenItsClientHearsOfIt() throws Exception {
        try (DecodeLoop loop = DecodeLoop.start("test", lm.model(), lm.tokenizer(), 1, 0)) {
            for (int i = 0; i < 200; i++) {
                int tokens = i % 3; // 0 ends at once, without a step
                Completion c = loop.submit(List.of(request("Once", GenerationConfig.defaults().greedy(true).maxNewTokens(tokens), null))).getFirst().get();
                assertThat(c.completionTokens()).isEqualTo(tokens);
            }
        }
    }

    @Test
    void aFullLoopRefusesAllOrNone() throws Exception {
        GenerationConfig forever = GenerationConfig.defaults().greedy(true).maxNewTokens(400);
        try (DecodeLoop loop = DecodeLoop.start("test", lm.model(), lm.tokenizer(), 1, 2)) {
            List<CompletableFuture<Completion>> two = loop.submit(List.of(request("A", forever, text -> true), request("B", forever, text -> true)));
            assertThatThrownBy(() -> loop.submit(List.of(request("C", forever, null), request("D", forever, null))))
                    .isInstanceOf(ServerBusyException.class).hasMessageContaining("1 at once, 2 queued");
            CompletableFuture<Completion> third = loop.submit(List.of(request("C", forever, null))).getFirst(); // one place was left
            assertThatThrownBy(() -> loop.submit(List.of(request("D", forever, null)))).isInstanceOf(ServerBusyException.class);
            two.forEach(f -> f.cancel(false));
            third.cancel(false);
        }
    }

    @Test
    void closingCancelsWhatIsLeft() throws Exception {
        DecodeLoop loop = DecodeLoop.start("test", lm.model(), lm.tokenizer(), 1, 1);
        GenerationConfig forever = GenerationConfig.defaults().greedy(true).maxNewTokens(400);
        List<CompletableFuture<Completion>> futures = loop.submit(List.of(request("A", forever, text -> true), request("B", forever, text -> true)));
        loop.close();
        for (CompletableFuture<Completion> f : futures) assertThat(f).isDone(); // cancelled, or finished first on a fast machine
        assertThatThrownBy(() -> loop.submit(List.of(request("C", forever, null)))).isInstanceOf(IllegalStateException.class);
    }
}
