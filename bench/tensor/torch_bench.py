#!/usr/bin/python3
"""PyTorch side of chapter 2's benchmarks: the same cases as tensor_bench.cpp.

    /usr/bin/python3 torch_bench.py THREADS [CASE...]

Prints "RESULT <case> <microseconds per iteration>" (median of timed blocks after a warm-up),
with torch.set_num_threads(THREADS).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bench_timing import time_per_call  # noqa: E402

import torch


def linear_relu():
    torch.manual_seed(0)
    x = torch.randn(64, 784)
    weight = (torch.randn(784, 128) * 0.05).requires_grad_()
    bias = torch.randn(128).requires_grad_()

    def body():
        weight.grad = None
        bias.grad = None
        y = torch.relu(x @ weight + bias)
        y.sum().backward()
    return time_per_call(body, 200)


def softmax_case(log):
    torch.manual_seed(1)
    logits = torch.randn(64, 10).requires_grad_()
    upstream = torch.randn(64, 10)
    fn = torch.log_softmax if log else torch.softmax

    def body():
        logits.grad = None
        (fn(logits, 1) * upstream).sum().backward()
    return time_per_call(body, 2000)


def add_overhead(requires_grad):
    a = torch.ones(4, requires_grad=requires_grad)
    b = torch.ones(4)

    def body():
        a + b
    return time_per_call(body, 20000)


CASES = {
    "linear_relu_64x784x128": linear_relu,
    "softmax_64x10": lambda: softmax_case(False),
    "log_softmax_64x10": lambda: softmax_case(True),
    "add_overhead_4": lambda: add_overhead(False),
    "add_overhead_4_grad": lambda: add_overhead(True),
}

if __name__ == "__main__":
    torch.set_num_threads(int(sys.argv[1]))
    for name in sys.argv[2:] or sorted(CASES):
        print(f"RESULT {name} {CASES[name]():.3f}", flush=True)
