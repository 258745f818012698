/**
 * Training data: the {@link dev.jumbo.data.Dataset} interface, in-memory datasets, a shuffling
 * {@link dev.jumbo.data.DataLoader}, and readers for IDX (MNIST, Fashion-MNIST) and numeric CSV.
 * Depends on {@code dev.jumbo.tensor}, {@code dev.jumbo.io} and the JDK only.
 */
package dev.jumbo.data;
