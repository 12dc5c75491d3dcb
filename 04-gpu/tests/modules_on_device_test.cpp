// Every chapter-3 layer, loss and optimizer on Device::CUDA (chapter 4's kernels: the host build
// or a real GPU) gives the CPU's results. Each layer is built twice from the same seed, one copy
// moved to the device; the same input goes through both, the loss (output * fixed random
// weights).sum() is backpropagated, and the outputs, the input's gradient, every parameter's
// gradient and every buffer (BatchNorm's running statistics) must agree within 1e-5 relative
// (see check_matches), Int64 buffers exactly. Losses (each reduction): the value and the input's
// gradient. Optimizers: three steps of a small MLP, then every parameter and every tensor of the
// optimizer's state_dict (and its metadata: the learning rates a scheduler set).
#include <stepgrad/gpu/gpu.hpp>

#include <catch2/catch.hpp>

#if __has_include(<stepgrad/nn.hpp>)  // chapter 3 is linked (through chapter 5) in the full build
#include <stepgrad/nn.hpp>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using namespace stepgrad;
namespace F = stepgrad::nn::functional;
using ModulePtr = std::shared_ptr<nn::Module>;
using Results = std::vector<std::pair<std::string, Tensor>>;  // named results, on the CPU

namespace {

// The device's tensor against the CPU's: same shape and dtype; Int64 equal; floats within 1e-5
// relative, |device - cpu| <= 1e-5 * max(|cpu|, min(1, largest |cpu| of the tensor)) (so a
// tensor of small values, as Adam's exp_avg_sq, is held to its own scale, and an element near
// zero to the scale of its neighbours); NaN only where the CPU has NaN. One assertion, naming
// the worst element.
void check_matches(const std::string& what, const Tensor& on_device, const Tensor& on_cpu) {
    INFO(what);
    REQUIRE(on_device.defined() == on_cpu.defined());
    if (!on_cpu.defined()) return;
    REQUIRE(shape_to_string(on_device.shape()) == shape_to_string(on_cpu.shape()));
    REQUIRE(on_device.dtype() == on_cpu.dtype());
    if (on_cpu.dtype() == Dtype::Int64) {
        CHECK(on_device.cpu().to_vector<std::int64_t>() == on_cpu.cpu().to_vector<std::int64_t>());
        return;
    }
    const std::vector<float> a = on_device.cpu().to_vector(), e = on_cpu.cpu().to_vector();
    double scale = 0.0;
    for (float v : e)
        scale = std::isfinite(v) ? std::max(scale, std::min(1.0, std::abs(static_cast<double>(v)))) : scale;
    double worst = 0.0;  // the largest error, in units of the element's tolerance
    std::size_t at = 0;
    for (std::size_t i = 0; i < e.size(); ++i) {
        const double limit = 1e-5 * std::max(std::abs(static_cast<double>(e[i])), scale);
        double error = a[i] == e[i] ? 0.0 : std::abs(static_cast<double>(a[i]) - e[i]) / limit;  // equal infinities: 0
        if (std::isnan(a[i]) || std::isnan(e[i])) error = std::isnan(a[i]) && std::isnan(e[i]) ? 0.0 : INFINITY;
        if (error > worst) worst = error, at = i;
    }
    INFO("worst of " << e.size() << " at element " << at << ": device " << (e.empty() ? 0.0f : a[at]) << ", cpu "
                     << (e.empty() ? 0.0f : e[at]) << " (" << worst << " times the tolerance)");
    CHECK(worst <= 1.0);
}

void check_all(const Results& on_device, const Results& on_cpu) {
    REQUIRE(on_device.size() == on_cpu.size());
    for (std::size_t i = 0; i < on_cpu.size(); ++i) {
        REQUIRE(on_device[i].first == on_cpu[i].first);
        check_matches(on_cpu[i].first, on_device[i].second, on_cpu[i].second);
    }
}

// A copy on the CPU, taken now (cpu() of a CPU tensor is the tensor itself, which later steps change).
Tensor snapshot(const Tensor& t) { return t.defined() ? t.detach().cpu().clone() : Tensor(); }

template <class M, class... Args>
ModulePtr make(Args&&... args) {
    return std::make_shared<M>(std::forward<Args>(args)...);
}
ModulePtr sequential(std::initializer_list<ModulePtr> modules) { return std::make_shared<nn::Sequential>(modules); }

// ---- layers ------------------------------------------------------------------------------------

struct LayerCase {
    std::string name;
    std::function<ModulePtr()> make;
    Shape input;
    std::vector<bool> passes{true};  // train (true) or eval mode, one forward and backward each
};

// The layer built from seed 11 and moved to `device`; per pass: a fresh input, the output, the
// input's gradient, each parameter's gradient and each buffer after the pass.
Results run_layer(const LayerCase& c, Device device) {
    manual_seed(11);
    ModulePtr module = c.make();
    module->to(device);
    for (const auto& [name, tensor] : module->state_dict()) {
        INFO(name);
        CHECK(tensor.device() == device);
    }
    Generator data(5);
    Results results;
    for (std::size_t pass = 0; pass < c.passes.size(); ++pass) {
        module->train(c.passes[pass]);
        module->zero_grad();
        const Tensor x = randn(c.input, data).to(device).requires_grad_();
        manual_seed(100 + pass);  // the same dropout mask on both devices (drawn on the host)
        const Tensor out = module->forward(x);
        Generator weights(200 + pass);
        (out * randn(out.shape(), weights).to(device)).sum().backward();
        CHECK(out.device() == device);
        CHECK(x.grad().device() == device);
        const std::string prefix = "pass " + std::to_string(pass) + (c.passes[pass] ? " (train) " : " (eval) ");
        results.emplace_back(prefix + "output", snapshot(out));
        results.emplace_back(prefix + "input gradient", snapshot(x.grad()));
        for (const auto& [name, p] : module->named_parameters())
            results.emplace_back(prefix + "gradient of " + name, snapshot(p.grad()));
        for (const auto& [name, b] : module->named_buffers())
            results.emplace_back(prefix + "buffer " + name, snapshot(b));
    }
    return results;
}

// No bias feeds a BatchNorm directly: in train mode its gradient is zero in exact arithmetic
// (the normalisation removes it), so both devices hold only round-off there (~1e-7).
std::vector<LayerCase> layer_cases() {
    using nn::Conv2dOptions;
    const std::vector<bool> train_train_eval{true, true, false};
    return {
        {"Linear", [] { return make<nn::Linear>(5, 4); }, {3, 5}},
        {"Linear without bias, 3-d input",
         [] { return make<nn::Linear>(nn::LinearOptions(5, 3).bias(false)); },
         {2, 3, 5}},
        {"Conv2d 3x3", [] { return make<nn::Conv2d>(3, 4, 3); }, {2, 3, 7, 6}},
        {"Conv2d stride 2 padding 1",
         [] { return make<nn::Conv2d>(Conv2dOptions(3, 5, 3).stride(2).padding(1)); },
         {2, 3, 9, 8}},
        {"Conv2d 2x3 stride (1,2) padding (0,1) dilation 2",
         [] {
             return make<nn::Conv2d>(Conv2dOptions(2, 3, {2, 3}).stride({1, 2}).padding({0, 1}).dilation(2));
         },
         {2, 2, 8, 9}},
        {"Conv2d groups 2 no bias",
         [] { return make<nn::Conv2d>(Conv2dOptions(4, 6, 3).groups(2).padding(1).bias(false)); },
         {2, 4, 5, 6}},
        {"Conv2d depthwise 3x1 dilation (2,1)",
         [] {
             return make<nn::Conv2d>(Conv2dOptions(4, 4, {3, 1}).groups(4).dilation({2, 1}).stride({1, 2}));
         },
         {1, 4, 9, 7}},
        {"MaxPool2d 2", [] { return make<nn::MaxPool2d>(2); }, {2, 3, 7, 7}},
        {"MaxPool2d 3 stride 2 padding 1 ceil_mode",
         [] { return make<nn::MaxPool2d>(nn::MaxPool2dOptions(3).stride(2).padding(1).ceil_mode(true)); },
         {2, 2, 8, 9}},
        {"MaxPool2d 2x3 stride (2,1) dilation 2",
         [] { return make<nn::MaxPool2d>(nn::MaxPool2dOptions({2, 3}).stride({2, 1}).dilation(2)); },
         {1, 3, 9, 8}},
        {"AvgPool2d 2", [] { return make<nn::AvgPool2d>(2); }, {2, 3, 7, 6}},
        {"AvgPool2d 3 stride 2 padding 1 count_include_pad false",
         [] { return make<nn::AvgPool2d>(nn::AvgPool2dOptions(3).stride(2).padding(1).count_include_pad(false)); },
         {2, 3, 7, 8}},
        {"AvgPool2d 3 stride 2 padding 1 ceil_mode",
         [] { return make<nn::AvgPool2d>(nn::AvgPool2dOptions(3).stride(2).padding(1).ceil_mode(true)); },
         {2, 2, 8, 7}},
        {"AdaptiveAvgPool2d (3,2)",
         [] { return make<nn::AdaptiveAvgPool2d>(nn::ExpandingArray<2>{3, 2}); },
         {2, 3, 7, 5}},
        {"AdaptiveAvgPool2d 1", [] { return make<nn::AdaptiveAvgPool2d>(1); }, {2, 3, 4, 5}},
        {"BatchNorm1d (N, C)",
         [] { return make<nn::BatchNorm1d>(nn::BatchNormOptions(4).momentum(0.3)); },
         {6, 4},
         train_train_eval},
        {"BatchNorm1d (N, C, L)", [] { return make<nn::BatchNorm1d>(4); }, {5, 4, 3}, train_train_eval},
        {"BatchNorm2d", [] { return make<nn::BatchNorm2d>(3); }, {4, 3, 5, 5}, train_train_eval},
        {"BatchNorm2d no affine, no running stats",
         [] { return make<nn::BatchNorm2d>(nn::BatchNormOptions(3).affine(false).track_running_stats(false)); },
         {4, 3, 3, 2},
         {true, false}},
        {"Dropout 0.3", [] { return make<nn::Dropout>(0.3); }, {4, 25}, train_train_eval},
        {"ReLU", [] { return make<nn::ReLU>(); }, {4, 6}},
        {"LeakyReLU 0.2", [] { return make<nn::LeakyReLU>(nn::LeakyReLUOptions().negative_slope(0.2)); }, {4, 6}},
        {"Sigmoid", [] { return make<nn::Sigmoid>(); }, {4, 6}},
        {"Tanh", [] { return make<nn::Tanh>(); }, {4, 6}},
        {"GELU", [] { return make<nn::GELU>(); }, {4, 6}},
        {"Softmax dim 1", [] { return make<nn::Softmax>(1); }, {3, 5, 2}},
        {"Softmax dim 0", [] { return make<nn::Softmax>(0); }, {4, 3}},
        {"LogSoftmax dim -1", [] { return make<nn::LogSoftmax>(-1); }, {2, 3, 7}},
        {"Flatten", [] { return make<nn::Flatten>(); }, {2, 3, 4, 2}},
        {"Flatten 0..1", [] { return make<nn::Flatten>(nn::FlattenOptions().start_dim(0).end_dim(1)); }, {2, 3, 4}},
        {"Identity", [] { return make<nn::Identity>(); }, {3, 4}},
        {"Sequential CNN",
         [] {
             return sequential({make<nn::Conv2d>(Conv2dOptions(2, 4, 3).padding(1)), make<nn::ReLU>(),
                                make<nn::BatchNorm2d>(4), make<nn::MaxPool2d>(2), make<nn::Flatten>(),
                                make<nn::Dropout>(0.2), make<nn::Linear>(4 * 3 * 3, 5)});
         },
         {3, 2, 7, 6},
         train_train_eval},
        {"Residual without shortcut",
         [] { return make<nn::Residual>(sequential({make<nn::Linear>(4, 4), make<nn::Tanh>()})); },
         {3, 4}},
        {"Residual with shortcut",
         [] {
             return make<nn::Residual>(
                 sequential({make<nn::Conv2d>(Conv2dOptions(3, 6, 3).stride(2).padding(1).bias(false)),
                             make<nn::BatchNorm2d>(6), make<nn::ReLU>()}),
                 sequential(
                     {make<nn::Conv2d>(Conv2dOptions(3, 6, 1).stride(2).bias(false)), make<nn::BatchNorm2d>(6)}));
         },
         {2, 3, 7, 6},
         train_train_eval},
    };
}

}  // namespace

