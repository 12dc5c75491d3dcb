// The CPU backend's memory, matrix product and fused training kernels. The matrix product goes
// through xtensor-blas (OpenBLAS underneath) on views of the raw buffers; the fused kernels live
// in cpu_training_kernels.cpp, each with a plain reference in reference_kernels.cpp.
#include "cpu_training_kernels.hpp"

#include <stepgrad/tensor/cpu_backend.hpp>

#include <xtensor-blas/xblas.hpp>
#include <xtensor/xadapt.hpp>

#include <array>
#include <cstdlib>

namespace stepgrad {

std::shared_ptr<CachingAllocator> CpuBackend::allocator() {
    // 64-byte alignment (a cache line, and enough for any SIMD load); size classes are
    // multiples of 512 bytes, so every request is a multiple of the alignment.
    static const auto cpu_allocator = std::make_shared<CachingAllocator>(
        Device::CPU, [](std::size_t bytes) { return std::aligned_alloc(64, bytes); },
        [](void* pointer, std::size_t) { std::free(pointer); });
    return cpu_allocator;
}

namespace {

// A (rows, cols) row-major matrix at `data`, seen by xtensor without copying.
auto matrix_view(const float* data, std::int64_t rows, std::int64_t cols) {
    const std::array<std::size_t, 2> shape{static_cast<std::size_t>(rows), static_cast<std::size_t>(cols)};
    return xt::adapt(const_cast<float*>(data), static_cast<std::size_t>(rows * cols), xt::no_ownership(), shape);
}

}  // namespace

void CpuBackend::matmul(const float* a, const float* b, float* c, std::int64_t batch, std::int64_t m, std::int64_t n,
                        std::int64_t k, bool transpose_a, bool transpose_b, std::int64_t a_batch_stride,
                        std::int64_t b_batch_stride) {
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
    for (std::int64_t i = 0; i < batch; ++i) {
        auto a_view = transpose_a ? matrix_view(a + i * a_batch_stride, k, m) : matrix_view(a + i * a_batch_stride, m, k);
        auto b_view = transpose_b ? matrix_view(b + i * b_batch_stride, n, k) : matrix_view(b + i * b_batch_stride, k, n);
        auto c_view = matrix_view(c + i * m * n, m, n);
        xt::blas::gemm(a_view, b_view, c_view, transpose_a, transpose_b);
    }
}

void CpuBackend::transpose(const float* x, std::int64_t batch, std::int64_t rows, std::int64_t cols, float* out) {
    cpu::transpose(x, batch, rows, cols, out);
}

void CpuBackend::axpy(std::int64_t count, float alpha, const float* x, float* y) { cpu::axpy(count, alpha, x, y); }

void CpuBackend::im2col(const float* image, const Window2d& window, float* columns) {
    cpu::im2col(image, window, columns);
}

void CpuBackend::col2im(const float* columns, const Window2d& window, float* image) {
    cpu::col2im(columns, window, image);
}

void CpuBackend::max_pool2d_forward(const float* input, const Window2d& window, float* out, std::int64_t* argmax) {
    cpu::max_pool2d_forward(input, window, out, argmax);
}

void CpuBackend::max_pool2d_backward(const float* grad_output, const std::int64_t* argmax, const Window2d& window,
                                     float* grad_input) {
    cpu::max_pool2d_backward(grad_output, argmax, window, grad_input);
}

void CpuBackend::avg_pool2d_forward(const float* input, const Window2d& window, bool count_include_pad, float* out) {
    cpu::avg_pool2d_forward(input, window, count_include_pad, out);
}

void CpuBackend::avg_pool2d_backward(const float* grad_output, const Window2d& window, bool count_include_pad,
                                     float* grad_input) {
    cpu::avg_pool2d_backward(grad_output, window, count_include_pad, grad_input);
}

void CpuBackend::cross_entropy_forward(const float* logits, const std::int64_t* target, std::int64_t batch,
                                       std::int64_t classes, std::int64_t ignore_index, float label_smoothing,
                                       float* log_probs, float* loss, float* valid) {
    cpu::cross_entropy_forward(logits, target, batch, classes, ignore_index, label_smoothing, log_probs, loss, valid);
}

void CpuBackend::cross_entropy_backward(const float* log_probs, const std::int64_t* target, const float* grad_loss,
                                        std::int64_t batch, std::int64_t classes, std::int64_t ignore_index,
                                        float label_smoothing, float* grad_logits) {
    cpu::cross_entropy_backward(log_probs, target, grad_loss, batch, classes, ignore_index, label_smoothing,
                                grad_logits);
}

void CpuBackend::sgd_step(float* param, const float* grad, float* momentum_buffer, std::int64_t count,
                          const SgdUpdate& update) {
    cpu::sgd_step(param, grad, momentum_buffer, count, update);
}

void CpuBackend::adam_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, std::int64_t count,
                           const AdamUpdate& update) {
    cpu::adam_step(param, grad, exp_avg, exp_avg_sq, count, update);
}

}  // namespace stepgrad
