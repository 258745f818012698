package dev.jumbo.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.io.Safetensors;
import dev.jumbo.lora.LoraAdapter;
import dev.jumbo.lora.LoraAdapters;
import dev.jumbo.lora.LoraConfig;
import dev.jumbo.lora.PeftAdapter;
import dev.jumbo.nn.Init;
import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BertLoraTest {
    private final Random rnd = new Random(9);
    private static final BertConfig CONFIG = new BertConfig(30, 12, 2, 2, 24, 16, 2, 1e-12);

    private static Bert tiny(boolean mlm) {
        Init.seed(4);
        Bert bert = new Bert(CONFIG, !mlm, mlm);
        bert.train(false);
        return bert;
    }

    private static float[] hidden(Bert bert, float... ids) {
        try (var scope = GradMode.noGrad()) {
            return bert.forward(Tensor.of(ids, 1, ids.length)).toFloatArray();
        }
    }

    @Test
    void queryKeyAndValueAreThirdsOfTheFusedProjectionUnderPeftsNames() {
        Bert bert = tiny(false);
        Map<String, dev.jumbo.lora.LoraTarget> modules = bert.loraModules();
        assertThat(modules.keySet()).startsWith("encoder.layer.0.attention.self.query", "encoder.layer.0.attention.self.key",
                "encoder.layer.0.attention.self.value", "encoder.layer.0.attention.output.dense", "encoder.layer.0.intermediate.dense",
                "encoder.layer.0.output.dense");
        assertThat(modules).containsKey("pooler.dense");
        assertThat(modules.get("encoder.layer.1.attention.self.key").offset()).isEqualTo(12);
        assertThat(modules.get("encoder.layer.1.attention.self.key").layer()).isSameAs(modules.get("encoder.layer.1.attention.self.query").layer());
        assertThat(tiny(true).loraModules().keySet()).contains("bert.encoder.layer.0.attention.self.query", "cls.predictions.transform.dense");
    }

    @Test
    void adaptingQueryAndValueChangesTheOutputAndMergesExactly(@TempDir Path dir) throws IOException {
        Bert bert = tiny(false);
        float[] base = hidden(bert, 2, 7, 1, 29, 4);
        LoraAdapters lora = LoraAdapters.attach(bert.loraModules(), new LoraConfig(2, 4, 0, List.of("query", "value")), rnd);
        assertThat(lora.adapters()).hasSize(4);
        assertThat(hidden(bert, 2, 7, 1, 29, 4)).containsExactly(base);
        for (LoraAdapter a : lora.adapters().values()) {
            float[] b = a.b().buffer();
            for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextGaussian();
        }
        float[] adapted = hidden(bert, 2, 7, 1, 29, 4);
        double moved = 0;
        for (int i = 0; i < base.length; i++) moved = Math.max(moved, Math.abs(adapted[i] - base[i]));
        assertThat(moved).isGreaterThan(1e-2);

        lora.toPeft(null, "FEATURE_EXTRACTION", false).write(dir);
        Map<String, Tensor> file = Safetensors.read(dir.resolve("adapter_model.safetensors"));
        assertThat(file).containsKeys("base_model.model.encoder.layer.0.attention.self.query.lora_A.weight",
                "base_model.model.encoder.layer.1.attention.self.value.lora_B.weight");
        assertThat(file.get("base_model.model.encoder.layer.0.attention.self.value.lora_B.weight").shape().toArray()).containsExactly(12, 2);
        Bert fresh = tiny(false);
        LoraAdapters.load(fresh.loraModules(), PeftAdapter.read(dir));
        assertThat(hidden(fresh, 2, 7, 1, 29, 4)).containsExactly(adapted);

        lora.merge();
        float[] merged = hidden(bert, 2, 7, 1, 29, 4);
        for (int i = 0; i < merged.length; i++) assertThat(merged[i]).isCloseTo(adapted[i], within(1e-5f));
    }

    @Test
    void aGpt2TargetOnBertIsRefusedListingBertsModules() {
        assertThatThrownBy(() -> LoraAdapters.attach(tiny(false).loraModules(), LoraConfig.defaults(List.of("c_attn")), rnd))
                .hasMessageContaining("'c_attn' matches no module of this model; the modules LoRA can adapt are query, key, value, dense");
    }
}
