package dev.jumbo.nn;

import static dev.jumbo.nn.LayerGradCheck.forwardWithDeclaredShape;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.testing.GradCheck;
import java.util.Random;
import org.junit.jupiter.api.Test;

class EmbeddingTest {
    private final Random rnd = GradCheck.random();

    private Tensor ids(int vocab, int... dims) {
        float[] d = new float[Shape.of(dims).size()];
        for (int i = 0; i < d.length; i++) d[i] = rnd.nextInt(vocab);
        return Tensor.of(d, dims);
    }

    @Test
    void looksUpOneRowPerId() {
        Embedding emb = new Embedding(7, 3);
        Tensor x = ids(7, 2, 5);
        Tensor y = forwardWithDeclaredShape(emb, x);
        assertThat(y.shape()).isEqualTo(Shape.of(2, 5, 3));
        Tensor table = emb.embeddings().value();
        for (int b = 0; b < 2; b++)
            for (int s = 0; s < 5; s++)
                for (int j = 0; j < 3; j++) assertThat(y.get(b, s, j)).isEqualTo(table.get((int) x.get(b, s), j));
        for (float v : table.toFloatArray()) assertThat(Math.abs(v)).isLessThanOrEqualTo(0.05f);
    }

    @Test
    void tableGradientMatchesFiniteDifferences() {
        LayerGradCheck.parameters(new Embedding(5, 3), ids(5, 2, 4));
    }

    @Test
    void rejectsIdsOutsideTheVocabularyNamingThem() {
        Embedding emb = new Embedding(4, 2);
        assertThatThrownBy(() -> emb.forward(Tensor.of(new float[] {1, 4}, 1, 2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("id 4").hasMessageContaining("[0, 4)");
        assertThatThrownBy(() -> emb.forward(Tensor.of(new float[] {-1}, 1, 1))).hasMessageContaining("id -1");
        assertThatThrownBy(() -> emb.forward(Tensor.of(new float[] {1.5f}, 1, 1))).hasMessageContaining("1.5").hasMessageContaining("not an integer");
    }

    @Test
    void validatesArguments() {
        assertThatThrownBy(() -> new Embedding(0, 4)).hasMessage("Embedding vocabulary size must be positive, got 0");
        assertThatThrownBy(() -> new Embedding(10, -2)).hasMessage("Embedding dim must be positive, got -2");
    }
}
