package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jumbo.io.GgmlType;
import dev.jumbo.io.Gguf;
import dev.jumbo.io.GgufFile;
import dev.jumbo.kernel.VectorMath;
import dev.jumbo.models.Llama;
import dev.jumbo.models.Llama2c;
import dev.jumbo.models.LlamaGguf;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jumbo quantize} on llama2.c's stories260K, checked against the reference greedy decoding. */
class QuantizeCommandTest {
    @TempDir
    static Path dir;

    @Test
    void q8_0OfStories260KDecodesTheReferenceGreedyTokens() throws Exception {
        Path out = dir.resolve("stories260K-q8_0.gguf");
        CliTest.Result r = CliTest.run("quantize", "--model", llama2c().resolve("stories260K.bin").toString(), "--type", "q8_0", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        // stories260K's hidden width is 172: ffn_down's rows are not whole blocks of 32
        assertThat(r.err()).contains("kept F32: blk.0.ffn_down.weight (rows of 172 values");
        try (GgufFile g = Gguf.open(out)) {
            assertThat(g.string("general.architecture")).isEqualTo("llama");
            assertThat(g.integer("general.file_type")).isEqualTo(7);
            assertThat(g.integer("llama.feed_forward_length")).isEqualTo(172);
            assertThat(g.tensorInfo("blk.0.attn_q.weight").type()).isEqualTo(GgmlType.Q8_0);
            assertThat(g.tensorInfo("blk.0.ffn_down.weight").type()).isEqualTo(GgmlType.F32);
            assertThat(g.tensorInfo("output_norm.weight").type()).isEqualTo(GgmlType.F32);
            assertThat(g.hasTensor("output.weight")).isFalse(); // shared with the embedding
            assertThat(g.strings("tokenizer.ggml.tokens")).hasSize(512);
            assertThat(g.integer("tokenizer.ggml.bos_token_id")).isEqualTo(1);
        }
        int[] expected = referenceIds(20);
        assertThat(greedy(out, 20)).containsExactly(expected);
    }

    @Test
    void q4_0AndARequantizedGgufLoad() throws Exception {
        Path q4 = dir.resolve("stories260K-q4_0.gguf");
        // --method q4_0 is --type q4_0 (the one option the issue names for every kind)
        CliTest.Result r = CliTest.run("quantize", "--model", llama2c().resolve("stories260K.bin").toString(), "--method", "q4_0", "--out", q4.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("Q4_0");
        int[] ids = greedy(q4, 40), ref = referenceIds(40);
        int same = 0;
        while (same < ids.length && ids[same] == ref[same]) same++;
        var tok = Llama2c.loadTokenizer(llama2c().resolve("tok512.bin"), 512);
        System.out.println("q4_0: " + same + " leading ids equal the reference; text: " + tok.decode(ids));
        // a GGUF source: its tokenizer keys are copied
        Path f16 = dir.resolve("stories260K-f16.gguf");
        CliTest.Result again = CliTest.run("quantize", "--model", llama2c().resolve("stories260K.gguf").toString(), "--type", "f16", "--out", f16.toString());
        assertThat(again.code()).as(again.err()).isZero();
        try (GgufFile g = Gguf.open(f16); GgufFile source = Gguf.open(llama2c().resolve("stories260K.gguf"))) {
            assertThat(g.integer("general.file_type")).isEqualTo(1);
            assertThat(g.strings("tokenizer.ggml.tokens")).containsExactly(source.strings("tokenizer.ggml.tokens"));
            assertThat(g.tensorInfo("blk.0.ffn_down.weight").type()).isEqualTo(GgmlType.F16);
        }
        assertThat(greedy(f16, 20)).containsExactly(referenceIds(20));
    }

    @Test
    void aBadTypeIsOneLineAndLeavesThePreviousFile() throws Exception {
        Path out = dir.resolve("kept.gguf");
        Files.writeString(out, "previous");
        CliTest.Result r = CliTest.run("quantize", "--model", llama2c().resolve("stories260K.bin").toString(), "--type", "q5_k", "--out", out.toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err().lines().findFirst().orElseThrow()).isEqualTo("jumbo: error: --type 'q5_k' is not one of q8_0, q4_0, f16");
        assertThat(Files.readString(out)).isEqualTo("previous");
        // a source that fails to load leaves it too
        Path broken = dir.resolve("broken.bin");
        Files.write(broken, new byte[10]);
        CliTest.Result bad = CliTest.run("quantize", "--model", broken.toString(), "--type", "q8_0", "--out", out.toString());
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).contains("broken.bin").doesNotContain("\tat ");
        assertThat(Files.readString(out)).isEqualTo("previous");
    }

    /** Greedy ids after BOS, as run.c decodes with temperature 0. */
    static int[] greedy(Path gguf, int n) throws Exception {
        try (Llama llama = LlamaGguf.load(gguf, 512)) {
            Llama.Session s = llama.start();
            int[] ids = new int[n];
            int next = Llama2c.BOS;
            for (int i = 0; i < n; i++) {
                float[] logits = s.feed(new int[] {next});
                next = VectorMath.maxIndex(logits, 0, logits.length);
                ids[i] = next;
            }
            return ids;
        }
    }

    private static int[] referenceIds(int n) throws Exception {
        JsonNode ref = new ObjectMapper().readTree(llama2c().resolveSibling("reference").resolve("stories260K-reference.json").toFile());
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = ref.get("greedy_ids").get(i).asInt();
        return ids;
    }

    private static Path llama2c() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent())
            if (Files.isDirectory(p.resolve("shared/data/llama2c"))) return p.resolve("shared/data/llama2c");
        throw new IllegalStateException("shared/data/llama2c not found beside the checkout");
    }
}
