// ValueTensor: chapter-1 Values arranged as a tensor, element by element (see value_tensor.hpp).
#include "value_tensor.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace crosscheck {

namespace {

using Index = std::vector<std::int64_t>;

std::int64_t numel(const Shape& shape) {
    std::int64_t n = 1;
    for (std::int64_t size : shape) n *= size;
    return n;
}

std::int64_t normalize(std::int64_t axis, std::int64_t rank) {
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank) throw std::out_of_range("ValueTensor: axis " + std::to_string(axis));
    return axis;
}

// The multi-index of row-major position `flat` in `shape`.
Index unravel(std::int64_t flat, const Shape& shape) {
    Index index(shape.size());
    for (std::size_t d = shape.size(); d-- > 0;) {
        index[d] = flat % shape[d];
        flat /= shape[d];
    }
    return index;
}

std::int64_t ravel(const Index& index, const Shape& shape) {
    std::int64_t flat = 0;
    for (std::size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + index[d];
    return flat;
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
    const std::size_t rank = std::max(a.size(), b.size());
    Shape out(rank);
    for (std::size_t i = 0; i < rank; ++i) {
        const std::int64_t sa = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
        const std::int64_t sb = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
        if (sa != sb && sa != 1 && sb != 1) throw std::invalid_argument("ValueTensor: shapes do not broadcast");
        out[i] = sa == 1 ? sb : sa;
    }
    return out;
}

// Position in a tensor of `in_shape` that broadcasts to `out_index` (trailing axes aligned).
std::int64_t broadcast_source(const Index& out_index, const Shape& in_shape) {
    const std::size_t offset = out_index.size() - in_shape.size();
    Index in_index(in_shape.size());
    for (std::size_t d = 0; d < in_shape.size(); ++d) in_index[d] = in_shape[d] == 1 ? 0 : out_index[d + offset];
    return ravel(in_index, in_shape);
}

ValueTensor map(const ValueTensor& x, const std::function<Value(const Value&)>& f) {
    ValueTensor out{x.shape, {}};
    out.values.reserve(x.values.size());
    for (const Value& v : x.values) out.values.push_back(f(v));
    return out;
}

ValueTensor zip(const ValueTensor& a, const ValueTensor& b, const std::function<Value(const Value&, const Value&)>& f) {
    ValueTensor out{broadcast_shapes(a.shape, b.shape), {}};
    const std::int64_t n = numel(out.shape);
    for (std::int64_t i = 0; i < n; ++i) {
        const Index index = unravel(i, out.shape);
        out.values.push_back(f(a.values[broadcast_source(index, a.shape)], b.values[broadcast_source(index, b.shape)]));
    }
    return out;
}

// A tensor of `out_shape` whose element at each index is x's element at `source(index)`.
ValueTensor gather(const ValueTensor& x, const Shape& out_shape, const std::function<Index(const Index&)>& source) {
    ValueTensor out{out_shape, {}};
    const std::int64_t n = numel(out_shape);
    for (std::int64_t i = 0; i < n; ++i) out.values.push_back(x.values[ravel(source(unravel(i, out_shape)), x.shape)]);
    return out;
}

// The elements of x grouped by the output position of a reduction over `axes`.
struct Groups {
    Shape shape;
    std::vector<std::vector<Value>> members;
};

Groups group(const ValueTensor& x, const std::vector<std::int64_t>& axes, bool keepdim) {
    const auto rank = static_cast<std::int64_t>(x.shape.size());
    std::vector<bool> reduced(x.shape.size(), axes.empty());
    for (std::int64_t axis : axes) reduced[normalize(axis, rank)] = true;
    Shape kept_shape;  // the output shape with reduced axes as size 1
    Shape out_shape;
    for (std::size_t d = 0; d < x.shape.size(); ++d) {
        kept_shape.push_back(reduced[d] ? 1 : x.shape[d]);
        if (!reduced[d] || keepdim) out_shape.push_back(reduced[d] ? 1 : x.shape[d]);
    }
    Groups groups{out_shape, std::vector<std::vector<Value>>(numel(kept_shape))};
    for (std::int64_t i = 0; i < numel(x.shape); ++i) {
        Index index = unravel(i, x.shape);
        for (std::size_t d = 0; d < index.size(); ++d) {
            if (reduced[d]) index[d] = 0;
        }
        groups.members[ravel(index, kept_shape)].push_back(x.values[i]);
    }
    return groups;
}

ValueTensor reduce(const ValueTensor& x, const std::vector<std::int64_t>& axes, bool keepdim,
                   const std::function<Value(const std::vector<Value>&)>& fold) {
    Groups groups = group(x, axes, keepdim);
    ValueTensor out{groups.shape, {}};
    for (const auto& members : groups.members) out.values.push_back(fold(members));
    return out;
}

ValueTensor constant(const Shape& shape, const std::vector<double>& data) {
    ValueTensor out{shape, {}};
    for (double d : data) out.values.emplace_back(d);
    return out;
}

ValueTensor compare(const ValueTensor& a, const ValueTensor& b, bool (*holds)(double, double)) {
    return zip(a, b, [holds](const Value& x, const Value& y) { return Value(holds(x.data(), y.data()) ? 1.0 : 0.0); });
}

ValueTensor scalar(double c) { return constant({}, {c}); }

}  // namespace

