// Rearranging elements. Every stepgrad tensor is contiguous and row-major: reshaping keeps the
// order of the elements, so reshape, flatten, squeeze and unsqueeze are views on the same
// storage; permute, expand, cat and pad move elements (one strided-copy kernel does them all).
// Each gradient puts the elements back where they came from.
#include <stepgrad/shared/error.hpp>
#include <stepgrad/tensor/autograd.hpp>
#include <stepgrad/tensor/elementwise.hpp>
#include <stepgrad/tensor/indexing.hpp>
#include <stepgrad/tensor/shape_ops.hpp>

#include <algorithm>
#include <numeric>

namespace stepgrad {

namespace {

using Strides = std::vector<std::int64_t>;

Shape infer_shape(const char* op, const Tensor& x, const Shape& shape) {
    Shape out = shape;
    std::int64_t known = 1;
    std::size_t inferred = out.size();
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (out[i] == -1) {
            STEPGRAD_CHECK(inferred == out.size(), op << ": only one size may be -1 in " << shape_to_string(shape));
            inferred = i;
        } else {
            STEPGRAD_CHECK(out[i] >= 0, op << ": invalid size " << out[i] << " in " << shape_to_string(shape));
            known *= out[i];
        }
    }
    if (inferred != out.size()) {
        STEPGRAD_CHECK(known != 0 && x.numel() % known == 0,
                       op << ": shape " << shape_to_string(shape) << " is invalid for input of shape "
                          << shape_to_string(x.shape()));
        out[inferred] = x.numel() / known;
    }
    STEPGRAD_CHECK(numel_of(out) == x.numel(), op << ": shape " << shape_to_string(shape)
                                                  << " is invalid for input of shape " << shape_to_string(x.shape())
                                                  << " (" << x.numel() << " elements)");
    return out;
}

}  // namespace

namespace detail {

Tensor permute_kernel(const Tensor& x, const std::vector<std::int64_t>& order) {
    const std::size_t ndim = order.size();
    bool swaps_last_two = ndim >= 2 && order[ndim - 2] == static_cast<std::int64_t>(ndim - 1) &&
                          order[ndim - 1] == static_cast<std::int64_t>(ndim - 2);
    for (std::size_t i = 0; swaps_last_two && i + 2 < ndim; ++i) swaps_last_two = order[i] == static_cast<std::int64_t>(i);
    if (swaps_last_two && x.dtype() == Dtype::Float32) {
        // A batch of matrix transposes: the tiled kernel keeps reads and writes cache-friendly.
        const std::int64_t rows = x.shape()[ndim - 2], cols = x.shape()[ndim - 1];
        Shape out_shape = x.shape();
        std::swap(out_shape[ndim - 2], out_shape[ndim - 1]);
        Tensor out = Tensor::empty(out_shape, x.device());
        if (x.numel() > 0) {
            get_backend(x.device()).transpose(x.data_ptr<float>(), x.numel() / (rows * cols), rows, cols,
                                              out.data_ptr<float>());
        }
        return out;
    }
    const Strides in_strides = contiguous_strides(x.shape());
    Shape out_shape(order.size());
    Strides src_strides(order.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        out_shape[i] = x.shape()[static_cast<std::size_t>(order[i])];
        src_strides[i] = in_strides[static_cast<std::size_t>(order[i])];
    }
    Tensor out = Tensor::empty(out_shape, x.device(), x.dtype());
    get_backend(x.device()).copy_strided(x.dtype(), x.data_ptr(), src_strides, 0, out.data_ptr(),
                                         contiguous_strides(out_shape), 0, out_shape, false);
    return out;
}

Tensor expand_kernel(const Tensor& x, const Shape& shape) {
    Tensor out = Tensor::empty(shape, x.device(), x.dtype());
    get_backend(x.device()).copy_strided(x.dtype(), x.data_ptr(), broadcast_strides(x.shape(), shape), 0,
                                         out.data_ptr(), contiguous_strides(shape), 0, shape, false);
    return out;
}

}  // namespace detail

