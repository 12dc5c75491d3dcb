#pragma once
/// @file backend.hpp
/// @brief The small set of kernels a Tensor needs from a device, and the registry of backends.
///
/// Everything above this interface (Tensor operations, autograd, chapter 3's layers) is
/// written once. A device provides storage and these kernels on raw pointers, shapes and
/// strides; chapter 2 implements them for the CPU (cpu_backend.hpp), chapter 4 for CUDA and
/// registers them with `set_backend(Device::CUDA, ...)`. No xtensor type appears here.
///
/// Conventions: every buffer is a contiguous row-major float array on the backend's device;
/// sizes and strides count elements; an index buffer holds whole numbers stored as floats
/// (stepgrad tensors are float32 only).

#include <stepgrad/tensor/device.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace stepgrad {

class Generator;

/// @brief Elementwise maps of one input: `out[i] = f(x[i])`, some with scalar parameters.
///
/// `alpha` and `beta` are the parameters named in each comment; the rest ignore them.
enum class UnaryOp {
    Neg,          ///< -x
    Exp,          ///< e^x
    Log,          ///< ln x
    Sqrt,         ///< √x
    Abs,          ///< |x|
    Sign,         ///< -1, 0 or 1
    Relu,         ///< max(x, 0)
    LeakyRelu,    ///< x if x > 0 else alpha * x
    Sigmoid,      ///< 1 / (1 + e^-x)
    Tanh,         ///< tanh x
    Gelu,         ///< x Φ(x), Φ the standard normal CDF (exact, with erf)
    GeluGrad,     ///< d gelu / dx = Φ(x) + x φ(x)
    Clamp,        ///< min(max(x, alpha), beta)
    PowScalar,    ///< x^alpha
    AddScalar,    ///< x + alpha
    MulScalar,    ///< x * alpha
    RDivScalar,   ///< alpha / x
    RPowScalar,   ///< alpha^x
    GtScalar,     ///< 1 if x > alpha else 0
    GeScalar,     ///< 1 if x >= alpha else 0
    LtScalar,     ///< 1 if x < alpha else 0
    LeScalar,     ///< 1 if x <= alpha else 0
    EqScalar,     ///< 1 if x == alpha else 0
    NeScalar,     ///< 1 if x != alpha else 0
    IsNotFinite,  ///< 1 if x is NaN or ±Inf else 0 (anomaly mode)
};

/// @brief Elementwise maps of two inputs with broadcasting: `out = f(a, b)`.
enum class BinaryOp {
    Add,              ///< a + b
    Sub,              ///< a - b
    Mul,              ///< a * b
    Div,              ///< a / b
    Pow,              ///< a^b
    Maximum,          ///< max(a, b) (NaN if either is NaN)
    Minimum,          ///< min(a, b) (NaN if either is NaN)
    Gt,               ///< 1 if a > b else 0
    Ge,               ///< 1 if a >= b else 0
    Lt,               ///< 1 if a < b else 0
    Le,               ///< 1 if a <= b else 0
    Eq,               ///< 1 if a == b else 0
    Ne,               ///< 1 if a != b else 0
    ReluBackward,     ///< a if b > 0 else 0  (a = grad_output, b = relu's output)
    SigmoidBackward,  ///< a * b * (1 - b)    (b = sigmoid's output)
    TanhBackward,     ///< a * (1 - b * b)    (b = tanh's output)
};

/// @brief Reductions over a set of axes.
enum class ReduceOp {
    Sum,  ///< sum of the elements
    Max,  ///< largest element (NaN if any is NaN)
    Min,  ///< smallest element (NaN if any is NaN)
};

/// @brief An opaque buffer of floats on one device, owned by one or more tensors.
///
/// The CPU's storage holds an `xt::xarray<float>`; chapter 4's holds a device pointer.
class Storage {
public:
    /// @brief Releases the buffer.
    virtual ~Storage() = default;
    /// @brief The device the buffer lives on.
    [[nodiscard]] virtual Device device() const = 0;
    /// @brief Raw pointer to the first float (a device pointer for CUDA).
    [[nodiscard]] virtual float* data() = 0;
    /// @brief Number of floats in the buffer.
    [[nodiscard]] virtual std::size_t size() const = 0;
};

/// @brief The kernels one device provides. All pointers are on that device.
///
/// Shapes passed to a kernel are the logical shapes of contiguous row-major buffers.
/// Each kernel writes every element of `out` (overwrites, unless it says "adds").
class Backend {
public:
    /// @brief Releases the backend's resources.
    virtual ~Backend() = default;

    /// @brief The device whose kernels these are.
    [[nodiscard]] virtual Device device() const = 0;

    /// @brief A new, uninitialised buffer for a tensor of `shape`.
    virtual std::shared_ptr<Storage> allocate(const Shape& shape) = 0;

    /// @brief Copies `count` floats from host memory to this device (`dst` on the device).
    virtual void copy_from_host(const float* host, float* dst, std::size_t count) = 0;

    /// @brief Copies `count` floats from this device to host memory.
    virtual void copy_to_host(const float* src, float* host, std::size_t count) = 0;

    /// @brief `out[i] = value` for `count` elements.
    virtual void fill(float* out, std::size_t count, float value) = 0;

    /// @brief `out[i] = op(x[i])` for `count` elements, with the op's scalar parameters.
    virtual void unary(UnaryOp op, const float* x, float* out, std::size_t count,
                       float alpha = 0.0f, float beta = 0.0f) = 0;

