"""PyTorch's learning-rate sequences for 03-nn/tests/lr_scheduler_test.cpp.

Run with the Python that has torch 1.13:  /usr/bin/python3 tests/reference/lr_schedulers.py
and paste the printed C++ constants into the test. Each sequence is the lr (and, for OneCycleLR,
the momentum / beta1) after construction (epoch 0) and after each scheduler.step().
"""
import warnings

import torch
from torch.optim import SGD, Adam
from torch.optim import lr_scheduler as S

warnings.filterwarnings("ignore")  # "lr_scheduler.step() before optimizer.step()" and the epoch deprecation


def sgd(lr=0.1, momentum=0.0):
    return SGD([torch.zeros(2, requires_grad=True)], lr=lr, momentum=momentum)


def sequence(optimizer, scheduler, steps, key=None):
    lrs, momenta = [scheduler.get_last_lr()[0]], []
    if key:
        momenta.append(key(optimizer.param_groups[0]))
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
        if key:
            momenta.append(key(optimizer.param_groups[0]))
    return lrs, momenta


def emit(name, values):
    print("const std::vector<double> %s{%s};" % (name, ", ".join(repr(float(v)) for v in values)))


o = sgd(); emit("kStepLR", sequence(o, S.StepLR(o, step_size=3, gamma=0.5), 10)[0])
o = sgd(); emit("kExponentialLR", sequence(o, S.ExponentialLR(o, gamma=0.9), 8)[0])
o = sgd(); emit("kCosineAnnealingLR", sequence(o, S.CosineAnnealingLR(o, T_max=5, eta_min=0.001), 17)[0])
o = sgd(); emit("kLinearLR", sequence(o, S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4), 7)[0])
o = sgd()
warmup = S.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=3)
cosine = S.CosineAnnealingLR(o, T_max=7)
emit("kWarmupCosine", sequence(o, S.SequentialLR(o, [warmup, cosine], milestones=[3]), 12)[0])
o = sgd(momentum=0.9)
lrs, momenta = sequence(o, S.OneCycleLR(o, max_lr=0.1, total_steps=10), 10, key=lambda g: g["momentum"])
emit("kOneCycleLR", lrs)
emit("kOneCycleMomentum", momenta)
o = Adam([torch.zeros(2, requires_grad=True)], lr=0.01)
lrs, betas = sequence(o, S.OneCycleLR(o, max_lr=0.01, total_steps=12, pct_start=0.25, anneal_strategy="linear",
                                      three_phase=True, div_factor=10.0, final_div_factor=100.0), 12,
                      key=lambda g: g["betas"][0])
emit("kOneCycleThreePhaseLR", lrs)
emit("kOneCycleThreePhaseBeta1", betas)
