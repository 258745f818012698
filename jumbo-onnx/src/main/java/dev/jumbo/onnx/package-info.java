/**
 * ONNX import: a BERT-family encoder graph's weights mapped onto {@link dev.jumbo.models.Bert}.
 * The protobuf parsing lives here, outside the dependency-free core.
 */
package dev.jumbo.onnx;
