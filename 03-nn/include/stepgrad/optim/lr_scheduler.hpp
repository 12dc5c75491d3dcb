#pragma once
/// @file lr_scheduler.hpp
/// @brief Learning-rate schedules (`torch.optim.lr_scheduler`): StepLR, ExponentialLR,
/// CosineAnnealingLR, LinearLR (warm-up), SequentialLR (one schedule after another), OneCycleLR.
///
/// A scheduler sets each parameter group's lr; call `step()` once per epoch (or per batch, for
/// OneCycleLR) *after* `optimizer.step()`. Each computes PyTorch 1.13's `step()` numbers with
/// PyTorch's own formula (most are recursive: the new lr is the group's current lr times a factor),
/// so the sequences agree with PyTorch's to the last bits.
#include <stepgrad/nn/state_dict.hpp>
#include <stepgrad/optim/optimizer.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stepgrad::optim {

/// @brief The base of the schedulers (PyTorch's `_LRScheduler`).
///
/// Constructing a scheduler records each group's `initial_lr` (its current lr, unless an earlier
/// scheduler recorded one) as the base learning rates, then takes the first step (epoch 0), as
/// PyTorch does. The optimizer must outlive the scheduler.
class LRScheduler {
public:
    virtual ~LRScheduler() = default;
    LRScheduler(const LRScheduler&) = delete;             ///< a scheduler drives one optimizer
    LRScheduler& operator=(const LRScheduler&) = delete;  ///< a scheduler drives one optimizer

    /// @brief Advances one epoch (or iteration) and sets every group's learning rate.
    virtual void step();
    /// @brief The learning rates this scheduler set last, one per group.
    [[nodiscard]] const std::vector<double>& get_last_lr() const { return last_lrs_; }
    /// @brief The epoch the last step() reached (0 right after construction).
    [[nodiscard]] std::int64_t last_epoch() const { return last_epoch_; }
    /// @brief The learning rates the schedule starts from (the groups' `initial_lr`).
    [[nodiscard]] const std::vector<double>& base_lrs() const { return base_lrs_; }
    /// @brief The type name, e.g. "StepLR" (written to the state dict).
    [[nodiscard]] const std::string& type_name() const { return type_name_; }
    /// @brief The optimizer this scheduler drives.
    [[nodiscard]] Optimizer& optimizer() const { return *optimizer_; }

    /// @brief The scheduler's progress as metadata: `scheduler` (type), `last_epoch`, `base_lrs`,
    /// `last_lr` (17 significant digits, comma-separated per group) and the hyperparameters.
    [[nodiscard]] virtual nn::StateDict state_dict() const;
    /// @brief Restores the progress saved by state_dict(), so the next step() continues the
    /// schedule exactly (load the optimizer's state dict too: it holds the current lrs). The
    /// hyperparameters must equal this scheduler's (construct it with the same arguments); every
    /// value is checked first and a mismatch throws std::invalid_argument, changing nothing.
    virtual void load_state_dict(const nn::StateDict& state);

protected:
    /// @brief A scheduler of `optimizer` named `type_name`; records the groups' initial_lr.
    /// The subclass constructor ends with `initial_step()`.
    LRScheduler(std::string type_name, Optimizer& optimizer);
    /// @brief The first step (epoch -1 to 0), as PyTorch's `_initial_step`.
    void initial_step();
    /// @brief The learning rates of the epoch just reached (`last_epoch()`), from the groups'
    /// current lrs (PyTorch's `get_lr`).
    [[nodiscard]] virtual std::vector<double> get_lr() = 0;
    /// @brief The learning rates of `last_epoch()` in closed form from base_lrs (PyTorch's
    /// `_get_closed_form_lr`), or nullopt when the schedule has none.
    [[nodiscard]] virtual std::optional<std::vector<double>> closed_form_lr() const { return std::nullopt; }
    /// @brief Jumps to `epoch` and sets the lrs in closed form (PyTorch's deprecated
    /// `step(epoch)`, which SequentialLR uses at a milestone).
    void step_to(std::int64_t epoch);
    /// @brief Writes the hyperparameters (compared, not restored, by load_state_dict).
    virtual void write_hyperparameters(Metadata& metadata) const = 0;
    /// @brief Sets every group's lr to `lrs` and remembers them as the last lrs.
    void apply(const std::vector<double>& lrs);
    /// @brief The groups' current learning rates.
    [[nodiscard]] std::vector<double> group_lrs() const;

    std::int64_t last_epoch_ = -1;   ///< the epoch the last step reached
    std::vector<double> base_lrs_;   ///< the groups' initial_lr
    std::vector<double> last_lrs_;   ///< the lrs set by the last step

private:
    friend class SequentialLR;  ///< steps its schedulers in closed form at milestones
    struct Progress {           // what load_state_dict restores
        std::int64_t last_epoch;
        std::vector<double> base_lrs, last_lrs;
    };
    void write_progress(Metadata& metadata, const std::string& prefix) const;
    [[nodiscard]] Progress read_progress(const Metadata& metadata, const std::string& prefix) const;
    void restore(const Progress& progress);

