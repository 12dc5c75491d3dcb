// Reductions over axes, each with its gradient.
#include <stepgrad/shared/error.hpp>
#include <stepgrad/tensor/autograd.hpp>
#include <stepgrad/tensor/elementwise.hpp>
#include <stepgrad/tensor/reduce.hpp>
#include <stepgrad/tensor/shape_ops.hpp>

namespace stepgrad {

namespace {

// reduced[i] is true for each axis in `axes` (all axes when `axes` is empty).
std::vector<bool> reduced_axes(const char* op, const Tensor& x, const std::vector<std::int64_t>& axes) {
    std::vector<bool> reduced(x.shape().size(), axes.empty());
    for (std::int64_t axis : axes) {
        const auto a = static_cast<std::size_t>(normalize_axis(op, axis, x.dim()));
        STEPGRAD_CHECK(!reduced[a], op << ": axis " << axis << " is listed twice");
        reduced[a] = true;
    }
    return reduced;
}

// The shape after reducing: reduced axes become 1 (keepdim) or disappear.
Shape reduced_shape(const Shape& shape, const std::vector<bool>& reduced, bool keepdim) {
    Shape out;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (!reduced[i]) out.push_back(shape[i]);
        else if (keepdim) out.push_back(1);
    }
    return out;
}

std::int64_t reduced_count(const Shape& shape, const std::vector<bool>& reduced) {
    std::int64_t count = 1;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (reduced[i]) count *= shape[i];
    }
    return count;
}

std::vector<std::int64_t> axes_of(const std::vector<bool>& reduced) {
    std::vector<std::int64_t> axes;
    for (std::size_t i = 0; i < reduced.size(); ++i) {
        if (reduced[i]) axes.push_back(static_cast<std::int64_t>(i));
    }
    return axes;
}

Tensor reduce_kernel(ReduceOp op, const Tensor& x, const std::vector<bool>& reduced, bool keepdim) {
    // The kernel writes the keepdim layout, which is the same memory as the squeezed one.
    Tensor out = Tensor::empty(reduced_shape(x.shape(), reduced, keepdim), x.device(), x.dtype());
    get_backend(x.device()).reduce(op, x.dtype(), x.data_ptr(), x.shape(), reduced, out.data_ptr());
    return out;
}

// Shared by max and min: the gradient goes to the elements equal to the result, split
// equally between ties (as torch.amax does).
Tensor extreme(const char* op, ReduceOp kind, const Tensor& x, const std::vector<std::int64_t>& axes, bool keepdim) {
    detail::check_defined(op, x);
    const std::vector<bool> reduced = reduced_axes(op, x, axes);
    for (std::size_t i = 0; i < reduced.size(); ++i) {
        STEPGRAD_CHECK(!reduced[i] || x.shape()[i] > 0,
                       op << ": cannot reduce over axis " << i << " of size 0 (shape " << shape_to_string(x.shape())
                          << "); the " << op << " of nothing is undefined");
    }
    Tensor out = reduce_kernel(kind, x, reduced, keepdim);
    const Shape kept = reduced_shape(x.shape(), reduced, true);
    return record(op, out, {x}, [x = SavedTensor(x), kept, reduced, out = SavedTensor(out)](const Tensor& grad_output) {
        const std::vector<std::int64_t> reduced_list = axes_of(reduced);
        Tensor is_extreme = eq(x.unpack(), out.unpack().reshape(kept));
        Tensor ties = is_extreme.sum(reduced_list, /*keepdim=*/true);
        return Grads{is_extreme * (grad_output.reshape(kept) / ties)};
    });
}

Tensor arg_extreme(const char* op, bool largest, const Tensor& x, std::optional<std::int64_t> axis, bool keepdim) {
    detail::check_defined(op, x);
    STEPGRAD_CHECK(x.numel() > 0, op << ": the tensor of shape " << shape_to_string(x.shape()) << " is empty");
    std::int64_t outer = 1, size = x.numel(), inner = 1;
    Shape out_shape = keepdim ? Shape(x.shape().size(), 1) : Shape{};
    if (axis) {
        const std::int64_t a = normalize_axis(op, *axis, x.dim());
        size = x.shape()[static_cast<std::size_t>(a)];
        STEPGRAD_CHECK(size > 0, op << ": axis " << *axis << " of shape " << shape_to_string(x.shape()) << " is empty");
        out_shape.clear();
        for (std::int64_t i = 0; i < x.dim(); ++i) {
            const std::int64_t n = x.shape()[static_cast<std::size_t>(i)];
            if (i < a) outer *= n;
            if (i > a) inner *= n;
            if (i != a) out_shape.push_back(n);
            else if (keepdim) out_shape.push_back(1);
        }
    }
    Tensor out = Tensor::empty(out_shape, x.device(), Dtype::Int64);
    get_backend(x.device()).arg_reduce(x.dtype(), x.data_ptr(), outer, size, inner, largest,
                                       out.data_ptr<std::int64_t>());
    return out;
}

}  // namespace