    /// @brief `out = op(a, b)` where `a` and `b` broadcast to `out_shape`.
    ///
    /// `a_shape` and `b_shape` may have fewer dimensions than `out_shape` (aligned at the
    /// end) and sizes of 1 where `out_shape` has more.
    virtual void binary(BinaryOp op, const float* a, const Shape& a_shape, const float* b,
                        const Shape& b_shape, float* out, const Shape& out_shape) = 0;

    /// @brief `out = cond != 0 ? a : b`, all three broadcast to `out_shape`.
    virtual void where(const float* cond, const Shape& cond_shape, const float* a,
                       const Shape& a_shape, const float* b, const Shape& b_shape, float* out,
                       const Shape& out_shape) = 0;

    /// @brief Reduces `x` of `shape` over the axes where `reduced[axis]` is true.
    ///
    /// `out` holds the result laid out as `shape` with the reduced sizes set to 1.
    /// A reduced axis of size 0 gives 0 for Sum; callers reject it for Max/Min.
    virtual void reduce(ReduceOp op, const float* x, const Shape& shape,
                        const std::vector<bool>& reduced, float* out) = 0;

    /// @brief For `x` viewed as `(outer, size, inner)`, the index (as a float) of the largest
    /// (or, with `largest = false`, smallest) element along the middle axis; the first wins ties.
    ///
    /// `out` has `outer * inner` elements. `size` is at least 1.
    virtual void arg_reduce(const float* x, std::int64_t outer, std::int64_t size,
                            std::int64_t inner, bool largest, float* out) = 0;

    /// @brief Batched matrix product `c[i] = op(a[i]) @ op(b[i])` for `i < batch`.
    ///
    /// `op(a)` is `(m, k)`: `a[i]` is stored `(m, k)`, or `(k, m)` when `transpose_a`.
    /// `op(b)` is `(k, n)`: `b[i]` is stored `(k, n)`, or `(n, k)` when `transpose_b`.
    /// `c[i]` is `(m, n)`. Batch strides are in elements; 0 reuses one matrix for every `i`.
    virtual void matmul(const float* a, const float* b, float* c, std::int64_t batch,
                        std::int64_t m, std::int64_t n, std::int64_t k, bool transpose_a,
                        bool transpose_b, std::int64_t a_batch_stride,
                        std::int64_t b_batch_stride) = 0;

    /// @brief The general strided copy: for every index `(i0, ..., id)` of `shape`,
    /// `dst[dst_offset + Σ ij dst_strides[j]] (=|+=) src[src_offset + Σ ij src_strides[j]]`.
    ///
    /// One kernel for permute/transpose (permuted source strides), expand (source stride 0),
    /// slicing (source offset and step strides), the gradient of slicing and concatenation
    /// (destination offset and strides). With `accumulate` it adds instead of writing; the
    /// destination positions must then be distinct.
    virtual void copy_strided(const float* src, const std::vector<std::int64_t>& src_strides,
                              std::int64_t src_offset, float* dst,
                              const std::vector<std::int64_t>& dst_strides,
                              std::int64_t dst_offset, const Shape& shape, bool accumulate) = 0;

    /// @brief Gathers along the middle axis of `src` viewed as `(outer, src_size, inner)`.
    ///
    /// With `index_per_element` false, `index` has `count` entries and
    /// `out[o, j, i] = src[o, index[j], i]` (index_select). With it true, `index` has the
    /// shape of `out`, `(outer, count, inner)`, and `out[o, j, i] = src[o, index[o, j, i], i]`
    /// (gather). Indices are in range (callers check).
    virtual void gather(const float* src, std::int64_t outer, std::int64_t src_size,
                        std::int64_t inner, const float* index, std::int64_t count,
                        bool index_per_element, float* out) = 0;

    /// @brief The adjoint of gather: adds `src` of shape `(outer, count, inner)` into `dst`
    /// viewed as `(outer, dst_size, inner)` at the same positions gather reads from.
    /// Repeated indices add up.
    virtual void scatter_add(float* dst, std::int64_t outer, std::int64_t dst_size,
                             std::int64_t inner, const float* index, std::int64_t count,
                             bool index_per_element, const float* src) = 0;

    /// @brief Fills `out` with uniform numbers in `[low, high)` drawn from `generator`.
    ///
    /// The default draws on the host and copies, so every device gives the same numbers
    /// for the same seed.
    virtual void random_uniform(float* out, std::size_t count, float low, float high,
                                Generator& generator);

    /// @brief Fills `out` with normal numbers drawn from `generator` (host draw, as above).
    virtual void random_normal(float* out, std::size_t count, float mean, float stddev,
                               Generator& generator);
};

/// @brief The backend registered for `device`.
///
/// Throws std::runtime_error when none is: for CUDA, "CUDA backend not built or no GPU".
Backend& get_backend(Device device);

/// @brief Whether a backend is registered for `device` (the CPU always is).
bool has_backend(Device device);

/// @brief Registers (or, with nullptr, removes) the backend for `device`.
///
/// Chapter 4 calls `set_backend(Device::CUDA, std::make_unique<CudaBackend>())` at start-up.
/// Not thread-safe: register backends before tensors are used on several threads.
void set_backend(Device device, std::unique_ptr<Backend> backend);

}  // namespace stepgrad
