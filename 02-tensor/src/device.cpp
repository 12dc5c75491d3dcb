// Devices, dtypes and shapes: names, element counts, strides and the broadcasting rule.
#include <stepgrad/shared/error.hpp>
#include <stepgrad/tensor/device.hpp>
#include <stepgrad/tensor/dtype.hpp>

#include <ostream>

namespace stepgrad {

std::string to_string(Device device) { return device == Device::CPU ? "cpu" : "cuda"; }

std::ostream& operator<<(std::ostream& out, Device device) { return out << to_string(device); }

std::string shape_to_string(const Shape& shape) {
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i > 0) text += ", ";
        text += std::to_string(shape[i]);
    }
    return text + "]";
}

std::int64_t numel_of(const Shape& shape) {
    std::int64_t count = 1;
    bool overflow = false;
    for (std::int64_t size : shape) {
        STEPGRAD_CHECK(size >= 0, "negative size " << size << " in shape " << shape_to_string(shape));
        overflow = overflow || __builtin_mul_overflow(count, size, &count);
    }
    // A zero anywhere makes the count 0 even if a partial product overflowed.
    for (std::int64_t size : shape) {
        if (size == 0) return 0;
    }
    STEPGRAD_CHECK(!overflow, "shape " << shape_to_string(shape)
                                       << " has more elements than a 64-bit count can hold");
    return count;
}

std::vector<std::int64_t> broadcast_strides(const Shape& in_shape, const Shape& out_shape) {
    std::vector<std::int64_t> strides(out_shape.size(), 0);
    const std::vector<std::int64_t> in_strides = contiguous_strides(in_shape);
    const std::size_t lead = out_shape.size() - in_shape.size();
    for (std::size_t i = 0; i < in_shape.size(); ++i) {
        strides[lead + i] = in_shape[i] == 1 ? 0 : in_strides[i];
    }
    return strides;
}

std::size_t element_size(Dtype dtype) { return dtype == Dtype::Float32 ? sizeof(float) : sizeof(std::int64_t); }

std::string to_string(Dtype dtype) { return dtype == Dtype::Float32 ? "torch.float32" : "torch.int64"; }

std::ostream& operator<<(std::ostream& out, Dtype dtype) { return out << to_string(dtype); }

std::vector<std::int64_t> contiguous_strides(const Shape& shape) {
    std::vector<std::int64_t> strides(shape.size());
    std::int64_t stride = 1;
    for (std::size_t i = shape.size(); i-- > 0;) {
        strides[i] = stride;
        stride *= shape[i];
    }
    return strides;
}

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
    const std::size_t ndim = std::max(a.size(), b.size());
    Shape out(ndim);
    for (std::size_t i = 0; i < ndim; ++i) {
        // Align at the last axis: axis i of the output is axis i - (ndim - size) of each input.
        const std::int64_t size_a = i + a.size() >= ndim ? a[i + a.size() - ndim] : 1;
        const std::int64_t size_b = i + b.size() >= ndim ? b[i + b.size() - ndim] : 1;
        STEPGRAD_CHECK(size_a == size_b || size_a == 1 || size_b == 1,
                       op << ": shapes " << shape_to_string(a) << " and " << shape_to_string(b)
                          << " cannot be broadcast together (axis " << i << " of the result: "
                          << size_a << " vs " << size_b << ")");
        out[i] = size_a == 1 ? size_b : size_a;
    }
    return out;
}

std::int64_t normalize_axis(const char* op, std::int64_t axis, std::int64_t ndim) {
    STEPGRAD_CHECK(axis >= -ndim && axis < ndim,
                   op << ": axis " << axis << " is out of range for a tensor with " << ndim
                      << " dimension(s) (expected " << -ndim << " to " << ndim - 1 << ")");
    return axis < 0 ? axis + ndim : axis;
}

}  // namespace stepgrad
