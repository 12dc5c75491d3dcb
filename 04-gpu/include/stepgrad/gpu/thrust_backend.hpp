#pragma once
/// @file thrust_backend.hpp
/// @brief Chapter 4's implementation of the Backend interface: Thrust algorithms over functors,
/// compiled by nvcc for the GPU and by g++ for the host (Thrust's C++ device system).
///
/// One class, two builds. Linked from `stepgrad::gpu` (nvcc) it runs on the GPU, on one
/// stream, without waiting after each call. Linked from `stepgrad::gpu_host` (g++) the same
/// kernels run on the host, so every machine can test them. Either is registered as
/// Device::CUDA; user code only ever sees `Device::CUDA`.

#include <stepgrad/tensor/backend.hpp>

namespace stepgrad::gpu {

/// @brief The Backend for Device::CUDA, written once in Thrust (see the file comment).
///
/// Memory comes from a caching allocator (no cudaMalloc per operation); kernels are queued and
/// only copy_to_host() waits. Indices are checked on the device and a bad one is reported
/// (std::out_of_range) at the next copy_to_host().
class ThrustBackend : public Backend {
public:
    /// @brief Sets up the device (the stream, the cuBLAS handle, the error slot).
    ThrustBackend();
    /// @brief Device::CUDA.
    [[nodiscard]] Device device() const override { return Device::CUDA; }
    /// @brief The device's caching allocator (also used for Thrust's temporaries).
    std::shared_ptr<CachingAllocator> allocator() override;
    /// @brief An asynchronous host-to-device copy.
    void copy_from_host(const void* host, void* dst, std::size_t bytes) override;
    /// @brief A device-to-host copy that waits; then reports any index error the kernels found.
    void copy_to_host(const void* src, void* host, std::size_t bytes) override;
    /// @brief `thrust::fill_n`.
    void fill(Dtype dtype, void* out, std::size_t count, double value) override;
    /// @brief `thrust::transform` with a converting functor.
    void cast(Dtype from, const void* x, Dtype to, void* out, std::size_t count) override;
    /// @brief One functor that switches on the op.
    void unary(UnaryOp op, Dtype dtype, const void* x, void* out, std::size_t count, double alpha,
               double beta) override;
    /// @brief One thread per output element; broadcasting by strides (0 on stretched axes).
    void binary(BinaryOp op, Dtype dtype, const void* a, const Shape& a_shape, const void* b,
                const Shape& b_shape, void* out, const Shape& out_shape) override;
    /// @brief One thread per output element, three broadcast inputs.
    void where(const float* cond, const Shape& cond_shape, const float* a, const Shape& a_shape,
               const float* b, const Shape& b_shape, float* out, const Shape& out_shape) override;
    /// @brief A thread per output element (long rows are split into chunks and summed twice).
    void reduce(ReduceOp op, Dtype dtype, const void* x, const Shape& shape,
                const std::vector<bool>& reduced, void* out) override;
    /// @brief A thread per (outer, inner) pair.
    void arg_reduce(Dtype dtype, const void* x, std::int64_t outer, std::int64_t size,
                    std::int64_t inner, bool largest, std::int64_t* out) override;
    /// @brief cuBLAS `cublasSgemmStridedBatched` (OpenBLAS in the host build).
    void matmul(const float* a, const float* b, float* c, std::int64_t batch, std::int64_t m,
                std::int64_t n, std::int64_t k, bool transpose_a, bool transpose_b,
                std::int64_t a_batch_stride, std::int64_t b_batch_stride) override;
    /// @brief A thread per element, each computing its two offsets from the strides.
    void copy_strided(Dtype dtype, const void* src, const std::vector<std::int64_t>& src_strides,
                      std::int64_t src_offset, void* dst, const std::vector<std::int64_t>& dst_strides,
                      std::int64_t dst_offset, const Shape& shape, bool accumulate) override;
    /// @brief A thread per output element; bad indices are recorded, not read.
    void gather(Dtype dtype, const void* src, std::int64_t outer, std::int64_t src_size,
                std::int64_t inner, const std::int64_t* index, std::int64_t count,
                bool index_per_element, void* out) override;
    /// @brief A thread per source element with an atomic add (repeated indices add up).
    void scatter_add(float* dst, std::int64_t outer, std::int64_t dst_size, std::int64_t inner,
                     const std::int64_t* index, std::int64_t count, bool index_per_element,
                     const float* src) override;
    /// @brief A thread per output element.
    void transpose(const float* x, std::int64_t batch, std::int64_t rows, std::int64_t cols,
                   float* out) override;
    /// @brief A thread per element.
    void axpy(std::int64_t count, float alpha, const float* x, float* y) override;
    /// @brief A thread per column element.
    void im2col(const float* image, const Window2d& window, float* columns) override;
    /// @brief A thread per image element, gathering the columns that read it (no atomics).
    void col2im(const float* columns, const Window2d& window, float* image) override;
    /// @brief A thread per output element.
    void max_pool2d_forward(const float* input, const Window2d& window, float* out,
                            std::int64_t* argmax) override;
    /// @brief A thread per input element, gathering the outputs whose maximum it was.
    void max_pool2d_backward(const float* grad_output, const std::int64_t* argmax,
                             const Window2d& window, float* grad_input) override;
    /// @brief A thread per output element.
    void avg_pool2d_forward(const float* input, const Window2d& window, bool count_include_pad,
                            float* out) override;
    /// @brief A thread per input element, gathering the windows that cover it.
    void avg_pool2d_backward(const float* grad_output, const Window2d& window,
                             bool count_include_pad, float* grad_input) override;
    /// @brief A thread per row; a bad target is recorded and reported at the next copy to the host.
    void cross_entropy_forward(const float* logits, const std::int64_t* target, std::int64_t batch,
                               std::int64_t classes, std::int64_t ignore_index, float label_smoothing,
                               float* log_probs, float* loss, float* valid) override;
    /// @brief A thread per logit.
    void cross_entropy_backward(const float* log_probs, const std::int64_t* target,
                                const float* grad_loss, std::int64_t batch, std::int64_t classes,
                                std::int64_t ignore_index, float label_smoothing,
                                float* grad_logits) override;
    /// @brief A thread per parameter.
    void sgd_step(float* param, const float* grad, float* momentum_buffer, std::int64_t count,
                  const SgdUpdate& update) override;
    /// @brief A thread per parameter.
    void adam_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                   std::int64_t count, const AdamUpdate& update) override;
};

}  // namespace stepgrad::gpu
