#pragma once
/// @file batchnorm.hpp
/// @brief Batch normalisation: `BatchNorm1d`, `BatchNorm2d` and `functional::batch_norm`.
///
/// Each channel is normalised to mean 0 and variance 1 over the batch (and, for images, over
/// all positions), then scaled and shifted by learned `weight` and `bias`:
/// `y = (x - mean) / sqrt(var + eps) * weight + bias`. In training the statistics are the
/// batch's, and exponential averages of them (the running statistics, buffers of the layer)
/// are kept for evaluation, where they replace the batch's: a trained network's output for an
/// image then no longer depends on the other images in its batch.
#include <stepgrad/nn/module.hpp>
#include <stepgrad/tensor.hpp>

#include <cstdint>
#include <iosfwd>
#include <string>

namespace stepgrad::nn {

/// @brief The options of `BatchNorm1d` / `BatchNorm2d` (LibTorch's `BatchNormOptions`).
///
/// Example: `BatchNormOptions(16).eps(1e-3).momentum(0.01)`.
class BatchNormOptions {
public:
    /// @brief Normalises `num_features` channels (C of an `(N, C, ...)` input).
    BatchNormOptions(std::int64_t num_features) : num_features_(num_features) {}  // NOLINT: implicit, as LibTorch's
    /// @brief Sets the number added to the variance before the square root (default 1e-5).
    BatchNormOptions& eps(double value) { eps_ = value; return *this; }
    /// @brief Sets the weight of the new batch in the running averages (default 0.1).
    BatchNormOptions& momentum(double value) { momentum_ = value; return *this; }
    /// @brief Sets whether the layer learns `weight` and `bias` (default true).
    BatchNormOptions& affine(bool value) { affine_ = value; return *this; }
    /// @brief Sets whether the layer keeps running statistics for evaluation (default true);
    /// without them it always normalises with the batch's statistics.
    BatchNormOptions& track_running_stats(bool value) { track_running_stats_ = value; return *this; }
    /// @brief The number of channels.
    [[nodiscard]] std::int64_t num_features() const { return num_features_; }
    /// @brief The variance's epsilon.
    [[nodiscard]] double eps() const { return eps_; }
    /// @brief The running averages' momentum.
    [[nodiscard]] double momentum() const { return momentum_; }
    /// @brief Whether there are `weight` and `bias`.
    [[nodiscard]] bool affine() const { return affine_; }
    /// @brief Whether running statistics are kept.
    [[nodiscard]] bool track_running_stats() const { return track_running_stats_; }

private:
    std::int64_t num_features_;
    double eps_ = 1e-5;
    double momentum_ = 0.1;
    bool affine_ = true;
    bool track_running_stats_ = true;
};

namespace functional {

/// @brief Batch normalisation of `input` `(N, C)`, `(N, C, L)` or `(N, C, H, W)`, per channel C.
///
/// With `training`, the statistics are the batch's: `mean` and the biased variance `var` over
/// every axis but C, and, when `running_mean` / `running_var` are defined, they are updated in
/// place (no gradient): `running = (1 - momentum) running + momentum batch`, with the unbiased
/// variance `var * n / (n - 1)` (n values per channel), as PyTorch. Without `training`, the
/// running statistics are used and must be given. The output is
/// `(input - mean) / sqrt(var + eps) * weight + bias` (weight and bias optional, shape `(C)`).
///
/// Recorded as one operation with the closed-form gradient (x̂ the normalised input, M = n):
/// `grad_input = weight / sqrt(var + eps) * (g - mean(g) - x̂ mean(g x̂))` in training (the
/// statistics depend on the input too), `g * weight / sqrt(var + eps)` in evaluation;
/// `grad_weight = Σ g x̂`, `grad_bias = Σ g` (sums over every axis but C).
///
/// Example:
/// @code
/// Tensor mean = zeros({16}), var = ones({16});
/// Tensor y = nn::functional::batch_norm(x, mean, var, weight, bias, true);  // updates mean, var
/// @endcode
/// @param input `(N, C)`, `(N, C, L)` or `(N, C, H, W)`
/// @param running_mean `(C)` running mean, or undefined (then `training` must be true)
/// @param running_var `(C)` running (unbiased) variance, or undefined
/// @param weight `(C)` scale, or undefined for 1
/// @param bias `(C)` shift, or undefined for 0
/// @param training use (and track) the batch's statistics
/// @param momentum weight of the batch in the running averages
/// @param eps added to the variance
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = {}, const Tensor& bias = {}, bool training = false,
                  double momentum = 0.1, double eps = 1e-5);

}  // namespace functional

/// @brief What BatchNorm1d and BatchNorm2d share (LibTorch's `BatchNormImplBase`): parameters
/// `weight` (ones) and `bias` (zeros) when affine, buffers `running_mean` (zeros),
/// `running_var` (ones) and `num_batches_tracked` (an Int64 scalar, so the state dict's keys
/// are PyTorch's) when tracking running statistics.
class BatchNormBase : public Module {
public:
    /// @brief Checks the input's rank (per subclass) and channel count, then normalises it; in
    /// training mode with tracking, also counts the batch and updates the running statistics.
    Tensor forward(const Tensor& input) override;
    /// @brief PyTorch's repr, e.g.
    /// `BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)`.
    void pretty_print(std::ostream& stream) const override;
    /// @brief Running mean to zeros, running variance to ones, batch count to zero.
    void reset_running_stats();
    /// @brief reset_running_stats(), and weight to ones, bias to zeros.
    void reset_parameters();

    BatchNormOptions options;    ///< the layer's options
    Tensor weight;               ///< `(C)` scale, undefined unless affine
    Tensor bias;                 ///< `(C)` shift, undefined unless affine
    Tensor running_mean;         ///< `(C)` buffer, undefined unless tracking
    Tensor running_var;          ///< `(C)` buffer, undefined unless tracking
    Tensor num_batches_tracked;  ///< Int64 scalar buffer: training batches seen, undefined unless tracking

protected:
    /// @brief Registers the parameters and buffers the options ask for, under type name `name`.
    BatchNormBase(std::string name, BatchNormOptions options);
    /// @brief Throws std::invalid_argument unless `input` has a rank this layer accepts.
    virtual void check_input_dim(const Tensor& input) const = 0;
};

/// @brief Batch normalisation of `(N, C)` or `(N, C, L)` inputs (like `torch::nn::BatchNorm1d`).
///
/// Example:
/// @code
/// auto bn = std::make_shared<nn::BatchNorm1d>(128);
/// Tensor y = bn->forward(randn({64, 128}));  // training mode: batch statistics
/// bn->eval();                                 // now the running statistics
/// @endcode
class BatchNorm1d : public BatchNormBase {
public:
    /// @brief A layer with these options.
    explicit BatchNorm1d(BatchNormOptions options);

protected:
    /// @brief Accepts 2-D and 3-D inputs.
    void check_input_dim(const Tensor& input) const override;
};

/// @brief Batch normalisation of `(N, C, H, W)` images, per channel (like `torch::nn::BatchNorm2d`).
///
/// Example: `auto bn = std::make_shared<nn::BatchNorm2d>(16);  // after a Conv2d(.., 16, ..)`
class BatchNorm2d : public BatchNormBase {
public:
    /// @brief A layer with these options.
    explicit BatchNorm2d(BatchNormOptions options);

protected:
    /// @brief Accepts 4-D inputs.
    void check_input_dim(const Tensor& input) const override;
};

}  // namespace stepgrad::nn
