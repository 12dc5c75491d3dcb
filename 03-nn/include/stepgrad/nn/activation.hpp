#pragma once
/// @file activation.hpp
/// @brief Activation modules (`ReLU`, `LeakyReLU`, `Sigmoid`, `Tanh`, `GELU`, `Softmax`,
/// `LogSoftmax`), `Flatten` and `Identity`: modules without parameters, each forward one
/// chapter-2 call, so that they can sit in a Sequential.
///
/// Example:
/// @code
/// auto model =
/// std::make_shared<stepgrad::nn::Sequential>(std::initializer_list<std::shared_ptr<stepgrad::nn::Module>>{
///     std::make_shared<stepgrad::nn::Flatten>(),
///     std::make_shared<stepgrad::nn::Linear>(784, 128),
///     std::make_shared<stepgrad::nn::ReLU>(),
///     std::make_shared<stepgrad::nn::Linear>(128, 10)});
/// @endcode
#include <stepgrad/nn/module.hpp>

#include <cstdint>
#include <iosfwd>

namespace stepgrad::nn {

namespace functional {

/// @brief `max(x, 0)` elementwise (`stepgrad::relu`).
inline Tensor relu(const Tensor& input) { return stepgrad::relu(input); }
/// @brief `x` where positive, `negative_slope * x` elsewhere (`stepgrad::leaky_relu`).
inline Tensor leaky_relu(const Tensor& input, double negative_slope = 0.01) {
    return stepgrad::leaky_relu(input, negative_slope);
}
/// @brief `1 / (1 + e^-x)` elementwise (`stepgrad::sigmoid`).
inline Tensor sigmoid(const Tensor& input) { return stepgrad::sigmoid(input); }
/// @brief `tanh(x)` elementwise (`stepgrad::tanh`).
inline Tensor tanh(const Tensor& input) { return stepgrad::tanh(input); }
/// @brief `x Φ(x)` elementwise, the exact GELU (`stepgrad::gelu`).
inline Tensor gelu(const Tensor& input) { return stepgrad::gelu(input); }
/// @brief Softmax along `dim` (`stepgrad::softmax`).
inline Tensor softmax(const Tensor& input, std::int64_t dim) { return stepgrad::softmax(input, dim); }
/// @brief Log-softmax along `dim` (`stepgrad::log_softmax`).
inline Tensor log_softmax(const Tensor& input, std::int64_t dim) { return stepgrad::log_softmax(input, dim); }

}  // namespace functional

/// @brief `max(x, 0)` elementwise. Prints as `ReLU()`.
class ReLU : public Module {
public:
    /// @brief A ReLU module.
    ReLU() : Module("ReLU") {}
    /// @brief `relu(input)`, any shape.
    Tensor forward(const Tensor& input) override;
    /// @brief `ReLU()`.
    void pretty_print(std::ostream& stream) const override;
};

/// @brief The options of LeakyReLU: the slope for negative inputs (0.01 by default).
///
/// Example: `LeakyReLUOptions().negative_slope(0.2)`.
class LeakyReLUOptions {
public:
    /// @brief Sets the slope used where the input is negative.
    LeakyReLUOptions& negative_slope(double negative_slope) {
        negative_slope_ = negative_slope;
        return *this;
    }
    /// @brief The slope used where the input is negative.
    [[nodiscard]] double negative_slope() const { return negative_slope_; }

private:
    double negative_slope_ = 0.01;
};

/// @brief `x` where positive, `negative_slope * x` elsewhere. Prints as
/// `LeakyReLU(negative_slope=0.01)`.
class LeakyReLU : public Module {
public:
    /// @brief A leaky ReLU with the negative slope of `slope`.
    explicit LeakyReLU(const LeakyReLUOptions& slope = {}) : Module("LeakyReLU"), options(slope) {}
    /// @brief `leaky_relu(input, negative_slope)`, any shape.
    Tensor forward(const Tensor& input) override;
    /// @brief `LeakyReLU(negative_slope=0.01)`.
    void pretty_print(std::ostream& stream) const override;

