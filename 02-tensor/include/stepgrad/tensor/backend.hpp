#pragma once
/// @file backend.hpp
/// @brief The small set of kernels a Tensor needs from a device, and the registry of backends.
///
/// Everything above this interface (Tensor operations, autograd, chapter 3's layers) is
/// written once. A device provides storage and these kernels on raw pointers, shapes and
/// strides; chapter 2 implements them for the CPU (cpu_backend.hpp), chapter 4 for CUDA and
/// registers them with `set_backend(Device::CUDA, ...)`. No xtensor type appears here.
///
/// Conventions: every buffer is contiguous and row-major on the backend's device; sizes and
/// strides count elements; index buffers are Int64.

#include <stepgrad/tensor/allocator.hpp>
#include <stepgrad/tensor/device.hpp>
#include <stepgrad/tensor/dtype.hpp>
#include <stepgrad/tensor/optimizer_kernels.hpp>
#include <stepgrad/tensor/storage.hpp>
#include <stepgrad/tensor/window.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
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

/// @brief The kernels one device provides. All data pointers are on that device.
///
/// Buffers are contiguous and row-major; shapes passed to a kernel are their logical shapes;
/// sizes, strides and offsets count elements. Each kernel writes every element of its output
/// (overwrites, unless it says "adds"). Kernels that take a `Dtype` work on Float32 and Int64
/// buffers (the element type of every pointer argument named `void`); the rest are Float32.
///
/// **Synchronisation.** Only copy_to_host() waits for the device: it returns when the bytes
/// are on the host. Every other call may return before its work is done (a GPU queues it on
/// one stream, in order), so nothing above this interface may read device memory except
/// through copy_to_host(). `Tensor::item()`, `to_vector()` and printing are the only
/// synchronising calls of a Tensor.
///
/// **Index checks.** gather, scatter_add and the cross-entropy kernel check their indices
/// themselves, on the device, instead of the caller copying indices to the host. The CPU throws
/// std::out_of_range at once; a GPU records the first bad index and reports it at the next
/// synchronising call.
class Backend {
public:
    /// @brief Releases the backend's resources.
    virtual ~Backend() = default;

    /// @brief The device whose kernels these are.
    [[nodiscard]] virtual Device device() const = 0;

    /// @brief The device's caching allocator (every storage's memory comes from it).
    virtual std::shared_ptr<CachingAllocator> allocator() = 0;

    /// @brief A new, uninitialised storage of `bytes` from allocator().
    std::shared_ptr<Storage> allocate(std::size_t bytes) { return std::make_shared<Storage>(allocator(), bytes); }

    // ---- transfers and fills --------------------------------------------------------------

    /// @brief Copies `bytes` from host memory to `dst` on this device.
    virtual void copy_from_host(const void* host, void* dst, std::size_t bytes) = 0;

    /// @brief Copies `bytes` from `src` on this device to host memory; waits for the device.
    virtual void copy_to_host(const void* src, void* host, std::size_t bytes) = 0;

    /// @brief `out[i] = value` (converted to `dtype`) for `count` elements.
    virtual void fill(Dtype dtype, void* out, std::size_t count, double value) = 0;

    /// @brief `out[i] = x[i]` converted from `from` to `to` (float to int64 truncates toward 0).
    virtual void cast(Dtype from, const void* x, Dtype to, void* out, std::size_t count) = 0;

    // ---- elementwise maps, reductions, matmul ---------------------------------------------

    /// @brief `out[i] = op(x[i])` for `count` elements, with the op's scalar parameters.
    ///
    /// Float32: every op. Int64: Neg, Abs, Sign, AddScalar, MulScalar and the comparisons.
    /// Comparisons (GtScalar ... NeScalar, IsNotFinite) write a Float32 mask of 0 and 1;
    /// the others write `dtype`.
    virtual void unary(UnaryOp op, Dtype dtype, const void* x, void* out, std::size_t count,
                       double alpha = 0.0, double beta = 0.0) = 0;

    /// @brief `out = op(a, b)` where `a` and `b` (both `dtype`) broadcast to `out_shape`.
    ///
    /// `a_shape` and `b_shape` may have fewer dimensions than `out_shape` (aligned at the
    /// end) and sizes of 1 where `out_shape` has more. Float32: every op. Int64: Add, Sub,
    /// Mul, Maximum, Minimum and the comparisons. Comparisons write a Float32 mask.
    /// `out` may be `a` itself when `a_shape == out_shape` (an in-place update, as conv2d's bias
    /// add): each element of `a` is read only to write the same element of `out`.
    virtual void binary(BinaryOp op, Dtype dtype, const void* a, const Shape& a_shape, const void* b,
                        const Shape& b_shape, void* out, const Shape& out_shape) = 0;

