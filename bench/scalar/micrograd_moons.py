"""Times Python micrograd (Karpathy's package from PyPI) on chapter 1's moons step.

    python micrograd_moons.py DATA.csv [STEPS]

The same model (MLP 2-16-16-1), loss (SVM max-margin + 1e-4 L2), update and data as
bench_scalar_moons; prints seconds per step.
"""
import random
import sys
import time

from micrograd.engine import Value
from micrograd.nn import MLP


def main():
    path = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    rows = [list(map(float, line.split(","))) for line in open(path) if line.strip()]
    points = [(x, y) for x, y, _ in rows]
    labels = [label for _, _, label in rows]
    random.seed(1)
    model = MLP(2, [16, 16, 1])

    def objective():
        scores = [model([Value(x), Value(y)]) for x, y in points]
        hinge = [(1 + -label * score).relu() for label, score in zip(labels, scores)]
        data_loss = sum(hinge) * (1.0 / len(hinge))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        return data_loss + reg_loss

    start = time.perf_counter()
    for step in range(steps):
        loss = objective()
        model.zero_grad()
        loss.backward()
        learning_rate = 1.0 - 0.9 * step / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
    seconds = (time.perf_counter() - start) / steps
    print(f"micrograd (Python): {steps} steps, {seconds * 1e3:.1f} ms/step")
    print(f"RESULT ms_per_step={seconds * 1e3:.6f}")


if __name__ == "__main__":
    main()
