// The CPU backend's elementwise maps, reductions and copies: plain loops on contiguous buffers.
//
// Broadcasting loops work on strides: an input axis of size 1 (or missing) that the output
// stretches gets stride 0, so the same element is read again. Adjacent axes that are laid out
// one after the other in every operand are merged first, so equal shapes become one flat loop.
// Kernels that take a Dtype are templates on the element type T (float or std::int64_t).
#include <stepgrad/shared/error.hpp>
#include <stepgrad/tensor/cpu_backend.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace stepgrad {

namespace {

using Strides = std::vector<std::int64_t>;

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

// Calls f(T{}) with T the element type of `dtype`.
template <class F>
void with_element_type(Dtype dtype, F&& f) {
    if (dtype == Dtype::Float32) {
        f(float{});
    } else {
        f(std::int64_t{});
    }
}

template <class T, class Out, class F>
void binary_loop(F f, const T* a, const Shape& a_shape, const T* b, const Shape& b_shape, Out* out,
                 const Shape& out_shape) {
    // Fast paths without any stride bookkeeping: equal shapes, and a tensor with a scalar.
    const std::int64_t count = numel_of(out_shape);
    if (a_shape == out_shape && (b_shape == out_shape || numel_of(b_shape) == 1)) {
        if (b_shape == out_shape) {
            for (std::int64_t i = 0; i < count; ++i) out[i] = f(a[i], b[i]);
        } else {
            const T vb = *b;
            for (std::int64_t i = 0; i < count; ++i) out[i] = f(a[i], vb);
        }
        return;
    }
    std::array<Strides, 3> strides{broadcast_strides(a_shape, out_shape), broadcast_strides(b_shape, out_shape),
                                   contiguous_strides(out_shape)};
    strided_loop<3>(out_shape, std::move(strides), [&](const auto& off, std::int64_t n, const auto& st) {
        const T* pa = a + off[0];
        const T* pb = b + off[1];
        Out* po = out + off[2];
        if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
            for (std::int64_t i = 0; i < n; ++i) po[i] = f(pa[i], pb[i]);
        } else if (st[0] == 1 && st[1] == 0 && st[2] == 1) {
            const T vb = *pb;
            for (std::int64_t i = 0; i < n; ++i) po[i] = f(pa[i], vb);
        } else if (st[0] == 0 && st[1] == 1 && st[2] == 1) {
            const T va = *pa;
            for (std::int64_t i = 0; i < n; ++i) po[i] = f(va, pb[i]);
        } else {
            for (std::int64_t i = 0; i < n; ++i) po[i * st[2]] = f(pa[i * st[0]], pb[i * st[1]]);
        }
    });
}

template <class T, class Out, class F>
void unary_loop(F f, const void* x_in, void* out_in, std::size_t count) {
    const T* x = static_cast<const T*>(x_in);
    Out* out = static_cast<Out*>(out_in);
    for (std::size_t i = 0; i < count; ++i) out[i] = f(x[i]);
}

float sigmoid_of(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + std::exp(-x));
    const float e = std::exp(x);
    return e / (1.0f + e);
}

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;

[[noreturn]] void unsupported(const char* kernel, Dtype dtype) {
    throw std::invalid_argument(std::string("CpuBackend::") + kernel + ": this op does not support " +
                                to_string(dtype) + " tensors");
}

