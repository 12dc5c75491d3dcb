// ThrustBackend, part 1: set-up, memory, transfers, and the elementwise maps (fill, cast,
// unary, binary with broadcasting, where). Each kernel is a functor beside the method that
// launches it; one thread computes one output element.
#include "device_errors.hpp"
#include "dispatch.hpp"
#include "exercise_stub.hpp"
#include "seam.hpp"
#include "strided_index.hpp"

#include <stepgrad/gpu/thrust_backend.hpp>

#include <thrust/fill.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace stepgrad::gpu {

// ---- memory, errors, registration ------------------------------------------------------------

char* TemporaryAllocator::allocate(std::ptrdiff_t bytes) {
    return static_cast<char*>(device_allocator()->allocate(static_cast<std::size_t>(bytes)));
}

void TemporaryAllocator::deallocate(char* pointer, std::size_t bytes) {
    device_allocator()->release(pointer, bytes);
}

DeviceErrorSlot* device_error_slot() {
    static DeviceErrorSlot* slot = [] {
        auto* memory = static_cast<DeviceErrorSlot*>(device_allocator()->allocate(sizeof(DeviceErrorSlot)));
        const DeviceErrorSlot clear{kNoDeviceError, 0, 0};
        copy_host_to_device(&clear, memory, sizeof clear);
        return memory;
    }();
    return slot;
}

void throw_if_device_error() {
    DeviceErrorSlot found{};
    copy_device_to_host(device_error_slot(), &found, sizeof found);
    if (found.code == kNoDeviceError) return;
    const DeviceErrorSlot clear{kNoDeviceError, 0, 0};
    copy_host_to_device(&clear, device_error_slot(), sizeof clear);
    if (found.code == kExerciseNotImplemented) {  // an exercise's stub ran in a kernel
        char id[32];
        std::snprintf(id, sizeof id, "%02lld.%lld", static_cast<long long>(found.value),
                      static_cast<long long>(found.limit));
        throw NotImplemented(id);
    }
    // The CPU's messages, with the kernel that found the error (the op that queued it is long gone).
    const std::string where = " (found by the cuda kernel, reported at the next read of the device)";
    if (found.code == kTargetOutOfRange) {
        throw std::out_of_range("cross_entropy: target " + std::to_string(found.value) + " is out of range for " +
                                std::to_string(found.limit) + " classes" + where);
    }
    const char* kernel = found.code == kGatherIndex ? "gather" : found.code == kIndexSelectIndex ? "index_select" : "scatter_add";
    throw std::out_of_range(std::string(kernel) + ": index " + std::to_string(found.value) +
                            " is out of range for an axis of size " + std::to_string(found.limit) + where);
}

void register_backend() {
    if (!is_available()) {
        throw std::runtime_error("stepgrad::gpu: no CUDA device can be used: " + unavailable_reason());
    }
    set_backend(Device::CUDA, std::make_unique<ThrustBackend>());
}

namespace {
std::atomic<long long> reads{0};
}  // namespace

long long synchronising_reads() { return reads.load(std::memory_order_relaxed); }

ThrustBackend::ThrustBackend() { (void)device_error_slot(); }

std::shared_ptr<CachingAllocator> ThrustBackend::allocator() { return device_allocator(); }

void ThrustBackend::copy_from_host(const void* host, void* dst, std::size_t bytes) {
    copy_host_to_device(host, dst, bytes);
}

void ThrustBackend::copy_to_host(const void* src, void* host, std::size_t bytes) {
    reads.fetch_add(1, std::memory_order_relaxed);
    copy_device_to_host(src, host, bytes);
    throw_if_device_error();
}

namespace {

STEPGRAD_HOST_DEVICE inline bool is_nan(float v) { return v != v; }

STEPGRAD_HOST_DEVICE inline float sigmoid_of(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    const float e = expf(x);
    return e / (1.0f + e);
}

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;

}  // namespace

