// Elementwise operations. Each computes its result with one kernel and records, right beside
// it, how the gradient flows back; broadcasting inputs get their gradient through sum_to().
#include <stepgrad/shared/error.hpp>
#include <stepgrad/tensor/autograd.hpp>
#include <stepgrad/tensor/elementwise.hpp>

#include <cmath>
#include <limits>

namespace stepgrad {

namespace {

bool is_comparison(UnaryOp op) {
    switch (op) {
        case UnaryOp::GtScalar: case UnaryOp::GeScalar: case UnaryOp::LtScalar: case UnaryOp::LeScalar:
        case UnaryOp::EqScalar: case UnaryOp::NeScalar: case UnaryOp::IsNotFinite: return true;
        default: return false;
    }
}

bool is_comparison(BinaryOp op) {
    switch (op) {
        case BinaryOp::Gt: case BinaryOp::Ge: case BinaryOp::Lt: case BinaryOp::Le: case BinaryOp::Eq:
        case BinaryOp::Ne: return true;
        default: return false;
    }
}

// The maps that Int64 tensors support exactly (the rest need real numbers).
bool int64_supports(UnaryOp op) {
    switch (op) {
        case UnaryOp::Neg: case UnaryOp::Abs: case UnaryOp::Sign: case UnaryOp::AddScalar: case UnaryOp::MulScalar:
            return true;
        default: return is_comparison(op) && op != UnaryOp::IsNotFinite;
    }
}

bool int64_supports(BinaryOp op) {
    switch (op) {
        case BinaryOp::Add: case BinaryOp::Sub: case BinaryOp::Mul: case BinaryOp::Maximum: case BinaryOp::Minimum:
            return true;
        default: return is_comparison(op);
    }
}

}  // namespace

namespace detail {

Tensor unary_kernel(UnaryOp op, const Tensor& x, double alpha, double beta) {
    check_defined("unary", x);
    if (x.dtype() == Dtype::Int64 && !int64_supports(op)) return unary_kernel(op, x.to(Dtype::Float32), alpha, beta);
    Tensor out = Tensor::empty(x.shape(), x.device(), is_comparison(op) ? Dtype::Float32 : x.dtype());
    get_backend(x.device()).unary(op, x.dtype(), x.data_ptr(), out.data_ptr(), static_cast<std::size_t>(x.numel()),
                                  alpha, beta);
    return out;
}

Tensor binary_kernel(const char* name, BinaryOp op, const Tensor& a, const Tensor& b) {
    check_same_device(name, a, b);
    // Type promotion as in PyTorch: Int64 meets Float32 (or a real-valued op) as Float32.
    if (a.dtype() != b.dtype() || (a.dtype() == Dtype::Int64 && !int64_supports(op))) {
        return binary_kernel(name, op, a.to(Dtype::Float32), b.to(Dtype::Float32));
    }
    Shape out_shape = broadcast_shapes(name, a.shape(), b.shape());
    Tensor out = Tensor::empty(out_shape, a.device(), is_comparison(op) ? Dtype::Float32 : a.dtype());
    get_backend(a.device()).binary(op, a.dtype(), a.data_ptr(), a.shape(), b.data_ptr(), b.shape(), out.data_ptr(),
                                   out_shape);
    return out;
}

Tensor scalar_tensor(double value, Device device) {
    Tensor out = Tensor::empty({}, device);
    get_backend(device).fill(Dtype::Float32, out.data_ptr(), 1, value);
    return out;
}

}  // namespace detail

using detail::binary_kernel;
using detail::unary_kernel;

namespace {
bool is_integral(double value) { return value == std::floor(value) && std::isfinite(value); }
// Int64 tensors meet a fractional scalar as Float32 (PyTorch's promotion).
Tensor promote_for(const Tensor& x, double value) {
    return x.dtype() == Dtype::Int64 && !is_integral(value) ? x.to(Dtype::Float32) : x;
}
}  // namespace

// ---- binary arithmetic ------------------------------------------------------------------------

// d(a+b)/da = 1, d(a+b)/db = 1: the gradient passes through, summed to each shape.
Tensor add(const Tensor& a, const Tensor& b) {
    return record("add", binary_kernel("add", BinaryOp::Add, a, b), {a, b},
                  [as = a.shape(), bs = b.shape()](const Tensor& grad_output) {
                      return Grads{sum_to(grad_output, as), sum_to(grad_output, bs)};
                  });
}

// d(a-b)/da = 1, d(a-b)/db = -1.
Tensor sub(const Tensor& a, const Tensor& b) {
    return record("sub", binary_kernel("sub", BinaryOp::Sub, a, b), {a, b},
                  [as = a.shape(), bs = b.shape()](const Tensor& grad_output) {
                      return Grads{sum_to(grad_output, as), sum_to(-grad_output, bs)};
                  });
}

// d(a*b)/da = b, d(a*b)/db = a.
Tensor mul(const Tensor& a, const Tensor& b) {
    return record("mul", binary_kernel("mul", BinaryOp::Mul, a, b), {a, b},
                  [a = SavedTensor(a), b = SavedTensor(b)](const Tensor& grad_output) {
                      return Grads{a.requires_grad() ? sum_to(grad_output * b.unpack(), a.shape()) : Tensor(),
                                   b.requires_grad() ? sum_to(grad_output * a.unpack(), b.shape()) : Tensor()};
                  });
}

// d(a/b)/da = 1/b, d(a/b)/db = -a/b² = -out/b.
Tensor div(const Tensor& a, const Tensor& b) {
    Tensor out = binary_kernel("div", BinaryOp::Div, a, b);
    return record("div", out, {a, b},
                  [a_shape = a.shape(), b = SavedTensor(b), out = SavedTensor(out)](const Tensor& grad_output) {
                      Tensor grad_over_b = grad_output / b.unpack();
                      return Grads{sum_to(grad_over_b, a_shape),
                                   b.requires_grad() ? sum_to(-grad_over_b * out.unpack(), b.shape()) : Tensor()};
                  });
}

// d(a^b)/da = b a^(b-1); d(a^b)/db = a^b ln a (taken as 0 where a = 0, as PyTorch does).
Tensor pow(const Tensor& a, const Tensor& b) {
    Tensor out = binary_kernel("pow", BinaryOp::Pow, a, b);
    return record("pow", out, {a, b},
                  [a = SavedTensor(a), b = SavedTensor(b), out = SavedTensor(out)](const Tensor& grad_output) {
                      const Tensor& base = a.unpack();
                      const Tensor& exponent = b.unpack();
                      Tensor grad_a, grad_b;
                      if (a.requires_grad()) grad_a = sum_to(grad_output * exponent * pow(base, exponent - 1.0), a.shape());
                      if (b.requires_grad()) {
                          Tensor at_zero = unary_kernel(UnaryOp::EqScalar, base, 0.0f);
                          grad_b = sum_to(where(at_zero, 0.0, grad_output * out.unpack() * log(base)), b.shape());
                      }
                      return Grads{grad_a, grad_b};
                  });
}

// d(x^e)/dx = e x^(e-1).
Tensor pow(const Tensor& x, double exponent) {
    return record("pow", unary_kernel(UnaryOp::PowScalar, x, exponent), {x},
                  [x = SavedTensor(x), exponent](const Tensor& grad_output) {
                      return Grads{grad_output * exponent * pow(x.unpack(), exponent - 1.0)};
                  });
}

// d(c^x)/dx = c^x ln c.
Tensor pow(double base, const Tensor& x) {
    Tensor out = unary_kernel(UnaryOp::RPowScalar, x, base);
    return record("pow", out, {x}, [base, out = SavedTensor(out)](const Tensor& grad_output) {
        return Grads{grad_output * out.unpack() * std::log(base)};
    });
}

namespace {
// Shared by maximum/minimum: `a_wins` is 1 where a is picked, 1/2 on ties, 0 where b is.
Tensor pick(const char* op, BinaryOp kind, BinaryOp a_wins_op, const Tensor& a, const Tensor& b) {
    return record(op, binary_kernel(op, kind, a, b), {a, b},
                  [a = SavedTensor(a), b = SavedTensor(b), a_wins_op, op](const Tensor& grad_output) {
                      const Tensor& first = a.unpack();
                      const Tensor& second = b.unpack();
                      Tensor a_wins = binary_kernel(op, a_wins_op, first, second) +
                                      binary_kernel(op, BinaryOp::Eq, first, second) * 0.5;
                      return Grads{sum_to(grad_output * a_wins, a.shape()),
                                   sum_to(grad_output * (1.0 - a_wins), b.shape())};
                  });
}
}  // namespace

// The gradient goes to whichever input is larger (half to each on a tie).
Tensor maximum(const Tensor& a, const Tensor& b) { return pick("maximum", BinaryOp::Maximum, BinaryOp::Gt, a, b); }
// The gradient goes to whichever input is smaller (half to each on a tie).
Tensor minimum(const Tensor& a, const Tensor& b) { return pick("minimum", BinaryOp::Minimum, BinaryOp::Lt, a, b); }

// ---- unary functions -----------------------------------------------------------------------

// d(-x)/dx = -1.
Tensor neg(const Tensor& x) {
    return record("neg", unary_kernel(UnaryOp::Neg, x), {x},
                  [](const Tensor& grad_output) { return Grads{unary_kernel(UnaryOp::Neg, grad_output)}; });
}

// d(e^x)/dx = e^x: reuse the output.
Tensor exp(const Tensor& x) {
    Tensor out = unary_kernel(UnaryOp::Exp, x);
    return record("exp", out, {x}, [out = SavedTensor(out)](const Tensor& grad_output) {
        return Grads{grad_output * out.unpack()};
    });
}

// d(ln x)/dx = 1/x.
Tensor log(const Tensor& x) {
    return record("log", unary_kernel(UnaryOp::Log, x), {x},
                  [x = SavedTensor(x)](const Tensor& grad_output) { return Grads{grad_output / x.unpack()}; });
}

// d(√x)/dx = 1 / (2√x): reuse the output.
Tensor sqrt(const Tensor& x) {
    Tensor out = unary_kernel(UnaryOp::Sqrt, x);
    return record("sqrt", out, {x}, [out = SavedTensor(out)](const Tensor& grad_output) {
        return Grads{grad_output * 0.5 / out.unpack()};
    });
}

// d|x|/dx = sign(x).
Tensor abs(const Tensor& x) {
    return record("abs", unary_kernel(UnaryOp::Abs, x), {x}, [x = SavedTensor(x)](const Tensor& grad_output) {
        return Grads{grad_output * unary_kernel(UnaryOp::Sign, x.unpack())};
    });
}

// d relu(x)/dx = 1 where the output is positive, else 0 (one fused kernel).
Tensor relu(const Tensor& x) {
    Tensor out = unary_kernel(UnaryOp::Relu, x);
    return record("relu", out, {x}, [out = SavedTensor(out)](const Tensor& grad_output) {
        return Grads{binary_kernel("relu_backward", BinaryOp::ReluBackward, grad_output, out.unpack())};
    });
}

// The slope is 1 where x > 0 and `negative_slope` elsewhere.
Tensor leaky_relu(const Tensor& x, double negative_slope) {
    return record("leaky_relu", unary_kernel(UnaryOp::LeakyRelu, x, negative_slope), {x},
                  [x = SavedTensor(x), negative_slope](const Tensor& grad_output) {
                      return Grads{where(x.unpack() > 0.0, grad_output, grad_output * negative_slope)};
                  });
}

// dσ/dx = σ(1 - σ): reuse the output (one fused kernel).
Tensor sigmoid(const Tensor& x) {
    Tensor out = unary_kernel(UnaryOp::Sigmoid, x);
    return record("sigmoid", out, {x}, [out = SavedTensor(out)](const Tensor& grad_output) {
        return Grads{binary_kernel("sigmoid_backward", BinaryOp::SigmoidBackward, grad_output, out.unpack())};
    });
}

// d tanh/dx = 1 - tanh²: reuse the output (one fused kernel).
Tensor tanh(const Tensor& x) {
    Tensor out = unary_kernel(UnaryOp::Tanh, x);
    return record("tanh", out, {x}, [out = SavedTensor(out)](const Tensor& grad_output) {
        return Grads{binary_kernel("tanh_backward", BinaryOp::TanhBackward, grad_output, out.unpack())};
    });
}

// d(x Φ(x))/dx = Φ(x) + x φ(x).
Tensor gelu(const Tensor& x) {
    return record("gelu", unary_kernel(UnaryOp::Gelu, x), {x}, [x = SavedTensor(x)](const Tensor& grad_output) {
        return Grads{grad_output * unary_kernel(UnaryOp::GeluGrad, x.unpack())};
    });
}

// The output follows x (slope 1) inside [min, max] and is constant (slope 0) outside.
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max) {
    const double low = min ? *min : -std::numeric_limits<double>::infinity();
    const double high = max ? *max : std::numeric_limits<double>::infinity();
    const Tensor input = x.dtype() == Dtype::Int64 ? x.to(Dtype::Float32) : x;
    return record("clamp", unary_kernel(UnaryOp::Clamp, input, low, high), {input},
                  [x = SavedTensor(input), low, high](const Tensor& grad_output) {
                      const Tensor& saved = x.unpack();
                      Tensor inside = unary_kernel(UnaryOp::GeScalar, saved, low) * unary_kernel(UnaryOp::LeScalar, saved, high);
                      return Grads{grad_output * inside};
                  });
}

