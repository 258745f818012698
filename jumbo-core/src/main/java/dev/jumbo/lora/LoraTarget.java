package dev.jumbo.lora;

/**
 * One module LoRA can adapt, as HuggingFace names it: output columns {@code offset .. offset + width}
 * of a layer. Usually a whole layer; one of the three parts of a fused query-key-value projection
 * (BERT's {@code query}, {@code key}, {@code value}) is a third of it.
 *
 * @param layer  the layer holding the module's weights
 * @param offset its first output column in that layer
 * @param width  its output columns
 */
public record LoraTarget(LoraHost layer, int offset, int width) {
    /** @throws IllegalArgumentException if the range is empty or outside the layer */
    public LoraTarget {
        if (offset < 0 || width < 1 || (long) offset + width > layer.units())
            throw new IllegalArgumentException("columns " + offset + ".." + ((long) offset + width) + " are not inside a layer of " + layer.units() + " outputs");
    }

    /** The whole of {@code layer}. */
    public static LoraTarget whole(LoraHost layer) {
        return new LoraTarget(layer, 0, layer.units());
    }

    /** Input features. */
    public int in() {
        return layer.inputs();
    }
}