ValueTensor ValueTensor::leaves(const std::vector<float>& data, const Shape& shape) {
    if (static_cast<std::int64_t>(data.size()) != numel(shape)) throw std::invalid_argument("leaves: size mismatch");
    ValueTensor out{shape, {}};
    for (float d : data) out.values.emplace_back(static_cast<double>(d));
    return out;
}

std::vector<double> ValueTensor::data() const {
    std::vector<double> out;
    for (const Value& v : values) out.push_back(v.data());
    return out;
}

std::vector<double> ValueTensor::grads() const {
    std::vector<double> out;
    for (const Value& v : values) out.push_back(v.grad());
    return out;
}

// ---- elementwise --------------------------------------------------------------------------

ValueTensor operator+(const ValueTensor& a, const ValueTensor& b) {
    return zip(a, b, [](const Value& x, const Value& y) { return x + y; });
}
ValueTensor operator-(const ValueTensor& a, const ValueTensor& b) {
    return zip(a, b, [](const Value& x, const Value& y) { return x - y; });
}
ValueTensor operator*(const ValueTensor& a, const ValueTensor& b) {
    return zip(a, b, [](const Value& x, const Value& y) { return x * y; });
}
ValueTensor operator/(const ValueTensor& a, const ValueTensor& b) {
    return zip(a, b, [](const Value& x, const Value& y) { return x / y; });
}
ValueTensor operator-(const ValueTensor& x) { return map(x, [](const Value& v) { return -v; }); }
ValueTensor operator+(const ValueTensor& x, double c) { return map(x, [c](const Value& v) { return v + c; }); }
ValueTensor operator+(double c, const ValueTensor& x) { return map(x, [c](const Value& v) { return c + v; }); }
ValueTensor operator-(const ValueTensor& x, double c) { return map(x, [c](const Value& v) { return v - c; }); }
ValueTensor operator-(double c, const ValueTensor& x) { return map(x, [c](const Value& v) { return c - v; }); }
ValueTensor operator*(const ValueTensor& x, double c) { return map(x, [c](const Value& v) { return v * c; }); }
ValueTensor operator*(double c, const ValueTensor& x) { return map(x, [c](const Value& v) { return c * v; }); }
ValueTensor operator/(const ValueTensor& x, double c) { return map(x, [c](const Value& v) { return v / c; }); }
ValueTensor operator/(double c, const ValueTensor& x) { return map(x, [c](const Value& v) { return c / v; }); }

ValueTensor operator>(const ValueTensor& a, const ValueTensor& b) {
    return compare(a, b, [](double x, double y) { return x > y; });
}
ValueTensor operator>(const ValueTensor& x, double c) { return x > scalar(c); }
ValueTensor operator<(const ValueTensor& x, double c) { return scalar(c) > x; }

