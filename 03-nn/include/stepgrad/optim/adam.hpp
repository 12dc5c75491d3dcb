#pragma once
/// @file adam.hpp
/// @brief Adam (`torch.optim.Adam`, weight decay as an L2 term in the gradient) and AdamW
/// (`torch.optim.AdamW`, decoupled weight decay), both on the backend's fused `adam_step`.
#include <stepgrad/optim/optimizer.hpp>

#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace stepgrad::optim {

/// @brief Adam's hyperparameters, with chainable setters as LibTorch's `AdamOptions`.
///
/// Example: `AdamOptions(1e-3).betas({0.9, 0.999}).eps(1e-8).weight_decay(0)`
class AdamOptions : public OptimizerOptions {
public:
    /// @brief Options with learning rate `lr` (PyTorch's default is 1e-3).
    explicit AdamOptions(double lr = 1e-3) : lr_(lr) {}

    /// @brief Sets the learning rate.
    AdamOptions& lr(double value) { lr_ = value; return *this; }
    /// @brief The learning rate.
    [[nodiscard]] double lr() const { return lr_; }
    /// @brief Sets the decay rates of the first and second moments.
    AdamOptions& betas(const std::tuple<double, double>& value) { betas_ = value; return *this; }
    /// @brief The decay rates (beta1, beta2).
    [[nodiscard]] const std::tuple<double, double>& betas() const { return betas_; }
    /// @brief Sets the term added to the denominator.
    AdamOptions& eps(double value) { eps_ = value; return *this; }
    /// @brief The term added to the denominator.
    [[nodiscard]] double eps() const { return eps_; }
    /// @brief Sets the L2 penalty added to the gradient.
    AdamOptions& weight_decay(double value) { weight_decay_ = value; return *this; }
    /// @brief The L2 penalty.
    [[nodiscard]] double weight_decay() const { return weight_decay_; }
    /// @brief AMSGrad: only `false` is implemented (true is rejected by validate()).
    AdamOptions& amsgrad(bool value) { amsgrad_ = value; return *this; }
    /// @brief Whether AMSGrad was asked for.
    [[nodiscard]] bool amsgrad() const { return amsgrad_; }

    [[nodiscard]] std::unique_ptr<OptimizerOptions> clone() const override {
        return std::make_unique<AdamOptions>(*this);
    }
    [[nodiscard]] double get_lr() const override { return lr_; }
    void set_lr(double lr) override { lr_ = lr; }
    [[nodiscard]] bool has_momentum() const override { return true; }
    [[nodiscard]] double get_momentum() const override { return std::get<0>(betas_); }
    void set_momentum(double momentum) override { std::get<0>(betas_) = momentum; }
    /// @brief Rejects lr < 0, eps < 0, betas outside [0, 1), weight_decay < 0, and amsgrad.
    void validate() const override;
    void write(Metadata& metadata, const std::string& prefix) const override;
    void read(const Metadata& metadata, const std::string& prefix) override;

private:
    double lr_;
    std::tuple<double, double> betas_{0.9, 0.999};
    double eps_ = 1e-8;
    double weight_decay_ = 0.0;
    bool amsgrad_ = false;
};

/// @brief AdamW's hyperparameters: Adam's, with weight decay 0.01 by default (decoupled).
///
/// Example: `AdamWOptions(1e-3).weight_decay(0.05)`
class AdamWOptions : public OptimizerOptions {
public:
    /// @brief Options with learning rate `lr` (PyTorch's default is 1e-3).
    explicit AdamWOptions(double lr = 1e-3) : lr_(lr) {}

