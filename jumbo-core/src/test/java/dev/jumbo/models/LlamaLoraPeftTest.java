package dev.jumbo.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import dev.jumbo.io.Safetensors;
import dev.jumbo.lora.LoraConfig;
import dev.jumbo.lora.PeftAdapter;
import dev.jumbo.tensor.Tensor;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Llama adapters in PEFT's folder layout: names, shapes, the q/k row order, and the adapters a model refuses. */
class LlamaLoraPeftTest {
    @TempDir
    Path tmp;
    private final Random rnd = new Random(17);

    @Test
    void writesPeftsNamesAndShapesAndReadsTheSameAdaptersBack() throws Exception {
        LlamaConfig c = LlamaTest.tiny(4, 2, LlamaConfig.RopeStyle.NORM, false); // dim 32, kv 16, hidden 48, 2 layers
        LlamaLora lora = LlamaLoraTest.random(c, 4, 16, EnumSet.of(LlamaLora.Projection.Q, LlamaLora.Projection.K, LlamaLora.Projection.DOWN), rnd, 0.3);
        lora.write(tmp, "stories-tiny");

        Map<?, ?> json = Json.readObject(tmp.resolve("adapter_config.json"));
        assertThat(json.get("peft_type")).isEqualTo("LORA");
        assertThat(json.get("task_type")).isEqualTo("CAUSAL_LM");
        assertThat(json.get("r")).isEqualTo(4L);
        assertThat(((Number) json.get("lora_alpha")).doubleValue()).isEqualTo(16.0);
        assertThat(json.get("target_modules")).isEqualTo(List.of("q_proj", "k_proj", "down_proj"));
        assertThat(json.get("fan_in_fan_out")).isEqualTo(false);
        Map<String, Tensor> file = Safetensors.read(tmp.resolve("adapter_model.safetensors"));
        assertThat(file.keySet()).hasSize(12).contains(
                "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
                "base_model.model.model.layers.1.self_attn.k_proj.lora_B.weight", "base_model.model.model.layers.1.mlp.down_proj.lora_A.weight");
        assertThat(file.get("base_model.model.model.layers.1.self_attn.k_proj.lora_A.weight").shape().toArray()).containsExactly(4, 32);
        assertThat(file.get("base_model.model.model.layers.1.self_attn.k_proj.lora_B.weight").shape().toArray()).containsExactly(16, 4);
        assertThat(file.get("base_model.model.model.layers.0.mlp.down_proj.lora_A.weight").shape().toArray()).containsExactly(4, 48);
        // the file holds HuggingFace's row order: this NORM model's B of q, permuted back
        assertThat(file.get("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight").toFloatArray())
                .isEqualTo(LlamaLora.toHfRows(lora.delta(0, LlamaLora.Projection.Q).b(), 4, LlamaLora.Projection.Q, c))
                .isNotEqualTo(lora.delta(0, LlamaLora.Projection.Q).b());
        assertThat(file.get("base_model.model.model.layers.0.mlp.down_proj.lora_B.weight").toFloatArray())
                .isEqualTo(lora.delta(0, LlamaLora.Projection.DOWN).b());

        LlamaLora back = LlamaLora.read(tmp, c);
        assertThat(back.scale()).isEqualTo(lora.scale());
        assertThat(back.deltas().keySet()).containsExactlyElementsOf(lora.deltas().keySet());
        lora.deltas().forEach((site, d) -> {
            assertThat(back.deltas().get(site).a()).isEqualTo(d.a());
            assertThat(back.deltas().get(site).b()).isEqualTo(d.b());
        });
    }

    @Test
    void adaptersOnSomeLayersNameTheirModules() {
        LlamaConfig c = LlamaTest.tiny(4, 2, LlamaConfig.RopeStyle.NEOX, true);
        LlamaLora lora = LlamaLora.init(c, new LoraConfig(2, 4, 0, List.of("model.layers.1.self_attn.v_proj", "up_proj")), rnd);
        assertThat(lora.deltas().keySet()).containsExactly(new LlamaLora.Site(0, LlamaLora.Projection.UP), new LlamaLora.Site(1, LlamaLora.Projection.V),
                new LlamaLora.Site(1, LlamaLora.Projection.UP));
        assertThat(lora.toPeft(null).config().targetModules()).containsExactly("model.layers.1.self_attn.v_proj", "up_proj");
    }

