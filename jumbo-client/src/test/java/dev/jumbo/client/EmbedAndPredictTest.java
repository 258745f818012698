package dev.jumbo.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.io.Gguf;
import dev.jumbo.io.GgufFile;
import dev.jumbo.models.Bert;
import dev.jumbo.models.GgufModels;
import dev.jumbo.models.TextEncoder;
import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Conv2D;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.MaxPool2D;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.text.Tokenizers;
import dev.jumbo.text.WordPiece;
import dev.jumbo.train.Sequential;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link JumboClient#embed} and {@link JumboClient#predict} against a real jumbo serve holding
 * all-MiniLM-L6-v2 (a BERT GGUF) and a small CNN classifier on [28, 28, 1] made here, each
 * compared with the core library running the same model in this JVM.
 */
class EmbedAndPredictTest {
    private static final List<String> LABELS = List.of("T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot");
    private static LocalServer local;
    private static JumboClient client;
    private static Sequential cnn;

    @BeforeAll
    static void start() throws IOException {
        local = LocalServer.start(null);
        local.server.serve("minilm", TextEncoder.load(LocalServer.minilm()));
        cnn = new Sequential(Shape.of(28, 28, 1), new Conv2D(4, 3, Activation.RELU), new MaxPool2D(2), new Flatten(), new Dense(10, Activation.SOFTMAX));
        local.server.serve("cnn", cnn, LABELS);
        client = JumboClient.connect(local.address());
    }

    @AfterAll
    static void stop() {
        client.close();
        local.close();
    }

    private static double cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    @Test
    void embeddingsAreTheCoresOwnForTheSameTexts() throws IOException {
        List<String> texts = List.of("A man is eating food.", "The new movie is awesome, really awesome!", "x");
        float[][] got = client.embed("minilm", texts);

        Bert bert = GgufModels.bert(LocalServer.minilm());
        WordPiece tokenizer;
        try (GgufFile g = Gguf.open(LocalServer.minilm())) {
            tokenizer = (WordPiece) Tokenizers.fromGguf(g);
        }
        float[][] expected = bert.embed(tokenizer.encodeBatch(texts, 512), Bert.Pooling.MEAN, true);
        assertThat(got).hasNumberOfRows(3);
        for (int i = 0; i < texts.size(); i++) {
            assertThat(got[i]).hasSize(384);
            assertThat(cosine(got[i], expected[i])).as("text %d", i).isGreaterThan(0.999);
        }
        assertThat(cosine(got[0], got[1])).isLessThan(0.9); // different texts, different vectors
        assertThat(client.embed("minilm", List.of(texts.get(1)))[0]).containsExactly(got[1], within(1e-5f)); // alone as in a batch
    }

    @Test
    void aTensorInAnyOfTheModelsShapesGetsItsProbabilities() {
        Random r = new Random(3);
        float[] x = new float[2 * 28 * 28];
        for (int i = 0; i < x.length; i++) x[i] = r.nextFloat();
        float[] expected = cnn.predict(Tensor.of(x, 2, 28, 28, 1), 256).toFloatArray();

        List<Prediction> batch = client.predict("cnn", x, 2, 28, 28);
        assertThat(batch).hasSize(2);
        for (int i = 0; i < 2; i++) {
            Prediction p = batch.get(i);
            float[] want = Arrays.copyOfRange(expected, i * 10, i * 10 + 10);
            assertThat(p.index()).isEqualTo(i);
            assertThat(p.probabilities()).containsExactly(want, within(1e-6f));
            assertThat(p.classIndex()).isEqualTo(argmax(want));
            assertThat(p.label()).isEqualTo(LABELS.get(argmax(want)));
        }
        float[] first = Arrays.copyOf(x, 784);
        assertThat(client.predict("cnn", first, 784).getFirst().probabilities()).containsExactly(batch.getFirst().probabilities(), within(1e-6f));
        assertThat(client.predict("cnn", first).getFirst().probabilities()).containsExactly(batch.getFirst().probabilities(), within(1e-6f));
        assertThat(client.predict("cnn", first, 28, 28, 1).getFirst().classIndex()).isEqualTo(batch.getFirst().classIndex());
    }

    @Test
    void anImageFileIsClassifiedAsTheTensorOfItsPixels() throws IOException {
        Random r = new Random(4);
        BufferedImage image = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        float[] x = new float[28 * 28];
        for (int i = 0; i < x.length; i++) {
            int grey = r.nextInt(256);
            image.getRaster().setSample(i % 28, i / 28, 0, grey);
            x[i] = grey / 255f;
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(image, "png", png);
        float[] expected = cnn.predict(Tensor.of(x, 1, 28, 28, 1), 256).toFloatArray();

        Prediction p = client.predictImage("cnn", png.toByteArray()).getFirst();
        assertThat(p.probabilities()).containsExactly(expected, within(1e-5f));
        assertThat(p.label()).isEqualTo(LABELS.get(argmax(expected)));
        List<Prediction> two = client.predictImages("cnn", List.of(png.toByteArray(), png.toByteArray()));
        assertThat(two).extracting(Prediction::index).containsExactly(0, 1);
        assertThat(two.get(1).probabilities()).containsExactly(expected, within(1e-5f));
    }

    @Test
    void aModelOnTheWrongRouteIsA400NamingTheRightOne() {
        assertThatThrownBy(() -> client.embed("cnn", List.of("hello"))).isInstanceOfSatisfying(JumboApiException.class, e -> {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.param()).isEqualTo("model");
            assertThat(e.serverMessage()).contains("/v1/predict");
        });
        assertThatThrownBy(() -> client.predict("minilm", new float[784])).isInstanceOfSatisfying(JumboApiException.class,
                e -> assertThat(e.status()).isEqualTo(400));
        assertThatThrownBy(() -> client.predict("cnn", new float[3])).isInstanceOfSatisfying(JumboApiException.class, e -> {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.param()).isEqualTo("input");
        });
        assertThatThrownBy(() -> client.predictImage("cnn", "not an image".getBytes())).isInstanceOfSatisfying(JumboApiException.class,
                e -> assertThat(e.param()).isEqualTo("image"));
    }

    private static int argmax(float[] p) {
        int best = 0;
        for (int i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
        return best;
    }
}
