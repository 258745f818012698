package dev.jumbo.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.io.Json;
import dev.jumbo.text.CharTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Generation on the tiny GPT-2 fixture, with the 96 printable ASCII characters as its vocabulary. */
class GeneratorTest {
    private static final CharTokenizer ASCII = CharTokenizer.ofAlphabet(java.util.stream.IntStream.range(32, 128).toArray());

    private static Gpt2 model() throws Exception {
        return Gpt2.load(Path.of(GeneratorTest.class.getResource("/gpt2-tiny/config.json").toURI()).getParent());
    }

    @Test
    void cachedStepsGiveTheLogitsOfAFullRecomputation() throws Exception {
        Gpt2 gpt2 = model();
        int[] ids = {5, 17, 42, 3, 88, 61, 0, 95, 7, 7, 30};
        CausalLm.Session s = gpt2.start();
        float[] cached = s.feed(java.util.Arrays.copyOf(ids, 4));
        for (int t = 4; ; t++) {
            float[] full = gpt2.logits(java.util.Arrays.copyOf(ids, t));
            for (int v = 0; v < full.length; v++) assertThat((double) cached[v]).as("step %d token %d", t, v).isCloseTo(full[v], org.assertj.core.data.Offset.offset(1e-4));
            if (t == ids.length) break;
            cached = s.feed(new int[] {ids[t]});
        }
        assertThat(s.length()).isEqualTo(ids.length);
    }

    @Test
    void greedyGenerationMatchesPyTorch() throws Exception {
        Map<?, ?> ref = (Map<?, ?>) Json.parse(Files.readString(Path.of(GeneratorTest.class.getResource("/gpt2-tiny/reference.json").toURI())));
        int[] prompt = ((List<?>) ref.get("prompt")).stream().mapToInt(x -> ((Long) x).intValue()).toArray();
        int[] want = ((List<?>) ref.get("greedy")).stream().mapToInt(x -> ((Long) x).intValue()).toArray();
        List<String> streamed = new java.util.ArrayList<>();
        Generator.Generation g = Generator.generate(model(), ASCII, ASCII.decode(prompt),
                GenerationConfig.defaults().greedy(true).maxNewTokens(want.length), (seq, id, text) -> streamed.add(text));
        assertThat(g.promptTokenIds()).containsExactly(prompt);
        assertThat(g.sequences().getFirst().tokenIds()).containsExactly(want);
        assertThat(String.join("", streamed)).isEqualTo(g.sequences().getFirst().text());
        assertThat(g.generatedTokens()).isEqualTo(want.length);
        assertThat(g.tokensPerSecond()).isPositive();
    }

    @Test
    void samplingIsReproducibleBySeedAndTopKOneIsGreedy() throws Exception {
        Gpt2 gpt2 = model();
        GenerationConfig c = GenerationConfig.defaults().maxNewTokens(10).temperature(1.5).seed(3).numReturnSequences(3);
        Generator.Generation a = Generator.generate(gpt2, ASCII, "Hello", c, null), b = Generator.generate(gpt2, ASCII, "Hello", c, null);
        assertThat(a.sequences()).hasSize(3);
        for (int i = 0; i < 3; i++) assertThat(a.sequences().get(i).tokenIds()).containsExactly(b.sequences().get(i).tokenIds());
        Set<String> texts = new HashSet<>();
        for (long seed = 0; seed < 5; seed++)
            texts.add(Generator.generate(gpt2, ASCII, "Hello", c.seed(seed).numReturnSequences(1), null).sequences().getFirst().text());
        assertThat(texts).hasSizeGreaterThan(1);
        int[] greedy = Generator.generate(gpt2, ASCII, "Hello", c.greedy(true).numReturnSequences(1), null).sequences().getFirst().tokenIds();
        int[] topK1 = Generator.generate(gpt2, ASCII, "Hello", c.topK(1).numReturnSequences(1), null).sequences().getFirst().tokenIds();
        assertThat(topK1).containsExactly(greedy);
    }

    @Test
    void stopsAtStopStringsTheEndTokenAndTheContext() throws Exception {
        Gpt2 gpt2 = model();
        GenerationConfig greedy = GenerationConfig.defaults().greedy(true).maxNewTokens(12);
        String full = Generator.generate(gpt2, ASCII, "Hello", greedy, null).sequences().getFirst().text();
        String stop = full.substring(5, 7);
        String cut = Generator.generate(gpt2, ASCII, "Hello", greedy.stopStrings(List.of(stop)), null).sequences().getFirst().text();
        assertThat(cut).isEqualTo(full.substring(0, full.indexOf(stop)));
        int firstId = ASCII.encode(full.substring(0, 1))[0];
        assertThat(Generator.generate(gpt2, ASCII, "Hello", greedy.eosTokenId(firstId), null).sequences().getFirst().tokenIds()).isEmpty();
        // the fixture's context is 24: a 20-token prompt leaves room for 4
        assertThat(Generator.generate(gpt2, ASCII, "x".repeat(20), greedy.maxNewTokens(50), null).generatedTokens()).isEqualTo(4);
        assertThatThrownBy(() -> Generator.generate(gpt2, ASCII, "x".repeat(25), greedy, null)).hasMessageContaining("context is 24");
        // with a sliding window it goes on, each step reading the last 24 tokens
        int[] slid = Generator.generate(gpt2, ASCII, "x".repeat(20), greedy.maxNewTokens(10).slidingWindow(true), null)
                .sequences().getFirst().tokenIds();
        assertThat(slid).hasSize(10);
        int[] all = new int[30];
        System.arraycopy(ASCII.encode("x".repeat(20)), 0, all, 0, 20);
        System.arraycopy(slid, 0, all, 20, 10);
        float[] last = gpt2.logits(java.util.Arrays.copyOfRange(all, 29 - 24, 29));
        int best = 0;
        for (int v = 1; v < last.length; v++) if (last[v] > last[best]) best = v;
        assertThat(slid[9]).isEqualTo(best);
    }

    @Test
    void rejectsSettingsOutOfRange() {
        assertThatThrownBy(() -> GenerationConfig.defaults().temperature(0)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> GenerationConfig.defaults().topP(1.5)).hasMessageContaining("top_p");
        assertThatThrownBy(() -> GenerationConfig.defaults().numReturnSequences(0)).hasMessageContaining("num_return_sequences");
    }

    @Test
    void aBosTokenStartsTheSequenceAndAnEmptyPromptNeedsOne() throws Exception {
        Gpt2 gpt2 = model();
        GenerationConfig greedy = GenerationConfig.defaults().greedy(true).maxNewTokens(5);
        assertThatThrownBy(() -> Generator.generate(gpt2, ASCII, "", greedy, null)).hasMessageContaining("no BOS token");
        Generator.Generation fromBos = Generator.generate(gpt2, ASCII, "", greedy.bosTokenId(0), null);
        assertThat(fromBos.promptTokenIds()).containsExactly(0);
        Generator.Generation prefixed = Generator.generate(gpt2, ASCII, "Hi", greedy.bosTokenId(0), null);
        assertThat(prefixed.promptTokenIds()).containsExactly(0, ASCII.encode("H")[0], ASCII.encode("i")[0]);
        // the same ids fed directly give the same continuation
        int[] ids = prefixed.promptTokenIds();
        Generator.Generation plain = Generator.generate(gpt2, ASCII, ASCII.decode(ids), greedy, null);
        assertThat(plain.sequences().getFirst().tokenIds()).containsExactly(prefixed.sequences().getFirst().tokenIds());
        assertThatThrownBy(() -> greedy.bosTokenId(-2)).hasMessageContaining("bos_token_id");
    }
}
