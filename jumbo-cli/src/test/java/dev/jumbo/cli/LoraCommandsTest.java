package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoraCommandsTest {
    @TempDir
    static Path tmp;
    static Path base, newText, adapter;
    static CliTest.Result tuned;

    @BeforeAll
    static void trainBaseThenAdapter() throws Exception {
        Path text = tmp.resolve("old.txt");
        Files.writeString(text, "the cat sat on the mat. ".repeat(200));
        newText = tmp.resolve("new.txt");
        Files.writeString(newText, "the mat sat on the cat. ".repeat(200));
        base = tmp.resolve("base");
        CliTest.Result b = CliTest.run("train-lm", "--text", text.toString(), "--layers", "1", "--heads", "2", "--dim", "32",
                "--context", "16", "--batch-size", "8", "--iters", "150", "--lr", "3e-3", "--eval-every", "150", "--out", base.toString());
        assertThat(b.code()).as(b.err()).isZero();
        adapter = tmp.resolve("adapter");
        tuned = CliTest.run("finetune", "--model", base.toString(), "--task", "lm", "--data", newText.toString(), "--lora-r", "2", "--lora-alpha", "16",
                "--lora-targets", "c_attn", "--iters", "100", "--lr", "1e-2", "--batch-size", "8", "--eval-every", "50", "--json", "--out", adapter.toString());
    }

    @Test
    void loraFineTuningWritesPeftsFilesAndReportsItsFigures() throws Exception {
        assertThat(tuned.code()).as(tuned.err()).isZero();
        JsonNode j = tuned.lastJson();
        long trainable = j.get("trainable_parameters").asLong(), total = j.get("total_parameters").asLong();
        assertThat(trainable).isEqualTo(2 * (32 + 96)); // one layer's c_attn: A [32, 2] and B [2, 96]
        assertThat((double) trainable / total).isLessThan(0.05);
        assertThat(j.get("val_loss").asDouble()).isLessThan(j.get("val_loss_before").asDouble() * 0.5); // the base says "the cat sat", the new text "the mat sat"
        assertThat(j.get("optimizer_state_bytes").asLong()).isEqualTo(2 * 4 * trainable);
        assertThat(j.get("peak_heap_bytes").asLong()).isPositive();
        assertThat(j.get("live_heap_after_gc_bytes").asLong()).isPositive();
        assertThat(j.get("peak_heap_after_gc_bytes").asLong()).isGreaterThanOrEqualTo(0);
        for (String f : new String[] {"adapter_config.json", "adapter_model.safetensors", LoraFinetuneJob.CHART}) assertThat(adapter.resolve(f)).isRegularFile();
        assertThat(adapter.resolve("model.safetensors")).doesNotExist();
        assertThat(tuned.err()).contains("val loss before").contains("finetune");
    }

    @Test
    void mergedModelAndBasePlusAdapterAgree() throws Exception {
        assertThat(tuned.code()).as(tuned.err()).isZero();
        byte[] baseWeights = Files.readAllBytes(base.resolve("model.safetensors"));
        Path merged = tmp.resolve("merged");
        CliTest.Result m = CliTest.run("merge", "--model", base.toString(), "--adapter", adapter.toString(), "--out", merged.toString(), "--json");
        assertThat(m.code()).as(m.err()).isZero();
        assertThat(m.lastJson().get("max_abs_diff").asDouble()).isLessThanOrEqualTo(1e-5);
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json"}) assertThat(merged.resolve(f)).isRegularFile();
        assertThat(Files.readAllBytes(base.resolve("model.safetensors"))).isEqualTo(baseWeights);

        CliTest.Result unmerged = CliTest.run("generate", "--model", base.toString(), "--adapter", adapter.toString(), "--prompt", "the ", "--max-new-tokens", "12", "--greedy", "--json");
        CliTest.Result folded = CliTest.run("generate", "--model", merged.toString(), "--prompt", "the ", "--max-new-tokens", "12", "--greedy", "--json");
        CliTest.Result plain = CliTest.run("generate", "--model", base.toString(), "--prompt", "the ", "--max-new-tokens", "12", "--greedy", "--json");
        assertThat(unmerged.code()).as(unmerged.err()).isZero();
        assertThat(unmerged.err()).contains("LoRA adapter");
        String adapted = unmerged.lastJson().get("sequences").get(0).get("text").asText();
        assertThat(folded.lastJson().get("sequences").get(0).get("text").asText()).isEqualTo(adapted);
        assertThat(plain.lastJson().get("sequences").get(0).get("text").asText()).isNotEqualTo(adapted);
    }

    @Test
    void aLlamaAdapterRunsUnmergedAndMergesIntoTheCheckpointsFormat() throws Exception {
        Path stories = CliTest.sharedData().resolve("llama2c/stories260K.bin");
        Path llamaAdapter = tmp.resolve("llama-adapter");
        try (dev.jumbo.models.Llama llama = dev.jumbo.models.Llama2c.load(stories)) {
            dev.jumbo.models.LlamaLora lora = dev.jumbo.models.LlamaLora.init(llama.config(),
                    new dev.jumbo.lora.LoraConfig(2, 4, 0, java.util.List.of("q_proj", "v_proj")), new java.util.Random(3));
            java.util.Random r = new java.util.Random(4);
            for (var d : lora.deltas().values())
                for (int i = 0; i < d.b().length; i++) d.b()[i] = (float) (r.nextGaussian() * 0.5);
            lora.write(llamaAdapter, stories.toString());
        }
        Path merged = tmp.resolve("stories-merged.bin");
        CliTest.Result m = CliTest.run("merge", "--model", stories.toString(), "--adapter", llamaAdapter.toString(), "--out", merged.toString(), "--json");
        assertThat(m.code()).as(m.err()).isZero();
        assertThat(m.lastJson().get("format").asText()).isEqualTo("llama2.c");
        Files.copy(stories.resolveSibling("tok512.bin"), tmp.resolve("tok512.bin"));
        CliTest.Result unmerged = CliTest.run("generate", "--model", stories.toString(), "--adapter", llamaAdapter.toString(), "--greedy", "--max-new-tokens", "20", "--json");
        CliTest.Result folded = CliTest.run("generate", "--model", merged.toString(), "--greedy", "--max-new-tokens", "20", "--json");
        CliTest.Result plain = CliTest.run("generate", "--model", stories.toString(), "--greedy", "--max-new-tokens", "20", "--json");
        assertThat(unmerged.code()).as(unmerged.err()).isZero();
        assertThat(folded.code()).as(folded.err()).isZero();
        JsonNode adapted = unmerged.lastJson().get("sequences").get(0).get("token_ids");
        assertThat(folded.lastJson().get("sequences").get(0).get("token_ids")).isEqualTo(adapted);
        assertThat(plain.lastJson().get("sequences").get(0).get("token_ids")).isNotEqualTo(adapted);
    }

    @Test
    void aLlamaFineTunesItsAdaptersThroughTheSameCommand() throws Exception {
        Path stories = CliTest.sharedData().resolve("llama2c/stories260K.bin");
        Path out = tmp.resolve("llama-finetuned");
        CliTest.Result r = CliTest.run("finetune", "--model", stories.toString(), "--task", "lm", "--data", newText.toString(), "--lora-r", "4",
                "--lora-alpha", "8", "--iters", "12", "--context", "32", "--batch-size", "4", "--lr", "1e-2", "--eval-every", "6", "--json", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = r.lastJson();
        // PEFT's Llama default: q_proj and v_proj of each of stories260K's 5 layers, rank 4
        assertThat(r.err()).contains("LoRA r 4, alpha 8 on 10 modules");
        assertThat(j.get("trainable_parameters").asLong()).isLessThan(j.get("total_parameters").asLong() / 20);
        assertThat(j.get("val_loss").asDouble()).isLessThan(j.get("val_loss_before").asDouble());
        dev.jumbo.lora.PeftAdapter written = dev.jumbo.lora.PeftAdapter.read(out);
        assertThat(written.config().targetModules()).containsExactlyInAnyOrder("q_proj", "v_proj");
        assertThat(written.tensors()).containsKey("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
        CliTest.Result full = CliTest.run("finetune", "--model", stories.toString(), "--task", "lm", "--data", newText.toString(), "--full",
                "--out", tmp.resolve("llama-full").toString());
        assertThat(full.code()).isNotZero();
        assertThat(full.err()).contains("a Llama (" + stories + ") trains LoRA adapters: leave out --full");
    }

    @Test
    void fullFineTuningTrainsEveryWeightAndKeepsStateForAll() throws Exception {
        Path full = tmp.resolve("full");
        CliTest.Result r = CliTest.run("finetune", "--model", base.toString(), "--task", "lm", "--data", newText.toString(), "--full",
                "--iters", "20", "--batch-size", "8", "--eval-every", "20", "--json", "--out", full.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = r.lastJson();
        assertThat(j.get("trainable_parameters").asLong()).isEqualTo(j.get("total_parameters").asLong());
        assertThat(j.get("optimizer_state_bytes").asLong()).isEqualTo(2 * 4 * j.get("total_parameters").asLong());
        assertThat(j.get("mode").asText()).isEqualTo("full");
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json"}) assertThat(full.resolve(f)).isRegularFile();
    }

    @Test
    void mismatchesAreRefusedWithOneClearLine() throws Exception {
        CliTest.Result badTarget = CliTest.run("finetune", "--model", base.toString(), "--task", "lm", "--data", newText.toString(),
                "--lora-targets", "q_proj", "--iters", "5", "--out", tmp.resolve("x").toString());
        assertThat(badTarget.code()).isEqualTo(1);
        assertThat(badTarget.err()).contains("'q_proj' matches no module of this model; the modules LoRA can adapt are c_attn, c_proj, c_fc");

        CliTest.Result intoBase = CliTest.run("finetune", "--model", base.toString(), "--task", "lm", "--data", newText.toString(), "--out", base.toString());
        assertThat(intoBase.code()).isEqualTo(1);
        assertThat(intoBase.err()).contains("is the --model " + base);

        // an adapter made for a wider model
        Path other = tmp.resolve("wide");
        assertThat(CliTest.run("train-lm", "--text", newText.toString(), "--layers", "1", "--heads", "2", "--dim", "16",
                "--context", "16", "--batch-size", "4", "--iters", "2", "--eval-every", "2", "--out", other.toString()).code()).isZero();
        CliTest.Result wrongBase = CliTest.run("generate", "--model", other.toString(), "--adapter", adapter.toString(), "--max-new-tokens", "2");
        assertThat(wrongBase.code()).isEqualTo(1);
        assertThat(wrongBase.err()).contains("adapter_model.safetensors").contains("has shape [2, 32], but module 'transformer.h.0.attn.c_attn' takes 16 inputs");
        CliTest.Result wrongMerge = CliTest.run("merge", "--model", other.toString(), "--adapter", adapter.toString(), "--out", tmp.resolve("m2").toString());
        assertThat(wrongMerge.code()).isEqualTo(1);
        assertThat(tmp.resolve("m2")).doesNotExist();
    }
}
