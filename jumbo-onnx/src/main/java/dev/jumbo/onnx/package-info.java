/**
 * ONNX import and export: a BERT-family encoder graph's weights mapped onto {@link dev.jumbo.models.Bert},
 * and a {@link dev.jumbo.train.Sequential} written as an opset-17 graph ({@link dev.jumbo.onnx.SequentialOnnx}).
 * The protobuf code lives here, outside the dependency-free core.
 */
package dev.jumbo.onnx;