// The elements are the same, in the same order, so the result is a view on the same storage
// (no copy); only the shape changes. The gradient is reshaped back.
Tensor reshape(const Tensor& x, const Shape& shape) {
    detail::check_defined("reshape", x);
    const Shape out_shape = infer_shape("reshape", x, shape);
    if (out_shape == x.shape()) return x;
    return record("view", detail::view_of(x, out_shape), {x}, [in_shape = x.shape()](const Tensor& grad_output) {
        return Grads{reshape(grad_output, in_shape)};
    });
}

Tensor flatten(const Tensor& x, std::int64_t start_axis, std::int64_t end_axis) {
    detail::check_defined("flatten", x);
    if (x.dim() == 0) return reshape(x, {1});
    const std::int64_t start = normalize_axis("flatten", start_axis, x.dim());
    const std::int64_t end = normalize_axis("flatten", end_axis, x.dim());
    STEPGRAD_CHECK(start <= end, "flatten: start_axis " << start_axis << " comes after end_axis " << end_axis);
    Shape shape(x.shape().begin(), x.shape().begin() + start);
    std::int64_t merged = 1;
    for (std::int64_t i = start; i <= end; ++i) merged *= x.shape()[static_cast<std::size_t>(i)];
    shape.push_back(merged);
    shape.insert(shape.end(), x.shape().begin() + end + 1, x.shape().end());
    return reshape(x, shape);
}

// Element (i0, i1, ...) of the output came from the input at the permuted index, so the
// gradient is permuted back with the inverse order.
Tensor permute(const Tensor& x, const std::vector<std::int64_t>& order) {
    detail::check_defined("permute", x);
    STEPGRAD_CHECK(static_cast<std::int64_t>(order.size()) == x.dim(),
                   "permute: order has " << order.size() << " axes for a tensor of shape " << shape_to_string(x.shape()));
    std::vector<std::int64_t> normal(order.size());
    std::vector<bool> seen(order.size(), false);
    for (std::size_t i = 0; i < order.size(); ++i) {
        normal[i] = normalize_axis("permute", order[i], x.dim());
        STEPGRAD_CHECK(!seen[static_cast<std::size_t>(normal[i])], "permute: axis " << order[i] << " repeats");
        seen[static_cast<std::size_t>(normal[i])] = true;
    }
    std::vector<std::int64_t> inverse(order.size());
    for (std::size_t i = 0; i < order.size(); ++i) inverse[static_cast<std::size_t>(normal[i])] = static_cast<std::int64_t>(i);
    return record("permute", detail::permute_kernel(x, normal), {x}, [inverse](const Tensor& grad_output) {
        return Grads{detail::permute_kernel(grad_output, inverse)};
    });
}

Tensor transpose(const Tensor& x, std::int64_t axis0, std::int64_t axis1) {
    detail::check_defined("transpose", x);
    if (x.dim() == 0) return x;
    std::vector<std::int64_t> order(static_cast<std::size_t>(x.dim()));
    std::iota(order.begin(), order.end(), 0);
    std::swap(order[static_cast<std::size_t>(normalize_axis("transpose", axis0, x.dim()))],
              order[static_cast<std::size_t>(normalize_axis("transpose", axis1, x.dim()))]);
    return permute(x, order);
}

Tensor unsqueeze(const Tensor& x, std::int64_t axis) {
    detail::check_defined("unsqueeze", x);
    const std::int64_t a = normalize_axis("unsqueeze", axis, x.dim() + 1);
    Shape shape = x.shape();
    shape.insert(shape.begin() + a, 1);
    return reshape(x, shape);
}