// The ops shared by both dtypes: arithmetic with a scalar and comparisons (a Float32 mask).
template <class T>
bool unary_common(UnaryOp op, const void* x, void* out, std::size_t n, double alpha) {
    const T a = static_cast<T>(alpha);
    auto mask = [&](auto f) { unary_loop<T, float>([f](T v) { return f(v) ? 1.0f : 0.0f; }, x, out, n); };
    switch (op) {
        case UnaryOp::Neg: unary_loop<T, T>([](T v) { return -v; }, x, out, n); return true;
        case UnaryOp::Abs: unary_loop<T, T>([](T v) { return v < T(0) ? -v : v; }, x, out, n); return true;
        case UnaryOp::Sign: unary_loop<T, T>([](T v) { return static_cast<T>((v > T(0)) - (v < T(0))); }, x, out, n); return true;
        case UnaryOp::AddScalar: unary_loop<T, T>([a](T v) { return v + a; }, x, out, n); return true;
        case UnaryOp::MulScalar: unary_loop<T, T>([a](T v) { return v * a; }, x, out, n); return true;
        case UnaryOp::GtScalar: mask([alpha](T v) { return v > alpha; }); return true;
        case UnaryOp::GeScalar: mask([alpha](T v) { return v >= alpha; }); return true;
        case UnaryOp::LtScalar: mask([alpha](T v) { return v < alpha; }); return true;
        case UnaryOp::LeScalar: mask([alpha](T v) { return v <= alpha; }); return true;
        case UnaryOp::EqScalar: mask([alpha](T v) { return v == alpha; }); return true;
        case UnaryOp::NeScalar: mask([alpha](T v) { return v != alpha; }); return true;
        default: return false;
    }
}

// The ops shared by both dtypes: arithmetic, maximum/minimum and comparisons (a Float32 mask).
template <class T>
bool binary_common(BinaryOp op, const T* a, const Shape& as, const T* b, const Shape& bs, void* out_in,
                   const Shape& os) {
    T* out = static_cast<T*>(out_in);
    float* mask = static_cast<float*>(out_in);
    switch (op) {
        case BinaryOp::Add: binary_loop([](T x, T y) { return x + y; }, a, as, b, bs, out, os); return true;
        case BinaryOp::Sub: binary_loop([](T x, T y) { return x - y; }, a, as, b, bs, out, os); return true;
        case BinaryOp::Mul: binary_loop([](T x, T y) { return x * y; }, a, as, b, bs, out, os); return true;
        case BinaryOp::Maximum:  // NaN wins (x != x only for a float NaN)
            binary_loop([](T x, T y) { return (x != x || x > y) ? x : y; }, a, as, b, bs, out, os); return true;
        case BinaryOp::Minimum:
            binary_loop([](T x, T y) { return (x != x || x < y) ? x : y; }, a, as, b, bs, out, os); return true;
        case BinaryOp::Gt: binary_loop([](T x, T y) { return x > y ? 1.0f : 0.0f; }, a, as, b, bs, mask, os); return true;
        case BinaryOp::Ge: binary_loop([](T x, T y) { return x >= y ? 1.0f : 0.0f; }, a, as, b, bs, mask, os); return true;
        case BinaryOp::Lt: binary_loop([](T x, T y) { return x < y ? 1.0f : 0.0f; }, a, as, b, bs, mask, os); return true;
        case BinaryOp::Le: binary_loop([](T x, T y) { return x <= y ? 1.0f : 0.0f; }, a, as, b, bs, mask, os); return true;
        case BinaryOp::Eq: binary_loop([](T x, T y) { return x == y ? 1.0f : 0.0f; }, a, as, b, bs, mask, os); return true;
        case BinaryOp::Ne: binary_loop([](T x, T y) { return x != y ? 1.0f : 0.0f; }, a, as, b, bs, mask, os); return true;
        default: return false;
    }
}

