// Devices and shapes: names, element counts, strides and the broadcasting rule.
#include <stepgrad/shared/error.hpp>
#include <stepgrad/tensor/device.hpp>

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
    for (std::int64_t size : shape) count *= size;
    return count;
}

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