    /// @brief `out = cond != 0 ? a : b`, all three Float32 and broadcast to `out_shape`.
    virtual void where(const float* cond, const Shape& cond_shape, const float* a,
                       const Shape& a_shape, const float* b, const Shape& b_shape, float* out,
                       const Shape& out_shape) = 0;

    /// @brief Reduces `x` of `shape` over the axes where `reduced[axis]` is true.
    ///
    /// `out` (same dtype) holds the result laid out as `shape` with the reduced sizes set to 1.
    /// A reduced axis of size 0 gives 0 for Sum; callers reject it for Max/Min.
    virtual void reduce(ReduceOp op, Dtype dtype, const void* x, const Shape& shape,
                        const std::vector<bool>& reduced, void* out) = 0;

    /// @brief For `x` viewed as `(outer, size, inner)`, the index of the largest (or, with
    /// `largest = false`, smallest) element along the middle axis; the first wins ties, NaN wins.
    ///
    /// `out` has `outer * inner` elements. `size` is at least 1.
    virtual void arg_reduce(Dtype dtype, const void* x, std::int64_t outer, std::int64_t size,
                            std::int64_t inner, bool largest, std::int64_t* out) = 0;

    /// @brief Batched matrix product `c[i] = op(a[i]) @ op(b[i])` for `i < batch`.
    ///
    /// `op(a)` is `(m, k)`: `a[i]` is stored `(m, k)`, or `(k, m)` when `transpose_a`.
    /// `op(b)` is `(k, n)`: `b[i]` is stored `(k, n)`, or `(n, k)` when `transpose_b`.
    /// `c[i]` is `(m, n)`. Batch strides are in elements; 0 reuses one matrix for every `i`.
    virtual void matmul(const float* a, const float* b, float* c, std::int64_t batch,
                        std::int64_t m, std::int64_t n, std::int64_t k, bool transpose_a,
                        bool transpose_b, std::int64_t a_batch_stride,
                        std::int64_t b_batch_stride) = 0;

    // ---- moving elements ------------------------------------------------------------------

    /// @brief The general strided copy: for every index `(i0, ..., id)` of `shape`,
    /// `dst[dst_offset + Σ ij dst_strides[j]] (=|+=) src[src_offset + Σ ij src_strides[j]]`.
    ///
    /// One kernel for permute/transpose (permuted source strides), expand (source stride 0),
    /// slicing (source offset and step strides), the gradient of slicing and concatenation
    /// (destination offset and strides). With `accumulate` (Float32 only) it adds instead of
    /// writing; the destination positions must then be distinct.
    virtual void copy_strided(Dtype dtype, const void* src, const std::vector<std::int64_t>& src_strides,
                              std::int64_t src_offset, void* dst,
                              const std::vector<std::int64_t>& dst_strides, std::int64_t dst_offset,
                              const Shape& shape, bool accumulate) = 0;

    /// @brief Gathers along the middle axis of `src` (`dtype`) viewed as `(outer, src_size, inner)`.
    ///
    /// With `index_per_element` false, `index` has `count` entries and
    /// `out[o, j, i] = src[o, index[j], i]` (index_select). With it true, `index` has the
    /// shape of `out`, `(outer, count, inner)`, and `out[o, j, i] = src[o, index[o, j, i], i]`
    /// (gather). An index in `[-src_size, 0)` counts from the end; others out of range are
    /// reported as described above.
    virtual void gather(Dtype dtype, const void* src, std::int64_t outer, std::int64_t src_size,
                        std::int64_t inner, const std::int64_t* index, std::int64_t count,
                        bool index_per_element, void* out) = 0;

    /// @brief The adjoint of gather: adds `src` of shape `(outer, count, inner)` into `dst`
    /// viewed as `(outer, dst_size, inner)` at the same positions gather reads from.
    /// Repeated indices add up. Indices are checked as in gather.
    virtual void scatter_add(float* dst, std::int64_t outer, std::int64_t dst_size,
                             std::int64_t inner, const std::int64_t* index, std::int64_t count,
                             bool index_per_element, const float* src) = 0;

    /// @brief `out[b] = x[b]` transposed, for `batch` matrices `(rows, cols)` (a tiled copy).
    virtual void transpose(const float* x, std::int64_t batch, std::int64_t rows, std::int64_t cols,
                           float* out) = 0;

    /// @brief `y += alpha * x` for `count` elements, in place, without allocating.
    virtual void axpy(std::int64_t count, float alpha, const float* x, float* y) = 0;

