package dev.jumbo.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.io.FormatException;
import dev.jumbo.io.Json;
import dev.jumbo.nn.Parameter;
import dev.jumbo.tensor.Tensor;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A randomly initialised GPT-2 in HuggingFace's layout (tools/fixtures/gpt2_tiny.py) against
 * PyTorch's float64 logits and greedy continuation of the same weights.
 */
class Gpt2Test {
    @TempDir
    Path tmp;

    private static Path fixture() throws URISyntaxException {
        return Path.of(Gpt2Test.class.getResource("/gpt2-tiny/config.json").toURI()).getParent();
    }

    private static Map<?, ?> reference() throws Exception {
        return (Map<?, ?>) Json.parse(Files.readString(fixture().resolve("reference.json")));
    }

    private static int[] ints(Object list) {
        return ((List<?>) list).stream().mapToInt(x -> ((Long) x).intValue()).toArray();
    }

    @Test
    void logitsMatchPyTorch() throws Exception {
        Gpt2 gpt2 = Gpt2.load(fixture());
        Map<?, ?> ref = reference();
        int[] prompt = ints(ref.get("prompt"));
        float[] ids = new float[prompt.length];
        for (int i = 0; i < ids.length; i++) ids[i] = prompt[i];
        float[] got = gpt2.forward(Tensor.of(ids, 1, ids.length)).toFloatArray();
        List<?> rows = (List<?>) ref.get("logits");
        double maxDiff = 0, maxRef = 0;
        int i = 0;
        for (Object row : rows)
            for (Object v : (List<?>) row) {
                double want = ((Number) v).doubleValue();
                maxDiff = Math.max(maxDiff, Math.abs(got[i++] - want));
                maxRef = Math.max(maxRef, Math.abs(want));
            }
        assertThat(i).isEqualTo(got.length);
        assertThat(maxDiff / maxRef).as("max |jumbo - torch| / max |torch|").isLessThanOrEqualTo(1e-4);
    }

    @Test
    void greedyDecodingGivesPyTorchsTokens() throws Exception {
        Gpt2 gpt2 = Gpt2.load(fixture());
        Map<?, ?> ref = reference();
        int[] ids = ints(ref.get("prompt")), want = ints(ref.get("greedy"));
        int[] generated = new int[want.length];
        for (int s = 0; s < want.length; s++) {
            float[] next = gpt2.logits(ids);
            int best = 0;
            for (int v = 1; v < next.length; v++) if (next[v] > next[best]) best = v;
            generated[s] = best;
            ids = java.util.Arrays.copyOf(ids, ids.length + 1);
            ids[ids.length - 1] = best;
        }
        assertThat(generated).containsExactly(want);
    }