    /// @brief Sets the learning rate.
    AdamWOptions& lr(double value) { lr_ = value; return *this; }
    /// @brief The learning rate.
    [[nodiscard]] double lr() const { return lr_; }
    /// @brief Sets the decay rates of the first and second moments.
    AdamWOptions& betas(const std::tuple<double, double>& value) { betas_ = value; return *this; }
    /// @brief The decay rates (beta1, beta2).
    [[nodiscard]] const std::tuple<double, double>& betas() const { return betas_; }
    /// @brief Sets the term added to the denominator.
    AdamWOptions& eps(double value) { eps_ = value; return *this; }
    /// @brief The term added to the denominator.
    [[nodiscard]] double eps() const { return eps_; }
    /// @brief Sets the decoupled weight decay (`param *= 1 - lr * weight_decay` each step).
    AdamWOptions& weight_decay(double value) { weight_decay_ = value; return *this; }
    /// @brief The decoupled weight decay.
    [[nodiscard]] double weight_decay() const { return weight_decay_; }
    /// @brief AMSGrad: only `false` is implemented (true is rejected by validate()).
    AdamWOptions& amsgrad(bool value) { amsgrad_ = value; return *this; }
    /// @brief Whether AMSGrad was asked for.
    [[nodiscard]] bool amsgrad() const { return amsgrad_; }

    [[nodiscard]] std::unique_ptr<OptimizerOptions> clone() const override {
        return std::make_unique<AdamWOptions>(*this);
    }
    [[nodiscard]] double get_lr() const override { return lr_; }
    void set_lr(double lr) override { lr_ = lr; }
    [[nodiscard]] bool has_momentum() const override { return true; }
    [[nodiscard]] double get_momentum() const override { return std::get<0>(betas_); }
    void set_momentum(double momentum) override { std::get<0>(betas_) = momentum; }
    /// @brief Rejects lr < 0, eps < 0, betas outside [0, 1), weight_decay < 0, and amsgrad.
    void validate() const override;
    void write(Metadata& metadata, const std::string& prefix) const override;
    void read(const Metadata& metadata, const std::string& prefix) override;

private:
    double lr_;
    std::tuple<double, double> betas_{0.9, 0.999};
    double eps_ = 1e-8;
    double weight_decay_ = 1e-2;
    bool amsgrad_ = false;
};

/// @brief `torch.optim.Adam`. For each parameter with a gradient, at step t (from 1):
/// @code
/// g = grad + weight_decay * param
/// m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g * g
/// param -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
/// @endcode
/// State per parameter: `step`, `exp_avg` (m), `exp_avg_sq` (v).
///
/// Example:
/// @code
/// stepgrad::optim::Adam optimizer(model->parameters(), stepgrad::optim::AdamOptions(1e-3));
/// @endcode
class Adam : public Optimizer {
public:
    /// @brief Adam over `params` (one group) with `options`.
    Adam(const std::vector<Tensor>& params, const AdamOptions& options);
    /// @brief Adam over `groups`; groups without options take `defaults`.
    Adam(const std::vector<OptimizerParamGroup>& groups, const AdamOptions& defaults);
    /// @brief One update of every parameter that has a gradient (fused kernel, under NoGradGuard).
    void step() override;

protected:
    [[nodiscard]] std::vector<std::string> known_state_names() const override { return {"exp_avg", "exp_avg_sq"}; }
    [[nodiscard]] std::vector<std::string> required_state_names(const OptimizerOptions& options) const override;
    [[nodiscard]] bool counts_steps() const override { return true; }
};

/// @brief `torch.optim.AdamW`: Adam with decoupled weight decay,
/// `param *= 1 - lr * weight_decay` before Adam's update of the plain gradient.
///
/// Example:
/// @code
/// stepgrad::optim::AdamW optimizer(model->parameters(), stepgrad::optim::AdamWOptions(1e-3).weight_decay(0.01));
/// @endcode
class AdamW : public Optimizer {
public:
    /// @brief AdamW over `params` (one group) with `options`.
    AdamW(const std::vector<Tensor>& params, const AdamWOptions& options);
    /// @brief AdamW over `groups`; groups without options take `defaults`.
    AdamW(const std::vector<OptimizerParamGroup>& groups, const AdamWOptions& defaults);
    /// @brief One update of every parameter that has a gradient (fused kernel, under NoGradGuard).
    void step() override;

protected:
    [[nodiscard]] std::vector<std::string> known_state_names() const override { return {"exp_avg", "exp_avg_sq"}; }
    [[nodiscard]] std::vector<std::string> required_state_names(const OptimizerOptions& options) const override;
    [[nodiscard]] bool counts_steps() const override { return true; }
};

}  // namespace stepgrad::optim
