#pragma once
// Random test inputs shared by the cross-stage and the LibTorch tests: each input is a shape and
// the set of numbers it is drawn from, so that every operation sees inputs in its domain.
#include <stepgrad/shared/random.hpp>
#include <stepgrad/tensor/device.hpp>

#include <cstdint>
#include <utility>
#include <vector>

namespace stepgrad::testing {

/// Which numbers an input is drawn from.
enum class Domain {
    Real,      ///< standard normal
    Positive,  ///< uniform in [0.5, 2] (log, sqrt, fractional powers)
    Nonzero,   ///< ±uniform in [0.5, 2] (denominators)
    Kinks,     ///< from {-1, -0.5, 0, 0.5, 1}: ties, zeros and clamp bounds, where rules must agree
    Mask,      ///< 0 or 1: a condition, not differentiated
};

/// One input of an expression: its shape and its domain.
struct Input {
    Shape shape;
    Domain domain = Domain::Real;
};

inline Input real(Shape shape) { return {std::move(shape), Domain::Real}; }
inline Input positive(Shape shape) { return {std::move(shape), Domain::Positive}; }
inline Input nonzero(Shape shape) { return {std::move(shape), Domain::Nonzero}; }
inline Input kinks(Shape shape) { return {std::move(shape), Domain::Kinks}; }
inline Input mask(Shape shape) { return {std::move(shape), Domain::Mask}; }

/// numel(input.shape) numbers drawn from the input's domain, row-major.
inline std::vector<float> draw(const Input& input, Generator& gen) {
    static const float kink_values[] = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f};
    std::vector<float> data;
    const std::int64_t count = numel_of(input.shape);
    data.reserve(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) {
        switch (input.domain) {
            case Domain::Real: data.push_back(static_cast<float>(gen.normal())); break;
            case Domain::Positive: data.push_back(static_cast<float>(gen.uniform(0.5, 2.0))); break;
            case Domain::Nonzero: {
                const double magnitude = gen.uniform(0.5, 2.0);
                data.push_back(static_cast<float>(gen.uniform() < 0.5 ? -magnitude : magnitude));
                break;
            }
            case Domain::Kinks: data.push_back(kink_values[gen.below(5)]); break;
            case Domain::Mask: data.push_back(gen.uniform() < 0.5 ? 0.0f : 1.0f); break;
        }
    }
    return data;
}

}  // namespace stepgrad::testing