TEST_CASE("every layer runs on the device with the CPU's outputs, gradients and buffers", "[chapter04][modules]") {
    for (const LayerCase& c : layer_cases()) {
        DYNAMIC_SECTION(c.name) { check_all(run_layer(c, Device::CUDA), run_layer(c, Device::CPU)); }
    }
}

// ---- losses ------------------------------------------------------------------------------------

namespace {

using LossFn = std::function<Tensor(const Tensor& input, const Tensor& target, Device device)>;

struct LossCase {
    std::string name;
    Tensor input, target;  // on the CPU
    LossFn loss;
};

// A Loss module with reduction `r` and the options `customise` adds (given fresh class
// weights (4): to() moves a buffer in place, so a tensor shared between runs would move too),
// moved to `device`, applied.
template <class Loss>
using OptionsOf = decltype(Loss::options);
template <class Loss>
LossFn module_loss(nn::Reduction r,
                   std::function<OptionsOf<Loss>(OptionsOf<Loss>, const Tensor&)> customise = nullptr) {
    return [r, customise](const Tensor& input, const Tensor& target, Device device) {
        using Options = OptionsOf<Loss>;
        const Options options = Options().reduction(r);
        Loss criterion(customise ? customise(options, tensor({0.5, 1.0, 2.0, 1.5})) : options);
        criterion.to(device);
        for (const Tensor& buffer : criterion.buffers()) CHECK(buffer.device() == device);
        return criterion.forward(input, target);
    };
}

// The loss and its input's gradient under a random upstream gradient.
std::pair<Tensor, Tensor> run_loss(const LossCase& c, Device device) {
    const Tensor x = c.input.clone().to(device).requires_grad_();
    const Tensor loss = c.loss(x, c.target.to(device), device);
    CHECK(loss.device() == device);
    Generator upstream(9);
    loss.backward(randn(loss.shape(), upstream).to(device));
    return {loss.detach().cpu(), x.grad().cpu()};
}

std::vector<LossCase> loss_cases() {
    using namespace nn;
    Generator generator(3);
    const Tensor scores = randn({6, 4}, generator), other = randn({6, 4}, generator);
    const Tensor probabilities = sigmoid(scores), soft = sigmoid(other), log_probs = log_softmax(scores, 1);
    const Tensor image_scores = randn({2, 4, 3, 2}, generator);
    const TensorOptions int64 = TensorOptions().dtype(Dtype::Int64);
    const Tensor labels = tensor({3, -100, 0, 2, 2, 1}, int64), no_ignored = tensor({3, 2, 0, 2, 0, 1}, int64);
    const Tensor image_labels = tensor({{{0, 3}, {2, -100}, {1, 1}}, {{3, 2}, {0, 0}, {2, 1}}}, int64);
    const Tensor image_labels_3 = tensor({{{0, 3}, {2, 3}, {1, 1}}, {{3, 2}, {0, 0}, {2, 1}}}, int64);
    std::vector<LossCase> cases;
    for (Reduction r : {Reduction::None, Reduction::Mean, Reduction::Sum}) {
        const std::string in = r == Reduction::None ? " (none)" : r == Reduction::Mean ? " (mean)" : " (sum)";
        const auto add = [&](const std::string& name, const Tensor& x, const Tensor& t, LossFn f) {
            cases.push_back({name + in, x, t, std::move(f)});
        };
        const auto weighted = [](auto o, const Tensor& w) { return o.weight(w); };
        add("MSELoss", scores, other, module_loss<MSELoss>(r));
        add("L1Loss", scores, other, module_loss<L1Loss>(r));
        add("SmoothL1Loss", scores, other, module_loss<SmoothL1Loss>(r));
        add("SmoothL1Loss beta 0.5", scores, other,
            module_loss<SmoothL1Loss>(r, [](auto o, auto&) { return o.beta(0.5); }));
        add("BCELoss", probabilities, soft, module_loss<BCELoss>(r));
        add("BCELoss weighted", probabilities, soft, module_loss<BCELoss>(r, weighted));
        add("BCEWithLogitsLoss", scores, soft, module_loss<BCEWithLogitsLoss>(r));
        add("BCEWithLogitsLoss weight and pos_weight", scores, soft,
            module_loss<BCEWithLogitsLoss>(r, [](auto o, const Tensor& w) { return o.weight(w).pos_weight(w * 2.0); }));
        add("NLLLoss", log_probs, labels, module_loss<NLLLoss>(r));
        add("NLLLoss weighted, ignore_index 2", log_probs, no_ignored,
            module_loss<NLLLoss>(r, [](auto o, const Tensor& w) { return o.weight(w).ignore_index(2); }));
        // Unweighted: chapter 2's fused kernels; weighted: tensor ops.
        add("CrossEntropyLoss", scores, labels, module_loss<CrossEntropyLoss>(r));
        add("CrossEntropyLoss label smoothing 0.1", scores, labels,
            module_loss<CrossEntropyLoss>(r, [](auto o, auto&) { return o.label_smoothing(0.1); }));
        add("CrossEntropyLoss weighted", scores, labels, module_loss<CrossEntropyLoss>(r, weighted));
        add("CrossEntropyLoss weighted, smoothing 0.2, ignore_index 0", scores, no_ignored,
            module_loss<CrossEntropyLoss>(
                r, [](auto o, const Tensor& w) { return o.weight(w).label_smoothing(0.2).ignore_index(0); }));
        add("CrossEntropyLoss (N, C, H, W) smoothing 0.1, ignore_index 3", image_scores, image_labels_3,
            module_loss<CrossEntropyLoss>(r, [](auto o, auto&) { return o.label_smoothing(0.1).ignore_index(3); }));
        add("CrossEntropyLoss (N, C, H, W) weighted, smoothing 0.1", image_scores, image_labels,
            module_loss<CrossEntropyLoss>(r, [](auto o, const Tensor& w) { return o.weight(w).label_smoothing(0.1); }));
    }
    return cases;
}

}  // namespace