ValueTensor neg(const ValueTensor& x) { return -x; }
ValueTensor exp(const ValueTensor& x) { return map(x, [](const Value& v) { return v.exp(); }); }
ValueTensor log(const ValueTensor& x) { return map(x, [](const Value& v) { return v.log(); }); }
ValueTensor tanh(const ValueTensor& x) { return map(x, [](const Value& v) { return v.tanh(); }); }
ValueTensor sigmoid(const ValueTensor& x) { return map(x, [](const Value& v) { return v.sigmoid(); }); }
ValueTensor relu(const ValueTensor& x) { return map(x, [](const Value& v) { return v.relu(); }); }
ValueTensor sqrt(const ValueTensor& x) { return map(x, [](const Value& v) { return v.pow(0.5); }); }
ValueTensor abs(const ValueTensor& x) {
    return map(x, [](const Value& v) { return v.data() < 0 ? -v : v; });
}
ValueTensor leaky_relu(const ValueTensor& x, double negative_slope) {
    return map(x, [negative_slope](const Value& v) { return v.data() > 0 ? v : v * negative_slope; });
}
ValueTensor pow(const ValueTensor& x, double exponent) {
    return map(x, [exponent](const Value& v) { return v.pow(exponent); });
}
ValueTensor pow(const ValueTensor& base, const ValueTensor& exponent) {
    return zip(base, exponent, [](const Value& b, const Value& e) { return stepgrad::scalar::pow(b, e); });
}
ValueTensor clamp(const ValueTensor& x, std::optional<double> min, std::optional<double> max) {
    return map(x, [min, max](const Value& v) {
        if (min && v.data() < *min) return Value(*min);
        if (max && v.data() > *max) return Value(*max);
        return v;
    });
}
ValueTensor maximum(const ValueTensor& a, const ValueTensor& b) {
    return zip(a, b, [](const Value& x, const Value& y) { return x.data() >= y.data() ? x : y; });
}
ValueTensor minimum(const ValueTensor& a, const ValueTensor& b) {
    return zip(a, b, [](const Value& x, const Value& y) { return x.data() <= y.data() ? x : y; });
}
ValueTensor where(const ValueTensor& condition, const ValueTensor& a, const ValueTensor& b) {
    const Shape shape = broadcast_shapes(condition.shape, broadcast_shapes(a.shape, b.shape));
    ValueTensor out{shape, {}};
    for (std::int64_t i = 0; i < numel(shape); ++i) {
        const Index index = unravel(i, shape);
        const bool take_a = condition.values[broadcast_source(index, condition.shape)].data() != 0.0;
        out.values.push_back(take_a ? a.values[broadcast_source(index, a.shape)]
                                    : b.values[broadcast_source(index, b.shape)]);
    }
    return out;
}

// ---- reductions ---------------------------------------------------------------------------

ValueTensor sum(const ValueTensor& x, const std::vector<std::int64_t>& axes, bool keepdim) {
    return reduce(x, axes, keepdim, [](const std::vector<Value>& members) {
        Value total = members.front();
        for (std::size_t i = 1; i < members.size(); ++i) total = total + members[i];
        return total;
    });
}

ValueTensor mean(const ValueTensor& x, const std::vector<std::int64_t>& axes, bool keepdim) {
    ValueTensor total = sum(x, axes, keepdim);
    return total / static_cast<double>(numel(x.shape) / std::max<std::int64_t>(1, numel(total.shape)));
}

ValueTensor max(const ValueTensor& x, const std::vector<std::int64_t>& axes, bool keepdim) {
    return reduce(x, axes, keepdim, [](const std::vector<Value>& members) {
        return *std::max_element(members.begin(), members.end(),
                                 [](const Value& a, const Value& b) { return a.data() < b.data(); });
    });
}

ValueTensor min(const ValueTensor& x, const std::vector<std::int64_t>& axes, bool keepdim) {
    return reduce(x, axes, keepdim, [](const std::vector<Value>& members) {
        return *std::min_element(members.begin(), members.end(),
                                 [](const Value& a, const Value& b) { return a.data() < b.data(); });
    });
}

