// Learning-rate schedulers, each written as PyTorch 1.13's lr_scheduler.py writes it (the same
// formula in the same order of operations), so the lr sequences match PyTorch's bit for bit.
#include <stepgrad/optim/lr_scheduler.hpp>

#include "metadata.hpp"

#include <stepgrad/shared/error.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace stepgrad::optim {

using std::numbers::pi;

// ---- the base -----------------------------------------------------------------------------

LRScheduler::LRScheduler(std::string type_name, Optimizer& optimizer)
    : type_name_(std::move(type_name)), optimizer_(&optimizer) {
    for (OptimizerParamGroup& group : optimizer.param_groups()) {
        if (!group.initial_lr()) group.set_initial_lr(group.options().get_lr());  // PyTorch's setdefault
        base_lrs_.push_back(*group.initial_lr());
    }
}

void LRScheduler::initial_step() { LRScheduler::step(); }

void LRScheduler::step() {
    ++last_epoch_;
    apply(get_lr());
}

void LRScheduler::step_to(std::int64_t epoch) {
    last_epoch_ = epoch;
    const std::optional<std::vector<double>> closed = closed_form_lr();
    apply(closed ? *closed : get_lr());
}

void LRScheduler::apply(const std::vector<double>& lrs) {
    std::vector<OptimizerParamGroup>& groups = optimizer_->param_groups();
    STEPGRAD_CHECK(lrs.size() == groups.size(), type_name_ << ": " << lrs.size() << " learning rates for "
                                                           << groups.size() << " parameter groups");
    for (std::size_t g = 0; g < groups.size(); ++g) groups[g].options().set_lr(lrs[g]);
    last_lrs_ = lrs;
}

std::vector<double> LRScheduler::group_lrs() const {
    std::vector<double> lrs;
    for (const OptimizerParamGroup& group : optimizer_->param_groups()) lrs.push_back(group.options().get_lr());
    return lrs;
}

void LRScheduler::write_progress(Metadata& metadata, const std::string& prefix) const {
    metadata[prefix + "scheduler"] = type_name_;
    metadata[prefix + "last_epoch"] = std::to_string(last_epoch_);
    metadata[prefix + "base_lrs"] = detail::format_list(base_lrs_);
    metadata[prefix + "last_lr"] = detail::format_list(last_lrs_);
    Metadata hyperparameters;
    write_hyperparameters(hyperparameters);
    for (const auto& [key, value] : hyperparameters) metadata[prefix + key] = value;
}

LRScheduler::Progress LRScheduler::read_progress(const Metadata& metadata, const std::string& prefix) const {
    const std::string op = type_name_ + ".load_state_dict";
    const std::string& type = detail::find_key(metadata, prefix + "scheduler");
    STEPGRAD_CHECK(type == type_name_, op << ": the state dict is a " << type << "'s; this scheduler is " << type_name_);
    Metadata hyperparameters;
    write_hyperparameters(hyperparameters);
    for (const auto& [key, value] : hyperparameters) {
        const std::string& saved = detail::find_key(metadata, prefix + key);
        STEPGRAD_CHECK(saved == value, op << ": " << key << " is " << saved << " in the state dict but " << value
                                          << " in this scheduler; construct it with the same arguments");
    }
    Progress progress;
    progress.last_epoch = detail::read_integer(metadata, prefix + "last_epoch");
    STEPGRAD_CHECK(progress.last_epoch >= -1, op << ": last_epoch " << progress.last_epoch << " is below -1");
    progress.base_lrs = detail::read_list(metadata, prefix + "base_lrs");
    progress.last_lrs = detail::read_list(metadata, prefix + "last_lr");
    const std::size_t groups = optimizer_->param_groups().size();
    STEPGRAD_CHECK(progress.base_lrs.size() == groups && progress.last_lrs.size() == groups,
                   op << ": the state dict has learning rates for " << progress.base_lrs.size()
                      << " parameter groups, the optimizer has " << groups);
    return progress;
}

void LRScheduler::restore(const Progress& progress) {
    last_epoch_ = progress.last_epoch;
    base_lrs_ = progress.base_lrs;
    last_lrs_ = progress.last_lrs;
}

nn::StateDict LRScheduler::state_dict() const {
    nn::StateDict state;
    write_progress(state.metadata, "");
    return state;
}

void LRScheduler::load_state_dict(const nn::StateDict& state) { restore(read_progress(state.metadata, "")); }

// ---- StepLR, ExponentialLR ----------------------------------------------------------------

StepLR::StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma)
    : LRScheduler("StepLR", optimizer), step_size_(step_size), gamma_(gamma) {
    STEPGRAD_CHECK(step_size >= 1, "StepLR: step_size " << step_size << " must be at least 1");
    initial_step();
}