void unary_float(UnaryOp op, const void* x, void* out, std::size_t n, float alpha, float beta) {
    auto map = [&](auto f) { unary_loop<float, float>(f, x, out, n); };
    switch (op) {
        case UnaryOp::Exp: return map([](float v) { return std::exp(v); });
        case UnaryOp::Log: return map([](float v) { return std::log(v); });
        case UnaryOp::Sqrt: return map([](float v) { return std::sqrt(v); });
        case UnaryOp::Relu: return map([](float v) { return v > 0.0f ? v : 0.0f; });
        case UnaryOp::LeakyRelu: return map([alpha](float v) { return v > 0.0f ? v : alpha * v; });
        case UnaryOp::Sigmoid: return map(sigmoid_of);
        case UnaryOp::Tanh: return map([](float v) { return std::tanh(v); });
        case UnaryOp::Gelu: return map([](float v) { return 0.5f * v * (1.0f + std::erf(v * kInvSqrt2)); });
        case UnaryOp::GeluGrad:
            return map([](float v) {
                const float cdf = 0.5f * (1.0f + std::erf(v * kInvSqrt2));
                return cdf + v * kInvSqrt2Pi * std::exp(-0.5f * v * v);
            });
        case UnaryOp::Clamp:
            return map([alpha, beta](float v) { return std::isnan(v) ? v : std::min(std::max(v, alpha), beta); });
        case UnaryOp::PowScalar:
            if (alpha == 2.0f) return map([](float v) { return v * v; });
            return map([alpha](float v) { return std::pow(v, alpha); });
        case UnaryOp::RDivScalar: return map([alpha](float v) { return alpha / v; });
        case UnaryOp::RPowScalar: return map([alpha](float v) { return std::pow(alpha, v); });
        case UnaryOp::IsNotFinite: return map([](float v) { return std::isfinite(v) ? 0.0f : 1.0f; });
        default: unsupported("unary", Dtype::Float32);
    }
}

void binary_float(BinaryOp op, const float* a, const Shape& as, const float* b, const Shape& bs, float* out,
                  const Shape& os) {
    switch (op) {
        case BinaryOp::Div: return binary_loop([](float x, float y) { return x / y; }, a, as, b, bs, out, os);
        case BinaryOp::Pow: return binary_loop([](float x, float y) { return std::pow(x, y); }, a, as, b, bs, out, os);
        case BinaryOp::ReluBackward:
            return binary_loop([](float g, float y) { return y > 0.0f ? g : 0.0f; }, a, as, b, bs, out, os);
        case BinaryOp::SigmoidBackward:
            return binary_loop([](float g, float y) { return g * y * (1.0f - y); }, a, as, b, bs, out, os);
        case BinaryOp::TanhBackward:
            return binary_loop([](float g, float y) { return g * (1.0f - y * y); }, a, as, b, bs, out, os);
        default: unsupported("binary", Dtype::Float32);
    }
}

// Checks one index against an axis of `size` and maps a negative one to the end.
std::int64_t checked_position(std::int64_t index, std::int64_t size) {
    if (index < -size || index >= size) {
        throw std::out_of_range("index " + std::to_string(index) + " is out of range for an axis of size " +
                                std::to_string(size));
    }
    return index < 0 ? index + size : index;
}

template <class T>
void gather_loop(const T* src, std::int64_t outer, std::int64_t src_size, std::int64_t inner,
                 const std::int64_t* index, std::int64_t count, bool index_per_element, T* out) {
    for (std::int64_t o = 0; o < outer; ++o) {
        for (std::int64_t j = 0; j < count; ++j) {
            T* po = out + (o * count + j) * inner;
            if (!index_per_element) {
                const std::int64_t row = checked_position(index[j], src_size);
                std::copy_n(src + (o * src_size + row) * inner, inner, po);
            } else {
                const std::int64_t* pi = index + (o * count + j) * inner;
                for (std::int64_t i = 0; i < inner; ++i) {
                    po[i] = src[(o * src_size + checked_position(pi[i], src_size)) * inner + i];
                }
            }
        }
    }
}