    @Test
    void everyParameterGetsAGradient() throws Exception {
        Gpt2 gpt2 = new Gpt2(new Gpt2Config(20, 8, 16, 2, 2, 1e-5));
        for (Parameter p : gpt2.parameters()) p.value().requiresGrad(true);
        Tensor logits = gpt2.forward(Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        assertThat(logits.shape().toArray()).containsExactly(2, 3, 20);
        logits.square().mean().backward();
        for (Parameter p : gpt2.parameters())
            assertThat(p.value().grad()).as(p.name()).isNotNull();
    }

    @Test
    void savesHuggingFaceLayoutThatLoadsBackTheSame() throws Exception {
        Gpt2 gpt2 = new Gpt2(new Gpt2Config(30, 12, 16, 2, 4, 1e-5));
        gpt2.save(tmp);
        Map<String, Tensor> hf = dev.jumbo.io.Safetensors.read(tmp.resolve("model.safetensors"));
        assertThat(hf).containsKeys("wte.weight", "wpe.weight", "h.1.ln_2.bias", "h.0.attn.c_attn.weight", "h.0.mlp.c_proj.weight", "ln_f.weight");
        assertThat(hf.get("h.0.attn.c_attn.weight").shape().toArray()).containsExactly(16, 48); // Conv1D: [in, out]
        Gpt2 back = Gpt2.load(tmp);
        assertThat(back.config()).isEqualTo(gpt2.config());
        assertThat(back.logits(new int[] {1, 2, 3})).containsExactly(gpt2.logits(new int[] {1, 2, 3}));
    }

    @Test
    void loadsShardedCheckpointsAndNamesABadIndex() throws Exception {
        Map<String, Tensor> all = dev.jumbo.io.Safetensors.read(fixture().resolve("model.safetensors"));
        Map<String, Tensor> first = new java.util.LinkedHashMap<>(), second = new java.util.LinkedHashMap<>();
        Map<String, Object> weightMap = new java.util.LinkedHashMap<>();
        int i = 0;
        for (var e : all.entrySet()) {
            boolean one = i++ % 2 == 0;
            (one ? first : second).put(e.getKey(), e.getValue());
            weightMap.put(e.getKey(), one ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
        }
        Files.copy(fixture().resolve("config.json"), tmp.resolve("config.json"));
        dev.jumbo.io.Safetensors.write(tmp.resolve("model-00001-of-00002.safetensors"), first, Map.of());
        dev.jumbo.io.Safetensors.write(tmp.resolve("model-00002-of-00002.safetensors"), second, Map.of());
        Path index = tmp.resolve("model.safetensors.index.json");
        Files.writeString(index, Json.write(Map.of("metadata", Map.of(), "weight_map", weightMap), false));
        assertThat(Gpt2.load(tmp).logits(new int[] {5, 17, 42})).containsExactly(Gpt2.load(fixture()).logits(new int[] {5, 17, 42}));

        Map<String, Object> missing = new java.util.LinkedHashMap<>(weightMap);
        missing.put("wte.weight", "model-00003-of-00002.safetensors");
        Files.writeString(index, Json.write(Map.of("weight_map", missing), false));
        assertThatThrownBy(() -> Gpt2.load(tmp)).isInstanceOf(FormatException.class)
                .hasMessageContaining("model.safetensors.index.json").hasMessageContaining("model-00003-of-00002.safetensors");
        missing.put("wte.weight", "../model-00001-of-00002.safetensors");
        Files.writeString(index, Json.write(Map.of("weight_map", missing), false));
        assertThatThrownBy(() -> Gpt2.load(tmp)).isInstanceOf(FormatException.class).hasMessageContaining("not a file name in this folder");
        missing.put("wte.weight", "model-00002-of-00002.safetensors".equals(weightMap.get("wte.weight")) ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
        Files.writeString(index, Json.write(Map.of("weight_map", missing), false));
        assertThatThrownBy(() -> Gpt2.load(tmp)).isInstanceOf(FormatException.class).hasMessageContaining("has no tensor 'wte.weight'");
        byte[] shard = Files.readAllBytes(tmp.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(index, Json.write(Map.of("weight_map", weightMap), false));
        Files.write(tmp.resolve("model-00002-of-00002.safetensors"), java.util.Arrays.copyOf(shard, shard.length / 2));
        assertThatThrownBy(() -> Gpt2.load(tmp)).isInstanceOf(FormatException.class).hasMessageContaining("model-00002-of-00002.safetensors");
    }

    @Test
    void malformedFoldersAreNamed() throws Exception {
        for (String f : new String[] {"config.json", "model.safetensors"}) Files.copy(fixture().resolve(f), tmp.resolve(f));
        String config = Files.readString(tmp.resolve("config.json"));
        Files.writeString(tmp.resolve("config.json"), config.replace("\"n_embd\": 32", "\"n_embd\": -32"));
        assertThatThrownBy(() -> Gpt2.load(tmp)).isInstanceOf(FormatException.class)
                .hasMessageContaining("config.json").hasMessageContaining("n_embd must be positive");
        Files.writeString(tmp.resolve("config.json"), config.replace("\"n_layer\": 2", "\"n_layer\": 3"));
        assertThatThrownBy(() -> Gpt2.load(tmp)).isInstanceOf(FormatException.class)
                .hasMessageContaining("model.safetensors").hasMessageContaining("'h.2.ln_1.weight'");
        Files.writeString(tmp.resolve("config.json"), config);
        byte[] weights = Files.readAllBytes(tmp.resolve("model.safetensors"));
        Files.write(tmp.resolve("model.safetensors"), java.util.Arrays.copyOf(weights, weights.length - 100));
        assertThatThrownBy(() -> Gpt2.load(tmp)).isInstanceOf(FormatException.class).hasMessageContaining("model.safetensors");
        Files.delete(tmp.resolve("model.safetensors"));
        assertThatThrownBy(() -> Gpt2.load(tmp)).isInstanceOf(FormatException.class).hasMessageContaining("no such file");
    }

    /** A random GPT-2 with a context longer than a prefill batch, so a long prompt runs in two. */
    private static Gpt2 randomModel() {
        dev.jumbo.nn.Init.seed(7);
        Gpt2 gpt2 = new Gpt2(new Gpt2Config(61, Gpt2.Session.PREFILL_BATCH + 40, 32, 2, 4, 1e-5));
        // the default initialisation gives near-uniform logits; larger weights make differences visible
        for (Parameter p : gpt2.parameters()) {
            float[] w = p.value().buffer();
            for (int i = 0; i < w.length; i++) w[i] *= 4;
        }
        return gpt2;
    }

    private static void assertCloseTo(float[] want, float[] got, String what) {
        double maxDiff = 0, maxRef = 0;
        for (int v = 0; v < want.length; v++) {
            maxDiff = Math.max(maxDiff, Math.abs(got[v] - want[v]));
            maxRef = Math.max(maxRef, Math.abs(want[v]));
        }
        assertThat(maxDiff / maxRef).as(what + ": max |session - forward| / max |forward|").isLessThanOrEqualTo(1e-5);
    }

    @Test
    void aSessionGivesTheFullForwardsLogitsWhetherFedAtOnceOrTokenByToken() {
        Gpt2 gpt2 = randomModel();
        int[] ids = LlamaTest.randomIds(Gpt2.Session.PREFILL_BATCH + 30, 61, 3);
        Gpt2.Session all = gpt2.start(), one = gpt2.start(), mixed = gpt2.start();
        assertCloseTo(gpt2.logits(ids), all.feed(ids), "a prompt longer than a prefill batch");
        mixed.feed(java.util.Arrays.copyOf(ids, 5));
        for (int t = 0; t < ids.length; t++) {
            float[] step = one.feed(new int[] {ids[t]});
            if (t % 37 == 36 || t == ids.length - 1) assertCloseTo(gpt2.logits(java.util.Arrays.copyOf(ids, t + 1)), step, "token " + t);
        }
        float[] rest = mixed.feed(java.util.Arrays.copyOfRange(ids, 5, ids.length));
        assertCloseTo(all.feed(new int[] {9}).clone(), mixed.feed(new int[] {9}), "prefill in two parts, then a token");
        assertThat(rest).isNotNull();
        assertThat(all.length()).isEqualTo(ids.length + 1);
        assertThat(all.cacheCapacity()).isEqualTo(gpt2.contextLength());
        assertThatThrownBy(() -> all.feed(new int[gpt2.contextLength()])).hasMessageContaining("context of " + gpt2.contextLength());
        assertThatThrownBy(() -> one.feed(new int[] {61})).hasMessageContaining("61");
        assertThatThrownBy(() -> one.feed(new int[0])).hasMessageContaining("no tokens");
    }

    @Test
    void aSessionRunsTheWeightsAsTheyAreWhenATokenIsFed() {
        Gpt2 gpt2 = randomModel();
        int[] ids = {3, 1, 4, 1, 5};
        Gpt2.Session s = gpt2.start();
        s.feed(java.util.Arrays.copyOf(ids, 4));
        // training updates weights in place, and Parameter.set replaces them (tied or shared weights)
        float[] fc = ((dev.jumbo.nn.TransformerBlock) gpt2.children().get("h").children().get("1")).fc().kernel().value().buffer();
        for (int i = 0; i < fc.length; i++) fc[i] = -fc[i];
        Parameter wte = gpt2.parameters().getFirst();
        float[] halved = wte.value().toFloatArray();
        for (int i = 0; i < halved.length; i++) halved[i] *= 0.5f;
        wte.set(Tensor.of(halved, wte.value().shape()));
        float[] fresh = gpt2.start().feed(ids).clone(), continued = s.feed(new int[] {ids[4]});
        assertCloseTo(gpt2.logits(ids), fresh, "a session started after the change");
        assertThat(continued).as("the cache holds keys of the old weights; the new token runs the new ones").isNotEqualTo(fresh);
        float[] again = gpt2.start().feed(ids);
        assertThat(again).containsExactly(fresh);
    }

    @Test
    void rejectsTooLongSequencesAndUnknownIds() throws IOException, URISyntaxException {
        Gpt2 gpt2 = Gpt2.load(fixture());
        assertThatThrownBy(() -> gpt2.logits(new int[25])).hasMessageContaining("context of 24");
        assertThatThrownBy(() -> gpt2.logits(new int[] {96})).hasMessageContaining("96");
    }
}
