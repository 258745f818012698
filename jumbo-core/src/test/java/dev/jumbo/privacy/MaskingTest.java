package dev.jumbo.privacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.io.FormatException;
import dev.jumbo.privacy.Masking.Drop;
import dev.jumbo.privacy.Masking.Generalise;
import dev.jumbo.privacy.Masking.Pseudonymise;
import dev.jumbo.privacy.Masking.Replace;
import dev.jumbo.privacy.Masking.Table;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MaskingTest {
    @TempDir
    Path tmp;

    static final byte[] KEY = new byte[32];

    static {
        Arrays.fill(KEY, (byte) 7);
    }

    static Table people() {
        return new Table(List.of("id", "name", "zip", "age", "income"), List.of(
                List.of("17", "Ada Lovelace", "10115", "37", "52000"),
                List.of("42", "Alan, Turing", "80331", "41.5", ""),
                List.of("17", "Ada Lovelace", "", "90", "48000")));
    }

    @Test
    void dropsReplacesPseudonymisesAndGeneralisesByColumnName() {
        Table out = Masking.of(new Drop("name"), new Replace("zip", "*****"), new Pseudonymise("id", KEY), new Generalise("age", 10)).apply(people());
        assertThat(out.header()).containsExactly("id", "zip", "age", "income");
        assertThat(out.rows().get(0).subList(1, 4)).containsExactly("*****", "30", "52000");
        assertThat(out.rows().get(1).subList(1, 4)).containsExactly("*****", "40", "");
        assertThat(out.rows().get(2).get(1)).as("an empty field stays empty").isEmpty();
        assertThat(out.rows().get(2).get(2)).isEqualTo("90");
        String id17 = out.rows().get(0).get(0);
        assertThat(id17).hasSize(64).matches("[0-9a-f]+").isEqualTo(out.rows().get(2).get(0)).isNotEqualTo(out.rows().get(1).get(0));
        byte[] otherKey = KEY.clone();
        otherKey[0] ^= 1;
        assertThat(Masking.of(new Pseudonymise("id", otherKey)).apply(people()).rows().get(0).get(0)).isNotEqualTo(id17);
    }

    @Test
    void pseudonymsAreHmacSha256AsInRfc4231() {
        // RFC 4231, test case 1: key 20 bytes of 0x0b, data "Hi There"
        byte[] key = new byte[20];
        Arrays.fill(key, (byte) 0x0b);
        Table t = new Table(List.of("x"), List.of(List.of("Hi There")));
        assertThat(Masking.of(new Pseudonymise("x", key)).apply(t).rows().getFirst().getFirst())
                .isEqualTo("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    }

    @Test
    void binsMatchFloorOfValueOverWidthOnRandomNumbers() {
        Random rnd = new Random();
        for (int trial = 0; trial < 2000; trial++) {
            double width = List.of(0.1, 0.25, 1.0, 5.0, 10.0, 1000.0).get(rnd.nextInt(6));
            double v = Math.round((rnd.nextDouble() - 0.3) * 100_000) / 100.0;
            Table t = new Table(List.of("v"), List.of(List.of(Double.toString(v))));
            String edge = Masking.of(new Generalise("v", width)).apply(t).rows().getFirst().getFirst();
            double expected = Math.floor(v / width + 1e-9) * width; // the nudge: 0.3 / 0.1 is 2.9999999999999996 in doubles
            assertThat(Double.parseDouble(edge)).as("%s in bins of %s", v, width).isCloseTo(expected, within(1e-9 * Math.max(1, Math.abs(v))));
            assertThat(Double.parseDouble(edge)).isLessThanOrEqualTo(v).isGreaterThan(v - width - 1e-9);
        }
        Table t = new Table(List.of("v"), List.of(List.of("0.3"), List.of("-3"), List.of("40"), List.of("7e2")));
        assertThat(Masking.of(new Generalise("v", 0.1)).apply(t).rows()).extracting(List::getFirst).containsExactly("0.3", "-3", "40", "700");
        assertThat(Masking.of(new Generalise("v", 10)).apply(t).rows()).extracting(List::getFirst).containsExactly("0", "-10", "40", "700");
    }

    @Test
    void csvWithQuotesCommasAndLineBreaksSurvivesAWriteAndRead() throws Exception {
        Random rnd = new Random();
        String alphabet = "ab ,\"\n\r\tzé";
        for (int trial = 0; trial < 50; trial++) {
            int columns = 1 + rnd.nextInt(4);
            List<String> header = new ArrayList<>();
            for (int c = 0; c < columns; c++) header.add("c" + c);
            List<List<String>> rows = new ArrayList<>();
            for (int r = 0, n = 1 + rnd.nextInt(8); r < n; r++) {
                List<String> row = new ArrayList<>();
                for (int c = 0; c < columns; c++) {
                    StringBuilder f = new StringBuilder("x"); // a first character, so no row is entirely empty
                    for (int k = rnd.nextInt(6); k > 0; k--) f.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
                    row.add(f.toString());
                }
                rows.add(row);
            }
            Table t = new Table(header, rows);
            Path file = tmp.resolve("t" + trial + ".csv");
            t.write(file);
            assertThat(Table.read(file)).isEqualTo(t);
        }
    }

    @Test
    void maskFileWritesTheOutputWholeAndNeverOverTheInput() throws Exception {
        Path in = tmp.resolve("people.csv"), out = tmp.resolve("masked.csv");
        people().write(in);
        Masking m = Masking.of(new Drop("name"), new Generalise("age", 10));
        m.maskFile(in, out);
        assertThat(Files.readString(out)).isEqualTo("id,zip,age,income\n17,10115,30,52000\n42,80331,40,\n17,,90,48000\n");
        assertThatThrownBy(() -> m.maskFile(in, in)).hasMessageContaining("is the input file");
        assertThatThrownBy(() -> m.maskFile(in, tmp.resolve("./people.csv"))).hasMessageContaining("is the input file");
        // a failure part-way leaves no output at all (and no temporary file)
        Files.writeString(in, "id,age\n1,30\n2,old\n");
        Path failed = tmp.resolve("failed.csv");
        assertThatThrownBy(() -> m.maskFile(in, failed)).isInstanceOf(FormatException.class)
                .hasMessageContaining("people.csv").hasMessageContaining("no column 'name'");
        assertThatThrownBy(() -> Masking.of(new Generalise("age", 10)).maskFile(in, failed))
                .hasMessageContaining("data row 2, column 'age': \"old\" is not a number");
        try (var files = Files.list(tmp)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("people.csv", "masked.csv");
        }
    }

    @Test
    void rejectsUnknownColumnsDuplicateRulesShortKeysAndMalformedFiles() throws Exception {
        assertThatThrownBy(() -> Masking.of(new Drop("ssn")).apply(people()))
                .hasMessageContaining("no column 'ssn'").hasMessageContaining("id,name,zip,age,income");
        assertThatThrownBy(() -> Masking.of(new Drop("id"), new Replace("id", "x"))).hasMessageContaining("column 'id' has more than one rule");
        assertThatThrownBy(() -> new Pseudonymise("id", new byte[8])).hasMessageContaining("at least 16 bytes, got 8");
        assertThatThrownBy(() -> new Generalise("age", 0)).hasMessageContaining("positive and finite, got 0.0");
        assertThat(new Pseudonymise("id", KEY).toString()).doesNotContain("7, 7").contains("32 bytes");
        Path ragged = tmp.resolve("ragged.csv");
        Files.writeString(ragged, "a,b\n1,2\n3\n");
        assertThatThrownBy(() -> Table.read(ragged)).isInstanceOf(FormatException.class).hasMessageContaining("ragged.csv")
                .hasMessageContaining("data row 2 has 1 fields, the header 2");
        Path open = tmp.resolve("open.csv");
        Files.writeString(open, "a,b\n1,\"never closed\n");
        assertThatThrownBy(() -> Table.read(open)).hasMessageContaining("quoted field opened on line 2 is never closed");
        Path latin = tmp.resolve("latin.csv");
        Files.write(latin, new byte[] {'a', '\n', (byte) 0xE9, '\n'});
        assertThatThrownBy(() -> Table.read(latin)).hasMessageContaining("not UTF-8");
        Path twice = tmp.resolve("twice.csv");
        Files.writeString(twice, "a,a\n1,2\n");
        assertThatThrownBy(() -> Table.read(twice)).hasMessageContaining("names column 'a' twice");
        assertThat(HexFormat.of().formatHex(new Pseudonymise("id", KEY).key())).isEqualTo("07".repeat(32));
    }
}