    // ---- random numbers -------------------------------------------------------------------

    /// @brief Fills `out` with uniform numbers in `[low, high)` drawn from `generator`.
    ///
    /// The default draws on the host and copies, so every device gives the same numbers
    /// for the same seed.
    virtual void random_uniform(float* out, std::size_t count, float low, float high,
                                Generator& generator);

    /// @brief Fills `out` with normal numbers drawn from `generator` (host draw, as above).
    virtual void random_normal(float* out, std::size_t count, float mean, float stddev,
                               Generator& generator);

    /// @brief Writes a random permutation of `0..n-1` (Fisher-Yates on the host, as above).
    virtual void randperm(std::int64_t* out, std::int64_t n, Generator& generator);

    // ---- the fused kernels training needs (each has a plain reference: reference_kernels.hpp) --

    /// @brief image `(N, C, H, W)` to columns `(N, C*kh*kw, OH*OW)` (see Window2d).
    virtual void im2col(const float* image, const Window2d& window, float* columns) = 0;
    /// @brief The adjoint of im2col: overwrites image `(N, C, H, W)` with the columns added
    /// back where they were read (overlapping patches add up).
    virtual void col2im(const float* columns, const Window2d& window, float* image) = 0;

    /// @brief Max pooling: out `(N, C, OH, OW)` and, per output, the position `h * W + w` of
    /// its maximum inside the input plane (padding is -inf; the first maximum wins ties).
    virtual void max_pool2d_forward(const float* input, const Window2d& window, float* out,
                                    std::int64_t* argmax) = 0;
    /// @brief Overwrites grad_input `(N, C, H, W)` with each grad_output added at its argmax.
    virtual void max_pool2d_backward(const float* grad_output, const std::int64_t* argmax,
                                     const Window2d& window, float* grad_input) = 0;

    /// @brief Average pooling (divisor kh*kw with `count_include_pad`, else the taps inside).
    virtual void avg_pool2d_forward(const float* input, const Window2d& window,
                                    bool count_include_pad, float* out) = 0;
    /// @brief Overwrites grad_input with each grad_output spread evenly over its window.
    virtual void avg_pool2d_backward(const float* grad_output, const Window2d& window,
                                     bool count_include_pad, float* grad_input) = 0;

    /// @brief Cross-entropy rows: log_probs `(batch, classes)` = log_softmax(logits); loss
    /// `(batch)` = `(1-ε) (-log_probs[target]) + ε/classes Σ_c -log_probs[c]`; valid `(batch)`
    /// = 0 where target == ignore_index (loss 0 there), else 1. Targets are checked.
    virtual void cross_entropy_forward(const float* logits, const std::int64_t* target,
                                       std::int64_t batch, std::int64_t classes,
                                       std::int64_t ignore_index, float label_smoothing,
                                       float* log_probs, float* loss, float* valid) = 0;
    /// @brief grad_logits = grad_loss[row] (softmax - smoothed one-hot); 0 on ignored rows.
    virtual void cross_entropy_backward(const float* log_probs, const std::int64_t* target,
                                        const float* grad_loss, std::int64_t batch,
                                        std::int64_t classes, std::int64_t ignore_index,
                                        float label_smoothing, float* grad_logits) = 0;

    /// @brief One SGD step in place (see SgdUpdate); `momentum_buffer` may be null without momentum.
    virtual void sgd_step(float* param, const float* grad, float* momentum_buffer, std::int64_t count,
                          const SgdUpdate& update) = 0;
    /// @brief One Adam/AdamW step in place (see AdamUpdate).
    virtual void adam_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                           std::int64_t count, const AdamUpdate& update) = 0;
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

/// @brief Registers a function that makes `device`'s backend on its first use.
///
/// Chapter 4 registers the CUDA backend this way when `stepgrad::gpu` is linked, so a program
/// that never uses the GPU never starts it. The first get_backend(device) calls the factory
/// once; if it throws (no GPU, no driver), get_backend throws its message, then and on every
/// later call, and has_backend(device) is false. A backend set with set_backend() wins.
void set_backend_factory(Device device, std::function<std::unique_ptr<Backend>()> factory);

/// @brief The statistics of `device`'s caching allocator (bytes in use and cached, hits, misses).
///
/// Example: `std::cout << to_string(memory_stats(Device::CPU));`
AllocatorStats memory_stats(Device device);

/// @brief Returns `device`'s cached, unused buffers to the system (or the GPU driver).
void empty_cache(Device device);

}  // namespace stepgrad
