// Claim checked: chapter 3's losses compute what LibTorch's torch::nn::functional losses compute,
// on identical (seeded) inputs, for every reduction and option: the loss and the gradient of every
// differentiable input (the prediction, and the target where PyTorch gives it one). Class weights,
// pos_weight and targets are the same constants in both libraries. Tolerances are the harness's
// float32 rounding (kRelative, kAbsolute).
#include "torch_harness.hpp"

#include <stepgrad/nn/loss.hpp>

namespace torchref {
namespace {

namespace sgnn = stepgrad::nn;
namespace SF = stepgrad::nn::functional;
namespace TF = torch::nn::functional;
using sgnn::Reduction;

const Reduction kReductions[] = {Reduction::None, Reduction::Mean, Reduction::Sum};

std::string name_of(Reduction reduction) {
    switch (reduction) {
        case Reduction::None: return "none";
        case Reduction::Mean: return "mean";
        case Reduction::Sum: return "sum";
    }
    return "?";
}

/// LibTorch options with the same reduction (each options type has its own reduction variant).
template <class TorchOptions>
TorchOptions with_reduction(TorchOptions options, Reduction reduction) {
    switch (reduction) {
        case Reduction::None: options.reduction(torch::kNone); break;
        case Reduction::Mean: options.reduction(torch::kMean); break;
        case Reduction::Sum: options.reduction(torch::kSum); break;
    }
    return options;
}

/// The same constant numbers in both libraries.
struct Constant {
    std::vector<float> values;
    sg::Shape shape;
    [[nodiscard]] sg::Tensor mine() const { return sg::from_vector(values, shape); }
    [[nodiscard]] torch::Tensor theirs() const { return to_torch(values, shape); }
};

TEST_CASE("mse_loss, l1_loss and smooth_l1_loss match LibTorch, input and target gradients",
          "[chapter03][torch][loss]") {
    std::vector<Op> ops;
    for (Reduction r : kReductions) {
        const std::string suffix = " (" + name_of(r) + ")";
        ops.push_back({"mse_loss" + suffix, {real({4, 5}), real({4, 5})},
                       [r](SgIn in) { return SF::mse_loss(in[0], in[1], sgnn::MSELossOptions().reduction(r)); },
                       [r](ThIn in) { return TF::mse_loss(in[0], in[1], with_reduction(TF::MSELossFuncOptions(), r)); }});
        // Normal inputs: input == target has probability 0, so l1's kink is never hit.
        ops.push_back({"l1_loss" + suffix, {real({4, 5}), real({4, 5})},
                       [r](SgIn in) { return SF::l1_loss(in[0], in[1], sgnn::L1LossOptions().reduction(r)); },
                       [r](ThIn in) { return TF::l1_loss(in[0], in[1], with_reduction(TF::L1LossFuncOptions(), r)); }});
        for (double beta : {1.0, 0.3, 0.0}) {
            ops.push_back({"smooth_l1_loss beta " + std::to_string(beta) + suffix, {real({4, 5}), real({4, 5})},
                           [r, beta](SgIn in) {
                               return SF::smooth_l1_loss(in[0], in[1], sgnn::SmoothL1LossOptions().reduction(r).beta(beta));
                           },
                           [r, beta](ThIn in) {
                               return TF::smooth_l1_loss(in[0], in[1], with_reduction(TF::SmoothL1LossFuncOptions(), r),
                                                         beta);
                           }});
        }
    }
    check_all(ops);
}

TEST_CASE("binary_cross_entropy matches LibTorch, with and without weight", "[chapter03][torch][loss]") {
    // Probabilities and soft targets are sigmoids of normal numbers (the same op in both
    // libraries), so the gradients checked are those of the loss chained through sigmoid.
    const Constant weight{{0.5f, 2.0f, 1.0f, 0.25f, 3.0f}, {5}};
    std::vector<Op> ops;
    for (Reduction r : kReductions) {
        for (bool weighted : {false, true}) {
            ops.push_back({"binary_cross_entropy" + std::string(weighted ? " weighted" : "") + " (" + name_of(r) + ")",
                           {real({4, 5}), real({4, 5})},
                           [=](SgIn in) {
                               auto options = sgnn::BCELossOptions().reduction(r);
                               if (weighted) options.weight(weight.mine());
                               return SF::binary_cross_entropy(sg::sigmoid(in[0]), sg::sigmoid(in[1]), options);
                           },
                           [=](ThIn in) {
                               auto options = with_reduction(TF::BinaryCrossEntropyFuncOptions(), r);
                               if (weighted) options.weight(weight.theirs());
                               return TF::binary_cross_entropy(torch::sigmoid(in[0]), torch::sigmoid(in[1]), options);
                           }});
        }
    }
    check_all(ops);
}

TEST_CASE("binary_cross_entropy_with_logits matches LibTorch, with weight and pos_weight", "[chapter03][torch][loss]") {
    const Constant weight{{0.5f, 2.0f, 1.0f, 0.25f, 3.0f}, {5}};
    const Constant pos_weight{{3.0f, 0.5f, 1.0f, 2.0f, 0.1f}, {5}};
    std::vector<Op> ops;
    for (Reduction r : kReductions) {
        for (int variant = 0; variant < 4; ++variant) {  // bit 0: weight, bit 1: pos_weight
            const bool weighted = (variant & 1) != 0, positive = (variant & 2) != 0;
            const std::string name = std::string("binary_cross_entropy_with_logits") + (weighted ? " weight" : "") +
                                     (positive ? " pos_weight" : "") + " (" + name_of(r) + ")";
            ops.push_back({name, {real({4, 5}), real({4, 5})},
                           [=](SgIn in) {
                               auto options = sgnn::BCEWithLogitsLossOptions().reduction(r);
                               if (weighted) options.weight(weight.mine());
                               if (positive) options.pos_weight(pos_weight.mine());
                               return SF::binary_cross_entropy_with_logits(in[0] * 3.0, sg::sigmoid(in[1]), options);
                           },
                           [=](ThIn in) {
                               auto options = with_reduction(TF::BinaryCrossEntropyWithLogitsFuncOptions(), r);
                               if (weighted) options.weight(weight.theirs());
                               if (positive) options.pos_weight(pos_weight.theirs());
                               return TF::binary_cross_entropy_with_logits(in[0] * 3.0, torch::sigmoid(in[1]), options);
                           }});
        }
    }
    check_all(ops);
}

// Targets with two ignored rows (-100) and, for ignore_index 1, rows of class 1 that drop out.
const std::vector<std::int64_t> kTargets{3, -100, 0, 1, 4, 1, -100, 2};
const Constant kClassWeight{{0.2f, 1.5f, 3.0f, 0.7f, 1.0f}, {5}};

TEST_CASE("nll_loss matches LibTorch for every weight, ignore_index and reduction", "[chapter03][torch][loss]") {
    std::vector<Op> ops;
    for (Reduction r : kReductions) {
        for (bool weighted : {false, true}) {
            for (std::int64_t ignore_index : {std::int64_t{-100}, std::int64_t{1}}) {
                std::vector<std::int64_t> targets = kTargets;
                if (ignore_index != -100) std::replace(targets.begin(), targets.end(), std::int64_t{-100}, std::int64_t{0});
                const std::string name = std::string("nll_loss") + (weighted ? " weighted" : "") + " ignore_index " +
                                         std::to_string(ignore_index) + " (" + name_of(r) + ")";
                ops.push_back({name, {real({8, 5})},
                               [=](SgIn in) {
                                   auto options = sgnn::NLLLossOptions().reduction(r).ignore_index(ignore_index);
                                   if (weighted) options.weight(kClassWeight.mine());
                                   return SF::nll_loss(sg::log_softmax(in[0], 1), sg::from_vector(targets, {8}), options);
                               },
                               [=](ThIn in) {
                                   auto options = with_reduction(TF::NLLLossFuncOptions(), r).ignore_index(ignore_index);
                                   if (weighted) options.weight(kClassWeight.theirs());
                                   return TF::nll_loss(torch::log_softmax(in[0], 1), long_tensor(targets, {8}), options);
                               }});
            }
        }
    }
    // (N, C, d1, d2) log-probabilities with (N, d1, d2) targets.
    const std::vector<std::int64_t> spatial{0, 2, -100, 1, 2, 2, 0, -100};
    ops.push_back({"nll_loss (N, C, H, W)", {real({2, 3, 2, 2})},
                   [=](SgIn in) {
                       return SF::nll_loss(sg::log_softmax(in[0], 1), sg::from_vector(spatial, {2, 2, 2}),
                                           sgnn::NLLLossOptions().weight(sg::tensor({0.5, 2.0, 1.0})));
                   },
                   [=](ThIn in) {
                       return TF::nll_loss(torch::log_softmax(in[0], 1), long_tensor(spatial, {2, 2, 2}),
                                           TF::NLLLossFuncOptions().weight(torch::tensor({0.5f, 2.0f, 1.0f})));
                   }});
    check_all(ops);
}

TEST_CASE("cross_entropy matches LibTorch for every weight, ignore_index, label smoothing and reduction",
          "[chapter03][torch][loss]") {
    std::vector<Op> ops;
    for (Reduction r : kReductions) {
        for (bool weighted : {false, true}) {
            for (double smoothing : {0.0, 0.15}) {
                for (std::int64_t ignore_index : {std::int64_t{-100}, std::int64_t{1}}) {
                    std::vector<std::int64_t> targets = kTargets;
                    if (ignore_index != -100) std::replace(targets.begin(), targets.end(), std::int64_t{-100}, std::int64_t{0});
                    std::ostringstream name;
                    name << "cross_entropy" << (weighted ? " weighted" : "") << " smoothing " << smoothing
                         << " ignore_index " << ignore_index << " (" << name_of(r) << ")";
                    ops.push_back({name.str(), {real({8, 5})},
                                   [=](SgIn in) {
                                       auto options = sgnn::CrossEntropyLossOptions().reduction(r).ignore_index(ignore_index)
                                                          .label_smoothing(smoothing);
                                       if (weighted) options.weight(kClassWeight.mine());
                                       return SF::cross_entropy(in[0] * 3.0, sg::from_vector(targets, {8}), options);
                                   },
                                   [=](ThIn in) {
                                       auto options = with_reduction(TF::CrossEntropyFuncOptions(), r)
                                                          .ignore_index(ignore_index)
                                                          .label_smoothing(smoothing);
                                       if (weighted) options.weight(kClassWeight.theirs());
                                       return TF::cross_entropy(in[0] * 3.0, long_tensor(targets, {8}), options);
                                   }});
                }
            }
        }
    }
    const std::vector<std::int64_t> spatial{0, 2, -100, 1, 2, 2, 0, 1};
    ops.push_back({"cross_entropy (N, C, H, W) smoothing 0.1", {real({2, 3, 2, 2})},
                   [=](SgIn in) {
                       return SF::cross_entropy(in[0], sg::from_vector(spatial, {2, 2, 2}),
                                                sgnn::CrossEntropyLossOptions().label_smoothing(0.1));
                   },
                   [=](ThIn in) {
                       return TF::cross_entropy(in[0], long_tensor(spatial, {2, 2, 2}),
                                                TF::CrossEntropyFuncOptions().label_smoothing(0.1));
                   }});
    check_all(ops);
}

TEST_CASE("the loss modules match LibTorch's modules", "[chapter03][torch][loss]") {
    torch::set_num_threads(1);
    sg::Generator gen(5);
    const std::vector<float> data = draw(real({8, 5}), gen);
    const sg::Tensor mine = sg::from_vector(data, {8, 5});
    const torch::Tensor theirs = to_torch(data, {8, 5});
    const sg::Tensor sg_target = sg::from_vector(kTargets, {8});
    const torch::Tensor th_target = long_tensor(kTargets, {8});
    sgnn::CrossEntropyLoss sg_ce(sgnn::CrossEntropyLossOptions().weight(kClassWeight.mine()).label_smoothing(0.2));
    torch::nn::CrossEntropyLoss th_ce(torch::nn::CrossEntropyLossOptions().weight(kClassWeight.theirs()).label_smoothing(0.2));
    CHECK(mismatch("CrossEntropyLoss", from_stepgrad(sg_ce.forward(mine, sg_target)), from_torch(th_ce(theirs, th_target))) == "");
    sgnn::NLLLoss sg_nll;
    torch::nn::NLLLoss th_nll;
    CHECK(mismatch("NLLLoss", from_stepgrad(sg_nll.forward(sg::log_softmax(mine, 1), sg_target)),
                   from_torch(th_nll(torch::log_softmax(theirs, 1), th_target))) == "");
    const sg::Tensor sg_soft = sg::sigmoid(mine * -1.0);
    const torch::Tensor th_soft = torch::sigmoid(theirs * -1.0);
    sgnn::BCEWithLogitsLoss sg_bce(sgnn::BCEWithLogitsLossOptions().pos_weight(kClassWeight.mine()));
    torch::nn::BCEWithLogitsLoss th_bce(torch::nn::BCEWithLogitsLossOptions().pos_weight(kClassWeight.theirs()));
    CHECK(mismatch("BCEWithLogitsLoss", from_stepgrad(sg_bce.forward(mine, sg_soft)), from_torch(th_bce(theirs, th_soft))) == "");
    sgnn::BCELoss sg_bce_probs(sgnn::BCELossOptions().reduction(Reduction::Sum));
    torch::nn::BCELoss th_bce_probs(torch::nn::BCELossOptions().reduction(torch::kSum));
    CHECK(mismatch("BCELoss", from_stepgrad(sg_bce_probs.forward(sg::sigmoid(mine), sg_soft)),
                   from_torch(th_bce_probs(torch::sigmoid(theirs), th_soft))) == "");
    sgnn::MSELoss sg_mse;
    torch::nn::MSELoss th_mse;
    CHECK(mismatch("MSELoss", from_stepgrad(sg_mse.forward(mine, sg_soft)), from_torch(th_mse(theirs, th_soft))) == "");
    sgnn::L1Loss sg_l1;
    torch::nn::L1Loss th_l1;
    CHECK(mismatch("L1Loss", from_stepgrad(sg_l1.forward(mine, sg_soft)), from_torch(th_l1(theirs, th_soft))) == "");
    sgnn::SmoothL1Loss sg_smooth(sgnn::SmoothL1LossOptions().beta(0.5));
    torch::nn::SmoothL1Loss th_smooth(torch::nn::SmoothL1LossOptions().beta(0.5));
    CHECK(mismatch("SmoothL1Loss", from_stepgrad(sg_smooth.forward(mine, sg_soft)), from_torch(th_smooth(theirs, th_soft))) == "");
}

}  // namespace
}  // namespace torchref
