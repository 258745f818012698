package dev.jumbo.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.text.CharTokenizer;
import dev.jumbo.text.SentencePieceBpe;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextStreamTest {
    private static final CharTokenizer ABC = CharTokenizer.of("abcxyz ");

    private static List<String> feed(TextStream stream, String text) {
        List<String> pieces = new ArrayList<>();
        for (int id : ABC.encode(text)) if (!stream.stopped()) pieces.add(stream.add(id));
        return pieces;
    }

    @Test
    void holdsBackTheStartOfAStopStringUntilItIsKnown() {
        TextStream completed = new TextStream(ABC, ABC.encode("z"), List.of("ab"));
        assertThat(feed(completed, "xaby")).containsExactly("x", "", "");
        assertThat(completed.stopped()).isTrue();
        assertThat(completed.text()).isEqualTo("x");
        assertThat(completed.tokenIds()).hasSize(3); // the token that completed the stop string is counted
        assertThat(completed.rest()).isEmpty();
        assertThatThrownBy(() -> completed.add(0)).isInstanceOf(IllegalStateException.class);

        TextStream broken = new TextStream(ABC, ABC.encode("z"), List.of("ab"));
        assertThat(feed(broken, "xacy")).containsExactly("x", "", "ac", "y");
        assertThat(broken.stopped()).isFalse();
        assertThat(broken.text()).isEqualTo("xacy");

        TextStream endsInPrefix = new TextStream(ABC, ABC.encode("z"), List.of("abc"));
        assertThat(feed(endsInPrefix, "xab")).containsExactly("x", "", "");
        assertThat(endsInPrefix.rest()).isEqualTo("ab"); // generation ended before the stop string could be completed
        assertThat(endsInPrefix.text()).isEqualTo("xab");
    }

    @Test
    void holdsBackACharacterUntilAllItsBytesAreOut() throws Exception {
        SentencePieceBpe tok = Llama2c.loadTokenizer(SharedData.dir().resolve("llama2c/tok512.bin"), 512);
        byte[] utf8 = "é".getBytes(StandardCharsets.UTF_8);
        TextStream stream = new TextStream(tok, new int[] {tok.bosId(), tok.encode("Hi")[0]}, List.of());
        int first = tok.id(String.format("<0x%02X>", utf8[0] & 0xFF)), second = tok.id(String.format("<0x%02X>", utf8[1] & 0xFF));
        assertThat(stream.add(first)).isEmpty();
        assertThat(stream.rest()).isEqualTo("\uFFFD");
        assertThat(stream.add(second)).endsWith("é");
        assertThat(stream.rest()).isEmpty();
    }
}