ValueTensor var(const ValueTensor& x, const std::vector<std::int64_t>& axes, bool unbiased, bool keepdim) {
    const ValueTensor centered = x - mean(x, axes, true);
    const ValueTensor squares = sum(centered * centered, axes, keepdim);
    const std::int64_t count = numel(x.shape) / std::max<std::int64_t>(1, numel(squares.shape));
    return squares / static_cast<double>(unbiased ? count - 1 : count);
}

// ---- products and rearrangements ----------------------------------------------------------

ValueTensor matmul(const ValueTensor& a, const ValueTensor& b) {
    // Promote 1-D operands to matrices, multiply with broadcast batch axes, then drop the added axes.
    const bool a_vector = a.shape.size() == 1;
    const bool b_vector = b.shape.size() == 1;
    const ValueTensor a2 = a_vector ? unsqueeze(a, 0) : a;
    const ValueTensor b2 = b_vector ? unsqueeze(b, 1) : b;
    const Shape a_batch(a2.shape.begin(), a2.shape.end() - 2);
    const Shape b_batch(b2.shape.begin(), b2.shape.end() - 2);
    const std::int64_t m = a2.shape[a2.shape.size() - 2];
    const std::int64_t k = a2.shape.back();
    const std::int64_t n = b2.shape.back();
    if (b2.shape[b2.shape.size() - 2] != k) throw std::invalid_argument("ValueTensor matmul: inner sizes differ");
    Shape out_shape = broadcast_shapes(a_batch, b_batch);
    const Shape batch = out_shape;
    out_shape.push_back(m);
    out_shape.push_back(n);
    ValueTensor out{out_shape, {}};
    for (std::int64_t i = 0; i < numel(out_shape); ++i) {
        const Index index = unravel(i, out_shape);
        const Index batch_index(index.begin(), index.end() - 2);
        const std::int64_t row = index[index.size() - 2];
        const std::int64_t col = index.back();
        const std::int64_t a_base = broadcast_source(batch_index, a_batch) * m * k;
        const std::int64_t b_base = broadcast_source(batch_index, b_batch) * k * n;
        Value total = a2.values[a_base + row * k] * b2.values[b_base + col];
        for (std::int64_t j = 1; j < k; ++j) total = total + a2.values[a_base + row * k + j] * b2.values[b_base + j * n + col];
        out.values.push_back(total);
    }
    if (a_vector) out = squeeze(out, -2);
    if (b_vector) out = squeeze(out, -1);
    return out;
}

ValueTensor reshape(const ValueTensor& x, const Shape& shape) {
    Shape resolved = shape;
    std::int64_t known = 1;
    for (std::int64_t size : shape) known *= size == -1 ? 1 : size;
    for (std::int64_t& size : resolved) {
        if (size == -1) size = numel(x.shape) / known;
    }
    if (numel(resolved) != numel(x.shape)) throw std::invalid_argument("ValueTensor reshape: sizes differ");
    return ValueTensor{resolved, x.values};
}

ValueTensor flatten(const ValueTensor& x, std::int64_t start_axis, std::int64_t end_axis) {
    const auto rank = static_cast<std::int64_t>(x.shape.size());
    start_axis = normalize(start_axis, rank);
    end_axis = normalize(end_axis, rank);
    Shape shape(x.shape.begin(), x.shape.begin() + start_axis);
    std::int64_t merged = 1;
    for (std::int64_t d = start_axis; d <= end_axis; ++d) merged *= x.shape[d];
    shape.push_back(merged);
    shape.insert(shape.end(), x.shape.begin() + end_axis + 1, x.shape.end());
    return reshape(x, shape);
}

ValueTensor permute(const ValueTensor& x, const std::vector<std::int64_t>& order) {
    const auto rank = static_cast<std::int64_t>(x.shape.size());
    Shape shape;
    for (std::int64_t axis : order) shape.push_back(x.shape[normalize(axis, rank)]);
    return gather(x, shape, [&](const Index& out_index) {
        Index in_index(x.shape.size());
        for (std::size_t d = 0; d < order.size(); ++d) in_index[normalize(order[d], rank)] = out_index[d];
        return in_index;
    });
}