// lr *= gamma at every multiple of step_size
std::vector<double> StepLR::get_lr() {
    std::vector<double> lrs = group_lrs();
    if (last_epoch_ == 0 || last_epoch_ % step_size_ != 0) return lrs;
    for (double& lr : lrs) lr *= gamma_;
    return lrs;
}

std::optional<std::vector<double>> StepLR::closed_form_lr() const {
    std::vector<double> lrs;
    for (double base : base_lrs_) lrs.push_back(base * std::pow(gamma_, static_cast<double>(last_epoch_ / step_size_)));
    return lrs;
}

void StepLR::write_hyperparameters(Metadata& metadata) const {
    metadata["step_size"] = std::to_string(step_size_);
    metadata["gamma"] = detail::format_number(gamma_);
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma) : LRScheduler("ExponentialLR", optimizer), gamma_(gamma) {
    initial_step();
}

std::vector<double> ExponentialLR::get_lr() {
    std::vector<double> lrs = group_lrs();
    if (last_epoch_ == 0) return lrs;
    for (double& lr : lrs) lr *= gamma_;
    return lrs;
}

std::optional<std::vector<double>> ExponentialLR::closed_form_lr() const {
    std::vector<double> lrs;
    for (double base : base_lrs_) lrs.push_back(base * std::pow(gamma_, static_cast<double>(last_epoch_)));
    return lrs;
}

void ExponentialLR::write_hyperparameters(Metadata& metadata) const { metadata["gamma"] = detail::format_number(gamma_); }

// ---- CosineAnnealingLR --------------------------------------------------------------------

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, std::int64_t T_max, double eta_min)
    : LRScheduler("CosineAnnealingLR", optimizer), T_max_(T_max), eta_min_(eta_min) {
    STEPGRAD_CHECK(T_max >= 1, "CosineAnnealingLR: T_max " << T_max << " must be at least 1");
    initial_step();
}

// The recursive form: the ratio of consecutive closed-form values, times the current lr. At
// the bottom of the cosine (epoch T_max + 1, 3 T_max + 1, ...) that ratio is 0/0, so it adds
// the rise of one step instead.
std::vector<double> CosineAnnealingLR::get_lr() {
    std::vector<double> lrs = group_lrs();
    if (last_epoch_ == 0) return lrs;
    const auto epoch = static_cast<double>(last_epoch_);
    const auto period = static_cast<double>(T_max_);
    for (std::size_t g = 0; g < lrs.size(); ++g) {
        if ((last_epoch_ - 1 - T_max_) % (2 * T_max_) == 0) {
            lrs[g] = lrs[g] + (base_lrs_[g] - eta_min_) * (1 - std::cos(pi / period)) / 2;
        } else {
            lrs[g] = (1 + std::cos(pi * epoch / period)) / (1 + std::cos(pi * (epoch - 1) / period)) *
                         (lrs[g] - eta_min_) +
                     eta_min_;
        }
    }
    return lrs;
}

std::optional<std::vector<double>> CosineAnnealingLR::closed_form_lr() const {
    std::vector<double> lrs;
    const auto epoch = static_cast<double>(last_epoch_);
    for (double base : base_lrs_) {
        lrs.push_back(eta_min_ + (base - eta_min_) * (1 + std::cos(pi * epoch / static_cast<double>(T_max_))) / 2);
    }
    return lrs;
}

void CosineAnnealingLR::write_hyperparameters(Metadata& metadata) const {
    metadata["T_max"] = std::to_string(T_max_);
    metadata["eta_min"] = detail::format_number(eta_min_);
}

// ---- LinearLR -----------------------------------------------------------------------------

LinearLR::LinearLR(Optimizer& optimizer, double start_factor, double end_factor, std::int64_t total_iters)
    : LRScheduler("LinearLR", optimizer), start_factor_(start_factor), end_factor_(end_factor), total_iters_(total_iters) {
    STEPGRAD_CHECK(start_factor > 0.0 && start_factor <= 1.0,
                   "LinearLR: start_factor " << start_factor << " must be in (0, 1]");
    STEPGRAD_CHECK(end_factor >= 0.0 && end_factor <= 1.0, "LinearLR: end_factor " << end_factor << " must be in [0, 1]");
    STEPGRAD_CHECK(total_iters >= 1, "LinearLR: total_iters " << total_iters << " must be at least 1");
    initial_step();
}

