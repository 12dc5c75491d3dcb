// Inverted dropout: a random keep-mask scaled by 1 / (1 - p), multiplied into the input.
#include <stepgrad/nn/dropout.hpp>
#include "python_repr.hpp"
#include <stepgrad/shared/error.hpp>
#include <stepgrad/shared/random.hpp>

#include <ostream>

namespace stepgrad::nn {

namespace {

void check_probability(const char* op, double p) {
    STEPGRAD_CHECK(p >= 0.0 && p <= 1.0, op << ": the dropout probability must lie in [0, 1], got " << p);
}

}  // namespace

namespace functional {

// y = x * m / (1 - p) with m_i ~ Bernoulli(1 - p), so E[y] = x; dy/dx = m / (1 - p).
// The scaled mask is a constant of the graph: mul's own gradient is exactly this rule.
Tensor dropout(const Tensor& input, double p, bool training, Generator* generator) {
    detail::check_defined("dropout", input);
    check_probability("dropout", p);
    if (!training || p == 0.0) return input;
    detail::check_float("dropout", input);
    if (p == 1.0) return input * 0.0;  // every element dropped (as PyTorch: x * 0)
    Generator& source = generator != nullptr ? *generator : default_generator();
    const Tensor draws = rand(input.shape(), source, TensorOptions().device(input.device()));
    // u ~ U[0, 1) is kept when u >= p, which happens with probability 1 - p.
    const Tensor keep = detail::unary_kernel(UnaryOp::GeScalar, draws, p);
    const Tensor scaled_mask = detail::unary_kernel(UnaryOp::MulScalar, keep, 1.0 / (1.0 - p));
    return input * scaled_mask;
}

}  // namespace functional

Dropout::Dropout(const DropoutOptions& options_) : Module("Dropout"), options(options_) {
    check_probability("Dropout", options.p());
}

Tensor Dropout::forward(const Tensor& input) { return functional::dropout(input, options.p(), is_training()); }

void Dropout::pretty_print(std::ostream& stream) const {
    stream << "Dropout(p=" << repr::python_float(options.p()) << ", inplace=False)";
}

}  // namespace stepgrad::nn
