#pragma once
/// @file matmul.hpp
/// @brief Matrix products: `matmul` (1-D, 2-D and batched, through BLAS) and its plain reference.

#include <stepgrad/tensor/tensor.hpp>

namespace stepgrad {

/// @brief The matrix product with PyTorch's rules.
///
/// - `(k) @ (k)` gives a scalar (the dot product);
/// - `(m, k) @ (k, n)` gives `(m, n)`;
/// - a 1-D left operand is a row `(1, k)` and a 1-D right operand a column `(k, 1)`, and the
///   added axis is removed from the result: `(k) @ (k, n)` gives `(n)`;
/// - with more axes, the leading (batch) axes broadcast: `(b, 1, m, k) @ (c, k, n)` gives
///   `(b, c, m, n)`.
///
/// Runs `cblas_sgemm` (OpenBLAS) on the CPU. The gradient uses the same kernel with transpose
/// flags, so no transposed copy is ever made. Example: `matmul(x, w)` for `x (64, 784)` and
/// `w (784, 128)` is `(64, 128)`.
Tensor matmul(const Tensor& a, const Tensor& b);

/// @brief Same as matmul for 2-D operands (as `torch::mm`); throws for other ranks.
Tensor mm(const Tensor& a, const Tensor& b);

/// @brief The triple loop that matmul must agree with (2-D CPU tensors only, no gradient).
/// Kept as the reference for tests and for the chapter.
Tensor matmul_naive(const Tensor& a, const Tensor& b);

namespace detail {
/// @brief `op(a) @ op(b)` for 2-D or batched (≥ 3-D, same or broadcast batch) operands, where
/// op transposes the last two axes when the flag is set; no gradient recorded. The building
/// block of matmul and of its gradient.
Tensor matmul_kernel(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b);
}  // namespace detail

}  // namespace stepgrad
