#pragma once
/// @file rmsprop.hpp
/// @brief RMSprop (`torch.optim.RMSprop`), with centring and momentum, written with chapter 2's
/// in-place tensor operations (there is no fused kernel for it).
#include <stepgrad/optim/optimizer.hpp>

#include <memory>
#include <string>
#include <vector>

namespace stepgrad::optim {

/// @brief RMSprop's hyperparameters, with chainable setters as LibTorch's `RMSpropOptions`.
///
/// Example: `RMSpropOptions(0.01).alpha(0.99).momentum(0.9).centered(true)`
class RMSpropOptions : public OptimizerOptions {
public:
    /// @brief Options with learning rate `lr` (PyTorch's default is 0.01).
    explicit RMSpropOptions(double lr = 0.01) : lr_(lr) {}

    /// @brief Sets the learning rate.
    RMSpropOptions& lr(double value) { lr_ = value; return *this; }
    /// @brief The learning rate.
    [[nodiscard]] double lr() const { return lr_; }
    /// @brief Sets the smoothing constant of the running averages.
    RMSpropOptions& alpha(double value) { alpha_ = value; return *this; }
    /// @brief The smoothing constant.
    [[nodiscard]] double alpha() const { return alpha_; }
    /// @brief Sets the term added to the denominator.
    RMSpropOptions& eps(double value) { eps_ = value; return *this; }
    /// @brief The term added to the denominator.
    [[nodiscard]] double eps() const { return eps_; }
    /// @brief Sets the L2 penalty added to the gradient.
    RMSpropOptions& weight_decay(double value) { weight_decay_ = value; return *this; }
    /// @brief The L2 penalty.
    [[nodiscard]] double weight_decay() const { return weight_decay_; }
    /// @brief Sets the momentum factor (0: none).
    RMSpropOptions& momentum(double value) { momentum_ = value; return *this; }
    /// @brief The momentum factor.
    [[nodiscard]] double momentum() const { return momentum_; }
    /// @brief Centred RMSprop: divide by an estimate of the gradient's variance, not its second moment.
    RMSpropOptions& centered(bool value) { centered_ = value; return *this; }
    /// @brief Whether RMSprop is centred.
    [[nodiscard]] bool centered() const { return centered_; }

    [[nodiscard]] std::unique_ptr<OptimizerOptions> clone() const override {
        return std::make_unique<RMSpropOptions>(*this);
    }
    [[nodiscard]] double get_lr() const override { return lr_; }
    void set_lr(double lr) override { lr_ = lr; }
    [[nodiscard]] bool has_momentum() const override { return true; }
    [[nodiscard]] double get_momentum() const override { return momentum_; }
    void set_momentum(double momentum) override { momentum_ = momentum; }
    /// @brief Rejects negative lr, eps, momentum, weight_decay or alpha, as PyTorch does.
    void validate() const override;
    void write(Metadata& metadata, const std::string& prefix) const override;
    void read(const Metadata& metadata, const std::string& prefix) override;

private:
    double lr_;
    double alpha_ = 0.99;
    double eps_ = 1e-8;
    double weight_decay_ = 0.0;
    double momentum_ = 0.0;
    bool centered_ = false;
};

/// @brief `torch.optim.RMSprop`. For each parameter with a gradient:
/// @code
/// g = grad + weight_decay * param
/// square_avg = alpha * square_avg + (1 - alpha) * g * g
/// if centered: grad_avg = alpha * grad_avg + (1 - alpha) * g;  avg = sqrt(square_avg - grad_avg^2) + eps
/// else:        avg = sqrt(square_avg) + eps
/// if momentum > 0: buf = momentum * buf + g / avg;  param -= lr * buf
/// else:            param -= lr * g / avg
/// @endcode
/// State per parameter: `step`, `square_avg`, and `momentum_buffer` / `grad_avg` when used.
///
/// Example:
/// @code
/// stepgrad::optim::RMSprop optimizer(model->parameters(), stepgrad::optim::RMSpropOptions(0.01).momentum(0.9));
/// @endcode
class RMSprop : public Optimizer {
public:
    /// @brief RMSprop over `params` (one group) with `options`.
    RMSprop(const std::vector<Tensor>& params, const RMSpropOptions& options);
    /// @brief RMSprop over `groups`; groups without options take `defaults`.
    RMSprop(const std::vector<OptimizerParamGroup>& groups, const RMSpropOptions& defaults);
    /// @brief One update of every parameter that has a gradient (in-place ops, under NoGradGuard).
    void step() override;

protected:
    [[nodiscard]] std::vector<std::string> known_state_names() const override {
        return {"square_avg", "momentum_buffer", "grad_avg"};
    }
    [[nodiscard]] std::vector<std::string> required_state_names(const OptimizerOptions& options) const override;
    [[nodiscard]] bool counts_steps() const override { return true; }
};

}  // namespace stepgrad::optim
