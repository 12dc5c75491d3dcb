#pragma once
// Helpers shared by chapter 2's tests: value comparison and random inputs.

#include <stepgrad/shared/random.hpp>
#include <stepgrad/tensor.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

namespace stepgrad::testing {

/// Checks shape and every value of `actual` (absolute + relative tolerance).
inline void check_tensor(const Tensor& actual, const Shape& shape, const std::vector<float>& expected,
                         double tolerance = 1e-5) {
    REQUIRE(actual.defined());
    INFO("actual: " << actual);
    REQUIRE(shape_to_string(actual.shape()) == shape_to_string(shape));
    const std::vector<float> values = actual.to_vector();
    REQUIRE(values.size() == expected.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        INFO("element " << i);
        if (std::isnan(expected[i])) {
            CHECK(std::isnan(values[i]));
        } else {
            CHECK(values[i] == Approx(expected[i]).margin(tolerance).epsilon(tolerance));
        }
    }
}

/// Checks that two tensors have the same shape and values.
inline void check_same(const Tensor& actual, const Tensor& expected, double tolerance = 1e-5) {
    check_tensor(actual, expected.shape(), expected.to_vector(), tolerance);
}

/// An Int64 index tensor from braces, e.g. `indices({2, 0, 1})`.
inline Tensor indices(const TensorData& data) { return tensor(data, TensorOptions().dtype(Dtype::Int64)); }

/// A random normal tensor that requires grad (seeded, so every run is the same).
inline Tensor random_input(const Shape& shape, std::uint64_t seed = 1) {
    Generator generator(seed);
    return randn(shape, generator).requires_grad_();
}

/// Random values at least `margin` away from `point` (for functions with a kink there).
inline Tensor random_away_from(const Shape& shape, float point, float margin = 0.1f, std::uint64_t seed = 2) {
    Generator generator(seed);
    std::vector<float> values(static_cast<std::size_t>(numel_of(shape)));
    for (float& v : values) {
        const double step = generator.uniform(margin, 2.0);
        v = point + static_cast<float>(generator.uniform() < 0.5 ? -step : step);
    }
    return from_vector(values, shape).requires_grad_();
}

/// Random positive values in [low, high) (for log, sqrt, division, pow).
inline Tensor random_positive(const Shape& shape, double low = 0.5, double high = 2.0, std::uint64_t seed = 3) {
    Generator generator(seed);
    return uniform(shape, low, high, generator).requires_grad_();
}

/// `fn` of one input, for gradcheck.
template <class F>
std::function<Tensor(const std::vector<Tensor>&)> unary_fn(F f) {
    return [f](const std::vector<Tensor>& in) { return f(in[0]); };
}

/// `fn` of two inputs, for gradcheck.
template <class F>
std::function<Tensor(const std::vector<Tensor>&)> binary_fn(F f) {
    return [f](const std::vector<Tensor>& in) { return f(in[0], in[1]); };
}

}  // namespace stepgrad::testing
