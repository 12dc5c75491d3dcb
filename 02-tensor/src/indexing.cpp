// Slicing and integer-array indexing. Reading elements forward means adding the gradient back
// into the same places: a slice's gradient is written into a zero tensor, an index's gradient
// is scatter-added (repeated indices add up). Indices are Int64 tensors, checked inside the
// kernels (no copy of the indices to the host).
#include <stepgrad/shared/error.hpp>
#include <stepgrad/tensor/autograd.hpp>
#include <stepgrad/tensor/factories.hpp>
#include <stepgrad/tensor/indexing.hpp>
#include <stepgrad/tensor/shape_ops.hpp>

#include <stdexcept>
#include <string>

namespace stepgrad {

namespace {

// Products of the sizes before and after `axis`.
std::pair<std::int64_t, std::int64_t> outer_inner(const Shape& shape, std::int64_t axis) {
    std::int64_t outer = 1, inner = 1;
    for (std::int64_t i = 0; i < static_cast<std::int64_t>(shape.size()); ++i) {
        if (i < axis) outer *= shape[static_cast<std::size_t>(i)];
        if (i > axis) inner *= shape[static_cast<std::size_t>(i)];
    }
    return {outer, inner};
}

// Runs an index kernel; a bad index it finds is reported with the operation's name.
template <class Kernel>
void run_index_kernel(const char* op, Kernel&& kernel) {
    try {
        kernel();
    } catch (const std::out_of_range& error) {
        throw std::out_of_range(std::string(op) + ": " + error.what());
    }
}

// Scatter-adds `grad_output` into zeros of `in_shape` at the positions an index op read.
Tensor scatter_back(const char* op, const Tensor& grad_output, const Shape& in_shape, const Tensor& positions,
                    std::int64_t outer, std::int64_t size, std::int64_t inner, std::int64_t count,
                    bool index_per_element) {
    Tensor grad = zeros(in_shape, TensorOptions().device(grad_output.device()));
    run_index_kernel(op, [&] {
        get_backend(grad.device()).scatter_add(grad.data_ptr<float>(), outer, size, inner,
                                               positions.data_ptr<std::int64_t>(), count, index_per_element,
                                               grad_output.data_ptr<float>());
    });
    return grad;
}

}  // namespace

// The output reads every step-th element of a range; the gradient writes them back into zeros.
// A slice that is one contiguous block of the input (step 1, and only size-1 axes before
// `axis`) is a view on the same storage, as in PyTorch; other slices are copies.
Tensor slice(const Tensor& x, std::int64_t axis, std::optional<std::int64_t> start, std::optional<std::int64_t> end,
             std::int64_t step) {
    detail::check_defined("slice", x);
    STEPGRAD_CHECK(step > 0, "slice: step must be positive, got " << step);
    const auto a = static_cast<std::size_t>(normalize_axis("slice", axis, x.dim()));
    const std::int64_t size = x.shape()[a];
    auto clamp_bound = [size](std::int64_t bound) {
        if (bound < 0) bound += size;
        return std::min(std::max<std::int64_t>(bound, 0), size);
    };
    const std::int64_t first = start ? clamp_bound(*start) : 0;
    const std::int64_t stop = end ? clamp_bound(*end) : size;
    const std::int64_t length = stop > first ? (stop - first + step - 1) / step : 0;
    Shape out_shape = x.shape();
    out_shape[a] = length;
    std::vector<std::int64_t> strides = contiguous_strides(x.shape());
    const std::int64_t offset = first * strides[a];
    strides[a] *= step;
    bool contiguous = step == 1 || length <= 1;
    for (std::size_t i = 0; contiguous && i < a; ++i) contiguous = x.shape()[i] == 1;
    Tensor out;
    if (contiguous) {
        out = detail::view_of(x, out_shape, length > 0 ? offset : 0);
    } else {
        out = Tensor::empty(out_shape, x.device(), x.dtype());
        get_backend(x.device()).copy_strided(x.dtype(), x.data_ptr(), strides, offset, out.data_ptr(),
                                             contiguous_strides(out_shape), 0, out_shape, false);
    }
    return record("slice", out, {x}, [in_shape = x.shape(), strides, offset](const Tensor& grad_output) {
        Tensor grad = zeros(in_shape, TensorOptions().device(grad_output.device()));
        get_backend(grad.device()).copy_strided(Dtype::Float32, grad_output.data_ptr(),
                                                contiguous_strides(grad_output.shape()), 0, grad.data_ptr(), strides,
                                                offset, grad_output.shape(), false);
        return Grads{grad};
    });
}

Tensor narrow(const Tensor& x, std::int64_t axis, std::int64_t start, std::int64_t length) {
    STEPGRAD_CHECK(length >= 0, "narrow: negative length " << length);
    return slice(x, axis, start, start + length);
}

Tensor select(const Tensor& x, std::int64_t axis, std::int64_t index) {
    detail::check_defined("select", x);
    const std::int64_t a = normalize_axis("select", axis, x.dim());
    const std::int64_t size = x.shape()[static_cast<std::size_t>(a)];
    STEPGRAD_CHECK(index >= -size && index < size, "select: index " << index << " is out of range for axis " << axis
                                                                    << " of size " << size);
    const std::int64_t i = index < 0 ? index + size : index;
    return squeeze(slice(x, a, i, i + 1), a);
}

// out[o, j, i] = x[o, index[j], i]; so x[o, k, i] gets the sum of the gradients of all j with index[j] = k.
Tensor index_select(const Tensor& x, std::int64_t axis, const Tensor& index) {
    detail::check_same_device("index_select", x, index);
    detail::check_index_dtype("index_select", index);
    STEPGRAD_CHECK(index.dim() <= 1, "index_select: index must be 1-D, got shape " << shape_to_string(index.shape()));
    const std::int64_t a = normalize_axis("index_select", axis, x.dim());
    const std::int64_t size = x.shape()[static_cast<std::size_t>(a)];
    const auto outer_and_inner = outer_inner(x.shape(), a);  // not a structured binding: clang 14 cannot capture one
    const std::int64_t outer = outer_and_inner.first, inner = outer_and_inner.second;
    Shape out_shape = x.shape();
    out_shape[static_cast<std::size_t>(a)] = index.numel();
    Tensor out = Tensor::empty(out_shape, x.device(), x.dtype());
    run_index_kernel("index_select", [&] {
        get_backend(x.device()).gather(x.dtype(), x.data_ptr(), outer, size, inner, index.data_ptr<std::int64_t>(),
                                       index.numel(), false, out.data_ptr());
    });
    return record("index_select", out, {x},
                  [in_shape = x.shape(), index = SavedTensor(index), outer, size, inner](const Tensor& grad_output) {
                      const Tensor& positions = index.unpack();
                      return Grads{scatter_back("index_select", grad_output, in_shape, positions, outer, size, inner,
                                                positions.numel(), false)};
                  });
}

Tensor index(const Tensor& x, const Tensor& indices) {
    detail::check_defined("index", x);
    detail::check_index_dtype("index", indices);
    STEPGRAD_CHECK(x.dim() >= 1, "index: cannot index a 0-dimensional tensor");
    Shape out_shape = indices.shape();
    out_shape.insert(out_shape.end(), x.shape().begin() + 1, x.shape().end());
    return reshape(index_select(x, 0, reshape(indices, {indices.numel()})), out_shape);
}

namespace {
// gather and scatter_add need an index shaped like the input except along `axis`.
void check_index_shape(const char* op, const Tensor& x, std::int64_t a, const Tensor& index) {
    bool match = index.dim() == x.dim();
    for (std::int64_t i = 0; match && i < x.dim(); ++i) {
        match = i == a || index.shape()[static_cast<std::size_t>(i)] == x.shape()[static_cast<std::size_t>(i)];
    }
    STEPGRAD_CHECK(match, op << ": index of shape " << shape_to_string(index.shape()) << " must match input shape "
                             << shape_to_string(x.shape()) << " except along axis " << a);
}
}  // namespace

// out[o, j, i] = x[o, index[o, j, i], i]; the gradient scatter-adds back to those positions.
Tensor gather(const Tensor& x, std::int64_t axis, const Tensor& index) {
    detail::check_same_device("gather", x, index);
    detail::check_index_dtype("gather", index);
    const std::int64_t a = normalize_axis("gather", axis, x.dim());
    check_index_shape("gather", x, a, index);
    const std::int64_t size = x.shape()[static_cast<std::size_t>(a)];
    const auto outer_and_inner = outer_inner(x.shape(), a);  // not a structured binding: clang 14 cannot capture one
    const std::int64_t outer = outer_and_inner.first, inner = outer_and_inner.second;
    const std::int64_t count = index.shape()[static_cast<std::size_t>(a)];
    Tensor out = Tensor::empty(index.shape(), x.device(), x.dtype());
    run_index_kernel("gather", [&] {
        get_backend(x.device()).gather(x.dtype(), x.data_ptr(), outer, size, inner, index.data_ptr<std::int64_t>(),
                                       count, true, out.data_ptr());
    });
    return record("gather", out, {x},
                  [in_shape = x.shape(), index = SavedTensor(index), outer, size, inner, count](const Tensor& grad_output) {
                      return Grads{scatter_back("gather", grad_output, in_shape, index.unpack(), outer, size, inner,
                                                count, true)};
                  });
}

// out = x, then out[o, index[o, j, i], i] += src[o, j, i]. The gradient passes to x unchanged;
// src's gradient is read back from the same positions (a gather).
Tensor scatter_add(const Tensor& x, std::int64_t axis, const Tensor& index, const Tensor& src) {
    detail::check_same_device("scatter_add", x, index);
    detail::check_same_device("scatter_add", x, src);
    detail::check_index_dtype("scatter_add", index);
    detail::check_float("scatter_add", x);
    detail::check_float("scatter_add", src);
    const std::int64_t a = normalize_axis("scatter_add", axis, x.dim());
    check_index_shape("scatter_add", x, a, index);
    STEPGRAD_CHECK(src.shape() == index.shape(), "scatter_add: src of shape " << shape_to_string(src.shape())
                                                     << " must have the index's shape " << shape_to_string(index.shape()));
    const std::int64_t size = x.shape()[static_cast<std::size_t>(a)];
    const auto outer_and_inner = outer_inner(x.shape(), a);  // not a structured binding: clang 14 cannot capture one
    const std::int64_t outer = outer_and_inner.first, inner = outer_and_inner.second;
    const std::int64_t count = index.shape()[static_cast<std::size_t>(a)];
    Tensor out = x.detach().clone();
    run_index_kernel("scatter_add", [&] {
        get_backend(x.device()).scatter_add(out.data_ptr<float>(), outer, size, inner, index.data_ptr<std::int64_t>(),
                                            count, true, src.data_ptr<float>());
    });
    return record("scatter_add", out, {x, src}, [axis = a, index = SavedTensor(index)](const Tensor& grad_output) {
        return Grads{grad_output, gather(grad_output, axis, index.unpack())};
    });
}

Tensor Tensor::slice(std::int64_t axis, std::optional<std::int64_t> start, std::optional<std::int64_t> end,
                     std::int64_t step) const {
    return stepgrad::slice(*this, axis, start, end, step);
}
Tensor Tensor::select(std::int64_t axis, std::int64_t index) const { return stepgrad::select(*this, axis, index); }
Tensor Tensor::index_select(std::int64_t axis, const Tensor& index) const {
    return stepgrad::index_select(*this, axis, index);
}
Tensor Tensor::index(const Tensor& indices) const { return stepgrad::index(*this, indices); }
Tensor Tensor::gather(std::int64_t axis, const Tensor& index) const { return stepgrad::gather(*this, axis, index); }

}  // namespace stepgrad