template <class T>
void reduce_loop(ReduceOp op, const T* x, const Shape& shape, const std::vector<bool>& reduced, T* out) {
    Shape out_shape = shape;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (reduced[i]) out_shape[i] = 1;
    }
    Strides out_strides = contiguous_strides(out_shape);
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (reduced[i]) out_strides[i] = 0;
    }
    const T init = op == ReduceOp::Sum ? T(0)
                   : op == ReduceOp::Max ? (std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                                                : std::numeric_limits<T>::lowest())
                                         : (std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity()
                                                                                : std::numeric_limits<T>::max());
    std::fill(out, out + numel_of(out_shape), init);
    std::array<Strides, 2> strides{contiguous_strides(shape), std::move(out_strides)};
    strided_loop<2>(shape, std::move(strides), [&](const auto& off, std::int64_t n, const auto& st) {
        const T* px = x + off[0];
        T* po = out + off[1];
        if (op == ReduceOp::Sum) {
            if (st[1] == 0) {  // the innermost run is reduced: accumulate in double (int64 exactly)
                std::conditional_t<std::is_same_v<T, float>, double, T> total = 0;
                for (std::int64_t i = 0; i < n; ++i) total += px[i * st[0]];
                *po += static_cast<T>(total);
            } else {
                for (std::int64_t i = 0; i < n; ++i) po[i * st[1]] += px[i * st[0]];
            }
        } else {
            const bool largest = op == ReduceOp::Max;
            for (std::int64_t i = 0; i < n; ++i) {
                const T v = px[i * st[0]];
                T& m = po[i * st[1]];
                if (v != v || (largest ? v > m : v < m)) m = v;
            }
        }
    });
}

}  // namespace

void CpuBackend::copy_from_host(const void* host, void* dst, std::size_t bytes) {
    if (bytes > 0) std::memcpy(dst, host, bytes);
}

void CpuBackend::copy_to_host(const void* src, void* host, std::size_t bytes) {
    if (bytes > 0) std::memcpy(host, src, bytes);
}

void CpuBackend::fill(Dtype dtype, void* out, std::size_t count, double value) {
    with_element_type(dtype, [&](auto zero) {
        using T = decltype(zero);
        std::fill_n(static_cast<T*>(out), count, static_cast<T>(value));
    });
}

void CpuBackend::cast(Dtype from, const void* x, Dtype to, void* out, std::size_t count) {
    with_element_type(from, [&](auto from_zero) {
        with_element_type(to, [&](auto to_zero) {
            using From = decltype(from_zero);
            using To = decltype(to_zero);
            unary_loop<From, To>([](From v) { return static_cast<To>(v); }, x, out, count);
        });
    });
}

void CpuBackend::unary(UnaryOp op, Dtype dtype, const void* x, void* out, std::size_t n, double alpha, double beta) {
    if (dtype == Dtype::Int64) {
        if (!unary_common<std::int64_t>(op, x, out, n, alpha)) unsupported("unary", dtype);
        return;
    }
    if (op == UnaryOp::Abs) {  // fabs, not the generic v < 0 ? -v : v (which keeps -0.0)
        return unary_loop<float, float>([](float v) { return std::fabs(v); }, x, out, n);
    }
    if (unary_common<float>(op, x, out, n, alpha)) return;
    unary_float(op, x, out, n, static_cast<float>(alpha), static_cast<float>(beta));
}

