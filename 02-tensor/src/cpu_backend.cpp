// The CPU backend: plain loops on contiguous float buffers, OpenBLAS for matmul.
//
// Broadcasting loops work on strides: an input axis of size 1 (or missing) that the output
// stretches gets stride 0, so the same element is read again. Adjacent axes that are laid out
// one after the other in every operand are merged first, so equal shapes become one flat loop.
#include "cpu_storage.hpp"

#include <stepgrad/shared/error.hpp>
#include <stepgrad/tensor/cpu_backend.hpp>

#include <cblas.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

namespace stepgrad {

namespace {

using Strides = std::vector<std::int64_t>;

// Strides of an input of `in_shape` read as if broadcast to `out_shape` (0 where it stretches).
Strides broadcast_strides(const Shape& in_shape, const Shape& out_shape) {
    Strides strides(out_shape.size(), 0);
    const Strides in_strides = contiguous_strides(in_shape);
    const std::size_t lead = out_shape.size() - in_shape.size();
    for (std::size_t i = 0; i < in_shape.size(); ++i) {
        strides[lead + i] = in_shape[i] == 1 ? 0 : in_strides[i];
    }
    return strides;
}

// Drops size-1 axes and merges axis i into i+1 when every operand steps through them as one.
template <std::size_t N>
void collapse(Shape& shape, std::array<Strides, N>& strides) {
    Shape new_shape;
    std::array<Strides, N> new_strides;
    for (std::size_t axis = 0; axis < shape.size(); ++axis) {
        if (shape[axis] == 1) continue;
        bool mergeable = !new_shape.empty();
        for (std::size_t k = 0; k < N && mergeable; ++k) {
            mergeable = new_strides[k].back() == strides[k][axis] * shape[axis];
        }
        if (mergeable) {
            new_shape.back() *= shape[axis];
            for (std::size_t k = 0; k < N; ++k) new_strides[k].back() = strides[k][axis];
        } else {
            new_shape.push_back(shape[axis]);
            for (std::size_t k = 0; k < N; ++k) new_strides[k].push_back(strides[k][axis]);
        }
    }
    shape = std::move(new_shape);
    strides = std::move(new_strides);
}

// Calls body(offsets, count, inner_strides) once per run of the innermost (collapsed) axis.
template <std::size_t N, class Body>
void strided_loop(Shape shape, std::array<Strides, N> strides, Body&& body) {
    if (numel_of(shape) == 0) return;
    collapse(shape, strides);
    std::array<std::int64_t, N> offsets{};
    std::array<std::int64_t, N> inner{};
    if (shape.empty()) {  // a single element
        body(offsets, std::int64_t{1}, inner);
        return;
    }
    const std::size_t last = shape.size() - 1;
    for (std::size_t k = 0; k < N; ++k) inner[k] = strides[k][last];
    std::vector<std::int64_t> counter(last, 0);
    while (true) {
        body(offsets, shape[last], inner);
        // Odometer over the outer axes.
        std::size_t axis = last;
        while (axis-- > 0) {
            ++counter[axis];
            for (std::size_t k = 0; k < N; ++k) offsets[k] += strides[k][axis];
            if (counter[axis] < shape[axis]) break;
            for (std::size_t k = 0; k < N; ++k) offsets[k] -= strides[k][axis] * shape[axis];
            counter[axis] = 0;
        }
        if (axis == static_cast<std::size_t>(-1)) return;
    }
}

template <class F>
void binary_loop(F f, const float* a, const Shape& a_shape, const float* b, const Shape& b_shape,
                 float* out, const Shape& out_shape) {
    // Fast paths without any stride bookkeeping: equal shapes, and a tensor with a scalar.
    const std::int64_t count = numel_of(out_shape);
    if (a_shape == out_shape && (b_shape == out_shape || numel_of(b_shape) == 1)) {
        if (b_shape == out_shape) {
            for (std::int64_t i = 0; i < count; ++i) out[i] = f(a[i], b[i]);
        } else {
            const float vb = *b;
            for (std::int64_t i = 0; i < count; ++i) out[i] = f(a[i], vb);
        }
        return;
    }
    std::array<Strides, 3> strides{broadcast_strides(a_shape, out_shape),
                                   broadcast_strides(b_shape, out_shape),
                                   contiguous_strides(out_shape)};
    strided_loop<3>(out_shape, std::move(strides), [&](const auto& off, std::int64_t n, const auto& st) {
        const float* pa = a + off[0];
        const float* pb = b + off[1];
        float* po = out + off[2];
        if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
            for (std::int64_t i = 0; i < n; ++i) po[i] = f(pa[i], pb[i]);
        } else if (st[0] == 1 && st[1] == 0 && st[2] == 1) {
            const float vb = *pb;
            for (std::int64_t i = 0; i < n; ++i) po[i] = f(pa[i], vb);
        } else if (st[0] == 0 && st[1] == 1 && st[2] == 1) {
            const float va = *pa;
            for (std::int64_t i = 0; i < n; ++i) po[i] = f(va, pb[i]);
        } else {
            for (std::int64_t i = 0; i < n; ++i) po[i * st[2]] = f(pa[i * st[0]], pb[i * st[1]]);
        }
    });
}

template <class F>
void unary_loop(F f, const float* x, float* out, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) out[i] = f(x[i]);
}