    LeakyReLUOptions options;  ///< the negative slope
};

/// @brief The logistic function `1 / (1 + e^-x)` elementwise. Prints as `Sigmoid()`.
class Sigmoid : public Module {
public:
    /// @brief A sigmoid module.
    Sigmoid() : Module("Sigmoid") {}
    /// @brief `sigmoid(input)`, any shape.
    Tensor forward(const Tensor& input) override;
    /// @brief `Sigmoid()`.
    void pretty_print(std::ostream& stream) const override;
};

/// @brief Hyperbolic tangent elementwise. Prints as `Tanh()`.
class Tanh : public Module {
public:
    /// @brief A tanh module.
    Tanh() : Module("Tanh") {}
    /// @brief `tanh(input)`, any shape.
    Tensor forward(const Tensor& input) override;
    /// @brief `Tanh()`.
    void pretty_print(std::ostream& stream) const override;
};

/// @brief GELU `x Φ(x)` (exact, with erf) elementwise. Prints as `GELU()`.
class GELU : public Module {
public:
    /// @brief A GELU module.
    GELU() : Module("GELU") {}
    /// @brief `gelu(input)`, any shape.
    Tensor forward(const Tensor& input) override;
    /// @brief `GELU()`.
    void pretty_print(std::ostream& stream) const override;
};

/// @brief Softmax along `dim`: each slice along `dim` becomes probabilities that sum to 1.
/// Prints as `Softmax(dim=1)`.
class Softmax : public Module {
public:
    /// @brief Softmax along `axis` (negative counts from the end).
    explicit Softmax(std::int64_t axis) : Module("Softmax"), dim(axis) {}
    /// @brief `softmax(input, dim)`.
    Tensor forward(const Tensor& input) override;
    /// @brief `Softmax(dim=1)`.
    void pretty_print(std::ostream& stream) const override;

    std::int64_t dim;  ///< the axis normalised
};

/// @brief Log-softmax along `dim` (stable; pairs with nll_loss). Prints as `LogSoftmax(dim=1)`.
class LogSoftmax : public Module {
public:
    /// @brief Log-softmax along `axis` (negative counts from the end).
    explicit LogSoftmax(std::int64_t axis) : Module("LogSoftmax"), dim(axis) {}
    /// @brief `log_softmax(input, dim)`.
    Tensor forward(const Tensor& input) override;
    /// @brief `LogSoftmax(dim=1)`.
    void pretty_print(std::ostream& stream) const override;

    std::int64_t dim;  ///< the axis normalised
};

/// @brief The options of Flatten: the first and last axes merged (1 and -1 by default, so the
/// batch axis stays).
///
/// Example: `FlattenOptions().start_dim(2)`.
class FlattenOptions {
public:
    /// @brief Sets the first axis merged.
    FlattenOptions& start_dim(std::int64_t start_dim) {
        start_dim_ = start_dim;
        return *this;
    }
    /// @brief Sets the last axis merged (negative counts from the end).
    FlattenOptions& end_dim(std::int64_t end_dim) {
        end_dim_ = end_dim;
        return *this;
    }
    /// @brief The first axis merged.
    [[nodiscard]] std::int64_t start_dim() const { return start_dim_; }
    /// @brief The last axis merged.
    [[nodiscard]] std::int64_t end_dim() const { return end_dim_; }

private:
    std::int64_t start_dim_ = 1;
    std::int64_t end_dim_ = -1;
};

/// @brief Merges axes `start_dim..end_dim` into one (a view, no copy): `(N, 1, 28, 28)` becomes
/// `(N, 784)`. Prints as `Flatten(start_dim=1, end_dim=-1)`.
class Flatten : public Module {
public:
    /// @brief Flattens the axes `axes` names.
    explicit Flatten(const FlattenOptions& axes = {}) : Module("Flatten"), options(axes) {}
    /// @brief `flatten(input, start_dim, end_dim)`.
    Tensor forward(const Tensor& input) override;
    /// @brief `Flatten(start_dim=1, end_dim=-1)`.
    void pretty_print(std::ostream& stream) const override;

    FlattenOptions options;  ///< the axes merged
};

/// @brief Returns its input unchanged (the same tensor): a placeholder, e.g. the shortcut of a
/// residual block. Prints as `Identity()`.
class Identity : public Module {
public:
    /// @brief An identity module.
    Identity() : Module("Identity") {}
    /// @brief `input` itself.
    Tensor forward(const Tensor& input) override;
    /// @brief `Identity()`.
    void pretty_print(std::ostream& stream) const override;
};

}  // namespace stepgrad::nn
