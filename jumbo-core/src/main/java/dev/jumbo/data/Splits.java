package dev.jumbo.data;

/** A dataset's standard training and test parts, as its authors divided them. */
public record Splits(TensorDataset train, TensorDataset test) {}