float sigmoid_of(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + std::exp(-x));
    const float e = std::exp(x);
    return e / (1.0f + e);
}

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;

}  // namespace

std::shared_ptr<Storage> CpuBackend::allocate(const Shape& shape) {
    xt::svector<std::size_t, 4> xshape(shape.begin(), shape.end());
    return std::make_shared<CpuStorage>(xt::xarray<float>::from_shape(xshape));
}

void CpuBackend::copy_from_host(const float* host, float* dst, std::size_t count) {
    if (count > 0) std::memcpy(dst, host, count * sizeof(float));
}

void CpuBackend::copy_to_host(const float* src, float* host, std::size_t count) {
    if (count > 0) std::memcpy(host, src, count * sizeof(float));
}

void CpuBackend::fill(float* out, std::size_t count, float value) { std::fill(out, out + count, value); }

void CpuBackend::unary(UnaryOp op, const float* x, float* out, std::size_t n, float alpha, float beta) {
    switch (op) {
        case UnaryOp::Neg: return unary_loop([](float v) { return -v; }, x, out, n);
        case UnaryOp::Exp: return unary_loop([](float v) { return std::exp(v); }, x, out, n);
        case UnaryOp::Log: return unary_loop([](float v) { return std::log(v); }, x, out, n);
        case UnaryOp::Sqrt: return unary_loop([](float v) { return std::sqrt(v); }, x, out, n);
        case UnaryOp::Abs: return unary_loop([](float v) { return std::fabs(v); }, x, out, n);
        case UnaryOp::Sign:
            return unary_loop([](float v) { return static_cast<float>((v > 0.0f) - (v < 0.0f)); }, x, out, n);
        case UnaryOp::Relu: return unary_loop([](float v) { return v > 0.0f ? v : 0.0f; }, x, out, n);
        case UnaryOp::LeakyRelu:
            return unary_loop([alpha](float v) { return v > 0.0f ? v : alpha * v; }, x, out, n);
        case UnaryOp::Sigmoid: return unary_loop(sigmoid_of, x, out, n);
        case UnaryOp::Tanh: return unary_loop([](float v) { return std::tanh(v); }, x, out, n);
        case UnaryOp::Gelu:
            return unary_loop([](float v) { return 0.5f * v * (1.0f + std::erf(v * kInvSqrt2)); }, x, out, n);
        case UnaryOp::GeluGrad:
            return unary_loop([](float v) {
                const float cdf = 0.5f * (1.0f + std::erf(v * kInvSqrt2));
                return cdf + v * kInvSqrt2Pi * std::exp(-0.5f * v * v);
            }, x, out, n);
        case UnaryOp::Clamp:
            return unary_loop([alpha, beta](float v) { return std::isnan(v) ? v : std::min(std::max(v, alpha), beta); },
                              x, out, n);
        case UnaryOp::PowScalar:
            if (alpha == 2.0f) return unary_loop([](float v) { return v * v; }, x, out, n);
            return unary_loop([alpha](float v) { return std::pow(v, alpha); }, x, out, n);
        case UnaryOp::AddScalar: return unary_loop([alpha](float v) { return v + alpha; }, x, out, n);
        case UnaryOp::MulScalar: return unary_loop([alpha](float v) { return v * alpha; }, x, out, n);
        case UnaryOp::RDivScalar: return unary_loop([alpha](float v) { return alpha / v; }, x, out, n);
        case UnaryOp::RPowScalar: return unary_loop([alpha](float v) { return std::pow(alpha, v); }, x, out, n);
        case UnaryOp::GtScalar: return unary_loop([alpha](float v) { return v > alpha ? 1.0f : 0.0f; }, x, out, n);
        case UnaryOp::GeScalar: return unary_loop([alpha](float v) { return v >= alpha ? 1.0f : 0.0f; }, x, out, n);
        case UnaryOp::LtScalar: return unary_loop([alpha](float v) { return v < alpha ? 1.0f : 0.0f; }, x, out, n);
        case UnaryOp::LeScalar: return unary_loop([alpha](float v) { return v <= alpha ? 1.0f : 0.0f; }, x, out, n);
        case UnaryOp::EqScalar: return unary_loop([alpha](float v) { return v == alpha ? 1.0f : 0.0f; }, x, out, n);
        case UnaryOp::NeScalar: return unary_loop([alpha](float v) { return v != alpha ? 1.0f : 0.0f; }, x, out, n);
        case UnaryOp::IsNotFinite:
            return unary_loop([](float v) { return std::isfinite(v) ? 0.0f : 1.0f; }, x, out, n);
    }
    throw std::invalid_argument("CpuBackend::unary: unknown op");
}

