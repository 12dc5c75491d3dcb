#pragma once
/// @file sgd.hpp
/// @brief Stochastic gradient descent with momentum, dampening, Nesterov and weight decay
/// (`torch.optim.SGD`), on the backend's fused `sgd_step` kernel.
#include <stepgrad/optim/optimizer.hpp>

#include <memory>
#include <string>
#include <vector>

namespace stepgrad::optim {

/// @brief SGD's hyperparameters, with chainable setters as LibTorch's `SGDOptions`.
///
/// Example: `SGDOptions(0.1).momentum(0.9).weight_decay(5e-4).nesterov(true)`
class SGDOptions : public OptimizerOptions {
public:
    /// @brief Options with learning rate `lr` and everything else off.
    explicit SGDOptions(double lr) : lr_(lr) {}

    /// @brief Sets the learning rate.
    SGDOptions& lr(double value) { lr_ = value; return *this; }
    /// @brief The learning rate.
    [[nodiscard]] double lr() const { return lr_; }
    /// @brief Sets the momentum factor (0: plain SGD, no buffer).
    SGDOptions& momentum(double value) { momentum_ = value; return *this; }
    /// @brief The momentum factor.
    [[nodiscard]] double momentum() const { return momentum_; }
    /// @brief Sets the dampening of the momentum (not applied on the first step).
    SGDOptions& dampening(double value) { dampening_ = value; return *this; }
    /// @brief The dampening.
    [[nodiscard]] double dampening() const { return dampening_; }
    /// @brief Sets the L2 penalty added to the gradient (`g += weight_decay * param`).
    SGDOptions& weight_decay(double value) { weight_decay_ = value; return *this; }
    /// @brief The L2 penalty.
    [[nodiscard]] double weight_decay() const { return weight_decay_; }
    /// @brief Turns Nesterov momentum on (needs momentum > 0 and dampening 0).
    SGDOptions& nesterov(bool value) { nesterov_ = value; return *this; }
    /// @brief Whether Nesterov momentum is on.
    [[nodiscard]] bool nesterov() const { return nesterov_; }

    [[nodiscard]] std::unique_ptr<OptimizerOptions> clone() const override {
        return std::make_unique<SGDOptions>(*this);
    }
    [[nodiscard]] double get_lr() const override { return lr_; }
    void set_lr(double lr) override { lr_ = lr; }
    [[nodiscard]] bool has_momentum() const override { return true; }
    [[nodiscard]] double get_momentum() const override { return momentum_; }
    void set_momentum(double momentum) override { momentum_ = momentum; }
    /// @brief Rejects lr < 0, momentum < 0, weight_decay < 0, and Nesterov without momentum or
    /// with dampening, as PyTorch does.
    void validate() const override;
    void write(Metadata& metadata, const std::string& prefix) const override;
    void read(const Metadata& metadata, const std::string& prefix) override;

private:
    double lr_;
    double momentum_ = 0.0;
    double dampening_ = 0.0;
    double weight_decay_ = 0.0;
    bool nesterov_ = false;
};

/// @brief `torch.optim.SGD`. For each parameter with a gradient:
/// @code
/// g = grad + weight_decay * param
/// if momentum != 0:
///     buf = first step ? g : momentum * buf + (1 - dampening) * g
///     g = nesterov ? g + momentum * buf : buf
/// param -= lr * g
/// @endcode
/// The momentum buffer (state `momentum_buffer`) is created on a parameter's first step.
///
/// Example:
/// @code
/// stepgrad::optim::SGD optimizer(model->parameters(), stepgrad::optim::SGDOptions(0.1).momentum(0.9));
/// optimizer.zero_grad();
/// loss.backward();
/// optimizer.step();
/// @endcode
class SGD : public Optimizer {
public:
    /// @brief SGD over `params` (one group) with `options`.
    SGD(const std::vector<Tensor>& params, const SGDOptions& options);
    /// @brief SGD over `groups`; groups without options take `defaults`.
    SGD(const std::vector<OptimizerParamGroup>& groups, const SGDOptions& defaults);

    /// @brief One update of every parameter that has a gradient (the fused backend kernel, under
    /// NoGradGuard; the parameter's version is bumped).
    void step() override;

protected:
    [[nodiscard]] std::vector<std::string> known_state_names() const override { return {"momentum_buffer"}; }
    [[nodiscard]] std::vector<std::string> required_state_names(const OptimizerOptions& options) const override;
    [[nodiscard]] bool counts_steps() const override { return false; }
};

}  // namespace stepgrad::optim