void CpuBackend::binary(BinaryOp op, Dtype dtype, const void* a, const Shape& as, const void* b, const Shape& bs,
                        void* out, const Shape& os) {
    if (dtype == Dtype::Int64) {
        const auto* ia = static_cast<const std::int64_t*>(a);
        const auto* ib = static_cast<const std::int64_t*>(b);
        if (!binary_common<std::int64_t>(op, ia, as, ib, bs, out, os)) unsupported("binary", dtype);
        return;
    }
    const auto* fa = static_cast<const float*>(a);
    const auto* fb = static_cast<const float*>(b);
    if (binary_common<float>(op, fa, as, fb, bs, out, os)) return;
    binary_float(op, fa, as, fb, bs, static_cast<float*>(out), os);
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

void CpuBackend::reduce(ReduceOp op, Dtype dtype, const void* x, const Shape& shape, const std::vector<bool>& reduced,
                        void* out) {
    with_element_type(dtype, [&](auto zero) {
        using T = decltype(zero);
        reduce_loop<T>(op, static_cast<const T*>(x), shape, reduced, static_cast<T*>(out));
    });
}

void CpuBackend::arg_reduce(Dtype dtype, const void* x_in, std::int64_t outer, std::int64_t size, std::int64_t inner,
                            bool largest, std::int64_t* out) {
    with_element_type(dtype, [&](auto zero) {
        using T = decltype(zero);
        const T* x = static_cast<const T*>(x_in);
        for (std::int64_t o = 0; o < outer; ++o) {
            for (std::int64_t i = 0; i < inner; ++i) {
                const T* px = x + o * size * inner + i;
                std::int64_t best = 0;
                T best_value = px[0];
                for (std::int64_t j = 1; j < size && best_value == best_value; ++j) {
                    const T v = px[j * inner];
                    if (v != v || (largest ? v > best_value : v < best_value)) {
                        best = j;
                        best_value = v;
                    }
                }
                out[o * inner + i] = best;
            }
        }
    });
}

void CpuBackend::copy_strided(Dtype dtype, const void* src_in, const std::vector<std::int64_t>& src_strides,
                              std::int64_t src_offset, void* dst_in, const std::vector<std::int64_t>& dst_strides,
                              std::int64_t dst_offset, const Shape& shape, bool accumulate) {
    if (accumulate && dtype != Dtype::Float32) unsupported("copy_strided (accumulate)", dtype);
    with_element_type(dtype, [&](auto zero) {
        using T = decltype(zero);
        const T* src = static_cast<const T*>(src_in) + src_offset;
        T* dst = static_cast<T*>(dst_in) + dst_offset;
        std::array<Strides, 2> strides{src_strides, dst_strides};
        strided_loop<2>(shape, std::move(strides), [&](const auto& off, std::int64_t n, const auto& st) {
            const T* ps = src + off[0];
            T* pd = dst + off[1];
            if (accumulate) {
                for (std::int64_t i = 0; i < n; ++i) pd[i * st[1]] += ps[i * st[0]];
            } else if (st[0] == 1 && st[1] == 1) {
                std::memcpy(pd, ps, static_cast<std::size_t>(n) * sizeof(T));
            } else if (st[0] == 0 && st[1] == 1) {
                std::fill(pd, pd + n, *ps);
            } else {
                for (std::int64_t i = 0; i < n; ++i) pd[i * st[1]] = ps[i * st[0]];
            }
        });
    });
}

void CpuBackend::gather(Dtype dtype, const void* src, std::int64_t outer, std::int64_t src_size, std::int64_t inner,
                        const std::int64_t* index, std::int64_t count, bool index_per_element, void* out) {
    with_element_type(dtype, [&](auto zero) {
        using T = decltype(zero);
        gather_loop<T>(static_cast<const T*>(src), outer, src_size, inner, index, count, index_per_element,
                       static_cast<T*>(out));
    });
}

void CpuBackend::scatter_add(float* dst, std::int64_t outer, std::int64_t dst_size, std::int64_t inner,
                             const std::int64_t* index, std::int64_t count, bool index_per_element, const float* src) {
    for (std::int64_t o = 0; o < outer; ++o) {
        for (std::int64_t j = 0; j < count; ++j) {
            const float* ps = src + (o * count + j) * inner;
            if (!index_per_element) {
                float* pd = dst + (o * dst_size + checked_position(index[j], dst_size)) * inner;
                for (std::int64_t i = 0; i < inner; ++i) pd[i] += ps[i];
            } else {
                const std::int64_t* pi = index + (o * count + j) * inner;
                for (std::int64_t i = 0; i < inner; ++i) {
                    dst[(o * dst_size + checked_position(pi[i], dst_size)) * inner + i] += ps[i];
                }
            }
        }
    }
}

}  // namespace stepgrad
