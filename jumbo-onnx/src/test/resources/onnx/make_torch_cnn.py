"""Writes torch_cnn.onnx and torch_cnn_expected.txt, the fixture of OnnxSequentialTest.

A plain CNN as PyTorch's exporter writes it (NCHW input, Conv with bias, batch norm folded into the
convolution in eval mode, GELU written out as Div/Erf/Add/Mul/Mul, Flatten, Gemm with transB=1), with
random weights. The expected outputs are PyTorch's own for a batch of 2 inputs x[i] = sin(0.37 i)
(in NCHW order). Made with Debian's python3-torch 1.13, offline:

    /usr/bin/python3 make_torch_cnn.py
"""
import math

import torch
from torch import nn

torch.manual_seed(20261201)
model = nn.Sequential(
    nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(8, 12, 3), nn.ReLU(), nn.AvgPool2d(2),
    nn.Flatten(), nn.Linear(12 * 3 * 3, 32), nn.GELU(), nn.Dropout(0.25), nn.Linear(32, 3), nn.Softmax(dim=1))
with torch.no_grad():  # batch norm statistics away from 0 and 1, so a wrong formula shows
    bn = model[1]
    bn.running_mean.copy_(torch.randn(8) * 0.5)
    bn.running_var.copy_(torch.rand(8) + 0.5)
    bn.weight.copy_(torch.rand(8) + 0.5)
    bn.bias.copy_(torch.randn(8) * 0.5)
model.eval()

torch.onnx.export(model, (torch.randn(1, 3, 16, 16),), "torch_cnn.onnx", opset_version=13,
                  input_names=["input"], output_names=["output"],
                  dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})

x = torch.tensor([math.sin(0.37 * i) for i in range(2 * 3 * 16 * 16)], dtype=torch.float32).reshape(2, 3, 16, 16)
with torch.no_grad():
    y = model(x)
with open("torch_cnn_expected.txt", "w") as f:
    for v in y.reshape(-1).tolist():
        f.write(repr(v) + "\n")
