#!/usr/bin/python3
"""PyTorch side of chapter 5's benchmark: whole training epochs on MNIST-format data, the same
work as `stepgrad-mnist train`.

    /usr/bin/python3 torch_mnist.py --model mlp|cnn [--hidden 128] [--channels 8,16]
        [--epochs 2] [--batch-size 64] [--lr 0.01] [--momentum 0.9] [--threads 1]
        [--seed 0] [--data /usr/share/datasets/fashion-mnist]

Inputs are images/255 normalised with the training set's mean and std, float32 (N,1,28,28);
the MLP flattens them. Each epoch draws a fresh permutation (torch.randperm) and indexes the
tensors batch by batch: the same work as a DataLoader over tensors, without its worker overhead.
The timed part of an epoch is the training loop alone (gather, forward, loss, backward, step and
an accuracy count, as the C++ side does); the test set is evaluated after, untimed. Prints

    EPOCH <n> <train_seconds> <test_accuracy> <peak_rss_mib>

one line per epoch (peak RSS of this process so far, from getrusage).
"""
import argparse
import gzip
import os
import resource
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

IMAGES_MAGIC = 0x00000803  # unsigned byte, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned byte, 1 dimension


def read_idx(path, magic):
    """The array in one gzip'd IDX file, after checking its magic number and size."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    found = int.from_bytes(raw[0:4], "big")
    if found != magic:
        raise ValueError(f"{path}: IDX magic 0x{found:08x}, expected 0x{magic:08x}")
    dims = magic & 0xFF
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    header = 4 + 4 * dims
    count = int(np.prod(shape))
    if len(raw) - header != count:
        raise ValueError(f"{path}: {len(raw) - header} bytes of data, header says {count}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def load_split(data_dir, prefix):
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"), IMAGES_MAGIC)
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"), LABELS_MAGIC)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{prefix}: {images.shape[0]} images but {labels.shape[0]} labels")
    return images, labels


def load_dataset(data_dir):
    """(train_x, train_y, test_x, test_y): float32 (N,1,28,28) normalised, int64 (N,)."""
    train_images, train_labels = load_split(data_dir, "train")
    test_images, test_labels = load_split(data_dir, "t10k")
    # Mean and std of images/255 over the whole training set, from a histogram of pixel values.
    counts = sum(np.bincount(chunk.ravel(), minlength=256)  # chunks: bincount widens to int64
                 for chunk in np.array_split(train_images, 60)).astype(np.float64)
    values = np.arange(256) / 255.0
    mean = float((counts * values).sum() / counts.sum())
    std = float(((counts * (values - mean) ** 2).sum() / counts.sum()) ** 0.5)

    def to_tensor(images):
        x = torch.from_numpy(images.copy()).to(torch.float32)
        return x.div_(255.0).sub_(mean).div_(std).reshape(-1, 1, images.shape[1], images.shape[2])

    return (to_tensor(train_images), torch.from_numpy(train_labels.astype(np.int64)),
            to_tensor(test_images), torch.from_numpy(test_labels.astype(np.int64)))


def sizes(text):
    return [int(part) for part in text.split(",") if part]


def build_model(args, image_size=28, classes=10):
    if args.model == "mlp":
        layers = [nn.Flatten()]
        width = image_size * image_size
        for hidden in sizes(args.hidden):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        layers.append(nn.Linear(width, classes))
        return nn.Sequential(*layers)
    layers, channels, side = [], 1, image_size
    for out_channels in sizes(args.channels):
        layers += [nn.Conv2d(channels, out_channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        channels, side = out_channels, side // 2
    layers += [nn.Flatten(), nn.Linear(channels * side * side, classes)]
    return nn.Sequential(*layers)


def train_epoch(model, optimizer, x, y, batch_size):
    """Seconds for one shuffled pass over (x, y); the accuracy count is part of the work."""
    model.train()
    start = time.perf_counter()
    order = torch.randperm(x.shape[0])
    correct = 0
    for first in range(0, x.shape[0], batch_size):
        index = order[first:first + batch_size]
        images, labels = x[index], y[index]
        optimizer.zero_grad()
        logits = model(images)
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        optimizer.step()
        correct += int((logits.argmax(1) == labels).sum())
    return time.perf_counter() - start


@torch.no_grad()
def test_accuracy(model, x, y, batch_size=1000):
    model.eval()
    correct = 0
    for first in range(0, x.shape[0], batch_size):
        logits = model(x[first:first + batch_size])
        correct += int((logits.argmax(1) == y[first:first + batch_size]).sum())
    return correct / x.shape[0]


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    parser.add_argument("--hidden", default="128", help="MLP hidden sizes, comma separated")
    parser.add_argument("--channels", default="8,16", help="CNN block channels, comma separated")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_x, train_y, test_x, test_y = load_dataset(args.data)
    model = build_model(args)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    for epoch in range(1, args.epochs + 1):
        seconds = train_epoch(model, optimizer, train_x, train_y, args.batch_size)
        accuracy = test_accuracy(model, test_x, test_y)
        print(f"EPOCH {epoch} {seconds:.4f} {accuracy:.4f} {peak_rss_mib():.1f}", flush=True)


if __name__ == "__main__":
    main()
