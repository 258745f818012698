package dev.jumbo.models;

import dev.jumbo.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The embedding-level forwards that token attributions differentiate give forward(ids)'s outputs exactly, and reject bad shapes. */
class EmbeddingForwardTest {

    private static float[] asFloats(int[] ids) {
        float[] f = new float[ids.length];
        for (int i = 0; i < ids.length; i++) f[i] = ids[i];
        return f;
    }

    @Test
    void gpt2LogitsFromTokenEmbeddingsAreForwardsExactly() {
        Random r = new Random(System.nanoTime());
        Gpt2 gpt2 = new Gpt2(new Gpt2Config(30, 12, 16, 2, 4, 1e-5));
        int[] a = new int[9], b = new int[9];
        for (int i = 0; i < 9; i++) {
            a[i] = r.nextInt(30);
            b[i] = r.nextInt(30);
        }
        Tensor ea = gpt2.embed(a), eb = gpt2.embed(b);
        assertThat(ea.shape().toArray()).containsExactly(1, 9, 16);
        // before position embeddings: the rows of the token table themselves
        float[] table = gpt2.stateDict().get("wte.embeddings").toFloatArray();
        for (int i = 0; i < 9; i++)
            for (int k = 0; k < 16; k++) assertThat(ea.get(0, i, k)).isEqualTo(table[a[i] * 16 + k]);
        int[] both = new int[18];
        System.arraycopy(a, 0, both, 0, 9);
        System.arraycopy(b, 0, both, 9, 9);
        float[] byIds = gpt2.forward(Tensor.of(asFloats(both), 2, 9)).toFloatArray();
        float[] byEmbeddings = gpt2.forwardEmbeddings(Tensor.concat(0, java.util.List.of(ea, eb))).toFloatArray();
        assertThat(byEmbeddings).containsExactly(byIds);
        // and the cached decoding path, written separately on float arrays, agrees with it
        float[] session = gpt2.start().feed(a);
        for (int v = 0; v < 30; v++) assertThat(session[v]).isCloseTo(byIds[8 * 30 + v], org.assertj.core.data.Offset.offset(1e-4f));
        assertThatThrownBy(() -> gpt2.forwardEmbeddings(Tensor.zeros(1, 9, 8))).hasMessageContaining("GPT-2 takes embeddings [batch, time, 16], got [1, 9, 8]");
        assertThatThrownBy(() -> gpt2.forwardEmbeddings(Tensor.zeros(1, 13, 16))).hasMessageContaining("longer than the model's context of 12");
        assertThatThrownBy(() -> gpt2.embed(new int[] {3, 30})).hasMessageContaining("token id 30 is outside the vocabulary of 30");
    }

    @Test
    void bertHiddenStatesAndMaskedLmLogitsFromWordEmbeddingsAreForwardsExactly() throws Exception {
        Path dir = Path.of(EmbeddingForwardTest.class.getResource("/bert-tiny/config.json").toURI()).getParent();
        Bert bert = new Bert(BertConfig.read(dir.resolve("config.json")), false, true);
        Random r = new Random(System.nanoTime());
        int[] ids = new int[11];
        for (int i = 0; i < ids.length; i++) ids[i] = r.nextInt(50);
        Tensor words = bert.wordEmbeddings(ids);
        float[] table = bert.stateDict().get("embeddings.word_embeddings.embeddings").toFloatArray();
        for (int i = 0; i < ids.length; i++)
            for (int k = 0; k < 32; k++) assertThat(words.get(0, i, k)).isEqualTo(table[ids[i] * 32 + k]);
        float[] byIds = bert.forward(Tensor.of(asFloats(ids), 1, ids.length)).toFloatArray();
        Tensor hidden = bert.forwardEmbeddings(words);
        assertThat(hidden.toFloatArray()).containsExactly(byIds);
        assertThat(bert.maskedLmLogits(hidden).toFloatArray()).containsExactly(bert.maskedLmLogits(ids));
        // a padded batch through the mask: the same as forward(ids, mask)
        float[] mask = new float[2 * 11], two = new float[2 * 11];
        for (int i = 0; i < 11; i++) {
            two[i] = ids[i];
            two[11 + i] = i < 7 ? ids[i] : 0;
            mask[i] = 1;
            mask[11 + i] = i < 7 ? 1 : 0;
        }
        int[] padded = new int[11];
        for (int i = 0; i < 11; i++) padded[i] = (int) two[11 + i];
        Tensor batch = Tensor.concat(0, java.util.List.of(words, bert.wordEmbeddings(padded)));
        assertThat(bert.forwardEmbeddings(batch, Tensor.of(mask, 2, 11)).toFloatArray())
                .containsExactly(bert.forward(Tensor.of(two, 2, 11), Tensor.of(mask, 2, 11)).toFloatArray());
        assertThatThrownBy(() -> bert.forwardEmbeddings(Tensor.zeros(1, 3, 31))).hasMessageContaining("BERT takes word embeddings [batch, time, 32]");
        assertThatThrownBy(() -> bert.forwardEmbeddings(Tensor.zeros(1, 21, 32))).hasMessageContaining("longer than the model's 20 positions");
        assertThatThrownBy(() -> bert.wordEmbeddings(new int[] {50})).hasMessageContaining("token id 50 is outside the vocabulary of 50");
    }
}
