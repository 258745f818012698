package dev.jumbo.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumbo.data.FashionMnist;
import dev.jumbo.data.TensorDataset;
import dev.jumbo.explain.Explanation;
import dev.jumbo.explain.GradCam;
import dev.jumbo.explain.Heatmap;
import dev.jumbo.explain.IntegratedGradients;
import dev.jumbo.explain.ModelFunction;
import dev.jumbo.explain.TextModel;
import dev.jumbo.explain.TokenAttributions;
import dev.jumbo.models.SharedData;
import dev.jumbo.models.TextEncoder;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Conv2D;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.MaxPool2D;
import dev.jumbo.optim.Adam;
import dev.jumbo.tensor.Shape;
import dev.jumbo.train.FitOptions;
import dev.jumbo.train.Sequential;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's "Explain" from Java, as written there, on a small CNN trained here on Fashion-MNIST and on all-MiniLM-L6-v2. */
class ExplainExampleTest {
    @TempDir
    Path tmp;

    @Test
    void theReadmesExplanationsRun() throws Exception {
        TensorDataset train = FashionMnist.load(null).train();
        Sequential small = new Sequential(Shape.of(28, 28, 1), new Conv2D(8, 3, Activation.RELU), new MaxPool2D(2), new Flatten(),
                new Dense(10, Activation.SOFTMAX));
        small.compile(new Adam(1e-3), "sparse_categorical_crossentropy", "accuracy");
        small.fit(train.x().slice(0, 0, 4000), train.y().slice(0, 0, 4000), FitOptions.defaults().epochs(1).batchSize(64));
        Path runs = tmp.resolve("runs/cnn");
        small.save(runs);
        Path why = tmp.resolve("why.png");

        // --- as in the README, with its paths
        Sequential cnn = Sequential.load(runs);
        ModelFunction f = ModelFunction.of(cnn, ModelFunction.Output.AS_IS);
        float[] boot = FashionMnist.load(null).test().x().slice(0, 0, 1).toFloatArray();
        Explanation ig = IntegratedGradients.defaults().refinedTo(0.01, 800).explain(f, boot, 9);
        Explanation cam = GradCam.explain(cnn, ModelFunction.Output.AS_IS, -1, boot, 9);
        Heatmap.writePng(Heatmap.sideBySide(List.of(Heatmap.overlay(boot, 28, 28, 1, ig), Heatmap.overlay(boot, 28, 28, 1, cam)),
                List.of("ig", "gradcam")), why);

        TextEncoder minilm = TextEncoder.load(SharedData.dir().resolve("gguf/all-minilm-l6-v2-q8_0.gguf"));
        TextModel m = TextModel.similarity(minilm.bert(), minilm.tokenizer(), "A man is playing a guitar.", "Someone performs music.");
        TokenAttributions words = TokenAttributions.integratedGradients(m, 0, IntegratedGradients.defaults());
        // ---

        double rise = ig.details().get("output") - ig.details().get("baseline_output");
        assertThat(Math.abs(ig.completenessGap())).isLessThanOrEqualTo(0.01 * Math.abs(rise));
        assertThat(cam.shape()).isEqualTo(Shape.of(28, 28));
        assertThat(ImageIO.read(why.toFile()).getWidth()).isGreaterThan(2 * 252);
        assertThat(words.tokens()).containsExactly("[CLS]", "a", "man", "is", "playing", "a", "guitar", ".", "[SEP]");
        float[] a = words.explanation().attributions();
        int guitar = words.tokens().indexOf("guitar");
        for (int i = 0; i < a.length; i++) if (i != guitar) assertThat(a[guitar]).isGreaterThan(a[i]);
    }
}