// The recursive form: lr *= factor(epoch) / factor(epoch - 1) while the factor moves.
std::vector<double> LinearLR::get_lr() {
    std::vector<double> lrs = group_lrs();
    if (last_epoch_ == 0) {
        for (double& lr : lrs) lr *= start_factor_;
        return lrs;
    }
    if (last_epoch_ > total_iters_) return lrs;
    const double change = end_factor_ - start_factor_;
    for (double& lr : lrs) {
        lr *= 1. + change / (static_cast<double>(total_iters_) * start_factor_ + static_cast<double>(last_epoch_ - 1) * change);
    }
    return lrs;
}

std::optional<std::vector<double>> LinearLR::closed_form_lr() const {
    std::vector<double> lrs;
    const auto done = static_cast<double>(std::min(total_iters_, last_epoch_));
    for (double base : base_lrs_) {
        lrs.push_back(base * (start_factor_ + (end_factor_ - start_factor_) * done / static_cast<double>(total_iters_)));
    }
    return lrs;
}

void LinearLR::write_hyperparameters(Metadata& metadata) const {
    metadata["start_factor"] = detail::format_number(start_factor_);
    metadata["end_factor"] = detail::format_number(end_factor_);
    metadata["total_iters"] = std::to_string(total_iters_);
}

// ---- SequentialLR -------------------------------------------------------------------------

SequentialLR::SequentialLR(Optimizer& optimizer, std::vector<std::shared_ptr<LRScheduler>> schedulers,
                           std::vector<std::int64_t> milestones)
    : LRScheduler("SequentialLR", optimizer), schedulers_(std::move(schedulers)), milestones_(std::move(milestones)) {
    STEPGRAD_CHECK(!schedulers_.empty(), "SequentialLR: expected at least one scheduler");
    for (std::size_t k = 0; k < schedulers_.size(); ++k) {
        STEPGRAD_CHECK(schedulers_[k] != nullptr, "SequentialLR: scheduler " << k << " is null");
        STEPGRAD_CHECK(&schedulers_[k]->optimizer() == &optimizer,
                       "SequentialLR: expects all schedulers to belong to the same optimizer, but scheduler "
                           << k << " drives another one");
    }
    STEPGRAD_CHECK(milestones_.size() + 1 == schedulers_.size(),
                   "SequentialLR: expects one more scheduler than milestones, but got " << schedulers_.size()
                                                                                        << " schedulers and "
                                                                                        << milestones_.size()
                                                                                        << " milestones");
    STEPGRAD_CHECK(std::is_sorted(milestones_.begin(), milestones_.end()),
                   "SequentialLR: the milestones must be in increasing order");
    last_epoch_ = 0;
    for (OptimizerParamGroup& group : optimizer.param_groups()) group.options().set_lr(*group.initial_lr());
    for (const auto& scheduler : schedulers_) scheduler->last_epoch_ -= 1;  // undo their first steps
    schedulers_.front()->initial_step();
    last_lrs_ = schedulers_.front()->get_last_lr();
}

void SequentialLR::step() {
    ++last_epoch_;
    const auto index = static_cast<std::size_t>(std::upper_bound(milestones_.begin(), milestones_.end(), last_epoch_) -
                                                milestones_.begin());
    LRScheduler& scheduler = *schedulers_[index];
    if (index > 0 && milestones_[index - 1] == last_epoch_) {
        scheduler.step_to(0);  // the next schedule starts from its own epoch 0
    } else {
        scheduler.step();
    }
    last_lrs_ = scheduler.get_last_lr();
}

void SequentialLR::write_hyperparameters(Metadata& metadata) const {
    std::string text;
    for (std::size_t k = 0; k < milestones_.size(); ++k) {
        text += (k ? "," : "");
        text += std::to_string(milestones_[k]);
    }
    metadata["milestones"] = text;
    metadata["schedulers"] = std::to_string(schedulers_.size());
}

nn::StateDict SequentialLR::state_dict() const {
    nn::StateDict state;
    write_progress(state.metadata, "");
    for (std::size_t k = 0; k < schedulers_.size(); ++k) {
        schedulers_[k]->write_progress(state.metadata, "schedulers." + std::to_string(k) + ".");
    }
    return state;
}

void SequentialLR::load_state_dict(const nn::StateDict& state) {
    const Progress own = read_progress(state.metadata, "");
    std::vector<Progress> parts;
    for (std::size_t k = 0; k < schedulers_.size(); ++k) {
        parts.push_back(schedulers_[k]->read_progress(state.metadata, "schedulers." + std::to_string(k) + "."));
    }
    restore(own);
    for (std::size_t k = 0; k < schedulers_.size(); ++k) schedulers_[k]->restore(parts[k]);
}

// ---- OneCycleLR ---------------------------------------------------------------------------