    std::string type_name_;
    Optimizer* optimizer_;
};

/// @brief Multiplies the learning rate by `gamma` every `step_size` epochs:
/// lr = base_lr * gamma^(epoch / step_size).
///
/// Example:
/// @code
/// stepgrad::optim::StepLR scheduler(optimizer, 30, 0.1);  // 0.1 for 30 epochs, then 0.01, ...
/// for (int epoch = 0; epoch < 90; ++epoch) { train_one_epoch(); scheduler.step(); }
/// @endcode
class StepLR : public LRScheduler {
public:
    /// @brief Decays by `gamma` every `step_size` epochs (step_size >= 1).
    StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma = 0.1);

protected:
    std::vector<double> get_lr() override;
    std::optional<std::vector<double>> closed_form_lr() const override;
    void write_hyperparameters(Metadata& metadata) const override;

private:
    std::int64_t step_size_;
    double gamma_;
};

/// @brief Multiplies the learning rate by `gamma` every epoch: lr = base_lr * gamma^epoch.
///
/// Example: `stepgrad::optim::ExponentialLR scheduler(optimizer, 0.95);`
class ExponentialLR : public LRScheduler {
public:
    /// @brief Decays by `gamma` every epoch.
    ExponentialLR(Optimizer& optimizer, double gamma);

protected:
    std::vector<double> get_lr() override;
    std::optional<std::vector<double>> closed_form_lr() const override;
    void write_hyperparameters(Metadata& metadata) const override;

private:
    double gamma_;
};

/// @brief Half a cosine from base_lr down to `eta_min` over `T_max` epochs:
/// lr = eta_min + (base_lr - eta_min) (1 + cos(π epoch / T_max)) / 2 (PyTorch's closed form;
/// step() uses PyTorch's recursive form, which gives the same curve with PyTorch's rounding).
///
/// Example: `stepgrad::optim::CosineAnnealingLR scheduler(optimizer, 100);`
class CosineAnnealingLR : public LRScheduler {
public:
    /// @brief Anneals over `T_max` epochs (>= 1) down to `eta_min`.
    CosineAnnealingLR(Optimizer& optimizer, std::int64_t T_max, double eta_min = 0.0);

protected:
    std::vector<double> get_lr() override;
    std::optional<std::vector<double>> closed_form_lr() const override;
    void write_hyperparameters(Metadata& metadata) const override;

private:
    std::int64_t T_max_;
    double eta_min_;
};

/// @brief Linear warm-up: the factor on base_lr goes from `start_factor` to `end_factor` over
/// `total_iters` epochs, then stays: lr = base_lr (start + (end - start) min(epoch, total) / total).
///
/// Example: `stepgrad::optim::LinearLR warmup(optimizer, 0.1, 1.0, 5);`
class LinearLR : public LRScheduler {
public:
    /// @brief Factors in [0, 1] (start_factor > 0), total_iters >= 1.
    LinearLR(Optimizer& optimizer, double start_factor = 1.0 / 3.0, double end_factor = 1.0,
             std::int64_t total_iters = 5);

protected:
    std::vector<double> get_lr() override;
    std::optional<std::vector<double>> closed_form_lr() const override;
    void write_hyperparameters(Metadata& metadata) const override;

private:
    double start_factor_;
    double end_factor_;
    std::int64_t total_iters_;
};

/// @brief Runs `schedulers` one after another: the k-th from epoch `milestones[k-1]` on (it
/// restarts there from its own epoch 0), as `torch.optim.lr_scheduler.SequentialLR`.
///
/// Example (PyTorch's warm-up-then-cosine recipe):
/// @code
/// auto warmup = std::make_shared<stepgrad::optim::LinearLR>(optimizer, 0.1, 1.0, 5);
/// auto cosine = std::make_shared<stepgrad::optim::CosineAnnealingLR>(optimizer, 95);
/// stepgrad::optim::SequentialLR scheduler(optimizer, {warmup, cosine}, {5});
/// @endcode
class SequentialLR : public LRScheduler {
public:
    /// @brief `schedulers` (all of `optimizer`), switching at `milestones` (one fewer, increasing).
    SequentialLR(Optimizer& optimizer, std::vector<std::shared_ptr<LRScheduler>> schedulers,
                 std::vector<std::int64_t> milestones);
    void step() override;
    /// @brief Its own progress plus each scheduler's, under `schedulers.<k>.`.
    [[nodiscard]] nn::StateDict state_dict() const override;
    void load_state_dict(const nn::StateDict& state) override;

protected:
    std::vector<double> get_lr() override { return group_lrs(); }
    void write_hyperparameters(Metadata& metadata) const override;

private:
    std::vector<std::shared_ptr<LRScheduler>> schedulers_;
    std::vector<std::int64_t> milestones_;
};

/// @brief How OneCycleLR moves between two values.
enum class AnnealStrategy {
    Cos,     ///< half a cosine
    Linear,  ///< a straight line
};

