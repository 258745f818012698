package dev.jumbo.io;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Whatever text {@link Json#parse} is given, it either returns a value that writes back to the
 * same value, or throws {@link Json.ParseException}: never another exception, never a stack
 * overflow. The {@code @FuzzTest} runs its stored inputs in the normal build (regression mode)
 * and fuzzes with {@code JAZZER_FUZZ=1}; the seeded test below mutates valid documents so every
 * build also explores beyond the stored inputs.
 */
class JsonFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void parseEitherSucceedsAndRoundTripsOrThrowsParseException(byte[] input) {
        check(new String(input, java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void mutationsOfValidDocumentsBehave() {
        Random random = new Random(7);
        String[] seeds = {
            "{\"a\": [1, -2.5e-3, true, null, \"x\\u00e9\"], \"b\": {\"c\": {}}}",
            "[0, -0, 1E+2, \"\\\"\", [], [[]], {\"\": false}]",
        };
        String alphabet = "{}[],:\"\\ \n-+.0123456789eEtrufalsn/ubx\u00e9\ud800";
        for (int i = 0; i < 20_000; i++) {
            StringBuilder s = new StringBuilder(seeds[i % seeds.length]);
            for (int k = 1 + random.nextInt(4); k > 0 && !s.isEmpty(); k--) {
                int at = random.nextInt(s.length());
                char c = alphabet.charAt(random.nextInt(alphabet.length()));
                switch (random.nextInt(3)) {
                    case 0 -> s.setCharAt(at, c);
                    case 1 -> s.insert(at, c);
                    default -> s.deleteCharAt(at);
                }
            }
            check(s.toString());
        }
    }

    private static void check(String text) {
        Object value;
        try {
            value = Json.parse(text);
        } catch (Json.ParseException expected) {
            return;
        }
        assertThat(Json.parse(Json.write(value, false))).isEqualTo(value);
        assertThat(Json.parse(Json.write(value, true))).isEqualTo(value);
    }
}
