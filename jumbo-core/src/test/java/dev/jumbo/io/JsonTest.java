package dev.jumbo.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JsonTest {

    @Test
    void parsesEveryKindOfValue() {
        Object v = Json.parse(" {\"a\": [1, -2.5, 1e3, true, false, null], \"b\": {\"c\": \"d\\n\\u00e9\\ud83d\\ude00\"}, \"big\": 12345678901234567890} ");
        assertThat(v).isInstanceOf(LinkedHashMap.class);
        Map<?, ?> m = (Map<?, ?>) v;
        assertThat(List.copyOf(m.keySet())).isEqualTo(List.of("a", "b", "big"));
        assertThat(m.get("a")).isEqualTo(Arrays.asList(1L, -2.5, 1000.0, true, false, null));
        assertThat(((Map<?, ?>) m.get("b")).get("c")).isEqualTo("d\né😀");
        assertThat(m.get("big")).isEqualTo(1.2345678901234567e19);
    }

    @Test
    void keepsMemberOrder() {
        Map<?, ?> m = (Map<?, ?>) Json.parse("{\"z\":1,\"a\":2,\"m\":3}");
        assertThat(List.copyOf(m.keySet())).isEqualTo(List.of("z", "a", "m"));
    }

    @Test
    void integersThatFitAreLongsOthersDoubles() {
        assertThat(Json.parse("9223372036854775807")).isEqualTo(Long.MAX_VALUE);
        assertThat(Json.parse("-9223372036854775808")).isEqualTo(Long.MIN_VALUE);
        assertThat(Json.parse("9223372036854775808")).isEqualTo(9.223372036854775808e18);
        assertThat(Json.parse("2.0")).isEqualTo(2.0);
        assertThat(Json.parse("-0")).isEqualTo(0L);
    }

    @Test
    void roundTripsCompactAndPretty() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "quote \" backslash \\ tab \t control \u0001 emoji 😀");
        m.put("numbers", List.of(0L, -1L, Long.MAX_VALUE, 0.1, -0.0, 1e-300, 1.5e300));
        m.put("empty", Map.of());
        m.put("none", new ArrayList<>());
        m.put("nested", Map.of("x", List.of(Map.of("y", true))));
        m.put("null", null);
        for (boolean pretty : new boolean[] {false, true}) {
            String text = Json.write(m, pretty);
            assertThat(Json.parse(text)).isEqualTo(m);
        }
    }

    @Test
    void writesPrettyWithTwoSpaceIndent() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", List.of(1, 2));
        m.put("b", Map.of());
        assertThat(Json.write(m, true)).isEqualTo("{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}");
        assertThat(Json.write(m, false)).isEqualTo("{\"a\":[1,2],\"b\":{}}");
    }

    @Test
    void writesArraysFloatsAndEscapesLoneSurrogates() {
        assertThat(Json.write(new int[] {1, 2}, false)).isEqualTo("[1,2]");
        assertThat(Json.write(new long[] {3}, false)).isEqualTo("[3]");
        assertThat(Json.write(0.1f, false)).isEqualTo("0.1");
        assertThat(Json.write("\ud800x", false)).isEqualTo("\"\\ud800x\"");
        assertThat(Json.parse(Json.write("\ud800x", false))).isEqualTo("\ud800x");
    }

    @Test
    void refusesToWriteWhatJsonCannotHold() {
        assertThatThrownBy(() -> Json.write(Double.NaN, false)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NaN");
        assertThatThrownBy(() -> Json.write(Map.of(1, 2), false)).hasMessageContaining("keys must be strings");
        assertThatThrownBy(() -> Json.write(new Object(), false)).hasMessageContaining("cannot write a java.lang.Object");
        List<Object> cycle = new ArrayList<>();
        cycle.add(cycle);
        assertThatThrownBy(() -> Json.write(cycle, false)).hasMessageContaining("nesting deeper than");
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            ``                  | 1 | 1 | unexpected end of input, expected a value
            `{"a":1,}`          | 1 | 8 | expected a string key, found '}'
            `[1,2,]`            | 1 | 6 | unexpected ']', expected a value
            `{'a':1}`           | 1 | 2 | expected a string key, found '''
            `[01]`              | 1 | 2 | leading zero in number
            `[1.]`              | 1 | 4 | expected a digit after the decimal point, found ']'
            `[1e]`              | 1 | 4 | expected a digit in the exponent, found ']'
            `[NaN]`             | 1 | 2 | unexpected 'N', expected a value
            `[tru]`             | 1 | 2 | expected 'true'
            `{"a" 1}`           | 1 | 6 | expected ':' after key "a", found '1'
            `{"a":1 "b":2}`     | 1 | 8 | expected ',' or '}' in object, found '"'
            `[1 2]`             | 1 | 4 | expected ',' or ']' in array, found '2'
            `"abc`              | 1 | 1 | unterminated string
            `"\\x"`             | 1 | 2 | bad escape \\x
            `"\\u12G4"`         | 1 | 2 | bad \\u escape, expected four hex digits
            `{"a":1,"a":2}`     | 1 | 8 | duplicate key "a"
            `1 2`               | 1 | 3 | unexpected '2' after the value
            `[1e999]`           | 1 | 2 | number 1e999 is out of the range of a double
            `// c`              | 1 | 1 | unexpected '/', expected a value
            """)
    void rejectsMalformedInputWithPosition(String text, int line, int column, String problem) {
        String json = text.replace("\\\\", "\\");
        assertThatThrownBy(() -> Json.parse(json))
                .isInstanceOfSatisfying(Json.ParseException.class, e -> {
                    assertThat(e.problem()).isEqualTo(problem.replace("\\\\", "\\"));
                    assertThat(e.line()).isEqualTo(line);
                    assertThat(e.column()).isEqualTo(column);
                    assertThat(e.getMessage()).isEqualTo("at line " + line + " column " + column + ": " + e.problem());
                });
    }

    @Test
    void countsLinesAndColumns() {
        assertThatThrownBy(() -> Json.parse("{\n  \"a\": 1,\n  \"b\": x\n}"))
                .hasMessage("at line 3 column 8: unexpected 'x', expected a value");
    }

    @Test
    void rejectsControlCharactersInStrings() {
        assertThatThrownBy(() -> Json.parse("\"a\nb\"")).hasMessage("at line 1 column 3: unescaped control character U+000A in string");
    }

    @Test
    void rejectsNestingBeyondTheLimitWithoutOverflowingTheStack() {
        String ok = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        assertThat(Json.parse(ok)).isInstanceOf(List.class);
        String deep = "[".repeat(100_000);
        assertThatThrownBy(() -> Json.parse(deep)).hasMessageContaining("nesting deeper than " + Json.MAX_DEPTH);
        String deepObjects = "{\"a\":".repeat(Json.MAX_DEPTH + 1);
        assertThatThrownBy(() -> Json.parse(deepObjects)).hasMessageContaining("nesting deeper than");
    }

    @Test
    void acceptsOnlyJsonWhitespace() {
        assertThat(Json.parse(" \t\r\n1 \t\r\n")).isEqualTo(1L);
        assertThatThrownBy(() -> Json.parse("\u00a01")).hasMessageContaining("U+00A0");
    }

    @Test
    void acceptsEscapedSlashAndAllSimpleEscapes() {
        assertThat(Json.parse("\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"")).isEqualTo("/\b\f\n\r\t\"\\");
        assertThat(Json.parse("[]")).isEqualTo(List.of());
    }
}
