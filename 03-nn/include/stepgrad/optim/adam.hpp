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

/// @brief The hyperparameters Adam and AdamW share, with chainable setters as LibTorch's
/// `AdamOptions`: written once here and used through AdamOptions and AdamWOptions, which only
/// choose the defaults (the setters return `Derived&`, so chains keep the derived type).
/// @tparam Derived AdamOptions or AdamWOptions (the curiously recurring template pattern).
template <class Derived>
class AdamFamilyOptions : public OptimizerOptions {
public:
    /// @brief Sets the learning rate.
    Derived& lr(double value) { lr_ = value; return self(); }
    /// @brief The learning rate.
    [[nodiscard]] double lr() const { return lr_; }
    /// @brief Sets the decay rates of the first and second moments.
    Derived& betas(const std::tuple<double, double>& value) { betas_ = value; return self(); }
    /// @brief The decay rates (beta1, beta2).
    [[nodiscard]] const std::tuple<double, double>& betas() const { return betas_; }
    /// @brief Sets the term added to the denominator.
    Derived& eps(double value) { eps_ = value; return self(); }
    /// @brief The term added to the denominator.
    [[nodiscard]] double eps() const { return eps_; }
    /// @brief Sets the weight decay: Adam's L2 penalty added to the gradient, or AdamW's
    /// decoupled decay (`param *= 1 - lr * weight_decay` each step).
    Derived& weight_decay(double value) { weight_decay_ = value; return self(); }
    /// @brief The weight decay (Adam: the L2 penalty; AdamW: the decoupled weight decay).
    [[nodiscard]] double weight_decay() const { return weight_decay_; }
    /// @brief AMSGrad: only `false` is implemented (true is rejected by validate()).
    Derived& amsgrad(bool value) { amsgrad_ = value; return self(); }
    /// @brief Whether AMSGrad was asked for.
    [[nodiscard]] bool amsgrad() const { return amsgrad_; }

    /// @brief A copy of these options as a `Derived`.
    [[nodiscard]] std::unique_ptr<OptimizerOptions> clone() const override {
        return std::make_unique<Derived>(static_cast<const Derived&>(*this));
    }
    /// @brief The learning rate.
    [[nodiscard]] double get_lr() const override { return lr_; }
    /// @brief Sets the learning rate (what an LR scheduler calls).
    void set_lr(double lr) override { lr_ = lr; }
    /// @brief True: beta1 is the momentum OneCycleLR cycles.
    [[nodiscard]] bool has_momentum() const override { return true; }
    /// @brief beta1.
    [[nodiscard]] double get_momentum() const override { return std::get<0>(betas_); }
    /// @brief Sets beta1.
    void set_momentum(double momentum) override { std::get<0>(betas_) = momentum; }
    /// @brief Rejects lr < 0, eps < 0, betas outside [0, 1), weight_decay < 0, and amsgrad.
    void validate() const override;
    /// @brief Writes `lr`, `betas`, `eps`, `weight_decay` and `amsgrad` under `prefix`.
    void write(Metadata& metadata, const std::string& prefix) const override;
    /// @brief Reads `lr`, `betas`, `eps`, `weight_decay` and `amsgrad` from `prefix`.
    void read(const Metadata& metadata, const std::string& prefix) override;

protected:
    /// @brief Options with learning rate `lr` and the derived class's default `weight_decay`.
    AdamFamilyOptions(double lr, double weight_decay) : lr_(lr), weight_decay_(weight_decay) {}

private:
    Derived& self() { return static_cast<Derived&>(*this); }

    double lr_;
    std::tuple<double, double> betas_{0.9, 0.999};
    double eps_ = 1e-8;
    double weight_decay_;
    bool amsgrad_ = false;
};

/// @brief Adam's hyperparameters (see AdamFamilyOptions): weight decay 0 by default, added to
/// the gradient as an L2 penalty.
///
/// Example: `AdamOptions(1e-3).betas({0.9, 0.999}).eps(1e-8).weight_decay(0)`
class AdamOptions : public AdamFamilyOptions<AdamOptions> {
public:
    /// @brief Options with learning rate `lr` (PyTorch's default is 1e-3).
    explicit AdamOptions(double lr = 1e-3) : AdamFamilyOptions(lr, 0.0) {}
};

/// @brief AdamW's hyperparameters: Adam's, with weight decay 0.01 by default (decoupled).
///
/// Example: `AdamWOptions(1e-3).weight_decay(0.05)`
class AdamWOptions : public AdamFamilyOptions<AdamWOptions> {
public:
    /// @brief Options with learning rate `lr` (PyTorch's default is 1e-3).
    explicit AdamWOptions(double lr = 1e-3) : AdamFamilyOptions(lr, 1e-2) {}
};

/// @cond
// validate(), write() and read() are compiled once, in adam.cpp, for these two.
extern template class AdamFamilyOptions<AdamOptions>;
extern template class AdamFamilyOptions<AdamWOptions>;
/// @endcond

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