// Every input element was added once into its output element, so it receives that element's
// gradient: put back the reduced axes as size 1, then copy the gradient along them.
Tensor sum(const Tensor& x, const std::vector<std::int64_t>& axes, bool keepdim) {
    detail::check_defined("sum", x);
    const std::vector<bool> reduced = reduced_axes("sum", x, axes);
    Tensor out = reduce_kernel(ReduceOp::Sum, x, reduced, keepdim);
    return record("sum", out, {x}, [in_shape = x.shape(), reduced](
                                       [[maybe_unused]] const Tensor& grad_output) -> Grads {
        // exercise 02.3: the gradient of sum over axes, with or without keepdim
        // hint: grad_output lacks the reduced axes unless keepdim; reshape it so they are there with size 1,
        // hint: then expand it to in_shape (each input element gets its output element's gradient).
        Shape kept = in_shape;
        for (std::size_t i = 0; i < kept.size(); ++i) {
            if (reduced[i]) kept[i] = 1;
        }
        return Grads{grad_output.reshape(kept).expand(in_shape)};
        // end exercise
    });
}

// The mean is the sum times 1/n, so its gradient is the sum's, scaled by 1/n.
Tensor mean(const Tensor& x, const std::vector<std::int64_t>& axes, bool keepdim) {
    detail::check_float("mean", x);
    const std::int64_t count = reduced_count(x.shape(), reduced_axes("mean", x, axes));
    return sum(x, axes, keepdim) * (1.0 / static_cast<double>(count));
}

Tensor max(const Tensor& x, const std::vector<std::int64_t>& axes, bool keepdim) {
    return extreme("max", ReduceOp::Max, x, axes, keepdim);
}
Tensor min(const Tensor& x, const std::vector<std::int64_t>& axes, bool keepdim) {
    return extreme("min", ReduceOp::Min, x, axes, keepdim);
}
Tensor amax(const Tensor& x, const std::vector<std::int64_t>& axes, bool keepdim) { return max(x, axes, keepdim); }
Tensor amin(const Tensor& x, const std::vector<std::int64_t>& axes, bool keepdim) { return min(x, axes, keepdim); }

// Composite: the mean of squared deviations; its gradient comes from the primitives.
Tensor var(const Tensor& x, const std::vector<std::int64_t>& axes, bool unbiased, bool keepdim) {
    detail::check_float("var", x);
    const std::int64_t count = reduced_count(x.shape(), reduced_axes("var", x, axes));
    Tensor centered = x - mean(x, axes, /*keepdim=*/true);
    const double divisor = static_cast<double>(unbiased ? count - 1 : count);
    return sum(centered * centered, axes, keepdim) / divisor;
}

Tensor argmax(const Tensor& x, std::optional<std::int64_t> axis, bool keepdim) {
    return arg_extreme("argmax", true, x, axis, keepdim);
}
Tensor argmin(const Tensor& x, std::optional<std::int64_t> axis, bool keepdim) {
    return arg_extreme("argmin", false, x, axis, keepdim);
}

Tensor Tensor::sum(const std::vector<std::int64_t>& axes, bool keepdim) const { return stepgrad::sum(*this, axes, keepdim); }
Tensor Tensor::mean(const std::vector<std::int64_t>& axes, bool keepdim) const { return stepgrad::mean(*this, axes, keepdim); }
Tensor Tensor::max(const std::vector<std::int64_t>& axes, bool keepdim) const { return stepgrad::max(*this, axes, keepdim); }
Tensor Tensor::min(const std::vector<std::int64_t>& axes, bool keepdim) const { return stepgrad::min(*this, axes, keepdim); }
Tensor Tensor::var(const std::vector<std::int64_t>& axes, bool unbiased, bool keepdim) const {
    return stepgrad::var(*this, axes, unbiased, keepdim);
}
Tensor Tensor::argmax(std::optional<std::int64_t> axis, bool keepdim) const { return stepgrad::argmax(*this, axis, keepdim); }
Tensor Tensor::argmin(std::optional<std::int64_t> axis, bool keepdim) const { return stepgrad::argmin(*this, axis, keepdim); }

}  // namespace stepgrad
