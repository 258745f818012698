package dev.jumbo.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.nn.Init;
import org.junit.jupiter.api.Test;

class LmTrainerTest {
    @Test
    void learnsARepeatingPattern() {
        // "abcd" repeated: every next character is determined, so a small GPT should get far below ln(4)
        int[] tokens = new int[4000];
        for (int i = 0; i < tokens.length; i++) tokens[i] = i % 4;
        Init.seed(3);
        Gpt2 gpt2 = new Gpt2(new Gpt2Config(4, 16, 32, 1, 2, 1e-5));
        LmTrainer t = new LmTrainer(gpt2, tokens, new LmTrainer.Options(16, 8, 150, 3e-3, 10, 0.0, 1));
        double before = t.validationLoss(4);
        for (int i = 0; i < 150; i++) t.step();
        assertThat(t.iterations()).isEqualTo(150);
        assertThat(before).isGreaterThan(1.0);
        assertThat(t.validationLoss(4)).isLessThan(0.1);
    }

    @Test
    void rejectsTextsTooShortForTheirWindows() {
        Gpt2 gpt2 = new Gpt2(new Gpt2Config(4, 16, 8, 1, 2, 1e-5));
        assertThatThrownBy(() -> new LmTrainer(gpt2, new int[100], new LmTrainer.Options(16, 2, 10, 1e-3, 1, 0, 1)))
                .hasMessageContaining("too few");
        assertThatThrownBy(() -> new LmTrainer(gpt2, new int[1000], new LmTrainer.Options(32, 2, 10, 1e-3, 1, 0, 1)))
                .hasMessageContaining("longer than the model's 16");
    }
}
