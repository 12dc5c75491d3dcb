#pragma once
/// @file linear.hpp
/// @brief `Linear`: the fully connected layer `y = x Wᵀ + b`, and its functional form.
#include <stepgrad/nn/module.hpp>

#include <cstdint>
#include <iosfwd>

namespace stepgrad::nn {

namespace functional {

/// @brief `input @ weightᵀ + bias`, PyTorch's `F::linear`, as one recorded operation.
///
/// Shapes: input `(*, in_features)` (any number of leading axes, each row is one sample),
/// weight `(out_features, in_features)` (PyTorch's layout), bias `(out_features)` or undefined
/// (no bias); the result is `(*, out_features)`. The forward is one GEMM with the weight read
/// transposed in place (no copy of `weightᵀ`), then the bias added to every row. The backward
/// computes only the gradients that are needed: `grad_input = g @ W`, `grad_weight = gᵀ @ x`
/// (again GEMMs with transpose flags), `grad_bias = Σ_rows g`.
///
/// Example:
/// @code
/// Tensor x = randn({64, 784});
/// Tensor w = randn({128, 784}).requires_grad_(), b = zeros({128}).requires_grad_();
/// Tensor y = stepgrad::nn::functional::linear(x, w, b);  // (64, 128)
/// @endcode
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace functional

/// @brief The options of Linear, as `torch::nn::LinearOptions`: sizes, and whether it has a bias.
///
/// Example: `LinearOptions(784, 128).bias(false)`.
class LinearOptions {
public:
    /// @brief A layer from `in_features` inputs to `out_features` outputs (with a bias).
    LinearOptions(std::int64_t in_features, std::int64_t out_features)
        : in_features_(in_features), out_features_(out_features) {}
    /// @brief Sets whether the layer learns an additive bias (true by default).
    LinearOptions& bias(bool bias) {
        bias_ = bias;
        return *this;
    }
    /// @brief Size of each input sample.
    [[nodiscard]] std::int64_t in_features() const { return in_features_; }
    /// @brief Size of each output sample.
    [[nodiscard]] std::int64_t out_features() const { return out_features_; }
    /// @brief Whether the layer has a bias.
    [[nodiscard]] bool bias() const { return bias_; }

private:
    std::int64_t in_features_;
    std::int64_t out_features_;
    bool bias_ = true;
};

/// @brief `y = x Wᵀ + b`, PyTorch's `nn.Linear`: weight `(out_features, in_features)`, bias
/// `(out_features)`, input `(*, in_features)`, output `(*, out_features)`.
///
/// Initialised as PyTorch does: `kaiming_uniform_(weight, sqrt(5))`, i.e. uniform in
/// `±1/sqrt(in_features)`, and the bias uniform in `±1/sqrt(in_features)` too, so weights
/// copied from PyTorch give PyTorch's outputs and fresh layers start at the same scale.
///
/// Example:
/// @code
/// auto fc = std::make_shared<stepgrad::nn::Linear>(stepgrad::nn::LinearOptions(784, 128));
/// stepgrad::Tensor y = fc->forward(stepgrad::randn({64, 784}));  // (64, 128)
/// std::cout << *fc;  // Linear(in_features=784, out_features=128, bias=True)
/// @endcode
class Linear : public Module {
public:
    /// @brief Registers `weight` (and `bias` unless `options.bias()` is false) and initialises them.
    explicit Linear(const LinearOptions& options);
    /// @brief Same as `Linear(LinearOptions(in_features, out_features))`.
    Linear(std::int64_t in_features, std::int64_t out_features);

    /// @brief Draws fresh weights and bias with PyTorch's default initialisation.
    void reset_parameters();
    /// @brief `functional::linear(input, weight, bias)`.
    Tensor forward(const Tensor& input) override;
    /// @brief `Linear(in_features=784, out_features=128, bias=True)`.
    void pretty_print(std::ostream& stream) const override;

    LinearOptions options;  ///< the sizes and the bias flag the layer was built with
    Tensor weight;          ///< `(out_features, in_features)`, requires grad
    Tensor bias;            ///< `(out_features)`, requires grad; undefined without a bias
};

}  // namespace stepgrad::nn
