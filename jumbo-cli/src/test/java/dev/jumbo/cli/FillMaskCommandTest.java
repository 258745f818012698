package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jumbo.models.Bert;
import dev.jumbo.text.WordPiece;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jumbo fill-mask} on the tiny random BertForMaskedLM fixture with a made-up 50-word vocabulary. */
class FillMaskCommandTest {
    @TempDir
    Path dir;

    @Test
    void ranksTheMaskCandidates() throws Exception {
        // the fixture comes from jumbo-core's test jar
        for (String f : new String[] {"config.json", "model.safetensors"})
            try (java.io.InputStream in = FillMaskCommandTest.class.getResourceAsStream("/bert-tiny/" + f)) {
                Files.copy(in, dir.resolve(f));
            }
        StringBuilder vocab = new StringBuilder("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n");
        for (int i = 5; i < 50; i++) vocab.append("w").append(i).append('\n');
        Files.writeString(dir.resolve("vocab.txt"), vocab);
        CliTest.Result r = CliTest.run("fill-mask", "--model", dir.toString(), "--text", "w7 [MASK] w9", "--top-k", "3", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode p = r.lastJson().get("predictions");
        assertThat(p).hasSize(3);
        assertThat(p.get(0).get("score").asDouble()).isGreaterThanOrEqualTo(p.get(1).get("score").asDouble());
        // the top candidate is the arg-max of the head's logits at the mask
        Bert bert = Bert.load(dir);
        int[] ids = WordPiece.fromVocabTxt(dir.resolve("vocab.txt"), true).encodeWithSpecialTokens("w7 [MASK] w9");
        assertThat(ids).containsExactly(2, 7, 4, 9, 3);
        float[] logits = bert.maskedLmLogits(ids);
        int best = 0;
        for (int k = 1; k < 50; k++) if (logits[2 * 50 + k] > logits[2 * 50 + best]) best = k;
        assertThat(p.get(0).get("token_id").asInt()).isEqualTo(best);
        assertThat(p.get(0).get("sequence").asText()).startsWith("w7 ");

        CliTest.Result none = CliTest.run("fill-mask", "--model", dir.toString(), "--text", "w7 w9");
        assertThat(none.code()).isNotZero();
        assertThat(none.err()).contains("exactly one [MASK]");
    }
}
