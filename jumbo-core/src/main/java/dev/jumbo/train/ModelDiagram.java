package dev.jumbo.train;

import dev.jumbo.nn.Layer;
import dev.jumbo.tensor.Shape;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A {@link Sequential}'s graph as text a renderer draws: Mermaid ({@code flowchart TD}, as GitHub
 * renders in Markdown) or Graphviz DOT. One node per layer, labelled with its type, output shape,
 * parameters and FLOPs per example, from an input node to the output.
 *
 * <pre>{@code
 * System.out.println(ModelDiagram.mermaid(model));
 * // flowchart TD
 * //   input["Input<br/>(28, 28, 1)"]
 * //   l0["Conv2D<br/>(26, 26, 32)<br/>320 params, 389,376 FLOPs"]
 * //   input --> l0
 * }</pre>
 */
public final class ModelDiagram {
    private ModelDiagram() {}

    /** One node of the chain: what it is and the lines of its label. */
    private record Node(String id, List<String> lines) {}

    /** The graph in Mermaid's flowchart syntax. */
    public static String mermaid(Sequential model) {
        StringBuilder sb = new StringBuilder("flowchart TD\n");
        List<Node> nodes = nodes(model);
        // Mermaid's quoted labels take any text but a double quote; <br/> breaks the line
        for (Node n : nodes) sb.append("  ").append(n.id()).append("[\"").append(String.join("<br/>", n.lines()).replace("\"", "'")).append("\"]\n");
        for (int i = 1; i < nodes.size(); i++) sb.append("  ").append(nodes.get(i - 1).id()).append(" --> ").append(nodes.get(i).id()).append('\n');
        return sb.toString();
    }

    /** The graph in Graphviz's DOT language. */
    public static String dot(Sequential model) {
        StringBuilder sb = new StringBuilder("digraph model {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\"];\n");
        List<Node> nodes = nodes(model);
        for (Node n : nodes)
            sb.append("  ").append(n.id()).append(" [label=\"").append(n.lines().stream().map(ModelDiagram::dotEscaped).collect(Collectors.joining("\\n"))).append("\"];\n");
        for (int i = 1; i < nodes.size(); i++) sb.append("  ").append(nodes.get(i - 1).id()).append(" -> ").append(nodes.get(i).id()).append(";\n");
        return sb.append("}\n").toString();
    }

    private static List<Node> nodes(Sequential model) {
        java.util.ArrayList<Node> nodes = new java.util.ArrayList<>();
        Shape s = model.inputShape();
        nodes.add(new Node("input", List.of("Input", shape(s))));
        List<Layer> layers = model.layers();
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            Shape out = l.outputShape(s);
            long params = 0;
            for (var t : l.stateDict().values()) params += t.size();
            nodes.add(new Node("l" + i, List.of(String.valueOf(l.config().get("type")), shape(out),
                    String.format("%,d params, %,d FLOPs", params, l.flops(s)))));
            s = out;
        }
        return nodes;
    }

    private static String shape(Shape s) {
        return Arrays.stream(s.toArray()).mapToObj(Integer::toString).collect(Collectors.joining(", ", "(", ")"));
    }

    private static String dotEscaped(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