void CpuBackend::binary(BinaryOp op, const float* a, const Shape& as, const float* b, const Shape& bs,
                        float* out, const Shape& os) {
    switch (op) {
        case BinaryOp::Add: return binary_loop([](float x, float y) { return x + y; }, a, as, b, bs, out, os);
        case BinaryOp::Sub: return binary_loop([](float x, float y) { return x - y; }, a, as, b, bs, out, os);
        case BinaryOp::Mul: return binary_loop([](float x, float y) { return x * y; }, a, as, b, bs, out, os);
        case BinaryOp::Div: return binary_loop([](float x, float y) { return x / y; }, a, as, b, bs, out, os);
        case BinaryOp::Pow:
            return binary_loop([](float x, float y) { return std::pow(x, y); }, a, as, b, bs, out, os);
        case BinaryOp::Maximum:
            return binary_loop([](float x, float y) { return (x != x || x > y) ? x : y; }, a, as, b, bs, out, os);
        case BinaryOp::Minimum:
            return binary_loop([](float x, float y) { return (x != x || x < y) ? x : y; }, a, as, b, bs, out, os);
        case BinaryOp::Gt: return binary_loop([](float x, float y) { return x > y ? 1.0f : 0.0f; }, a, as, b, bs, out, os);
        case BinaryOp::Ge: return binary_loop([](float x, float y) { return x >= y ? 1.0f : 0.0f; }, a, as, b, bs, out, os);
        case BinaryOp::Lt: return binary_loop([](float x, float y) { return x < y ? 1.0f : 0.0f; }, a, as, b, bs, out, os);
        case BinaryOp::Le: return binary_loop([](float x, float y) { return x <= y ? 1.0f : 0.0f; }, a, as, b, bs, out, os);
        case BinaryOp::Eq: return binary_loop([](float x, float y) { return x == y ? 1.0f : 0.0f; }, a, as, b, bs, out, os);
        case BinaryOp::Ne: return binary_loop([](float x, float y) { return x != y ? 1.0f : 0.0f; }, a, as, b, bs, out, os);
        case BinaryOp::ReluBackward:
            return binary_loop([](float g, float y) { return y > 0.0f ? g : 0.0f; }, a, as, b, bs, out, os);
        case BinaryOp::SigmoidBackward:
            return binary_loop([](float g, float y) { return g * y * (1.0f - y); }, a, as, b, bs, out, os);
        case BinaryOp::TanhBackward:
            return binary_loop([](float g, float y) { return g * (1.0f - y * y); }, a, as, b, bs, out, os);
    }
    throw std::invalid_argument("CpuBackend::binary: unknown op");
}