/// @brief OneCycleLR's settings, with chainable setters (PyTorch's keyword arguments).
///
/// Example: `OneCycleLROptions(0.1, 1000).pct_start(0.25).anneal_strategy(AnnealStrategy::Linear)`
class OneCycleLROptions {
public:
    /// @brief A cycle that peaks at `max_lr` (every group) over `total_steps` steps.
    OneCycleLROptions(double max_lr, std::int64_t total_steps) : max_lr_(max_lr), total_steps_(total_steps) {}
    /// @brief Sets the fraction of the cycle spent increasing the lr (default 0.3).
    OneCycleLROptions& pct_start(double value) { pct_start_ = value; return *this; }
    /// @brief Sets the annealing shape (default cosine).
    OneCycleLROptions& anneal_strategy(AnnealStrategy value) { anneal_strategy_ = value; return *this; }
    /// @brief Sets whether momentum (SGD, RMSprop) or beta1 (Adam) cycles inversely (default true).
    OneCycleLROptions& cycle_momentum(bool value) { cycle_momentum_ = value; return *this; }
    /// @brief Sets the lowest momentum, reached at the peak lr (default 0.85).
    OneCycleLROptions& base_momentum(double value) { base_momentum_ = value; return *this; }
    /// @brief Sets the highest momentum, at the start and end (default 0.95).
    OneCycleLROptions& max_momentum(double value) { max_momentum_ = value; return *this; }
    /// @brief Sets initial_lr = max_lr / div_factor (default 25).
    OneCycleLROptions& div_factor(double value) { div_factor_ = value; return *this; }
    /// @brief Sets min_lr = initial_lr / final_div_factor (default 1e4).
    OneCycleLROptions& final_div_factor(double value) { final_div_factor_ = value; return *this; }
    /// @brief Sets fast.ai's three phases (up, down to initial_lr, down to min_lr) (default false).
    OneCycleLROptions& three_phase(bool value) { three_phase_ = value; return *this; }

    /// @brief The peak learning rate.
    [[nodiscard]] double max_lr() const { return max_lr_; }
    /// @brief The number of steps in the cycle.
    [[nodiscard]] std::int64_t total_steps() const { return total_steps_; }
    /// @brief The fraction spent increasing.
    [[nodiscard]] double pct_start() const { return pct_start_; }
    /// @brief The annealing shape.
    [[nodiscard]] AnnealStrategy anneal_strategy() const { return anneal_strategy_; }
    /// @brief Whether momentum cycles.
    [[nodiscard]] bool cycle_momentum() const { return cycle_momentum_; }
    /// @brief The lowest momentum.
    [[nodiscard]] double base_momentum() const { return base_momentum_; }
    /// @brief The highest momentum.
    [[nodiscard]] double max_momentum() const { return max_momentum_; }
    /// @brief initial_lr = max_lr / div_factor.
    [[nodiscard]] double div_factor() const { return div_factor_; }
    /// @brief min_lr = initial_lr / final_div_factor.
    [[nodiscard]] double final_div_factor() const { return final_div_factor_; }
    /// @brief Whether there are three phases.
    [[nodiscard]] bool three_phase() const { return three_phase_; }

private:
    double max_lr_;
    std::int64_t total_steps_;
    double pct_start_ = 0.3;
    AnnealStrategy anneal_strategy_ = AnnealStrategy::Cos;
    bool cycle_momentum_ = true;
    double base_momentum_ = 0.85;
    double max_momentum_ = 0.95;
    double div_factor_ = 25.0;
    double final_div_factor_ = 1e4;
    bool three_phase_ = false;
};

/// @brief The 1cycle policy (`torch.optim.lr_scheduler.OneCycleLR`): the lr rises from
/// max_lr / div_factor to max_lr over pct_start of the steps, then falls to
/// initial_lr / final_div_factor; the momentum (or Adam's beta1) moves the opposite way between
/// max_momentum and base_momentum. Step it once per batch; stepping past total_steps throws.
///
/// Example:
/// @code
/// stepgrad::optim::OneCycleLR scheduler(optimizer, stepgrad::optim::OneCycleLROptions(0.1, epochs * batches));
/// // after each optimizer.step(): scheduler.step();
/// @endcode
class OneCycleLR : public LRScheduler {
public:
    /// @brief A 1cycle schedule of `optimizer`; sets each group's initial_lr (and momentum).
    OneCycleLR(Optimizer& optimizer, const OneCycleLROptions& options);

protected:
    std::vector<double> get_lr() override;
    void write_hyperparameters(Metadata& metadata) const override;

private:
    struct Phase {                            // one stretch of the cycle
        double end_step;                      // its last step
        double start_lr, end_lr;              // the lr moves from start_lr to end_lr
        double start_momentum, end_momentum;  // and the momentum the other way
    };
    [[nodiscard]] double anneal(double start, double end, double pct) const;
    OneCycleLROptions options_;
    std::vector<Phase> phases_;
};

}  // namespace stepgrad::optim