ValueTensor transpose(const ValueTensor& x, std::int64_t axis0, std::int64_t axis1) {
    const auto rank = static_cast<std::int64_t>(x.shape.size());
    std::vector<std::int64_t> order(x.shape.size());
    for (std::int64_t d = 0; d < rank; ++d) order[d] = d;
    std::swap(order[normalize(axis0, rank)], order[normalize(axis1, rank)]);
    return permute(x, order);
}

ValueTensor unsqueeze(const ValueTensor& x, std::int64_t axis) {
    Shape shape = x.shape;
    shape.insert(shape.begin() + normalize(axis, static_cast<std::int64_t>(shape.size()) + 1), 1);
    return reshape(x, shape);
}

ValueTensor squeeze(const ValueTensor& x, std::optional<std::int64_t> axis) {
    Shape shape;
    const auto rank = static_cast<std::int64_t>(x.shape.size());
    for (std::int64_t d = 0; d < rank; ++d) {
        const bool drop = x.shape[d] == 1 && (!axis || normalize(*axis, rank) == d);
        if (!drop) shape.push_back(x.shape[d]);
    }
    return reshape(x, shape);
}

ValueTensor expand(const ValueTensor& x, const Shape& shape) {
    Shape resolved = shape;
    const std::size_t offset = shape.size() - x.shape.size();
    for (std::size_t d = offset; d < shape.size(); ++d) {
        if (resolved[d] == -1) resolved[d] = x.shape[d - offset];
    }
    return gather(x, resolved, [&](const Index& out_index) { return unravel(broadcast_source(out_index, x.shape), x.shape); });
}

ValueTensor slice(const ValueTensor& x, std::int64_t axis, std::optional<std::int64_t> start,
                  std::optional<std::int64_t> end, std::int64_t step) {
    axis = normalize(axis, static_cast<std::int64_t>(x.shape.size()));
    const std::int64_t size = x.shape[axis];
    auto bound = [size](std::optional<std::int64_t> b, std::int64_t fallback) {
        std::int64_t v = b.value_or(fallback);
        if (v < 0) v += size;
        return std::clamp<std::int64_t>(v, 0, size);
    };
    const std::int64_t first = bound(start, 0);
    const std::int64_t last = bound(end, size);
    Shape shape = x.shape;
    shape[axis] = last > first ? (last - first + step - 1) / step : 0;
    return gather(x, shape, [&](const Index& out_index) {
        Index in_index = out_index;
        in_index[axis] = first + out_index[axis] * step;
        return in_index;
    });
}

ValueTensor select(const ValueTensor& x, std::int64_t axis, std::int64_t index) {
    axis = normalize(axis, static_cast<std::int64_t>(x.shape.size()));
    if (index < 0) index += x.shape[axis];
    return squeeze(slice(x, axis, index, index + 1), axis);
}

ValueTensor cat(const std::vector<ValueTensor>& tensors, std::int64_t axis) {
    axis = normalize(axis, static_cast<std::int64_t>(tensors.front().shape.size()));
    Shape shape = tensors.front().shape;
    shape[axis] = 0;
    for (const ValueTensor& t : tensors) shape[axis] += t.shape[axis];
    ValueTensor out{shape, {}};
    for (std::int64_t i = 0; i < numel(shape); ++i) {
        Index index = unravel(i, shape);
        std::size_t part = 0;
        while (index[axis] >= tensors[part].shape[axis]) index[axis] -= tensors[part++].shape[axis];
        out.values.push_back(tensors[part].values[ravel(index, tensors[part].shape)]);
    }
    return out;
}

ValueTensor stack(const std::vector<ValueTensor>& tensors, std::int64_t axis) {
    std::vector<ValueTensor> expanded;
    for (const ValueTensor& t : tensors) expanded.push_back(unsqueeze(t, axis));
    return cat(expanded, axis);
}

// ---- softmax --------------------------------------------------------------------------------

ValueTensor softmax(const ValueTensor& x, std::int64_t axis) {
    const ValueTensor e = exp(x - max(x, {axis}, true));
    return e / sum(e, {axis}, true);
}

ValueTensor log_softmax(const ValueTensor& x, std::int64_t axis) {
    const ValueTensor shifted = x - max(x, {axis}, true);
    return shifted - log(sum(exp(shifted), {axis}, true));
}

}  // namespace crosscheck
