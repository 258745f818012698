package dev.jumbo.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jumbo.io.FormatException;
import dev.jumbo.tensor.Shape;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvTest {
    @TempDir
    Path dir;

    private Path csv(String text) throws IOException {
        Path p = dir.resolve("data.csv");
        Files.writeString(p, text, StandardCharsets.UTF_8);
        return p;
    }

    private void rejects(String text, boolean header, int label, String problem) throws IOException {
        Path p = csv(text);
        assertThatThrownBy(() -> Csv.read(p, header, label))
                .isInstanceOfSatisfying(FormatException.class, e -> assertThat(e.file()).isEqualTo(p))
                .hasMessage(p + ": " + problem);
    }

    @Test
    void readsFeaturesAndTheLastColumnAsLabel() throws IOException {
        TensorDataset d = Csv.read(csv("a,b,label\n1,2,0\n3.5,-4e-1,1\n"), true, -1);
        assertThat(d.x().shape()).isEqualTo(Shape.of(2, 2));
        assertThat(d.x().toFloatArray()).containsExactly(1, 2, 3.5f, -0.4f);
        assertThat(d.y().toFloatArray()).containsExactly(0, 1);
    }

    @Test
    void readsUnlabelledRowsAsFeaturesOnly() throws IOException {
        var x = Csv.readFeatures(csv("a,b,c\n1,2,3\n4,5,6\n"), true);
        assertThat(x.shape()).isEqualTo(Shape.of(2, 3));
        assertThat(x.toFloatArray()).containsExactly(1, 2, 3, 4, 5, 6);
    }

    @Test
    void readsTheLabelFromAnyColumn() throws IOException {
        TensorDataset d = Csv.read(csv("7,1,2\n8,3,4\n"), false, 0);
        assertThat(d.x().toFloatArray()).containsExactly(1, 2, 3, 4);
        assertThat(d.y().toFloatArray()).containsExactly(7, 8);
    }

    @Test
    void acceptsQuotesSpacesBlankLinesCrlfByteOrderMarkAndNonFinite() throws IOException {
        TensorDataset d = Csv.read(csv("\uFEFFx,y\r\n \"1\" , 2 \r\n\r\nnan,-inf\r\n+.5,Infinity\n"), true, -1);
        assertThat(d.x().toFloatArray()).containsExactly(1, Float.NaN, 0.5f);
        assertThat(d.y().toFloatArray()).containsExactly(2, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY);
    }

    @Test
    void readsManyRows() throws IOException {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 3000; i++) s.append(i).append(',').append(i * 2).append(',').append(i % 3).append('\n');
        TensorDataset d = Csv.read(csv(s.toString()), false, -1);
        assertThat(d.size()).isEqualTo(3000);
        assertThat(d.x().get(2999, 1)).isEqualTo(5998f);
        assertThat(d.y().get(2999)).isEqualTo(2f); // 2999 % 3
    }

    @Test
    void rejectsABadNumberNamingLineAndColumn() throws IOException {
        rejects("a,b,c\n1,2,3\n4,abc,6\n", true, -1, "line 3, column 2: \"abc\" is not a number");
        rejects("1,0x10\n", false, -1, "line 1, column 2: \"0x10\" is not a number");
        rejects("1,2f\n", false, -1, "line 1, column 2: \"2f\" is not a number");
    }

    @Test
    void rejectsAnEmptyField() throws IOException {
        rejects("1,,3\n", false, -1, "line 1, column 2: empty field");
    }

    @Test
    void rejectsLinesWithAnotherNumberOfColumns() throws IOException {
        rejects("a,b,c\n1,2,3\n4,5\n", true, -1, "line 3 has 2 columns, expected 3");
    }

    @Test
    void rejectsALabelColumnTheFileDoesNotHave() throws IOException {
        rejects("1,2\n", false, 2, "label column 2 is outside the 2 columns of line 1");
        assertThatThrownBy(() -> Csv.read(csv("1,2\n"), false, -3)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsFilesWithoutDataOrFeatures() throws IOException {
        rejects("a,b\n", true, -1, "has no data lines");
        rejects("", false, -1, "has no data lines");
        rejects("1\n2\n", false, -1, "line 1 has 1 column; need features and a label");
    }

    @Test
    void rejectsTextThatIsNotUtf8() throws IOException {
        Path p = dir.resolve("latin1.csv");
        Files.write(p, new byte[] {'1', ',', '2', '\n', (byte) 0xE9, ',', '1', '\n'});
        assertThatThrownBy(() -> Csv.read(p, false, -1)).isInstanceOf(FormatException.class).hasMessageContaining("is not UTF-8 text");
    }
}
