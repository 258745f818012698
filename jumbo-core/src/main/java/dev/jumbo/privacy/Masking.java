package dev.jumbo.privacy;

import dev.jumbo.io.AtomicFiles;
import dev.jumbo.io.FormatException;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Masks identifying columns of a table before it leaves its owner: each rule names a column by its
 * header and drops it, replaces every value with a constant, pseudonymises it with a keyed
 * HMAC-SHA256 (equal values keep equal pseudonyms, so joins and counts still work, but without the
 * key nobody can recompute them from guessed values, which a plain hash would allow), or
 * generalises numbers to the lower edge of bins of a width ({@code 37 -> 30} with width 10: the
 * bin [30, 40); the column stays numeric, so {@code jumbo train} still reads it). Empty fields stay
 * empty: a missing value is not a value to hash or bin. Columns without a rule pass through.
 *
 * <pre>{@code
 * byte[] key = Files.readAllBytes(Path.of("mask.key"));        // 32 random bytes, kept secret
 * Masking masking = Masking.of(new Masking.Drop("name"), new Masking.Pseudonymise("id", key),
 *         new Masking.Replace("zip", "*****"), new Masking.Generalise("age", 10));
 * masking.maskFile(Path.of("people.csv"), Path.of("people-masked.csv"));
 * }</pre>
 *
 * <p>Tables are CSV with a header line (RFC 4180: fields may be quoted, with {@code ""} for a quote
 * and commas or line breaks inside quotes), held in memory whole; the output quotes a field only
 * when it must. Masking is not anonymisation by itself: the remaining columns together can still
 * single people out (Sweeney's zip code, birth date and sex), which is what generalising and noise
 * are for.
 */
public final class Masking {
    /** At least 128 bits of key: a shorter one could be found by trying keys against a known value. */
    public static final int MIN_KEY_BYTES = 16;

    /** What to do to one column. */
    public sealed interface Rule permits Drop, Replace, Pseudonymise, Generalise {
        /** The header name of the column the rule applies to. */
        String column();
    }

    /** Removes the column. */
    public record Drop(String column) implements Rule {}

    /** Replaces every non-empty value with {@code value}. */
    public record Replace(String column, String value) implements Rule {
        public Replace {
            if (value == null) throw new IllegalArgumentException("replacement for column '" + column + "' is missing");
        }
    }

    /** Replaces every non-empty value with the hex HMAC-SHA256 of its UTF-8 bytes under {@code key}. */
    public record Pseudonymise(String column, byte[] key) implements Rule {
        public Pseudonymise {
            if (key == null || key.length < MIN_KEY_BYTES)
                throw new IllegalArgumentException("the key to pseudonymise column '" + column + "' must have at least " + MIN_KEY_BYTES
                        + " bytes, got " + (key == null ? 0 : key.length));
            key = key.clone();
        }

        @Override
        public byte[] key() {
            return key.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Pseudonymise p && p.column.equals(column) && Arrays.equals(p.key, key);
        }

        @Override
        public int hashCode() {
            return column.hashCode() * 31 + Arrays.hashCode(key);
        }

        @Override
        public String toString() {
            return "Pseudonymise[column=" + column + ", key=(" + key.length + " bytes)]"; // never print the key
        }
    }

    /** Replaces each number with the lower edge of its bin: {@code floor(v / width) * width}. */
    public record Generalise(String column, double width) implements Rule {
        public Generalise {
            if (!(width > 0) || Double.isInfinite(width))
                throw new IllegalArgumentException("bin width for column '" + column + "' must be positive and finite, got " + width);
        }
    }

    /** A table of text fields with a header; every row has as many fields as the header. */
    public record Table(List<String> header, List<List<String>> rows) {
        public Table {
            header = List.copyOf(header);
            Set<String> seen = new HashSet<>();
            for (String h : header) if (!seen.add(h)) throw new IllegalArgumentException("the header names column '" + h + "' twice");
            rows = rows.stream().map(List::copyOf).toList();
            for (int r = 0; r < rows.size(); r++)
                if (rows.get(r).size() != header.size())
                    throw new IllegalArgumentException("data row " + (r + 1) + " has " + rows.get(r).size() + " fields, the header " + header.size());
        }

        /** Reads a CSV file with a header line. */
        public static Table read(Path file) throws IOException {
            String text;
            try {
                text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
            } catch (CharacterCodingException e) {
                throw new FormatException(file, "is not UTF-8 text", e);
            }
            if (text.startsWith("\uFEFF")) text = text.substring(1);
            List<List<String>> records;
            try {
                records = parse(text);
            } catch (IllegalArgumentException e) {
                throw new FormatException(file, e.getMessage());
            }
            if (records.isEmpty()) throw new FormatException(file, "is empty; expected a header line");
            try {
                return new Table(records.getFirst(), records.subList(1, records.size()));
            } catch (IllegalArgumentException e) {
                throw new FormatException(file, e.getMessage());
            }
        }

        /** The table as CSV text, header first. */
        public String csv() {
            StringBuilder s = new StringBuilder();
            line(s, header);
            for (List<String> row : rows) line(s, row);
            return s.toString();
        }

        /** Writes the table as CSV, atomically (a temporary file renamed over {@code file}). */
        public void write(Path file) throws IOException {
            AtomicFiles.writeString(file, csv());
        }

        private static void line(StringBuilder s, List<String> fields) {
            for (int i = 0; i < fields.size(); i++) {
                if (i > 0) s.append(',');
                String f = fields.get(i);
                boolean quote = f.contains(",") || f.contains("\"") || f.contains("\n") || f.contains("\r") || !f.equals(f.strip());
                s.append(quote ? '"' + f.replace("\"", "\"\"") + '"' : f);
            }
            s.append('\n');
        }
    }

    private final List<Rule> rules;

    /** Masking by {@code rules}, at most one per column. */
    public Masking(List<Rule> rules) {
        Set<String> columns = new HashSet<>();
        for (Rule r : rules)
            if (!columns.add(r.column())) throw new IllegalArgumentException("column '" + r.column() + "' has more than one rule");
        this.rules = List.copyOf(rules);
    }

    /** Masking by {@code rules}, at most one per column. */
    public static Masking of(Rule... rules) {
        return new Masking(List.of(rules));
    }

    /** The rules, in the order given. */
    public List<Rule> rules() {
        return rules;
    }

    /**
     * The masked table: dropped columns gone, the others in their order.
     *
     * @throws IllegalArgumentException naming a rule's column the table lacks (and the columns it
     *     has), or the row and column of a value {@link Generalise} cannot read as a number
     */
    public Table apply(Table table) {
        Map<Integer, Rule> byIndex = new HashMap<>();
        for (Rule r : rules) {
            int i = table.header().indexOf(r.column());
            if (i < 0)
                throw new IllegalArgumentException("no column '" + r.column() + "' to mask; the columns are " + String.join(",", table.header()));
            byIndex.put(i, r);
        }
        Map<Integer, Mac> macs = new LinkedHashMap<>();
        byIndex.forEach((i, r) -> {
            if (r instanceof Pseudonymise p) macs.put(i, hmac(p.key));
        });
        List<String> header = new ArrayList<>();
        for (int c = 0; c < table.header().size(); c++) if (!(byIndex.get(c) instanceof Drop)) header.add(table.header().get(c));
        List<List<String>> rows = new ArrayList<>(table.rows().size());
        for (int r = 0; r < table.rows().size(); r++) {
            List<String> in = table.rows().get(r), out = new ArrayList<>(header.size());
            for (int c = 0; c < in.size(); c++) {
                String v = in.get(c);
                Rule rule = byIndex.get(c);
                if (rule instanceof Drop) continue;
                if (rule == null || v.isEmpty()) out.add(v);
                else out.add(switch (rule) {
                    case Replace rep -> rep.value();
                    case Pseudonymise p -> HexFormat.of().formatHex(macs.get(c).doFinal(v.getBytes(StandardCharsets.UTF_8)));
                    case Generalise g -> lowerEdge(v, g, r);
                    case Drop d -> throw new IllegalStateException("dropped above");
                });
            }
            rows.add(out);
        }
        return new Table(header, rows);
    }

    /**
     * Reads {@code in}, masks it and writes {@code out} atomically.
     *
     * @throws IllegalArgumentException if {@code out} is {@code in} (the input is never overwritten)
     */
    public void maskFile(Path in, Path out) throws IOException {
        if (in.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize()) || (Files.exists(out) && Files.isSameFile(in, out)))
            throw new IllegalArgumentException(out + " is the input file; write the masked table elsewhere");
        if (Files.isDirectory(out)) throw new IllegalArgumentException(out + " is a folder; give the CSV file to write");
        try {
            apply(Table.read(in)).write(out);
        } catch (IllegalArgumentException e) {
            throw new FormatException(in, e.getMessage());
        }
    }

    private static String lowerEdge(String value, Generalise g, int row) {
        BigDecimal v;
        try {
            v = new BigDecimal(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("data row " + (row + 1) + ", column '" + g.column() + "': \"" + value + "\" is not a number to put in a bin");
        }
        // decimal arithmetic, so 0.3 in bins of 0.1 is 0.3 and not 0.30000000000000004
        BigDecimal width = BigDecimal.valueOf(g.width());
        BigDecimal edge = v.divide(width, 0, RoundingMode.FLOOR).multiply(width);
        return edge.signum() == 0 ? "0" : edge.stripTrailingZeros().toPlainString();
    }

    private static Mac hmac(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JDK", e); // every JDK must provide it
        }
    }

    // RFC 4180 fields: a quoted field runs to the next lone quote and may hold commas, "" and line breaks
    private static List<List<String>> parse(String text) {
        List<List<String>> records = new ArrayList<>();
        List<String> record = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        int i = 0, n = text.length(), line = 1;
        boolean any = false;
        while (i < n) {
            char ch = text.charAt(i);
            if (ch == '"' && field.isEmpty()) {
                int start = line;
                i++;
                while (true) {
                    if (i >= n) throw new IllegalArgumentException("a quoted field opened on line " + start + " is never closed");
                    char q = text.charAt(i++);
                    if (q == '"') {
                        if (i < n && text.charAt(i) == '"') {
                            field.append('"');
                            i++;
                        } else break;
                    } else {
                        if (q == '\n') line++;
                        field.append(q);
                    }
                }
                if (i < n && text.charAt(i) != ',' && text.charAt(i) != '\n' && text.charAt(i) != '\r')
                    throw new IllegalArgumentException("line " + line + ": text after a closing quote");
                any = true;
            } else if (ch == ',') {
                record.add(field.toString());
                field.setLength(0);
                any = true;
                i++;
            } else if (ch == '\n' || ch == '\r') {
                if (any || !field.isEmpty()) {
                    record.add(field.toString());
                    records.add(record);
                }
                record = new ArrayList<>();
                field.setLength(0);
                any = false;
                if (ch == '\r' && i + 1 < n && text.charAt(i + 1) == '\n') i++;
                i++;
                line++;
            } else {
                field.append(ch);
                any = true;
                i++;
            }
        }
        if (any || !field.isEmpty()) {
            record.add(field.toString());
            records.add(record);
        }
        return records;
    }
}