OneCycleLR::OneCycleLR(Optimizer& optimizer, const OneCycleLROptions& options)
    : LRScheduler("OneCycleLR", optimizer), options_(options) {
    const OneCycleLROptions& o = options_;
    STEPGRAD_CHECK(o.total_steps() > 0, "OneCycleLR: Expected positive integer total_steps, but got " << o.total_steps());
    STEPGRAD_CHECK(o.pct_start() >= 0.0 && o.pct_start() <= 1.0,
                   "OneCycleLR: Expected float between 0 and 1 pct_start, but got " << o.pct_start());
    STEPGRAD_CHECK(o.max_lr() >= 0.0, "OneCycleLR: max_lr " << o.max_lr() << " must be >= 0");
    STEPGRAD_CHECK(o.div_factor() > 0.0 && o.final_div_factor() > 0.0,
                   "OneCycleLR: div_factor and final_div_factor must be > 0");
    const double initial_lr = o.max_lr() / o.div_factor();
    const double min_lr = initial_lr / o.final_div_factor();
    const auto total = static_cast<double>(o.total_steps());
    const double up_end = o.pct_start() * total - 1;
    if (o.three_phase()) {
        phases_ = {{up_end, initial_lr, o.max_lr(), o.max_momentum(), o.base_momentum()},
                   {2 * o.pct_start() * total - 2, o.max_lr(), initial_lr, o.base_momentum(), o.max_momentum()},
                   {total - 1, initial_lr, min_lr, o.max_momentum(), o.max_momentum()}};
    } else {
        phases_ = {{up_end, initial_lr, o.max_lr(), o.max_momentum(), o.base_momentum()},
                   {total - 1, o.max_lr(), min_lr, o.base_momentum(), o.max_momentum()}};
    }
    base_lrs_.clear();
    for (OptimizerParamGroup& group : optimizer.param_groups()) {
        group.set_initial_lr(initial_lr);
        base_lrs_.push_back(initial_lr);
        if (o.cycle_momentum()) {
            STEPGRAD_CHECK(group.options().has_momentum(),
                           "OneCycleLR: optimizer must support momentum with `cycle_momentum` option enabled");
            group.options().set_momentum(o.max_momentum());
        }
    }
    initial_step();
}

double OneCycleLR::anneal(double start, double end, double pct) const {
    if (options_.anneal_strategy() == AnnealStrategy::Linear) return (end - start) * pct + start;
    const double cos_out = std::cos(pi * pct) + 1;  // from 2 down to 0 as pct goes from 0 to 1
    return end + (start - end) / 2.0 * cos_out;
}

// Find the phase the step is in, and how far through it: that fraction anneals lr and momentum.
std::vector<double> OneCycleLR::get_lr() {
    STEPGRAD_CHECK(last_epoch_ <= options_.total_steps(),
                   "OneCycleLR: Tried to step " << last_epoch_ + 1 << " times. The specified number of total steps is "
                                                << options_.total_steps());
    const auto step = static_cast<double>(last_epoch_);
    double start_step = 0.0, lr = 0.0, momentum = 0.0;
    for (std::size_t i = 0; i < phases_.size(); ++i) {
        const Phase& phase = phases_[i];
        if (step <= phase.end_step || i + 1 == phases_.size()) {
            const double pct = (step - start_step) / (phase.end_step - start_step);
            lr = anneal(phase.start_lr, phase.end_lr, pct);
            momentum = anneal(phase.start_momentum, phase.end_momentum, pct);
            break;
        }
        start_step = phase.end_step;
    }
    std::vector<OptimizerParamGroup>& groups = optimizer().param_groups();
    if (options_.cycle_momentum()) {
        for (OptimizerParamGroup& group : groups) group.options().set_momentum(momentum);
    }
    return std::vector<double>(groups.size(), lr);
}

void OneCycleLR::write_hyperparameters(Metadata& metadata) const {
    const OneCycleLROptions& o = options_;
    metadata["max_lr"] = detail::format_number(o.max_lr());
    metadata["total_steps"] = std::to_string(o.total_steps());
    metadata["pct_start"] = detail::format_number(o.pct_start());
    metadata["anneal_strategy"] = o.anneal_strategy() == AnnealStrategy::Cos ? "cos" : "linear";
    metadata["cycle_momentum"] = o.cycle_momentum() ? "true" : "false";
    metadata["base_momentum"] = detail::format_number(o.base_momentum());
    metadata["max_momentum"] = detail::format_number(o.max_momentum());
    metadata["div_factor"] = detail::format_number(o.div_factor());
    metadata["final_div_factor"] = detail::format_number(o.final_div_factor());
    metadata["three_phase"] = o.three_phase() ? "true" : "false";
}

}  // namespace stepgrad::optim
