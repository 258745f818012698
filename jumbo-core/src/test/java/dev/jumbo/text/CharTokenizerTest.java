package dev.jumbo.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CharTokenizerTest {
    @Test
    void idsFollowCodePointOrderAndRoundTrip() {
        CharTokenizer t = CharTokenizer.of("hello, wörld 🦙");
        assertThat(t.vocabSize()).isEqualTo(11);
        assertThat(t.encode(" ")).containsExactly(0);
        assertThat(t.decode(t.encode("löl 🦙"))).isEqualTo("löl 🦙");
        assertThat(CharTokenizer.ofAlphabet(t.alphabet()).encode("hello")).containsExactly(t.encode("hello"));
    }

    @Test
    void unknownCharactersAndIdsAreNamed() {
        CharTokenizer t = CharTokenizer.of("abc");
        assertThatThrownBy(() -> t.encode("abz")).hasMessageContaining("'z'").hasMessageContaining("U+7A");
        assertThatThrownBy(() -> t.decode(new int[] {3})).hasMessageContaining("3");
        assertThatThrownBy(() -> CharTokenizer.ofAlphabet(new int[] {'a', 'a'})).hasMessageContaining("twice");
        assertThatThrownBy(() -> CharTokenizer.of("")).hasMessageContaining("non-empty");
    }
}