TEST_CASE("every loss module runs on the device with the CPU's values and gradients", "[chapter04][modules]") {
    for (const LossCase& c : loss_cases()) {
        DYNAMIC_SECTION(c.name) {
            const auto [cpu_loss, cpu_grad] = run_loss(c, Device::CPU);
            const auto [device_loss, device_grad] = run_loss(c, Device::CUDA);
            check_matches("loss", device_loss, cpu_loss);
            check_matches("input gradient", device_grad, cpu_grad);
        }
    }
}

// ---- optimizers --------------------------------------------------------------------------------

namespace {

struct OptimCase {
    std::string name;
    std::function<std::unique_ptr<optim::Optimizer>(const std::vector<Tensor>&)> make;
    std::function<std::unique_ptr<optim::LRScheduler>(optim::Optimizer&)> scheduler;  // or empty
    double clip_norm = 0.0;                                                           // 0: no clipping
};

template <class O, class Options>
std::function<std::unique_ptr<optim::Optimizer>(const std::vector<Tensor>&)> optimizer(Options options) {
    return [options](const std::vector<Tensor>& params) { return std::make_unique<O>(params, options); };
}

// Three steps of Linear(5, 8), ReLU, Linear(8, 3) on an MSE loss: each step's loss (and the
// gradient norm before clipping), then the parameters and the optimizer's state_dict.
Results run_optimizer(const OptimCase& c, Device device, optim::Metadata& metadata) {
    manual_seed(21);
    auto model = sequential({make<nn::Linear>(5, 8), make<nn::ReLU>(), make<nn::Linear>(8, 3)});
    model->to(device);
    Generator data(8);
    const Tensor x = randn({6, 5}, data).to(device), y = randn({6, 3}, data).to(device);
    auto optimizer = c.make(model->parameters());
    auto scheduler = c.scheduler ? c.scheduler(*optimizer) : nullptr;
    Results results;
    for (int step = 0; step < 3; ++step) {
        const std::string prefix = "step " + std::to_string(step) + " ";
        optimizer->zero_grad();
        const Tensor loss = F::mse_loss(model->forward(x), y);
        loss.backward();
        results.emplace_back(prefix + "loss", snapshot(loss));
        if (c.clip_norm > 0.0) {
            const Tensor norm = nn::utils::clip_grad_norm_(model->parameters(), c.clip_norm);
            CHECK(norm.item() > c.clip_norm);  // the clipping does something
            results.emplace_back(prefix + "gradient norm", snapshot(norm));
        }
        optimizer->step();
        if (scheduler) scheduler->step();
    }
    for (const auto& [name, p] : model->named_parameters()) {
        CHECK(p.device() == device);
        results.emplace_back(name, snapshot(p));
    }
    const nn::StateDict state = optimizer->state_dict();
    CHECK(state.empty() == (c.name == "SGD"));  // only plain SGD keeps no state
    for (const auto& [name, tensor] : state) results.emplace_back("optimizer " + name, snapshot(tensor));
    metadata = state.metadata;
    return results;
}

std::vector<OptimCase> optimizer_cases() {
    using namespace optim;
    return {
        {"SGD", optimizer<SGD>(SGDOptions(0.1)), nullptr},
        {"SGD momentum, dampening, weight decay",
         optimizer<SGD>(SGDOptions(0.1).momentum(0.9).dampening(0.1).weight_decay(1e-2)), nullptr},
        {"SGD nesterov", optimizer<SGD>(SGDOptions(0.1).momentum(0.9).nesterov(true).weight_decay(1e-3)), nullptr},
        {"SGD momentum, StepLR, clip_grad_norm_", optimizer<SGD>(SGDOptions(0.2).momentum(0.8)),
         [](Optimizer& o) { return std::make_unique<StepLR>(o, 1, 0.5); }, 0.1},
        {"Adam weight decay", optimizer<Adam>(AdamOptions(1e-2).weight_decay(1e-2)), nullptr},
        {"Adam betas, CosineAnnealingLR", optimizer<Adam>(AdamOptions(5e-2).betas({0.8, 0.95}).eps(1e-6)),
         [](Optimizer& o) { return std::make_unique<CosineAnnealingLR>(o, 4, 1e-3); }},
        {"AdamW", optimizer<AdamW>(AdamWOptions(1e-2).weight_decay(0.1)), nullptr},
        {"RMSprop", optimizer<RMSprop>(RMSpropOptions(1e-2)), nullptr},
        {"RMSprop centered, momentum, weight decay",
         optimizer<RMSprop>(RMSpropOptions(1e-2).centered(true).momentum(0.9).weight_decay(1e-2)), nullptr},
        {"RMSprop, clip_grad_norm_", optimizer<RMSprop>(RMSpropOptions(1e-2).alpha(0.9)), nullptr, 0.2},
    };
}

}  // namespace

TEST_CASE("every optimizer takes the CPU's steps on the device", "[chapter04][modules]") {
    for (const OptimCase& c : optimizer_cases()) {
        DYNAMIC_SECTION(c.name) {
            optim::Metadata cpu_metadata, device_metadata;
            const Results on_cpu = run_optimizer(c, Device::CPU, cpu_metadata);
            const Results on_device = run_optimizer(c, Device::CUDA, device_metadata);
            check_all(on_device, on_cpu);
            CHECK(device_metadata == cpu_metadata);  // the hyperparameters, and the lr a scheduler set
        }
    }
}

#endif
