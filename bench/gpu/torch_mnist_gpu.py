#!/usr/bin/env python3
"""PyTorch side of the GPU benchmark (bench/run-gpu): training epochs on MNIST-format data on a
device, doing the same work per step as `stepgrad-mnist train --device cuda`.

    python3 torch_mnist_gpu.py --device cuda --model mlp|cnn [--hidden 128] [--channels 8,16]
        [--epochs 3] [--batch-size 64] [--lr 0.01] [--momentum 0.9] [--seed 0]
        [--data /usr/share/datasets/fashion-mnist]
        [--stop-at-accuracy 0.98 --min-epochs 3] [--count-launches]

The data, the models and the normalisation are bench/mnist/torch_mnist.py's (imported from it).
As in stepgrad's trainer, the data stays in host memory: each step gathers a shuffled batch on
the host, copies it to the device, runs forward, loss, backward and an SGD step, and reads the
loss (loss.item()) and the number of correct predictions back to the host. Matrix products and
convolutions run in full FP32 (TF32 off), as stepgrad's cuBLAS SGEMM does. Prints

    EPOCH <n> <train_seconds> <test_accuracy> <peak_rss_mib>

per epoch (the training loop alone is timed; the test set is evaluated after, untimed), stops
early once some epoch's test accuracy has reached --stop-at-accuracy and --min-epochs are done,
and with --count-launches profiles 20 more steps and prints

    LAUNCHES <kernels per step> <kernel launch calls per step>

(kernels the GPU ran, from the profiler's CUDA activity; cudaLaunchKernel-type runtime calls),
or `LAUNCHES n/a <reason>` when the profiler cannot tell.
"""
import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mnist"))
from torch_mnist import build_model, load_dataset, peak_rss_mib  # noqa: E402  (the CPU benchmark's)


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_step(model, optimizer, x, y, index, device):
    """One step as stepgrad does it; returns (loss * batch, correct) read back to the host."""
    images = x[index].to(device)  # gathered on the host, copied to the device
    labels = y[index].to(device)
    optimizer.zero_grad()
    logits = model(images)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    optimizer.step()
    return loss.item() * labels.shape[0], int((logits.argmax(1) == labels).sum())


def train_epoch(model, optimizer, x, y, batch_size, device):
    """Seconds for one shuffled pass over (x, y)."""
    model.train()
    synchronize(device)
    start = time.perf_counter()
    order = torch.randperm(x.shape[0])
    loss_sum, correct = 0.0, 0
    for first in range(0, x.shape[0], batch_size):
        step_loss, step_correct = train_step(model, optimizer, x, y, order[first:first + batch_size], device)
        loss_sum += step_loss
        correct += step_correct
    synchronize(device)
    return time.perf_counter() - start


@torch.no_grad()
def test_accuracy(model, x, y, device, batch_size=1000):
    model.eval()
    correct = 0
    for first in range(0, x.shape[0], batch_size):
        logits = model(x[first:first + batch_size].to(device))
        correct += int((logits.argmax(1) == y[first:first + batch_size].to(device)).sum())
    return correct / x.shape[0]


def count_launches(model, optimizer, x, y, batch_size, device, steps=20):
    """(kernels per step, launch calls per step) over `steps` training steps, from the profiler."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    order = torch.randperm(x.shape[0])
    train_step(model, optimizer, x, y, order[:batch_size], device)  # warm
    synchronize(device)
    with profile(activities=activities) as prof:
        for step in range(steps):
            first = (step + 1) * batch_size
            train_step(model, optimizer, x, y, order[first:first + batch_size], device)
        synchronize(device)
    kernels = calls = 0
    for event in prof.events():
        name = event.name
        if event.device_type == torch.autograd.DeviceType.CUDA:
            if not (name.startswith("Memcpy") or name.startswith("Memset")):
                kernels += 1
        elif "LaunchKernel" in name:  # cudaLaunchKernel, cudaLaunchKernelExC, cuLaunchKernel(Ex)
            calls += 1
    return kernels / steps, calls / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", help="cuda or cpu")
    parser.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    parser.add_argument("--hidden", default="128", help="MLP hidden sizes, comma separated")
    parser.add_argument("--channels", default="8,16", help="CNN block channels, comma separated")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--stop-at-accuracy", type=float, default=None,
                        help="stop after the first epoch whose test accuracy reaches this (0..1)")
    parser.add_argument("--min-epochs", type=int, default=1, help="with --stop-at-accuracy: at least this many")
    parser.add_argument("--count-launches", action="store_true", help="profile 20 steps after training")
    args = parser.parse_args()

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("torch_mnist_gpu.py: PyTorch sees no CUDA device")
    torch.backends.cuda.matmul.allow_tf32 = False  # full FP32, like cublasSgemm
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(args.seed)
    train_x, train_y, test_x, test_y = load_dataset(args.data)
    model = build_model(args).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    reached = False
    for epoch in range(1, args.epochs + 1):
        seconds = train_epoch(model, optimizer, train_x, train_y, args.batch_size, device)
        accuracy = test_accuracy(model, test_x, test_y, device)
        print(f"EPOCH {epoch} {seconds:.4f} {accuracy:.4f} {peak_rss_mib():.1f}", flush=True)
        reached = reached or (args.stop_at_accuracy is not None and accuracy >= args.stop_at_accuracy)
        if reached and epoch >= args.min_epochs:
            break
    if args.count_launches:
        try:
            kernels, calls = count_launches(model, optimizer, train_x, train_y, args.batch_size, device)
            print(f"LAUNCHES {kernels:.1f} {calls:.1f}", flush=True)
        except Exception as error:  # the profiler varies between versions and machines
            print(f"LAUNCHES n/a {type(error).__name__}: {error}".replace("\n", " "), flush=True)


if __name__ == "__main__":
    main()
