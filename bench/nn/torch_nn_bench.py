#!/usr/bin/python3
"""PyTorch side of chapter 3's benchmarks: the same cases as nn_bench.cpp.

    /usr/bin/python3 torch_nn_bench.py THREADS [CASE...]

Prints "RESULT <case> <microseconds per iteration>" (median of timed blocks after a warm-up),
with torch.set_num_threads(THREADS). PyTorch runs its convolutions on oneDNN (mkldnn).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bench_timing import time_per_call  # noqa: E402

import torch
import torch.nn as nn
import torch.nn.functional as F


def training_step(model, input_shape, iterations):
    torch.manual_seed(0)
    images = torch.randn(*input_shape)
    labels = torch.randint(0, 10, (input_shape[0],))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def body():
        optimizer.zero_grad()  # set_to_none, as stepgrad's default
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
    return time_per_call(body, iterations)


def mlp_step():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    return training_step(model, (64, 784), 200)


def cnn_step():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(784, 10))
    return training_step(model, (64, 1, 28, 28), 50)


def layer_case(layer, input_shape, iterations):
    torch.manual_seed(1)
    x = torch.randn(*input_shape).requires_grad_()
    upstream = torch.randn_like(layer(x).detach())
    params = list(layer.parameters())

    def body():
        x.grad = None
        for p in params:
            p.grad = None
        layer(x).backward(upstream)
    return time_per_call(body, iterations)


CASES = {
    "mlp_step_b64": mlp_step,
    "cnn_step_b64": cnn_step,
    "conv1_1to8_28x28": lambda: layer_case(nn.Conv2d(1, 8, 3, padding=1), (64, 1, 28, 28), 100),
    "conv2_8to16_14x14": lambda: layer_case(nn.Conv2d(8, 16, 3, padding=1), (64, 8, 14, 14), 100),
    "maxpool1_8x28x28": lambda: layer_case(nn.MaxPool2d(2), (64, 8, 28, 28), 200),
    "maxpool2_16x14x14": lambda: layer_case(nn.MaxPool2d(2), (64, 16, 14, 14), 400),
}


def main():
    torch.set_num_threads(int(sys.argv[1]))
    for name in sys.argv[2:] or sorted(CASES):
        print(f"RESULT {name} {CASES[name]():.3f}", flush=True)


if __name__ == "__main__":
    main()
