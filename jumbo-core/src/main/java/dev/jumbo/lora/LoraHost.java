package dev.jumbo.lora;

import java.util.List;

/**
 * A linear layer that LoRA adapters can be attached beside ({@link dev.jumbo.nn.Dense}): it maps
 * {@link #inputs()} features to {@link #units()} and adds each attached adapter's update to its
 * range of output columns. Defined here so that this package needs nothing from the layers'.
 */
public interface LoraHost {
    /** Input features (the kernel's rows). */
    int inputs();

    /** Output features. */
    int units();

    /** Attaches an adapter over its columns; @throws IllegalArgumentException if it does not fit or overlaps another. */
    void attach(LoraAdapter adapter);

    /** The attached adapters. */
    List<LoraAdapter> adapters();

    /** Removes the adapters, leaving the weights as they are; returns them. */
    List<LoraAdapter> detachAdapters();

    /** Folds the adapters into the weights and removes them. */
    void mergeAdapters();
}