Tensor squeeze(const Tensor& x, std::optional<std::int64_t> axis) {
    detail::check_defined("squeeze", x);
    Shape shape;
    const std::int64_t only = axis ? normalize_axis("squeeze", *axis, std::max<std::int64_t>(x.dim(), 1)) : -1;
    for (std::int64_t i = 0; i < x.dim(); ++i) {
        const std::int64_t n = x.shape()[static_cast<std::size_t>(i)];
        if (n != 1 || (axis && i != only)) shape.push_back(n);
    }
    return reshape(x, shape);
}

// Each input element was copied to several places: its gradient is their sum (sum_to).
Tensor expand(const Tensor& x, const Shape& shape) {
    detail::check_defined("expand", x);
    STEPGRAD_CHECK(shape.size() >= x.shape().size(), "expand: cannot expand shape " << shape_to_string(x.shape())
                                                         << " to " << shape_to_string(shape) << " (fewer axes)");
    Shape target = shape;
    const std::size_t lead = shape.size() - x.shape().size();
    for (std::size_t i = 0; i < target.size(); ++i) {
        const std::int64_t in = i >= lead ? x.shape()[i - lead] : 1;
        if (target[i] == -1) {
            STEPGRAD_CHECK(i >= lead, "expand: -1 is not allowed for the new leading axis " << i);
            target[i] = in;
        }
        STEPGRAD_CHECK(in == target[i] || in == 1, "expand: the size " << in << " of shape " << shape_to_string(x.shape())
                                                      << " must match " << target[i] << " of " << shape_to_string(shape)
                                                      << " (or be 1)");
    }
    if (target == x.shape()) return x;
    return record("expand", detail::expand_kernel(x, target), {x}, [in_shape = x.shape()](const Tensor& grad_output) {
        return Grads{sum_to(grad_output, in_shape)};
    });
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) { return expand(x, shape); }

// Each input occupies a block of the output along `axis`; its gradient is that block.
Tensor cat(const std::vector<Tensor>& tensors, std::int64_t axis) {
    STEPGRAD_CHECK(!tensors.empty(), "cat: expected at least one tensor");
    const Tensor& first = tensors.front();
    detail::check_defined("cat", first);
    const std::int64_t a = normalize_axis("cat", axis, first.dim());
    Shape out_shape = first.shape();
    out_shape[static_cast<std::size_t>(a)] = 0;
    for (const Tensor& t : tensors) {
        detail::check_same_device("cat", first, t);
        bool match = t.dim() == first.dim();
        for (std::int64_t i = 0; match && i < t.dim(); ++i) {
            match = i == a || t.shape()[static_cast<std::size_t>(i)] == first.shape()[static_cast<std::size_t>(i)];
        }
        STEPGRAD_CHECK(match, "cat: shapes " << shape_to_string(first.shape()) << " and " << shape_to_string(t.shape())
                                             << " differ outside axis " << a);
        out_shape[static_cast<std::size_t>(a)] += t.shape()[static_cast<std::size_t>(a)];
    }
    Tensor out = Tensor::empty(out_shape, first.device(), first.dtype());
    const Strides out_strides = contiguous_strides(out_shape);
    std::vector<std::int64_t> offsets;
    std::int64_t offset = 0;
    for (const Tensor& t : tensors) {
        STEPGRAD_CHECK(t.dtype() == first.dtype(), "cat: expected tensors of one dtype, got "
                                                       << to_string(first.dtype()) << " and " << to_string(t.dtype()));
        get_backend(t.device()).copy_strided(t.dtype(), t.data_ptr(), contiguous_strides(t.shape()), 0, out.data_ptr(),
                                             out_strides, offset * out_strides[static_cast<std::size_t>(a)], t.shape(),
                                             false);
        offsets.push_back(offset);
        offset += t.shape()[static_cast<std::size_t>(a)];
    }
    offsets.push_back(offset);
    return record("cat", out, tensors, [a, offsets](const Tensor& grad_output) {
        Grads grads;
        for (std::size_t i = 0; i + 1 < offsets.size(); ++i) {
            grads.push_back(slice(grad_output, a, offsets[i], offsets[i + 1]));
        }
        return grads;
    });
}