void CpuBackend::where(const float* cond, const Shape& cond_shape, const float* a, const Shape& a_shape,
                       const float* b, const Shape& b_shape, float* out, const Shape& out_shape) {
    std::array<Strides, 4> strides{broadcast_strides(cond_shape, out_shape), broadcast_strides(a_shape, out_shape),
                                   broadcast_strides(b_shape, out_shape), contiguous_strides(out_shape)};
    strided_loop<4>(out_shape, std::move(strides), [&](const auto& off, std::int64_t n, const auto& st) {
        for (std::int64_t i = 0; i < n; ++i) {
            out[off[3] + i * st[3]] = cond[off[0] + i * st[0]] != 0.0f ? a[off[1] + i * st[1]] : b[off[2] + i * st[2]];
        }
    });
}

void CpuBackend::reduce(ReduceOp op, const float* x, const Shape& shape, const std::vector<bool>& reduced,
                        float* out) {
    Shape out_shape = shape;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (reduced[i]) out_shape[i] = 1;
    }
    Strides out_strides = contiguous_strides(out_shape);
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (reduced[i]) out_strides[i] = 0;
    }
    const float init = op == ReduceOp::Sum ? 0.0f
                       : op == ReduceOp::Max ? -std::numeric_limits<float>::infinity()
                                             : std::numeric_limits<float>::infinity();
    std::fill(out, out + numel_of(out_shape), init);
    std::array<Strides, 2> strides{contiguous_strides(shape), std::move(out_strides)};
    strided_loop<2>(shape, std::move(strides), [&](const auto& off, std::int64_t n, const auto& st) {
        const float* px = x + off[0];
        float* po = out + off[1];
        if (op == ReduceOp::Sum) {
            if (st[1] == 0) {  // the innermost run is reduced: accumulate in double
                double total = 0.0;
                for (std::int64_t i = 0; i < n; ++i) total += px[i * st[0]];
                *po += static_cast<float>(total);
            } else {
                for (std::int64_t i = 0; i < n; ++i) po[i * st[1]] += px[i * st[0]];
            }
        } else {
            const bool largest = op == ReduceOp::Max;
            for (std::int64_t i = 0; i < n; ++i) {
                const float v = px[i * st[0]];
                float& m = po[i * st[1]];
                if (v != v || (largest ? v > m : v < m)) m = v;
            }
        }
    });
}

void CpuBackend::arg_reduce(const float* x, std::int64_t outer, std::int64_t size, std::int64_t inner,
                            bool largest, float* out) {
    for (std::int64_t o = 0; o < outer; ++o) {
        for (std::int64_t i = 0; i < inner; ++i) {
            const float* px = x + o * size * inner + i;
            std::int64_t best = 0;
            float best_value = px[0];
            for (std::int64_t j = 1; j < size && best_value == best_value; ++j) {
                const float v = px[j * inner];
                if (v != v || (largest ? v > best_value : v < best_value)) {
                    best = j;
                    best_value = v;
                }
            }
            out[o * inner + i] = static_cast<float>(best);
        }
    }
}

