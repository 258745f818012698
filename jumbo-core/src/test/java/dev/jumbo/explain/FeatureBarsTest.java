package dev.jumbo.explain;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import javax.xml.parsers.DocumentBuilderFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class FeatureBarsTest {

    static Document parse(String svg) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void showsTheTwentyLargestByAbsoluteValueInOrderWithSignColours() throws Exception {
        Random r = new Random(System.nanoTime());
        int n = 30;
        float[] v = new float[n];
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
            names.add("feature " + i);
        }
        Document svg = parse(FeatureBars.svg(names, v, "kernelshap: yes", FeatureBars.DEFAULT_TOP));
        NodeList bars = svg.getElementsByTagName("g");
        assertThat(bars.getLength()).isEqualTo(20);
        Integer[] want = new Integer[n];
        for (int i = 0; i < n; i++) want[i] = i;
        Arrays.sort(want, Comparator.comparingDouble(i -> -Math.abs(v[i])));
        double longest = 0;
        for (int k = 0; k < 20; k++) {
            Element bar = (Element) bars.item(k);
            int i = want[k];
            assertThat(bar.getElementsByTagName("title").item(0).getTextContent()).startsWith("feature " + i + " = ");
            Element rect = (Element) bar.getElementsByTagName("rect").item(0);
            assertThat(rect.getAttribute("fill")).isEqualTo(v[i] < 0 ? "#2166ac" : "#b2182b");
            double width = Double.parseDouble(rect.getAttribute("width"));
            if (k == 0) longest = width;
            else assertThat(width).isCloseTo(longest * Math.abs(v[i]) / Math.abs(v[want[0]]), within(0.11));
        }
        assertThat(svg.getDocumentElement().getTextContent()).contains("and 10 more features");
    }

    @Test
    void allPositiveBarsStartAtTheLeftAndNamesAreEscaped() throws Exception {
        String text = FeatureBars.svg(List.of("<script>x</script>", "a & b"), new float[] {2, 1}, "t", 20);
        assertThat(text).doesNotContain("<script");
        Document svg = parse(text);
        NodeList rects = svg.getElementsByTagName("rect");
        double x0 = Double.parseDouble(((Element) rects.item(0)).getAttribute("x")), x1 = Double.parseDouble(((Element) rects.item(1)).getAttribute("x"));
        assertThat(x0).isEqualTo(x1).isEqualTo(FeatureBars.NAME_WIDTH + FeatureBars.VALUE_WIDTH);
        assertThat(svg.getElementsByTagName("title").item(0).getTextContent()).isEqualTo("<script>x</script> = 2.000");
    }

    @Test
    void refusesMismatchesAndNaN() {
        assertThatThrownBy(() -> FeatureBars.svg(List.of("a"), new float[2], "t", 20)).hasMessageContaining("1 feature names for 2 values");
        assertThatThrownBy(() -> FeatureBars.svg(List.of("a", "b"), new float[] {1, Float.NaN}, "t", 20)).hasMessageContaining("feature 1 (b)");
        assertThatThrownBy(() -> FeatureBars.svg(List.of("a"), new float[1], "t", 0)).hasMessageContaining("top 0");
    }
}
