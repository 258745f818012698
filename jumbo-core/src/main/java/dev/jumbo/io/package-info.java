/**
 * Reading and writing files: JSON, safetensors, GGUF, atomic writes. Every reader treats its input as
 * untrusted and answers a malformed file with a {@link dev.jumbo.io.FormatException} naming the file
 * and the problem. Depends on {@code dev.jumbo.tensor} and the JDK only.
 */
package dev.jumbo.io;