void CpuBackend::matmul(const float* a, const float* b, float* c, std::int64_t batch, std::int64_t m,
                        std::int64_t n, std::int64_t k, bool transpose_a, bool transpose_b,
                        std::int64_t a_batch_stride, std::int64_t b_batch_stride) {
    if (batch == 0 || m == 0 || n == 0) return;
    if (k == 0) {
        std::fill(c, c + batch * m * n, 0.0f);
        return;
    }
    // A batch of row-major (m, k) matrices against one shared b is one tall (batch * m, k) product.
    if (batch > 1 && b_batch_stride == 0 && !transpose_a && a_batch_stride == m * k) {
        m *= batch;
        batch = 1;
    }
    const auto ta = transpose_a ? CblasTrans : CblasNoTrans;
    const auto tb = transpose_b ? CblasTrans : CblasNoTrans;
    const auto lda = static_cast<blasint>(transpose_a ? m : k);
    const auto ldb = static_cast<blasint>(transpose_b ? k : n);
    for (std::int64_t i = 0; i < batch; ++i) {
        cblas_sgemm(CblasRowMajor, ta, tb, static_cast<blasint>(m), static_cast<blasint>(n),
                    static_cast<blasint>(k), 1.0f, a + i * a_batch_stride, lda, b + i * b_batch_stride,
                    ldb, 0.0f, c + i * m * n, static_cast<blasint>(n));
    }
}

void CpuBackend::copy_strided(const float* src, const std::vector<std::int64_t>& src_strides,
                              std::int64_t src_offset, float* dst, const std::vector<std::int64_t>& dst_strides,
                              std::int64_t dst_offset, const Shape& shape, bool accumulate) {
    std::array<Strides, 2> strides{src_strides, dst_strides};
    src += src_offset;
    dst += dst_offset;
    strided_loop<2>(shape, std::move(strides), [&](const auto& off, std::int64_t n, const auto& st) {
        const float* ps = src + off[0];
        float* pd = dst + off[1];
        if (accumulate) {
            for (std::int64_t i = 0; i < n; ++i) pd[i * st[1]] += ps[i * st[0]];
        } else if (st[0] == 1 && st[1] == 1) {
            std::memcpy(pd, ps, static_cast<std::size_t>(n) * sizeof(float));
        } else if (st[0] == 0 && st[1] == 1) {
            std::fill(pd, pd + n, *ps);
        } else {
            for (std::int64_t i = 0; i < n; ++i) pd[i * st[1]] = ps[i * st[0]];
        }
    });
}

void CpuBackend::gather(const float* src, std::int64_t outer, std::int64_t src_size, std::int64_t inner,
                        const float* index, std::int64_t count, bool index_per_element, float* out) {
    for (std::int64_t o = 0; o < outer; ++o) {
        for (std::int64_t j = 0; j < count; ++j) {
            float* po = out + (o * count + j) * inner;
            if (!index_per_element) {
                const auto row = static_cast<std::int64_t>(index[j]);
                std::memcpy(po, src + (o * src_size + row) * inner, static_cast<std::size_t>(inner) * sizeof(float));
            } else {
                const float* pi = index + (o * count + j) * inner;
                for (std::int64_t i = 0; i < inner; ++i) {
                    po[i] = src[(o * src_size + static_cast<std::int64_t>(pi[i])) * inner + i];
                }
            }
        }
    }
}

void CpuBackend::scatter_add(float* dst, std::int64_t outer, std::int64_t dst_size, std::int64_t inner,
                             const float* index, std::int64_t count, bool index_per_element, const float* src) {
    for (std::int64_t o = 0; o < outer; ++o) {
        for (std::int64_t j = 0; j < count; ++j) {
            const float* ps = src + (o * count + j) * inner;
            if (!index_per_element) {
                float* pd = dst + (o * dst_size + static_cast<std::int64_t>(index[j])) * inner;
                for (std::int64_t i = 0; i < inner; ++i) pd[i] += ps[i];
            } else {
                const float* pi = index + (o * count + j) * inner;
                for (std::int64_t i = 0; i < inner; ++i) {
                    dst[(o * dst_size + static_cast<std::int64_t>(pi[i])) * inner + i] += ps[i];
                }
            }
        }
    }
}

}  // namespace stepgrad
