package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jumbo.models.Bert;
import dev.jumbo.models.BertConfig;
import dev.jumbo.nn.Init;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jumbo embed} on a small random BERT folder with a tiny WordPiece vocabulary. */
class EmbedCommandTest {
    @TempDir
    Path dir;

    @Test
    void printsOneNormalisedVectorPerText() throws Exception {
        Init.seed(2);
        Bert bert = new Bert(new BertConfig(8, 16, 1, 2, 32, 12, 2, 1e-12));
        bert.save(dir);
        Files.writeString(dir.resolve("vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nworld\n##s\n!\n");
        CliTest.Result r = CliTest.run("embed", "--model", dir.toString(), "--normalize", "--json", "hello worlds!", "world");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode e = r.lastJson().get("embeddings");
        assertThat(e).hasSize(2);
        assertThat(e.get(0)).hasSize(16);
        double norm = 0;
        for (JsonNode x : e.get(0)) norm += x.asDouble() * x.asDouble();
        assertThat(norm).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
        float[] direct = bert.embed(new int[][] {{2, 5, 3}}, true)[0];
        for (int k = 0; k < 16; k++) assertThat(e.get(1).get(k).asDouble()).isCloseTo(direct[k], org.assertj.core.data.Offset.offset(1e-5));

        CliTest.Result bad = CliTest.run("embed", "--model", dir.toString(), "--pooling", "max", "x");
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).contains("--pooling must be mean, cls or pooler");
        CliTest.Result pooled = CliTest.run("embed", "--model", dir.toString(), "--pooling", "pooler", "--json", "world");
        assertThat(pooled.code()).as(pooled.err()).isZero();
        float[] viaPooler = bert.embed(dev.jumbo.text.EncodedBatch.pad(new int[][] {{2, 5, 3}}, 12, 0, false), Bert.Pooling.POOLER, false)[0];
        for (int k = 0; k < 16; k++) assertThat(pooled.lastJson().get("embeddings").get(0).get(k).asDouble()).isCloseTo(viaPooler[k], org.assertj.core.data.Offset.offset(1e-5));
    }

    @Test
    void aLoraAdapterRunsBesideTheWeightsAndAnotherModelsIsRefused() throws Exception {
        Init.seed(3);
        Bert bert = new Bert(new BertConfig(8, 16, 1, 2, 32, 12, 2, 1e-12));
        bert.save(dir);
        Files.writeString(dir.resolve("vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nworld\n##s\n!\n");
        float[] plain = bert.embed(new int[][] {{2, 5, 3}}, false)[0];
        java.util.Random r = new java.util.Random(System.nanoTime());
        dev.jumbo.lora.LoraAdapters lora = dev.jumbo.lora.LoraAdapters.attach(bert.loraModules(),
                new dev.jumbo.lora.LoraConfig(2, 4, 0, java.util.List.of("query", "value")), r);
        for (dev.jumbo.lora.LoraAdapter a : lora.adapters().values()) {
            float[] b = a.b().buffer();
            for (int i = 0; i < b.length; i++) b[i] = (float) r.nextGaussian();
        }
        float[] adapted = bert.embed(new int[][] {{2, 5, 3}}, false)[0];
        Path adapter = dir.resolve("adapter");
        lora.toPeft(dir.toString(), "FEATURE_EXTRACTION", false).write(adapter);

        CliTest.Result withAdapter = CliTest.run("embed", "--model", dir.toString(), "--adapter", adapter.toString(), "--json", "world");
        assertThat(withAdapter.code()).as(withAdapter.err()).isZero();
        assertThat(withAdapter.err()).contains("LoRA adapter " + adapter + ": r 2 on 2 modules");
        JsonNode e = withAdapter.lastJson().get("embeddings").get(0);
        double moved = 0;
        for (int k = 0; k < 16; k++) {
            assertThat(e.get(k).asDouble()).isCloseTo(adapted[k], org.assertj.core.data.Offset.offset(1e-5));
            moved = Math.max(moved, Math.abs(adapted[k] - plain[k]));
        }
        assertThat(moved).as("the adapter changes the embedding").isGreaterThan(1e-3);

        Path wider = dir.resolve("wider");
        new Bert(new BertConfig(8, 24, 1, 2, 32, 12, 2, 1e-12)).save(wider);
        Files.copy(dir.resolve("vocab.txt"), wider.resolve("vocab.txt"));
        CliTest.Result refused = CliTest.run("embed", "--model", wider.toString(), "--adapter", adapter.toString(), "world");
        assertThat(refused.code()).isNotZero();
        assertThat(refused.err()).contains("adapter_model.safetensors").contains("(is it an adapter for " + wider + "?)");
    }

    @Test
    void anOnnxModelWithItsTokenizerGivesTheReferenceEmbedding() throws Exception {
        for (String f : new String[] {"all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json"})
            try (java.io.InputStream in = EmbedCommandTest.class.getResourceAsStream("/" + f)) {
                Files.copy(in, dir.resolve(f));
            }
        CliTest.Result r = CliTest.run("embed", "--model", dir.resolve("all-minilm-l6-v2.onnx").toString(),
                "--tokenizer", dir.resolve("all-minilm-l6-v2-tokenizer.json").toString(), "--normalize", "--json", "Hello world");
        assertThat(r.code()).as(r.err()).isZero();
        Path ref = null;
        for (Path p = Path.of("").toAbsolutePath(); p != null && ref == null; p = p.getParent())
            if (Files.exists(p.resolve("shared/data/reference/minilm-reference.json"))) ref = p.resolve("shared/data/reference/minilm-reference.json");
        assertThat(ref).as("shared/data beside the checkout").isNotNull();
        JsonNode item = new com.fasterxml.jackson.databind.ObjectMapper().readTree(ref.toFile()).get("items").get(0);
        assertThat(item.get("text").asText()).isEqualTo("Hello world");
        JsonNode got = r.lastJson().get("embeddings").get(0);
        for (int k = 0; k < 384; k++)
            assertThat(got.get(k).asDouble()).isCloseTo(item.get("embedding").get(k).asDouble(), org.assertj.core.data.Offset.offset(1e-4));
        CliTest.Result noTokenizer = CliTest.run("embed", "--model", dir.resolve("all-minilm-l6-v2.onnx").toString(), "x");
        assertThat(noTokenizer.err()).contains("--tokenizer");

        // converted to a HuggingFace folder, the same model gives the same vector
        Path folder = dir.resolve("minilm");
        CliTest.Result convert = CliTest.run("convert", "--model", dir.resolve("all-minilm-l6-v2.onnx").toString(),
                "--tokenizer", dir.resolve("all-minilm-l6-v2-tokenizer.json").toString(), "--out", folder.toString());
        assertThat(convert.code()).as(convert.err()).isZero();
        CliTest.Result fromFolder = CliTest.run("embed", "--model", folder.toString(), "--normalize", "--json", "Hello world");
        assertThat(fromFolder.code()).as(fromFolder.err()).isZero();
        JsonNode again = fromFolder.lastJson().get("embeddings").get(0);
        for (int k = 0; k < 384; k++)
            assertThat(again.get(k).asDouble()).isCloseTo(got.get(k).asDouble(), org.assertj.core.data.Offset.offset(1e-6));
    }
}
