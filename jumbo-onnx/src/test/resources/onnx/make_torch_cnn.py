"""Writes torch_cnn.onnx, torch_view.onnx and their *_expected.txt, the fixtures of OnnxSequentialTest.

A plain CNN as PyTorch's exporter writes it (NCHW input, Conv with bias, batch norm folded into the
convolution in eval mode, GELU written out as Div/Erf/Add/Mul/Mul, Flatten, Gemm with transB=1), with
random weights; torch_view.onnx flattens with x.view(x.size(0), -1) instead, which the exporter
writes with a dynamic batch as Shape, Gather, Unsqueeze, Concat and Reshape. The expected outputs are PyTorch's own for a batch of 2 inputs x[i] = sin(0.37 i)
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



class ViewNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2)
        self.fc = nn.Linear(4 * 7 * 7, 5)

    def forward(self, x):
        x = torch.tanh(self.conv(x))
        return torch.sigmoid(self.fc(x.view(x.size(0), -1)))


view = ViewNet().eval()
torch.onnx.export(view, (torch.randn(1, 3, 16, 16),), "torch_view.onnx", opset_version=13,
                  input_names=["input"], output_names=["output"],
                  dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})

x = torch.tensor([math.sin(0.37 * i) for i in range(2 * 3 * 16 * 16)], dtype=torch.float32).reshape(2, 3, 16, 16)
for name, m in (("torch_cnn", model), ("torch_view", view)):
    with torch.no_grad():
        y = m(x)
    with open(name + "_expected.txt", "w") as f:
        for v in y.reshape(-1).tolist():
            f.write(repr(v) + "\n")
