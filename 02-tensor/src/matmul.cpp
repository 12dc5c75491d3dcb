// The matrix product: the BLAS fast path, its batch broadcasting, its gradient, and the
// plain triple loop it is tested against.
#include <stepgrad/shared/error.hpp>
#include <stepgrad/tensor/autograd.hpp>
#include <stepgrad/tensor/matmul.hpp>
#include <stepgrad/tensor/shape_ops.hpp>

namespace stepgrad {

namespace {

Shape batch_shape_of(const Tensor& t) { return Shape(t.shape().begin(), t.shape().end() - 2); }

// The batch stride of `t` inside a product whose batch shape is `batch`, expanding `t`
// (a copy) in the rare case where its batch axes broadcast only partly.
std::int64_t batch_stride(Tensor& t, const Shape& batch) {
    const Shape own = batch_shape_of(t);
    const std::int64_t matrix = t.shape()[t.shape().size() - 2] * t.shape().back();
    if (numel_of(own) == 1) return 0;
    if (numel_of(own) == numel_of(batch)) return matrix;
    Shape full = batch;
    full.push_back(t.shape()[t.shape().size() - 2]);
    full.push_back(t.shape().back());
    t = detail::expand_kernel(t, full);
    return matrix;
}

std::string shapes(const Tensor& a, const Tensor& b) {
    return shape_to_string(a.shape()) + " and " + shape_to_string(b.shape());
}

// The product of operands with at least 2 axes, recorded with its gradient.
Tensor matmul_batched(const Tensor& a, const Tensor& b) {
    Tensor out = detail::matmul_kernel(a, b, false, false);
    return record("mm", out, {a, b},
                  [a = SavedTensor(a), b = SavedTensor(b)]([[maybe_unused]] const Tensor& grad_output) -> Grads {
        // exercise 02.2: the gradient of the matrix product C = A @ B
        // hint: dL/dA = dL/dC @ B^T and dL/dB = A^T @ dL/dC; matmul_kernel(x, y, transpose_x, transpose_y)
        // hint: transposes without copying. Batch axes that were broadcast are summed back with sum_to.
        // hint: a and b are SavedTensors: a.unpack() is the tensor, a.requires_grad() says if it needs a gradient.
        Tensor grad_a, grad_b;
        if (a.requires_grad()) grad_a = sum_to(detail::matmul_kernel(grad_output, b.unpack(), false, true), a.shape());
        if (b.requires_grad()) grad_b = sum_to(detail::matmul_kernel(a.unpack(), grad_output, true, false), b.shape());
        return Grads{grad_a, grad_b};
        // end exercise
    });
}

}  // namespace

namespace detail {

Tensor matmul_kernel(const Tensor& a_in, const Tensor& b_in, bool transpose_a, bool transpose_b) {
    check_same_device("matmul", a_in, b_in);
    check_float("matmul", a_in);
    check_float("matmul", b_in);
    STEPGRAD_CHECK(a_in.dim() >= 2 && b_in.dim() >= 2, "matmul: expected operands with at least 2 axes, got shapes "
                                                           << shapes(a_in, b_in));
    Tensor a = a_in, b = b_in;
    const std::int64_t rows_a = a.shape()[a.shape().size() - 2], cols_a = a.shape().back();
    const std::int64_t rows_b = b.shape()[b.shape().size() - 2], cols_b = b.shape().back();
    const std::int64_t m = transpose_a ? cols_a : rows_a, k = transpose_a ? rows_a : cols_a;
    const std::int64_t k_b = transpose_b ? cols_b : rows_b, n = transpose_b ? rows_b : cols_b;
    STEPGRAD_CHECK(k == k_b, "matmul: shapes " << shapes(a_in, b_in) << " cannot be multiplied (" << k << " columns vs "
                                               << k_b << " rows)");
    Shape out_shape = broadcast_shapes("matmul", batch_shape_of(a), batch_shape_of(b));
    const std::int64_t batch = numel_of(out_shape);
    const std::int64_t stride_a = batch_stride(a, out_shape);
    const std::int64_t stride_b = batch_stride(b, out_shape);
    out_shape.push_back(m);
    out_shape.push_back(n);
    Tensor out = Tensor::empty(out_shape, a.device());
    get_backend(a.device()).matmul(a.data_ptr<float>(), b.data_ptr<float>(), out.data_ptr<float>(), batch, m, n, k,
                                   transpose_a, transpose_b, stride_a, stride_b);
    return out;
}

}  // namespace detail

Tensor matmul(const Tensor& a, const Tensor& b) {
    detail::check_same_device("matmul", a, b);
    STEPGRAD_CHECK(a.dim() >= 1 && b.dim() >= 1, "matmul: both operands need at least 1 axis, got shapes " << shapes(a, b));
    // A vector on the left is a row (1, k), on the right a column (k, 1); the added axis is removed after.
    const bool row = a.dim() == 1, column = b.dim() == 1;
    Tensor out = matmul_batched(row ? unsqueeze(a, 0) : a, column ? unsqueeze(b, 1) : b);
    if (column) out = squeeze(out, -1);
    if (row) out = squeeze(out, column ? -1 : -2);
    return out;
}

Tensor mm(const Tensor& a, const Tensor& b) {
    detail::check_defined("mm", a);
    detail::check_defined("mm", b);
    STEPGRAD_CHECK(a.dim() == 2 && b.dim() == 2, "mm: expected two matrices, got shapes " << shapes(a, b));
    return matmul(a, b);
}

Tensor matmul_naive(const Tensor& a, const Tensor& b) {
    STEPGRAD_CHECK(a.dim() == 2 && b.dim() == 2 && a.shape()[1] == b.shape()[0],
                   "matmul_naive: expected (m, k) and (k, n) matrices, got shapes " << shapes(a, b));
    const std::vector<float> av = a.cpu().to_vector(), bv = b.cpu().to_vector();
    const std::int64_t m = a.shape()[0], k = a.shape()[1], n = b.shape()[1];
    std::vector<float> out(static_cast<std::size_t>(m * n), 0.0f);
    for (std::int64_t i = 0; i < m; ++i) {
        for (std::int64_t j = 0; j < n; ++j) {
            double total = 0.0;
            for (std::int64_t p = 0; p < k; ++p) total += double(av[std::size_t(i * k + p)]) * bv[std::size_t(p * n + j)];
            out[static_cast<std::size_t>(i * n + j)] = static_cast<float>(total);
        }
    }
    Tensor result = Tensor::empty({m, n});
    get_backend(Device::CPU).copy_from_host(out.data(), result.data_ptr(), out.size() * sizeof(float));
    return result;
}

Tensor Tensor::matmul(const Tensor& other) const { return stepgrad::matmul(*this, other); }

}  // namespace stepgrad