// ---- selection and comparison ----------------------------------------------------------------

// Each branch gets the gradient where it was chosen, zero elsewhere.
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
    detail::check_same_device("where", condition, a);
    detail::check_same_device("where", a, b);
    if (condition.dtype() != Dtype::Float32 || a.dtype() != Dtype::Float32 || b.dtype() != Dtype::Float32) {
        return where(condition.to(Dtype::Float32), a.to(Dtype::Float32), b.to(Dtype::Float32));
    }
    const Shape out_shape = broadcast_shapes("where", broadcast_shapes("where", condition.shape(), a.shape()), b.shape());
    Tensor out = Tensor::empty(out_shape, a.device());
    get_backend(a.device()).where(condition.data_ptr<float>(), condition.shape(), a.data_ptr<float>(), a.shape(),
                                  b.data_ptr<float>(), b.shape(), out.data_ptr<float>(), out_shape);
    // The condition is saved detached: a graph that made it is not kept alive by this one.
    return record("where", out, {a, b},
                  [condition = SavedTensor(condition), as = a.shape(), bs = b.shape()](const Tensor& grad_output) {
                      const Tensor& chosen = condition.unpack();
                      Tensor zero = detail::scalar_tensor(0.0, grad_output.device());
                      return Grads{sum_to(where(chosen, grad_output, zero), as),
                                   sum_to(where(chosen, zero, grad_output), bs)};
                  });
}

