package dev.jumbo.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import dev.jumbo.io.Safetensors;
import dev.jumbo.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeftAdapterTest {
    private final Random rnd = new Random(11);
    private final LoraConfig config = new LoraConfig(2, 4, 0, List.of("c_attn"));

    private Map<String, Tensor[]> twoLayers() {
        Map<String, Tensor[]> m = new LinkedHashMap<>();
        for (int l = 0; l < 2; l++)
            m.put("transformer.h." + l + ".attn.c_attn", new Tensor[] {Tensor.randn(rnd, 2, 16), Tensor.randn(rnd, 48, 2)});
        return m;
    }

    @Test
    void writesPeftsFilesAndReadsThemBack(@TempDir Path dir) throws IOException {
        PeftAdapter adapter = PeftAdapter.of(config, "runs/base", "CAUSAL_LM", true, twoLayers());
        adapter.write(dir);
        assertThat(dir.resolve("adapter_config.json")).isRegularFile();
        Map<String, Tensor> file = Safetensors.read(dir.resolve("adapter_model.safetensors"));
        assertThat(file.keySet()).containsExactly("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight",
                "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight", "base_model.model.transformer.h.1.attn.c_attn.lora_A.weight",
                "base_model.model.transformer.h.1.attn.c_attn.lora_B.weight");
        assertThat(Safetensors.readMetadata(dir.resolve("adapter_model.safetensors"))).containsEntry("format", "pt");
        Map<?, ?> json = Json.readObject(dir.resolve("adapter_config.json"));
        assertThat(json.keySet().stream().map(String::valueOf).toList()).contains("peft_type", "task_type", "base_model_name_or_path", "r", "lora_alpha", "lora_dropout",
                "target_modules", "bias", "fan_in_fan_out", "inference_mode", "modules_to_save", "init_lora_weights");
        assertThat(json.get("r")).isEqualTo(2L);
        assertThat(json.get("fan_in_fan_out")).isEqualTo(true);

        PeftAdapter back = PeftAdapter.read(dir);
        assertThat(back.config()).isEqualTo(config);
        assertThat(back.baseModel()).isEqualTo("runs/base");
        assertThat(back.taskType()).isEqualTo("CAUSAL_LM");
        assertThat(back.fanInFanOut()).isTrue();
        assertThat(back.modules()).containsExactly("transformer.h.0.attn.c_attn", "transformer.h.1.attn.c_attn");
        for (String m : back.modules()) {
            assertThat(back.a(m).toFloatArray()).containsExactly(adapter.a(m).toFloatArray());
            assertThat(back.b(m).toFloatArray()).containsExactly(adapter.b(m).toFloatArray());
        }
        assertThat(back.parameterCount()).isEqualTo(2 * (2 * 16 + 48 * 2));
    }

    @Test
    void refusesAnUnpairedTensor() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put(PeftAdapter.aName("h.0.attn.c_attn"), Tensor.zeros(2, 16));
        assertThatThrownBy(() -> new PeftAdapter(config, null, null, true, t))
                .hasMessageContaining("'base_model.model.h.0.attn.c_attn.lora_A.weight' has no partner 'base_model.model.h.0.attn.c_attn.lora_B.weight'");
    }

    @Test
    void refusesAWrongRankNamingTheTensor() {
        Map<String, Tensor[]> m = Map.of("h.0.attn.c_attn", new Tensor[] {Tensor.zeros(3, 16), Tensor.zeros(48, 3)});
        assertThatThrownBy(() -> PeftAdapter.of(config, null, null, true, m))
                .hasMessageContaining("tensor 'base_model.model.h.0.attn.c_attn.lora_")
                .hasMessageContaining("with r = 2");
    }

    @Test
    void refusesAModuleOutsideTheTargetsAndAForeignName() {
        Map<String, Tensor[]> m = Map.of("h.0.mlp.c_fc", new Tensor[] {Tensor.zeros(2, 16), Tensor.zeros(64, 2)});
        assertThatThrownBy(() -> PeftAdapter.of(config, null, null, true, m)).hasMessageContaining("'h.0.mlp.c_fc', which matches none of the target modules [c_attn]");
        assertThatThrownBy(() -> new PeftAdapter(config, null, null, true, Map.of("h.0.attn.c_attn.weight", Tensor.zeros(2))))
                .hasMessageContaining("'h.0.attn.c_attn.weight' is not a LoRA weight");
    }

    @Test
    void readingNamesTheFileAtFault(@TempDir Path dir) throws IOException {
        assertThatThrownBy(() -> PeftAdapter.read(dir)).isInstanceOf(FormatException.class).hasMessageContaining("adapter_config.json: missing");
        PeftAdapter.of(config, null, "CAUSAL_LM", true, twoLayers()).write(dir);
        // the same weights under a config of another rank
        Files.writeString(dir.resolve("adapter_config.json"), Json.write(new LoraConfig(4, 4, 0, List.of("c_attn")).toPeft(null, null, true), false));
        assertThatThrownBy(() -> PeftAdapter.read(dir)).isInstanceOf(FormatException.class)
                .hasMessageContaining("adapter_model.safetensors: tensor 'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight' has shape [2, 16], expected [r, in] with r = 4");
    }
}
