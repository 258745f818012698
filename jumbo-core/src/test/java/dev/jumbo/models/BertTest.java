package dev.jumbo.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import dev.jumbo.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A random BERT in HuggingFace's layout (tools/fixtures/bert_tiny.py) against PyTorch's float64 outputs on a padded batch. */
class BertTest {
    @TempDir
    Path tmp;

    private static Path fixture() throws Exception {
        return Path.of(BertTest.class.getResource("/bert-tiny/config.json").toURI()).getParent();
    }

    private static Map<?, ?> reference() throws Exception {
        return (Map<?, ?>) Json.parse(Files.readString(fixture().resolve("reference.json")));
    }

    private static int[][] sequences(Map<?, ?> ref) {
        return ((List<?>) ref.get("sequences")).stream()
                .map(s -> ((List<?>) s).stream().mapToInt(x -> ((Long) x).intValue()).toArray()).toArray(int[][]::new);
    }

    @Test
    void hiddenStatesOfAPaddedBatchMatchPyTorch() throws Exception {
        Bert bert = Bert.load(fixture());
        Map<?, ?> ref = reference();
        int[][] seqs = sequences(ref);
        int t = seqs[0].length, d = bert.config().hiddenSize();
        float[] ids = new float[2 * t], mask = new float[2 * t];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < seqs[i].length; j++) {
                ids[i * t + j] = seqs[i][j];
                mask[i * t + j] = 1;
            }
        float[] h = bert.forward(Tensor.of(ids, 2, t), Tensor.of(mask, 2, t)).toFloatArray();
        List<?> want = (List<?>) ref.get("last_hidden_state");
        double maxDiff = 0;
        for (int i = 0; i < 2; i++) {
            List<?> rows = (List<?>) want.get(i);
            for (int j = 0; j < rows.size(); j++) {
                List<?> row = (List<?>) rows.get(j);
                for (int k = 0; k < d; k++) maxDiff = Math.max(maxDiff, Math.abs(h[(i * t + j) * d + k] - ((Number) row.get(k)).doubleValue()));
            }
        }
        assertThat(maxDiff).as("max |jumbo - torch| over real tokens").isLessThan(1e-4);
    }

    @Test
    void meanPooledEmbeddingsMatchPyTorch() throws Exception {
        Bert bert = Bert.load(fixture());
        Map<?, ?> ref = reference();
        float[][] got = bert.embed(sequences(ref), true);
        List<?> want = (List<?>) ref.get("embeddings");
        for (int i = 0; i < got.length; i++) {
            List<?> w = (List<?>) want.get(i);
            double dot = 0, maxDiff = 0;
            for (int k = 0; k < got[i].length; k++) {
                double x = ((Number) w.get(k)).doubleValue();
                dot += got[i][k] * x;
                maxDiff = Math.max(maxDiff, Math.abs(got[i][k] - x));
            }
            assertThat(dot).as("cosine similarity of sentence %d", i).isGreaterThanOrEqualTo(0.9999);
            assertThat(maxDiff).as("max difference of sentence %d", i).isLessThanOrEqualTo(1e-4);
        }
        // padding must not change a sequence's vector: alone it gives the same embedding
        float[][] alone = bert.embed(new int[][] {sequences(ref)[1]}, true);
        for (int k = 0; k < alone[0].length; k++) assertThat((double) alone[0][k]).isCloseTo(got[1][k], org.assertj.core.data.Offset.offset(1e-5));
    }

    @Test
    void poolerOutputMatchesPyTorch() throws Exception {
        Bert bert = Bert.load(fixture());
        assertThat(bert.hasPooler()).isTrue();
        Map<?, ?> ref = reference();
        float[][] got = bert.embed(dev.jumbo.text.EncodedBatch.pad(sequences(ref), 20, 0, false), Bert.Pooling.POOLER, false);
        List<?> want = (List<?>) ref.get("pooler_output");
        for (int i = 0; i < got.length; i++)
            for (int k = 0; k < got[i].length; k++)
                assertThat((double) got[i][k]).as("sentence %d, element %d", i, k).isCloseTo(((Number) ((List<?>) want.get(i)).get(k)).doubleValue(), org.assertj.core.data.Offset.offset(1e-5));
        assertThatThrownBy(() -> new Bert(bert.config(), false, false).embed(new dev.jumbo.text.EncodedBatch(new int[][] {{1}}, new int[][] {{1}}, new int[] {1}), Bert.Pooling.POOLER, false))
                .hasMessageContaining("no pooler");
    }

    @Test
    void savesHuggingFaceLayoutThatLoadsBackTheSame() throws Exception {
        Bert bert = Bert.load(fixture());
        bert.save(tmp);
        Map<String, Tensor> hf = dev.jumbo.io.Safetensors.read(tmp.resolve("model.safetensors"));
        assertThat(hf).containsKeys("embeddings.word_embeddings.weight", "encoder.layer.1.attention.self.query.weight",
                "encoder.layer.0.output.LayerNorm.bias");
        assertThat(hf.get("encoder.layer.0.intermediate.dense.weight").shape().toArray()).containsExactly(64, 32); // [out, in]
        // every tensor of the checkpoint comes back under its own name with its own values (the fused qkv split again)
        Map<String, Tensor> original = dev.jumbo.io.Safetensors.read(fixture().resolve("model.safetensors"));
        original.forEach((name, value) -> {
            String n = name.startsWith("bert.") ? name.substring(5) : name;
            if (n.endsWith("position_ids")) return;
            assertThat(hf).as(n).containsKey(n);
            assertThat(hf.get(n).toFloatArray()).as(n).containsExactly(value.toFloatArray());
        });
        assertThat(hf).hasSize((int) original.keySet().stream().filter(n -> !n.endsWith("position_ids")).count());
        Bert back = Bert.load(tmp);
        assertThat(back.config()).isEqualTo(bert.config());
        int[][] seqs = sequences(reference());
        assertThat(back.embed(seqs, true)[1]).containsExactly(bert.embed(seqs, true)[1]);
    }

    @Test
    void maskedLmLogitsMatchPyTorch() throws Exception {
        Bert bert = Bert.load(fixture());
        assertThat(bert.hasMlmHead()).isTrue();
        Map<?, ?> ref = reference();
        int[] seq = sequences(ref)[0];
        float[] got = bert.maskedLmLogits(seq);
        List<?> want = (List<?>) ref.get("mlm_logits_first_sequence");
        int v = bert.config().vocabSize();
        double maxDiff = 0, maxRef = 0;
        for (int j = 0; j < seq.length; j++)
            for (int k = 0; k < v; k++) {
                double w = ((Number) ((List<?>) want.get(j)).get(k)).doubleValue();
                maxDiff = Math.max(maxDiff, Math.abs(got[j * v + k] - w));
                maxRef = Math.max(maxRef, Math.abs(w));
            }
        assertThat(maxDiff / maxRef).isLessThan(1e-4);
        assertThatThrownBy(() -> new Bert(bert.config()).maskedLmLogits(seq)).hasMessageContaining("no masked-LM head");
    }

    @Test
    void badConfigsAreNamed() throws Exception {
        Files.copy(fixture().resolve("model.safetensors"), tmp.resolve("model.safetensors"));
        String config = Files.readString(fixture().resolve("config.json"));
        Files.writeString(tmp.resolve("config.json"), config.replace("\"hidden_size\": 32", "\"hidden_size\": -32"));
        assertThatThrownBy(() -> Bert.load(tmp)).isInstanceOf(FormatException.class).hasMessageContaining("hidden_size must be positive");
        Files.writeString(tmp.resolve("config.json"), config.replace("\"hidden_act\": \"gelu\"", "\"hidden_act\": \"swish\""));
        assertThatThrownBy(() -> Bert.load(tmp)).isInstanceOf(FormatException.class).hasMessageContaining("swish");
        Files.writeString(tmp.resolve("config.json"), config.replace("\"intermediate_size\": 64", "\"intermediate_size\": 65"));
        assertThatThrownBy(() -> Bert.load(tmp)).isInstanceOf(FormatException.class).hasMessageContaining("intermediate.dense");
    }
}
