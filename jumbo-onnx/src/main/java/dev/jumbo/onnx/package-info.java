/**
 * ONNX import and export: a BERT-family encoder graph's weights mapped onto {@link dev.jumbo.models.Bert}, a
 * chain-shaped graph (a plain CNN or MLP, as Jumbo or PyTorch export it) read into a {@link dev.jumbo.train.Sequential}
 * ({@link dev.jumbo.onnx.OnnxSequential}),
 * and a {@code Sequential} ({@link dev.jumbo.onnx.SequentialOnnx}), a {@link dev.jumbo.models.Gpt2}
 * ({@link dev.jumbo.onnx.Gpt2Onnx}) or a {@link dev.jumbo.models.Bert} encoder ({@link dev.jumbo.onnx.BertOnnx}) written as an
 * opset-17 graph.
 * The protobuf code lives here, outside the dependency-free core.
 */
package dev.jumbo.onnx;
