package dev.jumbo.explain;

import dev.jumbo.io.Json;
import dev.jumbo.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ExplanationReportTest {
    static final String EVIL = "<script>alert('x')</script>";
    static final List<String> LABELS = List.of("t-shirt", "trouser", EVIL, "dress", "coat");

    /** An explanation of the small CNN's prediction by real Integrated Gradients. */
    static Explanation ig(float[] x, int target, long seed) {
        ModelFunction f = ModelFunction.of(IntegratedGradientsTest.cnn(seed), ModelFunction.Output.AS_IS);
        return IntegratedGradients.defaults().explain(f, x, target);
    }

    /** Elements opened and closed in order (void elements and self-closed SVG ones aside), script content skipped. */
    static void assertBalanced(String html) {
        Set<String> empty = Set.of("meta", "br", "img", "link", "input", "hr");
        Matcher m = Pattern.compile("<(/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>").matcher(html);
        Deque<String> open = new ArrayDeque<>();
        int from = 0;
        while (m.find(from)) {
            String name = m.group(2).toLowerCase();
            from = m.end();
            if (m.group(1).isEmpty()) {
                if (empty.contains(name) || m.group(3).endsWith("/")) continue;
                open.push(name);
                if (name.equals("script") || name.equals("style")) {
                    int close = html.indexOf("</" + name + ">", from);
                    assertThat(close).as("<%s> closed", name).isPositive();
                    from = close;
                }
            } else {
                assertThat(open).as("</%s> at %d closes an open element", name, m.start()).isNotEmpty();
                assertThat(open.pop()).as("element closed at %d", m.start()).isEqualTo(name);
            }
        }
        assertThat(open).as("left open").isEmpty();
    }

    @Test
    void onePageHoldsEverySectionItsPicturesAndTheJsonOfTheExplanations(@TempDir Path dir) throws IOException {
        Random r = new Random(System.nanoTime());
        float[] x = IntegratedGradientsTest.image(r);
        Explanation pixels = ig(x, 2, r.nextLong());
        float[] probabilities = pixels.prediction();
        List<String> tokens = List.of("[CLS]", "not", "##withstanding", EVIL, "[SEP]");
        Explanation text = new Explanation("ig", 2, probabilities, Shape.of(5), new float[] {0, 0.5f, -0.25f, 1, 0}, 0.002, Map.of("steps", 50.0));
        Explanation table = new Explanation("kernelshap", 2, probabilities, Shape.of(3), new float[] {0.2f, -0.1f, 0.05f}, Double.NaN,
                Map.of("samples", 2048.0, "r2", Double.NaN));
        BufferedImage side = Heatmap.sideBySide(List.of(Heatmap.overlay(x, 12, 12, 1, pixels)), List.of("IG"));

        Path file = dir.resolve("report.html");
        ExplanationReport.Builder report = ExplanationReport.builder("Why " + EVIL)
                .model("12x12 CNN " + EVIL).input("random image")
                .prediction(probabilities, LABELS)
                .image(pixels, x, 12, 12, 1).tokens(text, tokens).features(table, List.of("age", EVIL, "income"))
                .picture("side by side", side);
        report.write(file);
        String html = Files.readString(file);
        assertThat(html).isEqualTo(report.html());
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).containsExactly(file);
        }

        assertBalanced(html);
        assertThat(html).startsWith("<!DOCTYPE html>");
        assertThat(html.split("<section class=\"explanation\"", -1)).hasSize(5);
        assertThat(html.split("<script", -1)).as("only the JSON block is a script").hasSize(2);
        assertThat(html).contains("<script type=\"application/json\" id=\"explanations\">");
        assertThat(html).contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
        assertThat(html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "")).as("nothing loaded from elsewhere")
                .doesNotContain("http:", "https:", "href=", "url(").contains("default-src 'none'");
        assertThat(html.split(" src=\"", -1)).hasSize(3).allSatisfy(part -> assertThat(part).doesNotStartWith("http"));

        Matcher img = Pattern.compile("<img src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\" width=\"(\\d+)\" height=\"(\\d+)\"").matcher(html);
        int images = 0;
        while (img.find()) {
            BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(img.group(1))));
            assertThat(decoded).isNotNull();
            assertThat(decoded.getWidth()).isEqualTo(Integer.parseInt(img.group(2)));
            assertThat(decoded.getHeight()).isEqualTo(Integer.parseInt(img.group(3)));
            images++;
        }
        assertThat(images).as("the heatmap and the side-by-side picture").isEqualTo(2);
        assertThat(html.split("<svg", -1)).as("the feature bars").hasSize(2);

        // prediction table: the top five in order of output, with their labels
        int[] top = ExplanationReport.topByValue(probabilities, 5);
        int at = html.indexOf("<table class=\"prediction\">");
        for (int k = 0; k < 5; k++) {
            int next = html.indexOf("<td>" + (k + 1) + "</td><td>" + Html.escape(LABELS.get(top[k])) + "</td><td>" + top[k] + "</td>", at);
            assertThat(next).as("rank %d", k + 1).isGreaterThan(at);
            at = next;
        }
        for (int k = 1; k < 5; k++) assertThat(probabilities[top[k]]).isLessThanOrEqualTo(probabilities[top[k - 1]]);

        // the completeness gap shows where the method has one
        assertThat(html.split("<td>completeness gap</td>", -1)).hasSize(3);

        String json = html.substring(html.indexOf("id=\"explanations\">") + "id=\"explanations\">".length(), html.indexOf("</script>"));
        Map<?, ?> root = (Map<?, ?>) Json.parse(json);
        assertThat(root.get("title")).isEqualTo("Why " + EVIL);
        assertThat(root.get("labels")).isEqualTo(LABELS);
        List<?> explanations = (List<?>) root.get("explanations");
        assertThat(explanations).hasSize(3);
        Map<?, ?> first = (Map<?, ?>) explanations.get(0);
        assertThat(first.get("method")).isEqualTo("ig");
        assertThat(first.get("target_label")).isEqualTo(EVIL);
        assertThat(first.get("shape")).isEqualTo(List.of(12L, 12L, 1L));
        List<?> attributions = (List<?>) first.get("attributions");
        assertThat(attributions).hasSize(144);
        for (int i = 0; i < 144; i++)
            assertThat(((Number) attributions.get(i)).floatValue()).as("attribution %d reads back", i).isEqualTo(pixels.attributions()[i]);
        assertThat(((Number) first.get("completeness_gap")).doubleValue()).isCloseTo(pixels.completenessGap(), within(1e-12));
        Map<?, ?> third = (Map<?, ?>) explanations.get(2);
        assertThat(third.get("completeness_gap")).isNull();
        assertThat(((Map<?, ?>) third.get("details")).get("r2")).as("NaN has no JSON spelling").isNull();
        assertThat(((Map<?, ?>) third.get("details")).get("samples")).isEqualTo(2048.0);
    }

    @Test
    void withoutAPredictionTheFirstExplanationsOutputsAreNumbered() {
        Explanation e = new Explanation("lime", 1, new float[] {0.3f, 0.6f, 0.1f}, Shape.of(2), new float[] {1, -1}, Double.NaN, Map.of());
        String html = ExplanationReport.builder("t").features(e, List.of("a", "b")).html();
        assertThat(html).contains("<td>1</td><td>output 1</td><td>1</td><td>0.6000</td>");
        assertThat(html).contains("<h2>lime: output 1 (output 1)</h2>");
        assertBalanced(html);
    }

    @Test
    void refusesWhatDoesNotFitWhenItIsAddedNotWhenItIsWritten() {
        Explanation e = new Explanation("ig", 0, new float[] {1, 0}, Shape.of(3), new float[3], Double.NaN, Map.of());
        ExplanationReport.Builder b = ExplanationReport.builder("t");
        assertThatThrownBy(() -> b.prediction(new float[3], List.of("a", "b"))).hasMessageContaining("2 labels for 3 outputs");
        assertThatThrownBy(() -> b.features(e, List.of("a"))).hasMessageContaining("ig").hasMessageContaining("1 feature names for 3");
        assertThatThrownBy(() -> b.tokens(e, List.of("a", "b"))).hasMessageContaining("ig: attributions of shape [3] are not one per token of 2");
        assertThatThrownBy(() -> b.image(e, new float[9], 3, 3, 1)).hasMessageContaining("ig").hasMessageContaining("[3]");
        b.prediction(new float[] {1, 0, 0}, List.of("a", "b", "c")).features(e, List.of("x", "y", "z"));
        assertThatThrownBy(b::html).hasMessageContaining("ig: 2 outputs, but the report has 3 labels");
    }
}
