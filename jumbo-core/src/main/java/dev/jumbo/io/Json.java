package dev.jumbo.io;

import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict JSON (RFC 8259) reader and a writer, for headers and small configuration files. The
 * core has no third-party dependencies, so this replaces Jackson there.
 *
 * <p>{@link #parse} maps objects to {@link LinkedHashMap} (member order kept), arrays to
 * {@link List}, strings to {@link String}, integers that fit to {@link Long} and other numbers to
 * {@link Double}, {@code true}/{@code false} to {@link Boolean} and {@code null} to {@code null}.
 * It is strict where lenient readers are not, because its input is often an untrusted file:
 * no comments, trailing commas, single quotes, leading zeros, NaN or unescaped control characters;
 * a number too large for a double is an error rather than infinity; a key repeated in one object is
 * an error (RFC 8259 leaves the meaning open, and a second value silently winning is how two
 * readers come to disagree about one file); nesting deeper than {@value #MAX_DEPTH} is an error,
 * so a hostile input cannot exhaust the stack.
 *
 * <pre>{@code
 * Map<?, ?> config = (Map<?, ?>) Json.parse("{\"hidden\": [64, 32], \"lr\": 0.001}");
 * List<?> hidden = (List<?>) config.get("hidden");       // [64, 32] as Longs
 * String text = Json.write(config, true);                // two-space indented
 * }</pre>
 */
public final class Json {
    /** Deepest nesting of arrays and objects accepted by {@link #parse} and {@link #write}. */
    public static final int MAX_DEPTH = 512;

    private Json() {}

    /**
     * A malformed JSON text. The message reads {@code "at line L column C: problem"}; lines and
     * columns count from 1, columns in UTF-16 characters.
     */
    public static final class ParseException extends IllegalArgumentException {
        private final int line;
        private final int column;
        private final String problem;

        ParseException(int line, int column, String problem) {
            super("at line " + line + " column " + column + ": " + problem);
            this.line = line;
            this.column = column;
            this.problem = problem;
        }

        /** Line of the problem, from 1. */
        public int line() {
            return line;
        }

        /** Column of the problem, from 1. */
        public int column() {
            return column;
        }

        /** What is wrong, without the position. */
        public String problem() {
            return problem;
        }
    }

    /**
     * A UTF-8 JSON file's value.
     *
     * @throws FormatException naming the file if it is not valid UTF-8 or not valid JSON
     */
    public static Object read(java.nio.file.Path file) throws java.io.IOException {
        try {
            return parse(java.nio.file.Files.readString(file, java.nio.charset.StandardCharsets.UTF_8));
        } catch (ParseException e) {
            throw new FormatException(file, "not valid JSON: " + e.getMessage(), e);
        } catch (java.nio.charset.MalformedInputException e) {
            throw new FormatException(file, "not valid UTF-8", e);
        }
    }

    /**
     * A UTF-8 JSON file holding an object (a config.json, an index): {@link #read}, then its members.
     *
     * @throws FormatException naming the file if it is not valid JSON or its value is not an object
     */
    public static java.util.Map<?, ?> readObject(java.nio.file.Path file) throws java.io.IOException {
        if (!(read(file) instanceof java.util.Map<?, ?> object)) throw new FormatException(file, "not a JSON object");
        return object;
    }

    /**
     * Parses one JSON value, surrounded by optional whitespace.
     *
     * @throws ParseException (an {@link IllegalArgumentException}) naming the position of the first problem
     */
    public static Object parse(String text) {
        Parser p = new Parser(text);
        p.skipWhitespace();
        Object value = p.value(0);
        p.skipWhitespace();
        if (p.pos < text.length()) throw p.error(p.pos, "unexpected " + describe(text.charAt(p.pos)) + " after the value");
        return value;
    }

    /**
     * Writes {@code value} as JSON: maps with string keys, iterables, arrays, strings, numbers,
     * booleans and null. Doubles are written so that {@link #parse} gives back the same double.
     * {@code pretty} puts one member per line, indented by two spaces.
     *
     * @throws IllegalArgumentException for NaN, infinities, non-string keys, nesting deeper than
     *     {@value #MAX_DEPTH} (a cycle) or a type JSON cannot represent
     */
    public static String write(Object value, boolean pretty) {
        StringBuilder out = new StringBuilder();
        new Writer(out, pretty).value(value, 0);
        return out.toString();
    }

    // ---------------------------------------------------------------- reading

    private static final class Parser {
        private final String text;
        private int pos;

        Parser(String text) {
            this.text = text;
        }

        Object value(int depth) {
            if (pos >= text.length()) throw error(pos, "unexpected end of input, expected a value");
            char c = text.charAt(pos);
            return switch (c) {
                case '{' -> object(depth + 1);
                case '[' -> array(depth + 1);
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) yield number();
                    throw error(pos, "unexpected " + describe(c) + ", expected a value");
                }
            };
        }

        private Map<String, Object> object(int depth) {
            if (depth > MAX_DEPTH) throw error(pos, "nesting deeper than " + MAX_DEPTH);
            pos++; // '{'
            Map<String, Object> map = new LinkedHashMap<>();
            skipWhitespace();
            if (peek() == '}') {
                pos++;
                return map;
            }
            while (true) {
                skipWhitespace();
                int keyAt = pos;
                if (peek() != '"') throw error(pos, "expected a string key, found " + found());
                String key = string();
                if (map.containsKey(key)) throw error(keyAt, "duplicate key " + quote(key));
                skipWhitespace();
                if (peek() != ':') throw error(pos, "expected ':' after key " + quote(key) + ", found " + found());
                pos++;
                skipWhitespace();
                map.put(key, value(depth));
                skipWhitespace();
                char c = peek();
                if (c != ',' && c != '}') throw error(pos, "expected ',' or '}' in object, found " + found());
                pos++;
                if (c == '}') return map;
            }
        }

        private List<Object> array(int depth) {
            if (depth > MAX_DEPTH) throw error(pos, "nesting deeper than " + MAX_DEPTH);
            pos++; // '['
            List<Object> list = new ArrayList<>();
            skipWhitespace();
            if (peek() == ']') {
                pos++;
                return list;
            }
            while (true) {
                skipWhitespace();
                list.add(value(depth));
                skipWhitespace();
                char c = peek();
                if (c != ',' && c != ']') throw error(pos, "expected ',' or ']' in array, found " + found());
                pos++;
                if (c == ']') return list;
            }
        }

        private String string() {
            int start = pos;
            pos++; // opening quote
            StringBuilder sb = null; // only built when the string has escapes
            int runStart = pos;
            while (true) {
                if (pos >= text.length()) throw error(start, "unterminated string");
                char c = text.charAt(pos);
                if (c == '"') {
                    String s = sb == null ? text.substring(runStart, pos) : sb.append(text, runStart, pos).toString();
                    pos++;
                    return s;
                }
                if (c < 0x20) throw error(pos, "unescaped control character " + describe(c) + " in string");
                if (c != '\\') {
                    pos++;
                    continue;
                }
                if (sb == null) sb = new StringBuilder();
                sb.append(text, runStart, pos);
                int escapeAt = pos;
                pos++;
                if (pos >= text.length()) throw error(start, "unterminated string");
                char e = text.charAt(pos++);
                switch (e) {
                    case '"', '\\', '/' -> sb.append(e);
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        if (pos + 4 > text.length()) throw error(escapeAt, "incomplete \\u escape");
                        int code = 0;
                        for (int i = 0; i < 4; i++) {
                            int digit = Character.digit(text.charAt(pos + i), 16);
                            // Character.digit accepts non-ASCII digits; JSON allows only 0-9, a-f, A-F
                            if (digit < 0 || text.charAt(pos + i) > 'f') throw error(escapeAt, "bad \\u escape, expected four hex digits");
                            code = code * 16 + digit;
                        }
                        sb.append((char) code);
                        pos += 4;
                    }
                    default -> throw error(escapeAt, "bad escape \\" + e);
                }
                runStart = pos;
            }
        }

        private Object literal(String word, Object value) {
            if (!text.startsWith(word, pos)) throw error(pos, "expected '" + word + "'");
            pos += word.length();
            return value;
        }

        // number = [ minus ] int [ frac ] [ exp ]   (RFC 8259 section 6)
        private Object number() {
            int start = pos;
            if (peek() == '-') pos++;
            if (peek() == '0') {
                pos++;
                if (isDigit(peek())) throw error(start, "leading zero in number");
            } else if (isDigit(peek())) {
                while (isDigit(peek())) pos++;
            } else {
                throw error(pos, "expected a digit, found " + found());
            }
            boolean integer = true;
            if (peek() == '.') {
                integer = false;
                pos++;
                if (!isDigit(peek())) throw error(pos, "expected a digit after the decimal point, found " + found());
                while (isDigit(peek())) pos++;
            }
            if (peek() == 'e' || peek() == 'E') {
                integer = false;
                pos++;
                if (peek() == '+' || peek() == '-') pos++;
                if (!isDigit(peek())) throw error(pos, "expected a digit in the exponent, found " + found());
                while (isDigit(peek())) pos++;
            }
            String literal = text.substring(start, pos);
            // 19 digits may still overflow a long, so ask Long itself rather than counting
            if (integer && literal.length() <= 20) {
                try {
                    return Long.parseLong(literal);
                } catch (NumberFormatException tooLargeForLong) {
                    // falls through to a double, like other readers do for big integers
                }
            }
            double d = Double.parseDouble(literal);
            if (Double.isInfinite(d)) throw error(start, "number " + abbreviate(literal) + " is out of the range of a double");
            return d;
        }

        void skipWhitespace() {
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
                pos++;
            }
        }

        /** The current character, or U+FFFF at the end (callers compare it with ASCII only). */
        private char peek() {
            return pos < text.length() ? text.charAt(pos) : '\uFFFF';
        }

        /** The current character described for an error message. */
        private String found() {
            return pos >= text.length() ? "end of input" : describe(text.charAt(pos));
        }

        ParseException error(int at, String problem) {
            int line = 1, lineStart = 0;
            int end = Math.min(at, text.length());
            for (int i = 0; i < end; i++) {
                if (text.charAt(i) == '\n') {
                    line++;
                    lineStart = i + 1;
                }
            }
            return new ParseException(line, at - lineStart + 1, problem);
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static String describe(char c) {
        if (c >= 0x20 && c < 0x7F) return "'" + c + "'";
        return String.format("U+%04X", (int) c);
    }

    private static String quote(String s) {
        return write(abbreviate(s), false);
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }

    // ---------------------------------------------------------------- writing

    private record Writer(StringBuilder out, boolean pretty) {
        void value(Object v, int depth) {
            switch (v) {
                case null -> out.append("null");
                case Boolean b -> out.append(b);
                case CharSequence s -> string(s.toString());
                case Double d -> out.append(finite(d, d));
                case Float f -> out.append(finite(f, f));
                case Number n -> out.append(n); // Long, Integer, BigInteger, BigDecimal: toString is valid JSON
                case Map<?, ?> m -> object(m, depth + 1);
                case Iterable<?> it -> array(it, depth + 1);
                default -> {
                    if (!v.getClass().isArray()) throw new IllegalArgumentException("cannot write a " + v.getClass().getName() + " as JSON");
                    List<Object> items = new ArrayList<>();
                    for (int i = 0, n = Array.getLength(v); i < n; i++) items.add(Array.get(v, i));
                    array(items, depth + 1);
                }
            }
        }

        private static Object finite(double d, Object boxed) {
            if (Double.isNaN(d) || Double.isInfinite(d)) throw new IllegalArgumentException("JSON has no " + d);
            return boxed;
        }

        private void object(Map<?, ?> m, int depth) {
            checkDepth(depth);
            if (m.isEmpty()) {
                out.append("{}");
                return;
            }
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getKey() instanceof String key))
                    throw new IllegalArgumentException("JSON object keys must be strings, got " + e.getKey());
                if (!first) out.append(',');
                first = false;
                newline(depth);
                string(key);
                out.append(pretty ? ": " : ":");
                value(e.getValue(), depth);
            }
            newline(depth - 1);
            out.append('}');
        }

        private void array(Iterable<?> items, int depth) {
            checkDepth(depth);
            out.append('[');
            boolean first = true;
            for (Object item : items) {
                if (!first) out.append(',');
                first = false;
                newline(depth);
                value(item, depth);
            }
            if (!first) newline(depth - 1);
            out.append(']');
        }

        private static void checkDepth(int depth) {
            if (depth > MAX_DEPTH) throw new IllegalArgumentException("nesting deeper than " + MAX_DEPTH + " (a cycle?)");
        }

        private void newline(int depth) {
            if (!pretty) return;
            out.append('\n');
            out.repeat(' ', 2 * depth);
        }

        private void string(String s) {
            out.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> out.append("\\\"");
                    case '\\' -> out.append("\\\\");
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    case '\t' -> out.append("\\t");
                    case '\b' -> out.append("\\b");
                    case '\f' -> out.append("\\f");
                    default -> {
                        boolean pairedSurrogate = Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
                        if (pairedSurrogate) {
                            out.append(c).append(s.charAt(++i));
                        } else if (c < 0x20 || Character.isSurrogate(c)) {
                            // a lone surrogate has no UTF-8 encoding; escaped, the text stays valid
                            out.append(String.format("\\u%04x", (int) c));
                        } else {
                            out.append(c);
                        }
                    }
                }
            }
            out.append('"');
        }
    }
}
