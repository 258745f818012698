package dev.jumbo.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumbo.nn.Activation;
import dev.jumbo.nn.Conv2D;
import dev.jumbo.nn.Dense;
import dev.jumbo.nn.Flatten;
import dev.jumbo.nn.MaxPool2D;
import dev.jumbo.tensor.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ModelDiagramTest {
    /** The foundation's CNN (jumbo train --arch cnn) on 28x28x1 images, 10 classes. */
    static Sequential cnn() {
        return new Sequential(Shape.of(28, 28, 1),
                new Conv2D(32, 3, Activation.RELU), new MaxPool2D(2),
                new Conv2D(64, 3, Activation.RELU), new MaxPool2D(2),
                new Flatten(), new Dense(64, Activation.RELU), new Dense(10, Activation.SOFTMAX));
    }

    /**
     * FLOPs per example counted by hand, a multiply-add as 2: conv1 26x26 outputs x 32 filters x 3x3x1
     * = 194,688 MACs; conv2 (on 13x13x32) 11x11 x 64 x 3x3x32 = 2,230,272 MACs; dense1 (5x5x64 = 1,600
     * inputs) 1,600 x 64 = 102,400 MACs; dense2 64 x 10 = 640 MACs. Pooling, flatten and activations
     * count 0 in this convention (Keras' and ptflops' for their MAC counts).
     */
    @Test
    void theCnnsFlopsMatchAHandCount() {
        Sequential m = cnn();
        long conv1 = 2L * 26 * 26 * 32 * 9, conv2 = 2L * 11 * 11 * 64 * 9 * 32, dense1 = 2L * 1600 * 64, dense2 = 2L * 64 * 10;
        assertThat(m.summary()).contains(String.format("FLOPs per example: %,d", conv1 + conv2 + dense1 + dense2));
        assertThat(conv1 + conv2 + dense1 + dense2).isEqualTo(5_056_000L);
    }

    /** Parses the Mermaid text (node definitions and edges) back into a chain and checks it is the model's. */
    @Test
    void theMermaidDiagramIsTheModelsChain() {
        String text = ModelDiagram.mermaid(cnn());
        List<String> lines = text.lines().toList();
        assertThat(lines.getFirst()).isEqualTo("flowchart TD");
        Pattern node = Pattern.compile("^  ([A-Za-z][A-Za-z0-9_]*)\\[\"([^\"]*)\"]$"), edge = Pattern.compile("^  ([A-Za-z0-9_]+) --> ([A-Za-z0-9_]+)$");
        Map<String, String> labels = new LinkedHashMap<>();
        List<String[]> edges = new ArrayList<>();
        for (String l : lines.subList(1, lines.size())) {
            Matcher n = node.matcher(l), e = edge.matcher(l);
            if (n.matches()) labels.put(n.group(1), n.group(2));
            else if (e.matches()) edges.add(new String[] {e.group(1), e.group(2)});
            else throw new AssertionError("not a Mermaid node or edge line: '" + l + "'");
        }
        assertThat(labels).hasSize(8);
        assertThat(edges).hasSize(7);
        List<String> ids = new ArrayList<>(labels.keySet());
        for (int i = 0; i < edges.size(); i++) {
            assertThat(edges.get(i)[0]).isEqualTo(ids.get(i));
            assertThat(edges.get(i)[1]).isEqualTo(ids.get(i + 1));
        }
        assertThat(labels.get("input")).isEqualTo("Input<br/>(28, 28, 1)");
        assertThat(labels.get("l0")).isEqualTo("Conv2D<br/>(26, 26, 32)<br/>320 params, 389,376 FLOPs");
        assertThat(labels.get("l6")).startsWith("Dense<br/>(10)<br/>650 params");
    }

    @Test
    void theDotDiagramIsAChainToo() {
        String dot = ModelDiagram.dot(cnn());
        assertThat(dot).startsWith("digraph model {").endsWith("}\n");
        assertThat(dot.lines().filter(l -> l.contains(" -> "))).hasSize(7);
        assertThat(dot).contains("l0 [label=\"Conv2D\\n(26, 26, 32)\\n320 params, 389,376 FLOPs\"];");
    }
}