// ---- fill and cast ---------------------------------------------------------------------------

void ThrustBackend::fill(Dtype dtype, void* out, std::size_t count, double value) {
    if (count == 0) return;
    count_launch();
    with_element_type(dtype, [&](auto zero) {
        using T = decltype(zero);
        thrust::fill_n(policy(), static_cast<T*>(out), count, static_cast<T>(value));
    });
}

namespace {

template <class From, class To>
struct CastKernel {
    const From* x;
    To* out;
    STEPGRAD_HOST_DEVICE void operator()(std::int64_t i) const { out[i] = static_cast<To>(x[i]); }
};

}  // namespace

void ThrustBackend::cast(Dtype from, const void* x, Dtype to, void* out, std::size_t count) {
    with_element_type(from, [&](auto from_zero) {
        with_element_type(to, [&](auto to_zero) {
            using From = decltype(from_zero);
            using To = decltype(to_zero);
            for_each_index(static_cast<std::int64_t>(count),
                           CastKernel<From, To>{static_cast<const From*>(x), static_cast<To*>(out)});
        });
    });
}

// ---- unary maps ------------------------------------------------------------------------------

namespace {

// The Float32 maps. One functor for every op: the switch is the same for every thread, so it
// costs a few instructions, not divergence.
struct UnaryFloatKernel {
    UnaryOp op;
    float alpha;
    float beta;
    const float* x;
    float* out;

    STEPGRAD_HOST_DEVICE float apply(float v) const {
        switch (op) {
            case UnaryOp::Neg: return -v;
            case UnaryOp::Exp: return expf(v);
            case UnaryOp::Log: return logf(v);
            case UnaryOp::Sqrt: return sqrtf(v);
            case UnaryOp::Abs: return v < 0.0f ? -v : v;
            case UnaryOp::Sign: return static_cast<float>((v > 0.0f) - (v < 0.0f));
            case UnaryOp::Relu: return v > 0.0f ? v : 0.0f;
            case UnaryOp::LeakyRelu: return v > 0.0f ? v : alpha * v;
            case UnaryOp::Sigmoid: return sigmoid_of(v);
            case UnaryOp::Tanh: return tanhf(v);
            case UnaryOp::Gelu: return 0.5f * v * (1.0f + erff(v * kInvSqrt2));
            case UnaryOp::GeluGrad:
                return 0.5f * (1.0f + erff(v * kInvSqrt2)) + v * kInvSqrt2Pi * expf(-0.5f * v * v);
            case UnaryOp::Clamp: return is_nan(v) ? v : fminf(fmaxf(v, alpha), beta);
            case UnaryOp::PowScalar: return alpha == 2.0f ? v * v : powf(v, alpha);
            case UnaryOp::AddScalar: return v + alpha;
            case UnaryOp::MulScalar: return v * alpha;
            case UnaryOp::RDivScalar: return alpha / v;
            case UnaryOp::RPowScalar: return powf(alpha, v);
            default: return 0.0f;  // comparisons: see UnaryMaskKernel
        }
    }
    STEPGRAD_HOST_DEVICE void operator()(std::int64_t i) const { out[i] = apply(x[i]); }
};

// The Int64 maps that keep the dtype (Neg, Abs, Sign, AddScalar, MulScalar).
struct UnaryIntKernel {
    UnaryOp op;
    std::int64_t alpha;
    const std::int64_t* x;
    std::int64_t* out;

    STEPGRAD_HOST_DEVICE void operator()(std::int64_t i) const {
        const std::int64_t v = x[i];
        switch (op) {
            case UnaryOp::Neg: out[i] = -v; break;
            case UnaryOp::Abs: out[i] = v < 0 ? -v : v; break;
            case UnaryOp::Sign: out[i] = (v > 0) - (v < 0); break;
            case UnaryOp::AddScalar: out[i] = v + alpha; break;
            default: out[i] = v * alpha; break;  // MulScalar
        }
    }
};

// The comparisons with a scalar, for either dtype: a Float32 mask of 0 and 1 (compared in
// double, as the CPU does, so an Int64 past 2^24 compares exactly).
template <class T>
struct UnaryMaskKernel {
    UnaryOp op;
    double alpha;
    const T* x;
    float* out;

