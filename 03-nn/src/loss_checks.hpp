#pragma once
// Checks and the reduction shared by the loss sources (loss.cpp, cross_entropy.cpp). Private to
// the library: not installed, not part of the public API.
#include <stepgrad/nn/loss.hpp>
#include <stepgrad/shared/error.hpp>

namespace stepgrad::nn::loss_detail {

/// The reduction of a per-element (or per-row) loss: itself, its sum or its mean.
inline Tensor reduce(const Tensor& loss, Reduction reduction) {
    switch (reduction) {
        case Reduction::None: return loss;
        case Reduction::Sum: return loss.sum();
        case Reduction::Mean: return loss.mean();
    }
    return loss;
}

/// Input and target of an elementwise loss: defined, Float32, one device, one shape.
inline void check_pair(const char* op, const Tensor& input, const Tensor& target) {
    stepgrad::detail::check_defined(op, input);
    stepgrad::detail::check_defined(op, target);
    stepgrad::detail::check_float(op, input);
    stepgrad::detail::check_float(op, target);
    stepgrad::detail::check_same_device(op, input, target);
    STEPGRAD_CHECK(input.shape() == target.shape(),
                   op << ": input and target must have the same shape, got input " << shape_to_string(input.shape())
                      << " and target " << shape_to_string(target.shape()));
}

/// An optional weight (`what`: "weight", "pos_weight") that must broadcast to `input`'s shape.
inline void check_broadcast_weight(const char* op, const char* what, const Tensor& weight, const Tensor& input) {
    if (!weight.defined()) return;
    stepgrad::detail::check_float(op, weight);
    stepgrad::detail::check_same_device(op, weight, input);
    bool fits = weight.dim() <= input.dim();
    for (std::int64_t k = 1; fits && k <= weight.dim(); ++k) {
        const std::int64_t size = weight.size(-k);
        fits = size == 1 || size == input.size(-k);
    }
    STEPGRAD_CHECK(fits, op << ": " << what << " of shape " << shape_to_string(weight.shape())
                            << " does not broadcast to the input's shape " << shape_to_string(input.shape()));
}

}  // namespace stepgrad::nn::loss_detail
