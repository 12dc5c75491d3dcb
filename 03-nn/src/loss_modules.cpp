// The losses as modules: each keeps its options, registers its weight tensors as buffers (as
// PyTorch does, so `to(device)` moves them and `state_dict()` lists them), and forwards to the
// functional form with the buffers it holds now.
#include <stepgrad/nn/loss.hpp>

#include <ostream>

namespace stepgrad::nn {

namespace F = functional;

namespace {

// Registers `tensor` as the buffer `name` when it is defined; returns the handle to keep.
Tensor register_optional_buffer(Module& module, const std::string& name, const Tensor& tensor) {
    return tensor.defined() ? module.register_buffer(name, tensor) : Tensor();
}

}  // namespace

MSELoss::MSELoss(const MSELossOptions& loss_options) : Module("MSELoss"), options(loss_options) {}
Tensor MSELoss::forward(const Tensor& input, const Tensor& target) { return F::mse_loss(input, target, options); }
void MSELoss::pretty_print(std::ostream& stream) const { stream << "MSELoss()"; }

L1Loss::L1Loss(const L1LossOptions& loss_options) : Module("L1Loss"), options(loss_options) {}
Tensor L1Loss::forward(const Tensor& input, const Tensor& target) { return F::l1_loss(input, target, options); }
void L1Loss::pretty_print(std::ostream& stream) const { stream << "L1Loss()"; }

SmoothL1Loss::SmoothL1Loss(const SmoothL1LossOptions& loss_options) : Module("SmoothL1Loss"), options(loss_options) {}
Tensor SmoothL1Loss::forward(const Tensor& input, const Tensor& target) {
    return F::smooth_l1_loss(input, target, options);
}
void SmoothL1Loss::pretty_print(std::ostream& stream) const { stream << "SmoothL1Loss()"; }

BCELoss::BCELoss(const BCELossOptions& loss_options) : Module("BCELoss"), options(loss_options) {
    weight = register_optional_buffer(*this, "weight", options.weight());
}
Tensor BCELoss::forward(const Tensor& input, const Tensor& target) {
    return F::binary_cross_entropy(input, target, BCELossOptions(options).weight(weight));
}
void BCELoss::pretty_print(std::ostream& stream) const { stream << "BCELoss()"; }

BCEWithLogitsLoss::BCEWithLogitsLoss(const BCEWithLogitsLossOptions& loss_options)
    : Module("BCEWithLogitsLoss"), options(loss_options) {
    weight = register_optional_buffer(*this, "weight", options.weight());
    pos_weight = register_optional_buffer(*this, "pos_weight", options.pos_weight());
}
Tensor BCEWithLogitsLoss::forward(const Tensor& input, const Tensor& target) {
    return F::binary_cross_entropy_with_logits(input, target,
                                               BCEWithLogitsLossOptions(options).weight(weight).pos_weight(pos_weight));
}
void BCEWithLogitsLoss::pretty_print(std::ostream& stream) const { stream << "BCEWithLogitsLoss()"; }

NLLLoss::NLLLoss(const NLLLossOptions& loss_options) : Module("NLLLoss"), options(loss_options) {
    weight = register_optional_buffer(*this, "weight", options.weight());
}
Tensor NLLLoss::forward(const Tensor& input, const Tensor& target) {
    return F::nll_loss(input, target, NLLLossOptions(options).weight(weight));
}
void NLLLoss::pretty_print(std::ostream& stream) const { stream << "NLLLoss()"; }

CrossEntropyLoss::CrossEntropyLoss(const CrossEntropyLossOptions& loss_options)
    : Module("CrossEntropyLoss"), options(loss_options) {
    weight = register_optional_buffer(*this, "weight", options.weight());
}
Tensor CrossEntropyLoss::forward(const Tensor& input, const Tensor& target) {
    if (!weight.defined()) return F::cross_entropy(input, target, options);  // the training loop's path: no copy
    return F::cross_entropy(input, target, CrossEntropyLossOptions(options).weight(weight));
}
void CrossEntropyLoss::pretty_print(std::ostream& stream) const { stream << "CrossEntropyLoss()"; }

}  // namespace stepgrad::nn