Tensor where(const Tensor& condition, const Tensor& a, double b) {
    return where(condition, a, detail::scalar_tensor(b, a.device()));
}

Tensor where(const Tensor& condition, double a, const Tensor& b) {
    return where(condition, detail::scalar_tensor(a, b.device()), b);
}

Tensor gt(const Tensor& a, const Tensor& b) { return binary_kernel("gt", BinaryOp::Gt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary_kernel("ge", BinaryOp::Ge, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary_kernel("lt", BinaryOp::Lt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return binary_kernel("le", BinaryOp::Le, a, b); }
Tensor eq(const Tensor& a, const Tensor& b) { return binary_kernel("eq", BinaryOp::Eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary_kernel("ne", BinaryOp::Ne, a, b); }

// ---- operators ---------------------------------------------------------------------------------

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& x) { return neg(x); }

// d(x + c)/dx = 1.
Tensor operator+(const Tensor& x_in, double value) {
    const Tensor x = promote_for(x_in, value);
    return record("add", unary_kernel(UnaryOp::AddScalar, x, value), {x},
                  [](const Tensor& grad_output) { return Grads{grad_output}; });
}
Tensor operator+(double value, const Tensor& x) { return x + value; }
Tensor operator-(const Tensor& x, double value) { return x + (-value); }
Tensor operator-(double value, const Tensor& x) { return neg(x) + value; }

// d(c x)/dx = c.
Tensor operator*(const Tensor& x_in, double value) {
    const Tensor x = promote_for(x_in, value);
    return record("mul", unary_kernel(UnaryOp::MulScalar, x, value), {x}, [value](const Tensor& grad_output) {
        return Grads{unary_kernel(UnaryOp::MulScalar, grad_output, value)};
    });
}
Tensor operator*(double value, const Tensor& x) { return x * value; }
// Division of Int64 tensors is true division (a Float32 result), as in PyTorch.
Tensor operator/(const Tensor& x, double value) { return x.to(Dtype::Float32) * (1.0 / value); }

// d(c/x)/dx = -c/x² = -out/x.
Tensor operator/(double value, const Tensor& x) {
    Tensor out = unary_kernel(UnaryOp::RDivScalar, x, value);
    return record("div", out, {x}, [x = SavedTensor(x), out = SavedTensor(out)](const Tensor& grad_output) {
        return Grads{-grad_output * out.unpack() / x.unpack()};
    });
}

Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator>(const Tensor& x, double value) { return unary_kernel(UnaryOp::GtScalar, x, value); }
Tensor operator>=(const Tensor& x, double value) { return unary_kernel(UnaryOp::GeScalar, x, value); }
Tensor operator<(const Tensor& x, double value) { return unary_kernel(UnaryOp::LtScalar, x, value); }
Tensor operator<=(const Tensor& x, double value) { return unary_kernel(UnaryOp::LeScalar, x, value); }

// ---- methods -------------------------------------------------------------------------------------

Tensor Tensor::neg() const { return stepgrad::neg(*this); }
Tensor Tensor::exp() const { return stepgrad::exp(*this); }
Tensor Tensor::log() const { return stepgrad::log(*this); }
Tensor Tensor::sqrt() const { return stepgrad::sqrt(*this); }
Tensor Tensor::abs() const { return stepgrad::abs(*this); }
Tensor Tensor::relu() const { return stepgrad::relu(*this); }
Tensor Tensor::sigmoid() const { return stepgrad::sigmoid(*this); }
Tensor Tensor::tanh() const { return stepgrad::tanh(*this); }
Tensor Tensor::pow(double exponent) const { return stepgrad::pow(*this, exponent); }
Tensor Tensor::pow(const Tensor& exponent) const { return stepgrad::pow(*this, exponent); }
Tensor Tensor::clamp(std::optional<double> min, std::optional<double> max) const {
    return stepgrad::clamp(*this, min, max);
}

}  // namespace stepgrad
