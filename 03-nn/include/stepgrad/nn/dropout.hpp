#pragma once
/// @file dropout.hpp
/// @brief `Dropout`: during training, zeroes each element with probability `p` and scales the
/// rest by `1 / (1 - p)` (inverted dropout), so evaluation needs no rescaling at all.
#include <stepgrad/nn/module.hpp>

#include <iosfwd>

namespace stepgrad {
class Generator;
}  // namespace stepgrad

namespace stepgrad::nn {

namespace functional {

/// @brief Inverted dropout, PyTorch's `F::dropout`.
///
/// With `training` and `0 < p < 1`: each element is kept with probability `1 - p` (a fresh
/// mask drawn from `generator`, or the default generator when null) and multiplied by
/// `1 / (1 - p)`, so the expected output equals the input; the gradient is the same mask times
/// `1 / (1 - p)`. With `training` false or `p == 0` the result is `input` itself (the same
/// tensor, no copy); with `p == 1` it is all zeros. Throws std::invalid_argument unless
/// `0 <= p <= 1`.
///
/// Example:
/// @code
/// Tensor h = stepgrad::nn::functional::dropout(hidden, 0.5, /*training=*/true);
/// @endcode
Tensor dropout(const Tensor& input, double p = 0.5, bool training = true, Generator* generator = nullptr);

}  // namespace functional

/// @brief The options of Dropout: the probability of zeroing an element.
///
/// Example: `DropoutOptions(0.2)` or `DropoutOptions().p(0.2)`.
class DropoutOptions {
public:
    /// @brief Dropout with probability `probability` (0.5 by default, as PyTorch).
    DropoutOptions(double probability = 0.5) : p_(probability) {}  // NOLINT: implicit, as LibTorch's
    /// @brief Sets the probability of zeroing an element.
    DropoutOptions& p(double probability) {
        p_ = probability;
        return *this;
    }
    /// @brief The probability of zeroing an element.
    [[nodiscard]] double p() const { return p_; }

private:
    double p_;
};

/// @brief Dropout as a module: active in training mode (`train()`), the identity in evaluation
/// mode (`eval()`). Prints as `Dropout(p=0.5, inplace=False)`.
///
/// Example:
/// @code
/// auto drop = std::make_shared<stepgrad::nn::Dropout>(stepgrad::nn::DropoutOptions(0.3));
/// drop->eval();
/// stepgrad::Tensor same = drop->forward(x);  // x itself
/// @endcode
class Dropout : public Module {
public:
    /// @brief Dropout with the probability of `options` (checked to lie in [0, 1]).
    explicit Dropout(const DropoutOptions& options = {});
    /// @brief `functional::dropout(input, p, is_training())`.
    Tensor forward(const Tensor& input) override;
    /// @brief `Dropout(p=0.5, inplace=False)`.
    void pretty_print(std::ostream& stream) const override;

    DropoutOptions options;  ///< the probability of zeroing an element
};

}  // namespace stepgrad::nn
