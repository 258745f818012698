package dev.jumbo.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LoraConfigTest {
    private static final Path FILE = Path.of("adapter_config.json");

    @Test
    void defaultsArePefts() {
        LoraConfig c = LoraConfig.defaults(List.of("c_attn"));
        assertThat(c.r()).isEqualTo(8);
        assertThat(c.alpha()).isEqualTo(8);
        assertThat(c.dropout()).isZero();
        assertThat(c.scale()).isEqualTo(1.0);
        assertThat(new LoraConfig(4, 16, 0, List.of("x")).scale()).isEqualTo(4.0);
    }

    @Test
    void targetMatchesTheWholeNameOrADottedSuffix() {
        LoraConfig c = LoraConfig.defaults(List.of("c_proj", "query"));
        assertThat(c.matches("transformer.h.0.attn.c_proj")).isTrue();
        assertThat(c.matches("transformer.h.3.mlp.c_proj")).isTrue();
        assertThat(c.matches("query")).isTrue();
        assertThat(c.matches("encoder.layer.0.attention.self.query")).isTrue();
        assertThat(c.matches("transformer.h.0.attn.xc_proj")).isFalse();
        assertThat(c.matches("transformer.h.0.attn.c_attn")).isFalse();
        assertThat(c.unmatched(List.of("a.c_proj", "b.c_fc"))).containsExactly("query");
    }

    @Test
    void refusesBadValuesQuotingThem() {
        assertThatThrownBy(() -> new LoraConfig(0, 8, 0, List.of("a"))).hasMessageContaining("rank r must be at least 1, got 0");
        assertThatThrownBy(() -> new LoraConfig(8, -1, 0, List.of("a"))).hasMessageContaining("alpha must be finite and positive, got -1.0");
        assertThatThrownBy(() -> new LoraConfig(8, 8, 1, List.of("a"))).hasMessageContaining("dropout must be in [0, 1), got 1.0");
        assertThatThrownBy(() -> new LoraConfig(8, 8, 0, List.of())).hasMessageContaining("at least one target");
        assertThatThrownBy(() -> new LoraConfig(8, 8, 0, List.of("a", "a"))).hasMessageContaining("'a' is listed twice");
        assertThatThrownBy(() -> new LoraConfig(8, 8, 0, List.of(" "))).hasMessageContaining("non-blank");
    }

    @Test
    void peftFormRoundTripsThroughJson() throws FormatException {
        LoraConfig c = new LoraConfig(4, 16, 0.05, List.of("c_attn", "c_proj"));
        Map<String, Object> peft = c.toPeft("runs/shakespeare", "CAUSAL_LM", true);
        assertThat(peft).containsEntry("peft_type", "LORA").containsEntry("r", 4).containsEntry("lora_alpha", 16L)
                .containsEntry("lora_dropout", 0.05).containsEntry("bias", "none").containsEntry("fan_in_fan_out", true)
                .containsEntry("task_type", "CAUSAL_LM").containsEntry("base_model_name_or_path", "runs/shakespeare")
                .containsEntry("target_modules", List.of("c_attn", "c_proj"));
        Map<?, ?> parsed = (Map<?, ?>) Json.parse(Json.write(peft, true));
        assertThat(LoraConfig.fromPeft(parsed, FILE)).isEqualTo(c);
        assertThat(new LoraConfig(4, 2.5, 0, List.of("a")).toPeft(null, null, false)).containsEntry("lora_alpha", 2.5);
    }

    @Test
    void readsPeftsDefaultsWhenAlphaAndDropoutAreAbsent() throws FormatException {
        LoraConfig c = LoraConfig.fromPeft(Map.of("r", 8L, "target_modules", List.of("query", "value")), FILE);
        assertThat(c).isEqualTo(LoraConfig.defaults(List.of("query", "value")));
    }

    @Test
    void refusesSettingsItDoesNotImplementNamingTheFileAndKey() {
        Map<String, Object> ok = new LinkedHashMap<>(Map.of("r", 8L, "lora_alpha", 16L, "target_modules", List.of("c_attn")));
        assertRefused(with(ok, "peft_type", "IA3"), "\"peft_type\" is \"IA3\"");
        assertRefused(with(ok, "bias", "all"), "\"bias\" is \"all\"");
        assertRefused(with(ok, "use_dora", true), "\"use_dora\" is true");
        assertRefused(with(ok, "rank_pattern", Map.of("c_attn", 4L)), "\"rank_pattern\" is not empty");
        assertRefused(with(ok, "modules_to_save", List.of("score")), "\"modules_to_save\"");
        assertRefused(with(ok, "target_modules", ".*attn"), "regular expression");
        assertRefused(with(ok, "r", 2.5), "\"r\" is missing or not a positive integer");
        assertRefused(with(ok, "lora_dropout", "0.1"), "\"lora_dropout\" is \"0.1\", not a number");
        assertRefused(with(ok, "target_modules", List.of()), "at least one target");
    }

    private static Map<String, Object> with(Map<String, Object> base, String key, Object value) {
        Map<String, Object> m = new LinkedHashMap<>(base);
        m.put(key, value);
        return m;
    }

    private static void assertRefused(Map<String, Object> json, String message) {
        assertThatThrownBy(() -> LoraConfig.fromPeft(json, FILE)).isInstanceOf(FormatException.class)
                .hasMessageStartingWith("adapter_config.json: ").hasMessageContaining(message);
    }
}