Tensor stack(const std::vector<Tensor>& tensors, std::int64_t axis) {
    STEPGRAD_CHECK(!tensors.empty(), "stack: expected at least one tensor");
    const std::int64_t a = normalize_axis("stack", axis, tensors.front().dim() + 1);
    std::vector<Tensor> expanded;
    for (const Tensor& t : tensors) {
        STEPGRAD_CHECK(t.shape() == tensors.front().shape(), "stack: shapes " << shape_to_string(tensors.front().shape())
                                                                 << " and " << shape_to_string(t.shape()) << " differ");
        expanded.push_back(unsqueeze(t, a));
    }
    return cat(expanded, a);
}

// The input sits inside the padded output; its gradient is that inner block.
Tensor pad(const Tensor& x, const std::vector<std::int64_t>& pads, double value) {
    detail::check_defined("pad", x);
    STEPGRAD_CHECK(pads.size() % 2 == 0 && static_cast<std::int64_t>(pads.size()) <= 2 * x.dim(),
                   "pad: expected (before, after) pairs for at most " << x.dim() << " axes, got " << pads.size()
                                                                      << " numbers");
    Shape out_shape = x.shape();
    std::vector<std::int64_t> before(out_shape.size(), 0);
    for (std::size_t pair = 0; pair < pads.size() / 2; ++pair) {
        const std::size_t axis = out_shape.size() - 1 - pair;
        STEPGRAD_CHECK(pads[2 * pair] >= 0 && pads[2 * pair + 1] >= 0, "pad: negative padding is not supported");
        before[axis] = pads[2 * pair];
        out_shape[axis] += pads[2 * pair] + pads[2 * pair + 1];
    }
    const Strides out_strides = contiguous_strides(out_shape);
    std::int64_t offset = 0;
    for (std::size_t i = 0; i < before.size(); ++i) offset += before[i] * out_strides[i];
    Tensor out = Tensor::empty(out_shape, x.device(), x.dtype());
    Backend& backend = get_backend(x.device());
    backend.fill(x.dtype(), out.data_ptr(), static_cast<std::size_t>(out.numel()), value);
    backend.copy_strided(x.dtype(), x.data_ptr(), contiguous_strides(x.shape()), 0, out.data_ptr(), out_strides, offset,
                         x.shape(), false);
    return record("pad", out, {x}, [in_shape = x.shape(), out_strides, offset](const Tensor& grad_output) {
        Tensor grad = Tensor::empty(in_shape, grad_output.device());
        get_backend(grad_output.device()).copy_strided(Dtype::Float32, grad_output.data_ptr(), out_strides, offset,
                                                       grad.data_ptr(), contiguous_strides(in_shape), 0, in_shape, false);
        return Grads{grad};
    });
}

Tensor Tensor::reshape(const Shape& shape) const { return stepgrad::reshape(*this, shape); }
Tensor Tensor::flatten(std::int64_t start_axis, std::int64_t end_axis) const {
    return stepgrad::flatten(*this, start_axis, end_axis);
}
Tensor Tensor::transpose(std::int64_t axis0, std::int64_t axis1) const { return stepgrad::transpose(*this, axis0, axis1); }
Tensor Tensor::t() const {
    STEPGRAD_CHECK(dim() <= 2, "t: expects a tensor with at most 2 dimensions, got shape " << shape_to_string(shape()));
    return dim() < 2 ? *this : stepgrad::transpose(*this, 0, 1);
}
Tensor Tensor::permute(const std::vector<std::int64_t>& order) const { return stepgrad::permute(*this, order); }
Tensor Tensor::unsqueeze(std::int64_t axis) const { return stepgrad::unsqueeze(*this, axis); }
Tensor Tensor::squeeze(std::optional<std::int64_t> axis) const { return stepgrad::squeeze(*this, axis); }
Tensor Tensor::expand(const Shape& shape) const { return stepgrad::expand(*this, shape); }

}  // namespace stepgrad
