#pragma once
/// @file cpu_backend.hpp
/// @brief The CPU implementation of the Backend interface: plain loops on contiguous float
/// buffers, xtensor storage and OpenBLAS for the matrix product.

#include <stepgrad/tensor/backend.hpp>

namespace stepgrad {

/// @brief CPU kernels. Every kernel works on raw pointers, so a test can reuse them for a
/// stand-in device; only allocate() knows that CPU storage is an `xt::xarray<float>`.
class CpuBackend : public Backend {
public:
    /// @brief Device::CPU.
    [[nodiscard]] Device device() const override { return Device::CPU; }
    /// @brief An `xt::xarray<float>` of `shape` inside a Storage.
    std::shared_ptr<Storage> allocate(const Shape& shape) override;
    /// @brief memcpy.
    void copy_from_host(const float* host, float* dst, std::size_t count) override;
    /// @brief memcpy.
    void copy_to_host(const float* src, float* host, std::size_t count) override;
    /// @brief A plain loop.
    void fill(float* out, std::size_t count, float value) override;
    /// @brief One loop per op.
    void unary(UnaryOp op, const float* x, float* out, std::size_t count, float alpha,
               float beta) override;
    /// @brief Loops over the broadcast shape with collapsed axes; fast paths for equal shapes
    /// and scalars.
    void binary(BinaryOp op, const float* a, const Shape& a_shape, const float* b,
                const Shape& b_shape, float* out, const Shape& out_shape) override;
    /// @brief A three-input broadcasting loop.
    void where(const float* cond, const Shape& cond_shape, const float* a, const Shape& a_shape,
               const float* b, const Shape& b_shape, float* out, const Shape& out_shape) override;
    /// @brief Walks the input once, accumulating into the output element it maps to.
    void reduce(ReduceOp op, const float* x, const Shape& shape, const std::vector<bool>& reduced,
                float* out) override;
    /// @brief A loop per (outer, inner) pair.
    void arg_reduce(const float* x, std::int64_t outer, std::int64_t size, std::int64_t inner,
                    bool largest, float* out) override;
    /// @brief `cblas_sgemm` per batch entry.
    void matmul(const float* a, const float* b, float* c, std::int64_t batch, std::int64_t m,
                std::int64_t n, std::int64_t k, bool transpose_a, bool transpose_b,
                std::int64_t a_batch_stride, std::int64_t b_batch_stride) override;
    /// @brief An odometer over `shape` with a contiguous-friendly innermost loop.
    void copy_strided(const float* src, const std::vector<std::int64_t>& src_strides,
                      std::int64_t src_offset, float* dst, const std::vector<std::int64_t>& dst_strides,
                      std::int64_t dst_offset, const Shape& shape, bool accumulate) override;
    /// @brief Row copies.
    void gather(const float* src, std::int64_t outer, std::int64_t src_size, std::int64_t inner,
                const float* index, std::int64_t count, bool index_per_element, float* out) override;
    /// @brief Row additions.
    void scatter_add(float* dst, std::int64_t outer, std::int64_t dst_size, std::int64_t inner,
                     const float* index, std::int64_t count, bool index_per_element,
                     const float* src) override;
};

}  // namespace stepgrad