    @Test
    void refusesATargetTheModelLacksListingItsModules() {
        LlamaConfig c = LlamaTest.tiny(4, 2, LlamaConfig.RopeStyle.NORM, true);
        assertThatThrownBy(() -> LlamaLora.init(c, new LoraConfig(8, 8, 0, List.of("q_proj", "c_attn")), rnd))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("c_attn")
                .hasMessageContaining("model.layers.{0..1}.self_attn.{q,k,v,o}_proj").hasMessageContaining("gate_proj");
    }

    /** An adapter written for one model, read for another: the module it lacks, the size that differs, the wrong rank. */
    @Test
    void refusesAnAdapterThatDoesNotFitTheModel() throws Exception {
        LlamaConfig small = LlamaTest.tiny(4, 2, LlamaConfig.RopeStyle.NORM, true);
        LlamaConfig deeper = new LlamaConfig(32, 48, 3, 4, 2, 41, 200, 1e-5f, 10000, LlamaConfig.RopeStyle.NORM, true);
        LlamaConfig wider = new LlamaConfig(64, 48, 2, 4, 2, 41, 200, 1e-5f, 10000, LlamaConfig.RopeStyle.NORM, true);
        LlamaLora.init(deeper, LoraConfig.defaults(List.of("o_proj")), rnd).write(tmp.resolve("deeper"), null);
        assertThatThrownBy(() -> LlamaLora.read(tmp.resolve("deeper"), small)).isInstanceOf(FormatException.class)
                .hasMessageContaining("model.layers.2.self_attn.o_proj").hasMessageContaining("does not have").hasMessageContaining("model.layers.{0..1}");
        LlamaLora.init(wider, LoraConfig.defaults(List.of("gate_proj")), rnd).write(tmp.resolve("wider"), null);
        assertThatThrownBy(() -> LlamaLora.read(tmp.resolve("wider"), small)).isInstanceOf(FormatException.class)
                .hasMessageContaining("model.layers.0.mlp.gate_proj").hasMessageContaining("[48, 32]");
        // a file whose tensors are of rank 2 while its configuration says 8
        Map<String, Tensor[]> ab = new LinkedHashMap<>();
        ab.put("model.layers.0.self_attn.q_proj", new Tensor[] {Tensor.randn(rnd, 2, 32), Tensor.randn(rnd, 32, 2)});
        Path wrongRank = tmp.resolve("wrong-rank");
        PeftAdapter.of(new LoraConfig(2, 8, 0, List.of("q_proj")), null, "CAUSAL_LM", false, ab).write(wrongRank);
        String json = java.nio.file.Files.readString(wrongRank.resolve("adapter_config.json")).replace("\"r\": 2", "\"r\": 8");
        java.nio.file.Files.writeString(wrongRank.resolve("adapter_config.json"), json);
        assertThatThrownBy(() -> LlamaLora.read(wrongRank, small)).isInstanceOf(FormatException.class)
                .hasMessageContaining("model.layers.0.self_attn.q_proj").hasMessageContaining("r = 8");
        // an adapter of GPT-2's modules
        ab.clear();
        ab.put("transformer.h.0.attn.c_attn", new Tensor[] {Tensor.randn(rnd, 2, 32), Tensor.randn(rnd, 96, 2)});
        Path gpt2 = tmp.resolve("gpt2");
        PeftAdapter.of(new LoraConfig(2, 8, 0, List.of("c_attn")), null, "CAUSAL_LM", true, ab).write(gpt2);
        assertThatThrownBy(() -> LlamaLora.read(gpt2, small)).isInstanceOf(FormatException.class).hasMessageContaining("fan_in_fan_out");
    }
}
