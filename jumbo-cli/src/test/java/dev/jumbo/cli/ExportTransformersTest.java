package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import dev.jumbo.io.Safetensors;
import dev.jumbo.io.SafetensorsFolder;
import dev.jumbo.models.Bert;
import dev.jumbo.models.BertConfig;
import dev.jumbo.models.GgufModels;
import dev.jumbo.models.Gpt2;
import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Tensor;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jumbo export} of GPT-2 folders written by {@code jumbo train-lm} (with characters and with GPT-2's own tokenizer) and of a BERT folder. */
class ExportTransformersTest {
    @TempDir
    Path tmp;

    private Path trainLm(String... tokenizer) throws Exception {
        Path text = tmp.resolve("text.txt");
        Files.writeString(text, "ROMEO: the cat sat on the mat, my lord.\n".repeat(60));
        Path out = tmp.resolve("lm-" + tokenizer.length);
        String[] base = {"train-lm", "--text", text.toString(), "--layers", "2", "--heads", "2", "--dim", "16", "--context", "16",
                "--batch-size", "4", "--iters", "6", "--eval-every", "3", "--out", out.toString()};
        String[] args = java.util.Arrays.copyOf(base, base.length + tokenizer.length);
        System.arraycopy(tokenizer, 0, args, base.length, tokenizer.length);
        CliTest.Result r = CliTest.run(args);
        assertThat(r.code()).as(r.err()).isZero();
        return out;
    }

    @Test
    void aCharacterGptRunsInOnnxRuntimeAndComesBackFromGgufAndSafetensors() throws Exception {
        Path lm = trainLm();
        Gpt2 model = Gpt2.load(lm);
        long[] ids = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5};
        float[] asFloats = new float[ids.length];
        for (int i = 0; i < ids.length; i++) asFloats[i] = ids[i];
        float[] want;
        try (var scope = GradMode.noGrad()) {
            want = model.forward(Tensor.of(asFloats, 1, ids.length)).toFloatArray();
        }

        Path onnx = tmp.resolve("out/gpt.onnx");
        CliTest.Result r = CliTest.run("export", "--model", lm.toString(), "--format", "onnx", "--out", onnx.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("ONNX opset 17").contains("GPT-2 of 2 layers");
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        float[] got;
        try (OrtSession session = env.createSession(onnx.toString(), new OrtSession.SessionOptions());
             OnnxTensor in = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {1, ids.length});
             OrtSession.Result result = session.run(Map.of("input_ids", in))) {
            FloatBuffer fb = ((OnnxTensor) result.get("logits").orElseThrow()).getFloatBuffer();
            got = new float[fb.remaining()];
            fb.get(got);
        }
        assertThat(got).hasSameSizeAs(want);
        double max = 0;
        for (int i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i] - want[i]));
        assertThat(max).as("max abs difference of logits, ONNX Runtime against Jumbo").isLessThanOrEqualTo(1e-4);

        // characters have no GGUF tokenizer: the weights go, and the command says so
        Path gguf = tmp.resolve("gpt.gguf");
        r = CliTest.run("export", "--model", lm.toString(), "--format", "gguf", "--out", gguf.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("holds the weights only");
        int[] prompt = {3, 1, 4, 1, 5};
        assertThat(GgufModels.gpt2(gguf).logits(prompt)).containsExactly(model.logits(prompt));

        Path st = tmp.resolve("gpt.safetensors");
        r = CliTest.run("export", "--model", lm.toString(), "--format", "safetensors", "--out", st.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(Safetensors.readMetadata(st).get("config")).isEqualTo(Files.readString(lm.resolve("config.json")));
        Map<String, Tensor> folder = SafetensorsFolder.read(lm), file = Safetensors.read(st);
        assertThat(file.keySet()).isEqualTo(folder.keySet());
        for (String k : folder.keySet()) assertThat(file.get(k).toFloatArray()).as(k).containsExactly(folder.get(k).toFloatArray());
    }

    @Test
    void aGpt2TokenizerGptExportedToGgufGeneratesWhatItsFolderGenerates() throws Exception {
        Path lm = trainLm("--tokenizer", "gpt2", "--tokenizer-dir", CliTest.sharedData().resolve("gpt2-tokenizer").toString());
        Path gguf = tmp.resolve("bpe.gguf");
        CliTest.Result r = CliTest.run("export", "--model", lm.toString(), "--format", "gguf", "--out", gguf.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).doesNotContain("weights only");
        JsonNode fromFolder = generate(lm), fromGguf = generate(gguf);
        assertThat(fromGguf.get("prompt_token_ids")).isEqualTo(fromFolder.get("prompt_token_ids"));
        assertThat(fromGguf.get("sequences").get(0).get("token_ids")).isEqualTo(fromFolder.get("sequences").get(0).get("token_ids"));
        assertThat(fromGguf.get("sequences").get(0).get("token_ids").size()).isEqualTo(6);
    }

    @Test
    void aBertFolderRunsInOnnxRuntimeAndIsRefusedAsGguf() throws Exception {
        dev.jumbo.nn.Init.seed(31);
        Path dir = tmp.resolve("bert");
        new Bert(new BertConfig(50, 16, 2, 2, 32, 10, 2, 1e-12)).save(dir);
        Bert bert = Bert.load(dir);
        Path onnx = tmp.resolve("bert.onnx");
        CliTest.Result r = CliTest.run("export", "--model", dir.toString(), "--format", "onnx", "--out", onnx.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("BERT encoder of 2 layers");
        long[] ids = {2, 17, 33, 4, 9, 0, 0}, mask = {1, 1, 1, 1, 1, 0, 0};
        float[] idsF = new float[ids.length], maskF = new float[ids.length];
        for (int i = 0; i < ids.length; i++) {
            idsF[i] = ids[i];
            maskF[i] = mask[i];
        }
        float[] want;
        try (var scope = GradMode.noGrad()) {
            want = bert.forward(Tensor.of(idsF, 1, ids.length), Tensor.of(maskF, 1, ids.length)).toFloatArray();
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        float[] got;
        try (OrtSession session = env.createSession(onnx.toString(), new OrtSession.SessionOptions());
             OnnxTensor i = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {1, ids.length});
             OnnxTensor m = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), new long[] {1, ids.length});
             OrtSession.Result result = session.run(Map.of("input_ids", i, "attention_mask", m))) {
            FloatBuffer fb = ((OnnxTensor) result.get("last_hidden_state").orElseThrow()).getFloatBuffer();
            got = new float[fb.remaining()];
            fb.get(got);
        }
        assertThat(got).hasSameSizeAs(want);
        double max = 0;
        for (int k = 0; k < got.length; k++) max = Math.max(max, Math.abs(got[k] - want[k]));
        assertThat(max).as("max abs difference of hidden states, ONNX Runtime against Jumbo").isLessThanOrEqualTo(1e-4);

        Path gguf = tmp.resolve("bert.gguf");
        r = CliTest.run("export", "--model", dir.toString(), "--format", "gguf", "--out", gguf.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("GGUF export of a BERT folder is not covered yet");
        assertThat(gguf).doesNotExist();
    }

    private static JsonNode generate(Path model) throws Exception {
        CliTest.Result g = CliTest.run("generate", "--model", model.toString(), "--prompt", "ROMEO: the cat", "--max-new-tokens", "6", "--greedy", "--json");
        assertThat(g.code()).as(g.err()).isZero();
        return g.lastJson();
    }
}
