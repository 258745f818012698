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

        // a LoRA adapter on the encoder's query and value (random B, so it moves the logits), run unmerged
        java.util.Random random = new java.util.Random(System.nanoTime());
        dev.jumbo.lora.LoraAdapters lora = dev.jumbo.lora.LoraAdapters.attach(bert.loraModules(),
                new dev.jumbo.lora.LoraConfig(2, 8, 0, java.util.List.of("query", "value")), random);
        for (dev.jumbo.lora.LoraAdapter a : lora.adapters().values()) {
            float[] b = a.b().buffer();
            for (int i = 0; i < b.length; i++) b[i] = (float) (3 * random.nextGaussian());
        }
        float[] adapted = bert.maskedLmLogits(ids);
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int k = 0; k < 50; k++) max = Math.max(max, adapted[2 * 50 + k]);
        for (int k = 0; k < 50; k++) sum += Math.exp(adapted[2 * 50 + k] - max);
        Path adapterDir = dir.resolve("adapter");
        lora.toPeft(dir.toString(), "FEATURE_EXTRACTION", false).write(adapterDir);
        CliTest.Result withAdapter = CliTest.run("fill-mask", "--model", dir.toString(), "--adapter", adapterDir.toString(), "--text", "w7 [MASK] w9", "--json");
        assertThat(withAdapter.code()).as(withAdapter.err()).isZero();
        JsonNode first = withAdapter.lastJson().get("predictions").get(0);
        int id = first.get("token_id").asInt();
        assertThat(first.get("score").asDouble()).isCloseTo(Math.exp(adapted[2 * 50 + id] - max) / sum, org.assertj.core.data.Offset.offset(1e-5));
        for (int k = 0; k < 50; k++) assertThat(adapted[2 * 50 + k]).isLessThanOrEqualTo(adapted[2 * 50 + id]);

        CliTest.Result none = CliTest.run("fill-mask", "--model", dir.toString(), "--text", "w7 w9");
        assertThat(none.code()).isNotZero();
        assertThat(none.err()).contains("exactly one [MASK]");
    }
}
