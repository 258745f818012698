package dev.jumbo.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.lora.LoraConfig;
import dev.jumbo.nn.Parameter;
import dev.jumbo.text.SentencePieceBpe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A LoRA fine-tune of stories260K (trained on children's stories) on Shakespeare: the loss on the
 * new text drops, only the adapters train, the base weights stay bit-identical, and the trained
 * adapters run in the runtime as they ran in the graph.
 */
class LlamaLoraTrainingTest {
    private static final Path DATA = SharedData.dir();

    @Test
    void aFewLoraStepsLowerTheLossAndLeaveTheBaseAsItWas() throws Exception {
        try (Llama base = Llama2c.load(DATA.resolve("llama2c/stories260K.bin"))) {
            SentencePieceBpe tok = Llama2c.loadTokenizer(DATA.resolve("llama2c/tok512.bin"), base.vocabSize());
            int[] tokens = tok.encode(Files.readString(DATA.resolve("tinyshakespeare.txt")).substring(0, 30_000));
            LlamaLora init = LlamaLora.init(base.config(), new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj", "down_proj")), new Random(3));
            LlamaGraph graph = LlamaGraph.of(base.withAdapters(init));
            Map<String, float[]> before = new LinkedHashMap<>();
            for (Parameter p : graph.parameters()) before.put(p.name(), p.value().toFloatArray());
            float[] mappedWq = new float[base.config().dim()];
            base.layers().get(2).wq().row(5, mappedWq, 0);

            LmTrainer trainer = new LmTrainer(graph, base.config().contextLength(), tokens, new LmTrainer.Options(32, 8, 40, 1e-2, 4, 0, 5),
                    adapters(graph));
            long total = graph.parameters().stream().mapToLong(p -> p.value().size()).sum();
            assertThat(trainer.trainableParameters()).isEqualTo(init.parameterCount());
            assertThat((double) trainer.trainableParameters() / total).isLessThan(0.05);
            double trainBefore = trainer.trainingLoss(4), valBefore = trainer.validationLoss(4);
            for (int i = 0; i < 40; i++) trainer.step();
            double trainAfter = trainer.trainingLoss(4), valAfter = trainer.validationLoss(4);
            System.out.printf("stories260K + LoRA r=4 on q,v,down (%d of %d weights trainable, %.2f%%): Shakespeare loss %.3f -> %.3f (train), %.3f -> %.3f (held out) in 40 steps%n",
                    trainer.trainableParameters(), total, 100.0 * trainer.trainableParameters() / total, trainBefore, trainAfter, valBefore, valAfter);
            // optimizer state only for the adapters: AdamW's two moments of each of their weights
            assertThat(trainer.optimizerStateBytes()).isEqualTo(4 * 2 * trainer.trainableParameters());
            System.out.printf("AdamW state: %d KB for the adapters; a full fine-tune would hold %d KB (and gradients for every weight)%n",
                    trainer.optimizerStateBytes() / 1024, 4 * 2 * total / 1024);
            assertThat(trainAfter).isLessThan(trainBefore - 0.2);
            assertThat(valAfter).isLessThan(valBefore - 0.1);

            for (Parameter p : graph.parameters()) {
                if (graph.adapterParameters().contains(p)) {
                    if (p.name().endsWith("_lora_B")) assertThat(p.value().toFloatArray()).as(p.name()).isNotEqualTo(before.get(p.name()));
                } else {
                    assertThat(p.value().toFloatArray()).as(p.name() + " is bit-identical").isEqualTo(before.get(p.name()));
                    assertThat(p.value().grad()).as(p.name() + " has no gradient").isNull();
                }
            }
            float[] after = new float[base.config().dim()];
            base.layers().get(2).wq().row(5, after, 0);
            assertThat(after).isEqualTo(mappedWq);

            // the trained adapters run in the runtime as in the graph, and merged
            LlamaLora trained = graph.adapters();
            int[] ids = java.util.Arrays.copyOf(tokens, 40);
            float[] runtime = base.withAdapters(trained).logits(ids), merged = trained.merge(base).logits(ids);
            float[] fromGraph;
            graph.train(false);
            try (var scope = dev.jumbo.tensor.GradMode.noGrad()) {
                float[] all = graph.forward(ids).toFloatArray();
                fromGraph = java.util.Arrays.copyOfRange(all, (ids.length - 1) * base.vocabSize(), ids.length * base.vocabSize());
            }
            for (int v = 0; v < runtime.length; v++) {
                assertThat(runtime[v]).isCloseTo(fromGraph[v], org.assertj.core.api.Assertions.within(1e-4f));
                assertThat(runtime[v]).isCloseTo(merged[v], org.assertj.core.api.Assertions.within(5e-5f));
            }
        }
    }

    @Test
    void refusesAGraphWithoutAdaptersAndTooShortAText() {
        LlamaConfig c = LlamaTest.tiny(4, 2, LlamaConfig.RopeStyle.NORM, true);
        Llama base = LlamaTest.Weights.random(c, 1).llama();
        int[] tokens = LlamaTest.randomIds(400, c.vocabSize(), 2);
        LmTrainer.Options o = new LmTrainer.Options(16, 2, 5, 1e-3, 0, 0, 1);
        LlamaGraph plain = LlamaGraph.of(base);
        assertThatThrownBy(() -> new LmTrainer(plain, c.contextLength(), tokens, o, adapters(plain)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nothing to train");
        LlamaGraph graph = LlamaGraph.of(base.withAdapters(LlamaLora.init(c, LoraConfig.defaults(List.of("o_proj")), new Random(1))));
        assertThatThrownBy(() -> new LmTrainer(graph, c.contextLength(), java.util.Arrays.copyOf(tokens, 100), o, adapters(graph)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("too few");
    }

    private static List<dev.jumbo.tensor.Tensor> adapters(LlamaGraph graph) {
        return graph.adapterParameters().stream().map(Parameter::value).toList();
    }
}
