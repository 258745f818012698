package dev.jumbo.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class CausalLmTest {
    @Test
    void aStepFeedsEachSessionItsOwnToken() throws Exception {
        Gpt2 gpt2 = Gpt2.load(Path.of(CausalLmTest.class.getResource("/gpt2-tiny/config.json").toURI()).getParent());
        CausalLm.Session a = gpt2.start(), b = gpt2.start(), aloneA = gpt2.start(), aloneB = gpt2.start();
        a.feed(new int[] {1, 2});
        aloneA.feed(new int[] {1, 2});
        b.feed(new int[] {7});
        aloneB.feed(new int[] {7});
        float[][] logits = gpt2.step(List.of(a, b), new int[] {3, 9});
        assertThat(logits[0]).containsExactly(aloneA.feed(new int[] {3}));
        assertThat(logits[1]).containsExactly(aloneB.feed(new int[] {9}));
        assertThat(a.length()).isEqualTo(3);
        assertThat(b.length()).isEqualTo(2);
        assertThatThrownBy(() -> gpt2.step(List.of(a), new int[] {1, 2})).hasMessageContaining("1 sessions but 2 tokens");
    }
}