    STEPGRAD_HOST_DEVICE void operator()(std::int64_t i) const {
        const double v = static_cast<double>(x[i]);
        bool result = false;
        switch (op) {
            case UnaryOp::GtScalar: result = v > alpha; break;
            case UnaryOp::GeScalar: result = v >= alpha; break;
            case UnaryOp::LtScalar: result = v < alpha; break;
            case UnaryOp::LeScalar: result = v <= alpha; break;
            case UnaryOp::EqScalar: result = v == alpha; break;
            case UnaryOp::NeScalar: result = v != alpha; break;
            default: result = !(v - v == 0.0); break;  // IsNotFinite
        }
        out[i] = result ? 1.0f : 0.0f;
    }
};

bool is_comparison(UnaryOp op) {
    switch (op) {
        case UnaryOp::GtScalar: case UnaryOp::GeScalar: case UnaryOp::LtScalar:
        case UnaryOp::LeScalar: case UnaryOp::EqScalar: case UnaryOp::NeScalar:
        case UnaryOp::IsNotFinite: return true;
        default: return false;
    }
}

}  // namespace

void ThrustBackend::unary(UnaryOp op, Dtype dtype, const void* x, void* out, std::size_t count,
                          double alpha, double beta) {
    const auto n = static_cast<std::int64_t>(count);
    if (is_comparison(op)) {
        if (dtype == Dtype::Int64 && op == UnaryOp::IsNotFinite) unsupported("unary", dtype);
        with_element_type(dtype, [&](auto zero) {
            using T = decltype(zero);
            for_each_index(n, UnaryMaskKernel<T>{op, alpha, static_cast<const T*>(x), static_cast<float*>(out)});
        });
        return;
    }
    if (dtype == Dtype::Float32) {
        for_each_index(n, UnaryFloatKernel{op, static_cast<float>(alpha), static_cast<float>(beta),
                                           static_cast<const float*>(x), static_cast<float*>(out)});
        return;
    }
    switch (op) {
        case UnaryOp::Neg: case UnaryOp::Abs: case UnaryOp::Sign: case UnaryOp::AddScalar:
        case UnaryOp::MulScalar:
            for_each_index(n, UnaryIntKernel{op, static_cast<std::int64_t>(alpha),
                                             static_cast<const std::int64_t*>(x), static_cast<std::int64_t*>(out)});
            return;
        default: unsupported("unary", dtype);
    }
}

// ---- binary maps with broadcasting -----------------------------------------------------------

namespace {

// One thread per output element: operand 0 is `a`, 1 is `b`, 2 is the (contiguous) output.
template <class T>
struct BinaryKernel {
    BinaryOp op;
    StridedIndex index;
    const T* a;
    const T* b;
    void* out;                // T values, or a Float32 mask for the comparisons
    DeviceErrorSlot* errors;  // where a kernel reports what it cannot throw

