#pragma once
/// @file cpu_backend.hpp
/// @brief The CPU implementation of the Backend interface: plain loops on contiguous buffers,
/// xtensor-blas (OpenBLAS underneath) for the matrix product, cache-friendly fused kernels.

#include <stepgrad/tensor/backend.hpp>

namespace stepgrad {

/// @brief CPU kernels. Every kernel works on raw pointers, so a test can reuse them for a
/// stand-in device; only allocator() knows that CPU memory comes from aligned malloc.
class CpuBackend : public Backend {
public:
    /// @brief Device::CPU.
    [[nodiscard]] Device device() const override { return Device::CPU; }
    /// @brief The process-wide CPU caching allocator (64-byte aligned buffers).
    std::shared_ptr<CachingAllocator> allocator() override;
    /// @brief memcpy.
    void copy_from_host(const void* host, void* dst, std::size_t bytes) override;
    /// @brief memcpy.
    void copy_to_host(const void* src, void* host, std::size_t bytes) override;
    /// @brief A plain loop.
    void fill(Dtype dtype, void* out, std::size_t count, double value) override;
    /// @brief A plain loop.
    void cast(Dtype from, const void* x, Dtype to, void* out, std::size_t count) override;
    /// @brief One loop per op.
    void unary(UnaryOp op, Dtype dtype, const void* x, void* out, std::size_t count, double alpha,
               double beta) override;
    /// @brief Loops over the broadcast shape with collapsed axes; fast paths for equal shapes
    /// and scalars.
    void binary(BinaryOp op, Dtype dtype, const void* a, const Shape& a_shape, const void* b,
                const Shape& b_shape, void* out, const Shape& out_shape) override;
    /// @brief A three-input broadcasting loop.
    void where(const float* cond, const Shape& cond_shape, const float* a, const Shape& a_shape,
               const float* b, const Shape& b_shape, float* out, const Shape& out_shape) override;
    /// @brief Walks the input once, accumulating into the output element it maps to.
    void reduce(ReduceOp op, Dtype dtype, const void* x, const Shape& shape,
                const std::vector<bool>& reduced, void* out) override;
    /// @brief A loop per (outer, inner) pair.
    void arg_reduce(Dtype dtype, const void* x, std::int64_t outer, std::int64_t size,
                    std::int64_t inner, bool largest, std::int64_t* out) override;
    /// @brief `xt::blas::gemm` (OpenBLAS) per batch entry on `xt::adapt` views of the buffers.
    void matmul(const float* a, const float* b, float* c, std::int64_t batch, std::int64_t m,
                std::int64_t n, std::int64_t k, bool transpose_a, bool transpose_b,
                std::int64_t a_batch_stride, std::int64_t b_batch_stride) override;
    /// @brief An odometer over `shape` with a contiguous-friendly innermost loop.
    void copy_strided(Dtype dtype, const void* src, const std::vector<std::int64_t>& src_strides,
                      std::int64_t src_offset, void* dst, const std::vector<std::int64_t>& dst_strides,
                      std::int64_t dst_offset, const Shape& shape, bool accumulate) override;
    /// @brief Row copies (index_select) or a per-element loop (gather); checks every index.
    void gather(Dtype dtype, const void* src, std::int64_t outer, std::int64_t src_size,
                std::int64_t inner, const std::int64_t* index, std::int64_t count,
                bool index_per_element, void* out) override;
    /// @brief The same loops as gather, adding; checks every index.
    void scatter_add(float* dst, std::int64_t outer, std::int64_t dst_size, std::int64_t inner,
                     const std::int64_t* index, std::int64_t count, bool index_per_element,
                     const float* src) override;
    /// @brief Tiled (cache-blocked) transpose.
    void transpose(const float* x, std::int64_t batch, std::int64_t rows, std::int64_t cols,
                   float* out) override;
    /// @brief A plain loop.
    void axpy(std::int64_t count, float alpha, const float* x, float* y) override;
    /// @brief Per-channel runs of contiguous copies.
    void im2col(const float* image, const Window2d& window, float* columns) override;
    /// @brief The same runs, adding.
    void col2im(const float* columns, const Window2d& window, float* image) override;
    /// @brief One pass per output position.
    void max_pool2d_forward(const float* input, const Window2d& window, float* out,
                            std::int64_t* argmax) override;
    /// @brief A scatter through the saved positions.
    void max_pool2d_backward(const float* grad_output, const std::int64_t* argmax,
                             const Window2d& window, float* grad_input) override;
    /// @brief One pass per output position.
    void avg_pool2d_forward(const float* input, const Window2d& window, bool count_include_pad,
                            float* out) override;
    /// @brief Spreads each gradient over its window.
    void avg_pool2d_backward(const float* grad_output, const Window2d& window,
                             bool count_include_pad, float* grad_input) override;
    /// @brief Two passes per row (max, then log-sum-exp).
    void cross_entropy_forward(const float* logits, const std::int64_t* target, std::int64_t batch,
                               std::int64_t classes, std::int64_t ignore_index, float label_smoothing,
                               float* log_probs, float* loss, float* valid) override;
    /// @brief One pass per row.
    void cross_entropy_backward(const float* log_probs, const std::int64_t* target,
                                const float* grad_loss, std::int64_t batch, std::int64_t classes,
                                std::int64_t ignore_index, float label_smoothing,
                                float* grad_logits) override;
    /// @brief One loop over the elements.
    void sgd_step(float* param, const float* grad, float* momentum_buffer, std::int64_t count,
                  const SgdUpdate& update) override;
    /// @brief One loop over the elements.
    void adam_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                   std::int64_t count, const AdamUpdate& update) override;
};

}  // namespace stepgrad
