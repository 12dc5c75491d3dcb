#pragma once
/// @file gradcheck.hpp
/// @brief Checks backward() against central finite differences, as `torch.autograd.gradcheck`.

#include <stepgrad/tensor/tensor.hpp>

#include <functional>
#include <vector>

namespace stepgrad {

/// @brief Step and tolerances of gradcheck, tuned for float32 (a fourth-order stencil, so a
/// 0.1% error in a gradient fails while float32 rounding passes).
///
/// An element passes when `|analytic - numeric| <= atol + rtol * |numeric|`.
struct GradcheckOptions {
    double eps = 1e-2;              ///< finite-difference step h (the stencil reaches x ± 2h)
    double atol = 5e-5;             ///< absolute tolerance
    double rtol = 2e-4;             ///< relative tolerance
    bool raise_exception = true;    ///< throw std::runtime_error describing the first mismatch
};

/// @brief Compares the gradient backward() computes for `fn` with central differences.
///
/// The output is reduced to a number with fixed random weights `r` (seeded): `L = Σ fn(x) · r`,
/// so every output element matters. For each input that requires grad and each of its elements,
/// the numeric derivative is the fourth-order central difference
/// `(8 (L(x + h) - L(x - h)) - (L(x + 2h) - L(x - 2h))) / (12 h)` (h = `eps`, L summed in
/// double), compared with the element of the analytic gradient. Inputs may live on any device
/// (elements are changed through the backend); those that do not require grad are held fixed.
///
/// Returns true when all elements pass; otherwise throws (or returns false with
/// `raise_exception = false`).
///
/// Example:
/// @code
/// Tensor x = randn({3, 4}).requires_grad_();
/// bool ok = gradcheck([](const std::vector<Tensor>& in) { return tanh(in[0]); }, {x});
/// @endcode
bool gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
               const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

}  // namespace stepgrad