    STEPGRAD_HOST_DEVICE void operator()([[maybe_unused]] std::int64_t i) const {
        // exercise 04.1: one GPU thread of a broadcasting binary op
        // hint: thread i computes output element i (the output is contiguous); index.offset(0, i)
        // hint: and index.offset(1, i) say where a's and b's elements for it are (stride 0 on a
        // hint: broadcast axis), as chapter 2's broadcasting does with strides
        // hint: Add to Minimum store a T in out; the comparisons Gt to Ne store a Float32 mask
        // hint: (1 or 0); every other op is float_only(x, y). Maximum and Minimum let NaN win
        // stub: exercise_not_implemented(errors, "04.1");
        const T x = a[index.offset(0, i)];
        const T y = b[index.offset(1, i)];
        float* mask = static_cast<float*>(out);
        T* values = static_cast<T*>(out);
        switch (op) {
            case BinaryOp::Add: values[i] = x + y; return;
            case BinaryOp::Sub: values[i] = x - y; return;
            case BinaryOp::Mul: values[i] = x * y; return;
            case BinaryOp::Maximum: values[i] = (x != x || x > y) ? x : y; return;  // NaN wins
            case BinaryOp::Minimum: values[i] = (x != x || x < y) ? x : y; return;
            case BinaryOp::Gt: mask[i] = x > y ? 1.0f : 0.0f; return;
            case BinaryOp::Ge: mask[i] = x >= y ? 1.0f : 0.0f; return;
            case BinaryOp::Lt: mask[i] = x < y ? 1.0f : 0.0f; return;
            case BinaryOp::Le: mask[i] = x <= y ? 1.0f : 0.0f; return;
            case BinaryOp::Eq: mask[i] = x == y ? 1.0f : 0.0f; return;
            case BinaryOp::Ne: mask[i] = x != y ? 1.0f : 0.0f; return;
            default: values[i] = float_only(x, y); return;
        }
        // end exercise
    }

    // The Float32-only ops (the caller refuses them for Int64).
    STEPGRAD_HOST_DEVICE T float_only(T x, T y) const {
        if constexpr (sizeof(T) == sizeof(float)) {
            switch (op) {
                case BinaryOp::Div: return x / y;
                case BinaryOp::Pow: return powf(x, y);
                case BinaryOp::ReluBackward: return y > 0.0f ? x : 0.0f;
                case BinaryOp::SigmoidBackward: return x * y * (1.0f - y);
                default: return x * (1.0f - y * y);  // TanhBackward
            }
        } else {
            return T{0};
        }
    }
};

bool int64_supports(BinaryOp op) {
    switch (op) {
        case BinaryOp::Div: case BinaryOp::Pow: case BinaryOp::ReluBackward:
        case BinaryOp::SigmoidBackward: case BinaryOp::TanhBackward: return false;
        default: return true;
    }
}

}  // namespace

void ThrustBackend::binary(BinaryOp op, Dtype dtype, const void* a, const Shape& a_shape, const void* b,
                           const Shape& b_shape, void* out, const Shape& out_shape) {
    if (dtype == Dtype::Int64 && !int64_supports(op)) unsupported("binary", dtype);
    const StridedIndex index = make_strided_index(
        "binary", out_shape,
        {broadcast_strides(a_shape, out_shape), broadcast_strides(b_shape, out_shape), contiguous_strides(out_shape)});
    with_element_type(dtype, [&](auto zero) {
        using T = decltype(zero);
        for_each_index(numel_of(out_shape),
                       BinaryKernel<T>{op, index, static_cast<const T*>(a), static_cast<const T*>(b), out,
                                       device_error_slot()});
    });
}

namespace {

struct WhereKernel {
    StridedIndex index;  // operands: cond, a, b
    const float* cond;
    const float* a;
    const float* b;
    float* out;
    STEPGRAD_HOST_DEVICE void operator()(std::int64_t i) const {
        out[i] = cond[index.offset(0, i)] != 0.0f ? a[index.offset(1, i)] : b[index.offset(2, i)];
    }
};

}  // namespace

void ThrustBackend::where(const float* cond, const Shape& cond_shape, const float* a, const Shape& a_shape,
                          const float* b, const Shape& b_shape, float* out, const Shape& out_shape) {
    // The output is contiguous, so its offset is the thread's index and needs no stride list.
    const StridedIndex index = make_strided_index(
        "where", out_shape,
        {broadcast_strides(cond_shape, out_shape), broadcast_strides(a_shape, out_shape),
         broadcast_strides(b_shape, out_shape)});
    for_each_index(numel_of(out_shape), WhereKernel{index, cond, a, b, out});
}

}  // namespace stepgrad::gpu
