#!/usr/bin/python3
"""Reference values for 01-scalar-value/tests/value_test.cpp, computed with PyTorch in float64.

Run with Debian's interpreter (python3-torch):  /usr/bin/python3 tests/reference/chapter01_values.py
The expressions are micrograd's two engine tests (test_sanity_check, test_more_ops; the second is
also the expression in micrograd's README). The printed numbers are pasted into the C++ test
with 17 significant digits.
"""
import torch

torch.set_default_dtype(torch.float64)


def sanity_check():
    x = torch.tensor(-4.0, requires_grad=True)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    return {"y": y.item(), "x.grad": x.grad.item()}


def more_ops():
    a = torch.tensor(-4.0, requires_grad=True)
    b = torch.tensor(2.0, requires_grad=True)
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    return {"g": g.item(), "a.grad": a.grad.item(), "b.grad": b.grad.item()}


def unary_ops():
    """Each unary op at a few points: value and derivative."""
    ops = {
        "exp": torch.exp, "log": torch.log, "tanh": torch.tanh,
        "sigmoid": torch.sigmoid, "relu": torch.relu,
        "pow3": lambda t: t**3, "pow_half": lambda t: t**0.5,
    }
    out = {}
    for name, fn in ops.items():
        for x0 in (0.5, 1.7, 3.0):
            x = torch.tensor(x0, requires_grad=True)
            y = fn(x)
            y.backward()
            out[f"{name}({x0})"] = (y.item(), x.grad.item())
    return out


def pow_value_value():
    a = torch.tensor(1.5, requires_grad=True)
    b = torch.tensor(2.5, requires_grad=True)
    y = a**b
    y.backward()
    return {"y": y.item(), "a.grad": a.grad.item(), "b.grad": b.grad.item()}


if __name__ == "__main__":
    for name, result in [("sanity_check", sanity_check()), ("more_ops", more_ops()),
                         ("pow_value_value", pow_value_value()), ("unary", unary_ops())]:
        for key, value in result.items():
            print(f"{name:16s} {key:16s} {value!r}")
