package dev.jumbo.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import dev.jumbo.io.Safetensors;
import dev.jumbo.lora.LoraAdapter;
import dev.jumbo.lora.LoraAdapters;
import dev.jumbo.lora.LoraConfig;
import dev.jumbo.lora.PeftAdapter;
import dev.jumbo.nn.Init;
import dev.jumbo.nn.Parameter;
import dev.jumbo.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Gpt2LoraTest {
    private final Random rnd = new Random(5);

    private static Gpt2 tiny() {
        Init.seed(21);
        return new Gpt2(new Gpt2Config(11, 16, 16, 2, 2, 1e-5));
    }

    /** Gives every B random values, so the adapters change the output (fresh ones do not). */
    private void randomizeB(LoraAdapters lora) {
        for (LoraAdapter a : lora.adapters().values()) {
            float[] b = a.b().buffer();
            for (int i = 0; i < b.length; i++) b[i] = (float) (rnd.nextGaussian() * 0.3);
        }
    }

    private static Map<String, float[]> snapshot(Gpt2 model) {
        Map<String, float[]> out = new java.util.LinkedHashMap<>();
        model.stateDict().forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }

    @Test
    void listsPeftsModuleNamesAndMatchesTargetsBySuffix() {
        Gpt2 gpt2 = tiny();
        assertThat(gpt2.loraModules().keySet()).containsExactly(
                "transformer.h.0.attn.c_attn", "transformer.h.0.attn.c_proj", "transformer.h.0.mlp.c_fc", "transformer.h.0.mlp.c_proj",
                "transformer.h.1.attn.c_attn", "transformer.h.1.attn.c_proj", "transformer.h.1.mlp.c_fc", "transformer.h.1.mlp.c_proj");
        LoraAdapters lora = LoraAdapters.attach(gpt2.loraModules(), new LoraConfig(2, 4, 0, List.of("c_attn", "c_proj")), rnd);
        assertThat(lora.adapters().keySet()).containsExactly("transformer.h.0.attn.c_attn", "transformer.h.0.attn.c_proj", "transformer.h.0.mlp.c_proj",
                "transformer.h.1.attn.c_attn", "transformer.h.1.attn.c_proj", "transformer.h.1.mlp.c_proj");
        assertThat(lora.adapters().get("transformer.h.0.attn.c_attn").width()).isEqualTo(48);
        assertThat(lora.adapters().get("transformer.h.0.mlp.c_proj").in()).isEqualTo(64);
        // 2 layers x (c_attn 2(16+48) + attn.c_proj 2(16+16) + mlp.c_proj 2(64+16))
        assertThat(lora.parameterCount()).isEqualTo(2 * (128 + 64 + 160));
    }

    @Test
    void aTargetTheModelLacksIsRefusedListingTheModules() {
        Gpt2 gpt2 = tiny();
        assertThatThrownBy(() -> LoraAdapters.attach(gpt2.loraModules(), LoraConfig.defaults(List.of("c_attn", "q_proj")), rnd))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("LoRA target module 'q_proj' matches no module of this model")
                .hasMessageContaining("the modules LoRA can adapt are c_attn, c_proj, c_fc")
                .hasMessageContaining("transformer.h.0.attn.c_attn");
        assertThat(gpt2.loraModules().values()).allSatisfy(t -> assertThat(t.layer().adapters()).isEmpty());
    }

    @Test
    void generationSessionAddsTheAdaptersAsTheForwardDoes() {
        Gpt2 gpt2 = tiny();
        randomizeB(LoraAdapters.attach(gpt2.loraModules(), new LoraConfig(3, 6, 0, List.of("c_attn", "c_proj", "c_fc")), rnd));
        gpt2.train(false);
        int[] ids = {1, 4, 2, 9, 0, 3};
        float[] reference = gpt2.logits(ids);
        Gpt2.Session session = gpt2.start();
        session.feed(new int[] {1, 4, 2});
        session.feed(new int[] {9, 0});
        float[] cached = session.feed(new int[] {3});
        for (int i = 0; i < reference.length; i++) assertThat(cached[i]).isCloseTo(reference[i], org.assertj.core.api.Assertions.within(1e-4f));
    }

    @Test
    void mergedModelGivesTheLogitsOfBasePlusAdapter() {
        Gpt2 gpt2 = tiny();
        gpt2.train(false);
        int[] ids = {3, 1, 4, 1, 5, 9, 2, 6};
        float[] base = gpt2.logits(ids);
        LoraAdapters lora = LoraAdapters.attach(gpt2.loraModules(), new LoraConfig(4, 8, 0, List.of("c_attn", "c_proj", "c_fc")), rnd);
        assertThat(gpt2.logits(ids)).containsExactly(base); // B starts at zero
        randomizeB(lora);
        float[] adapted = gpt2.logits(ids);
        assertThat(maxAbsDiff(adapted, base)).isGreaterThan(1e-2);
        lora.merge();
        assertThat(gpt2.hasAdapters()).isFalse();
        assertThat(maxAbsDiff(gpt2.logits(ids), adapted)).isLessThanOrEqualTo(1e-5);
    }

    @Test
    void writesPeftsLayoutAndLoadsItBackOntoAFreshBase(@TempDir Path dir) throws IOException {
        Gpt2 gpt2 = tiny();
        gpt2.train(false);
        LoraAdapters lora = LoraAdapters.attach(gpt2.loraModules(), new LoraConfig(2, 16, 0, List.of("c_attn")), rnd);
        randomizeB(lora);
        int[] ids = {5, 6, 7};
        float[] adapted = gpt2.logits(ids);
        lora.toPeft("base-dir", "CAUSAL_LM", true).write(dir);

        Map<String, Tensor> file = Safetensors.read(dir.resolve("adapter_model.safetensors"));
        assertThat(file.keySet()).containsExactly("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight",
                "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight", "base_model.model.transformer.h.1.attn.c_attn.lora_A.weight",
                "base_model.model.transformer.h.1.attn.c_attn.lora_B.weight");
        assertThat(file.get("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight").shape().toArray()).containsExactly(2, 16);
        assertThat(file.get("base_model.model.transformer.h.0.attn.c_attn.lora_B.weight").shape().toArray()).containsExactly(48, 2);
        Map<?, ?> json = Json.readObject(dir.resolve("adapter_config.json"));
        assertThat(json.get("peft_type")).isEqualTo("LORA");
        assertThat(json.get("task_type")).isEqualTo("CAUSAL_LM");
        assertThat(json.get("target_modules")).isEqualTo(List.of("c_attn"));
        assertThat(json.get("r")).isEqualTo(2L);
        assertThat(json.get("lora_alpha")).isEqualTo(16L);
        assertThat(json.get("fan_in_fan_out")).isEqualTo(true);
        assertThat(json.get("bias")).isEqualTo("none");

        Gpt2 fresh = tiny();
        fresh.train(false);
        LoraAdapters.load(fresh.loraModules(), PeftAdapter.read(dir));
        assertThat(fresh.logits(ids)).containsExactly(adapted);
    }

    @Test
    void refusesAnAdapterForAnotherModel(@TempDir Path dir) throws IOException {
        Gpt2 gpt2 = tiny();
        LoraAdapters lora = LoraAdapters.attach(gpt2.loraModules(), new LoraConfig(2, 16, 0, List.of("c_attn")), rnd);
        PeftAdapter saved = lora.toPeft(null, "CAUSAL_LM", true);
        // a wider model: the same names, other shapes
        Gpt2 wider = new Gpt2(new Gpt2Config(11, 16, 32, 2, 2, 1e-5));
        assertThatThrownBy(() -> LoraAdapters.load(wider.loraModules(), saved))
                .hasMessageContaining("adapter tensor 'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight' has shape [2, 16], but module 'transformer.h.0.attn.c_attn' takes 32 inputs");
        // a shallower model: h.1 is missing
        Gpt2 shallow = new Gpt2(new Gpt2Config(11, 16, 16, 1, 2, 1e-5));
        assertThatThrownBy(() -> LoraAdapters.load(shallow.loraModules(), saved))
                .hasMessageContaining("adapts module 'transformer.h.1.attn.c_attn', which this model lacks");
        assertThat(shallow.loraModules().values()).allSatisfy(t -> assertThat(t.layer().adapters()).isEmpty());
        // a target the model lacks, written in the file
        Map<String, Object> config = new LoraConfig(2, 16, 0, List.of("c_attn", "q_proj")).toPeft(null, null, true);
        saved.write(dir);
        Files.writeString(dir.resolve("adapter_config.json"), Json.write(config, true));
        PeftAdapter withForeignTarget = PeftAdapter.read(dir);
        assertThatThrownBy(() -> LoraAdapters.load(tiny().loraModules(), withForeignTarget)).hasMessageContaining("'q_proj' matches no module");
        // a rank that disagrees with the tensors
        Files.writeString(dir.resolve("adapter_config.json"), Json.write(new LoraConfig(8, 16, 0, List.of("c_attn")).toPeft(null, null, true), true));
        assertThatThrownBy(() -> PeftAdapter.read(dir)).isInstanceOf(FormatException.class).hasMessageContaining("with r = 8");
    }

    @Test
    void savingWithAdaptersAttachedIsRefused(@TempDir Path dir) {
        Gpt2 gpt2 = tiny();
        LoraAdapters lora = LoraAdapters.attach(gpt2.loraModules(), LoraConfig.defaults(List.of("c_fc")), rnd);
        assertThatThrownBy(() -> gpt2.save(dir)).hasMessageContaining("LoRA adapters attached");
        // a second set over c_attn and c_fc: refused before c_attn gets one
        assertThatThrownBy(() -> LoraAdapters.attach(gpt2.loraModules(), LoraConfig.defaults(List.of("c_attn", "c_fc")), rnd))
                .hasMessageContaining("module 'transformer.h.0.mlp.c_fc' already has a LoRA adapter");
        assertThat(gpt2.loraModules().get("transformer.h.0.attn.c_attn").layer().adapters()).isEmpty();
        lora.detach();
        assertThat(gpt2.hasAdapters()).isFalse();
    }

    @Test
    void fineTuningTrainsOnlyTheAdaptersAndLowersTheLossOnANewText() {
        // the base learns "abcd" repeated; the new text repeats "adcb" (each next letter differs)
        int[] old = new int[3000], text = new int[3000];
        int[] order = {0, 3, 2, 1};
        for (int i = 0; i < old.length; i++) {
            old[i] = i % 4;
            text[i] = order[i % 4];
        }
        Init.seed(3);
        Gpt2 gpt2 = new Gpt2(new Gpt2Config(4, 16, 32, 1, 2, 1e-5));
        LmTrainer base = new LmTrainer(gpt2, old, new LmTrainer.Options(16, 8, 60, 3e-3, 5, 0.0, 1));
        for (int i = 0; i < 60; i++) base.step();

        for (Parameter p : gpt2.parameters()) p.freeze();
        Map<String, float[]> before = snapshot(gpt2);
        LoraAdapters lora = LoraAdapters.attach(gpt2.loraModules(), new LoraConfig(2, 4, 0, List.of("c_attn")), rnd);
        LmTrainer tune = new LmTrainer(gpt2, text, new LmTrainer.Options(16, 8, 80, 1e-2, 5, 0.0, 2), lora.parameters());
        long total = gpt2.parameters().stream().mapToLong(p -> p.value().size()).sum();
        assertThat(tune.trainableParameters()).isEqualTo(lora.parameterCount());
        assertThat((double) lora.parameterCount() / total).isLessThan(0.05);
        double valBefore = tune.validationLoss(4);
        for (int i = 0; i < 80; i++) tune.step();
        double valAfter = tune.validationLoss(4);
        System.out.printf("LoRA on a new text: %d of %d parameters trainable, validation loss %.4f -> %.4f%n", lora.parameterCount(), total, valBefore, valAfter);
        assertThat(valAfter).isLessThan(valBefore * 0.5);

        // base weights bit for bit; optimizer state for the adapters alone (AdamW: two moments)
        Map<String, float[]> after = snapshot(gpt2);
        assertThat(after.keySet()).isEqualTo(before.keySet());
        before.forEach((k, v) -> assertThat(after.get(k)).as(k).containsExactly(v));
        assertThat(tune.optimizerStateBytes()).isEqualTo(2 * 4 * lora.parameterCount());
        assertThat(base.optimizerStateBytes()).isEqualTo(2 * 4 * total);
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
