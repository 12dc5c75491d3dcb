// Claim checked: the CPU backend's fused training kernels compute what LibTorch computes, on
// identical (seeded) inputs. Each kernel is called as a layer would call it, on the raw pointers
// of stepgrad tensors:
// - convolution = im2col + one GEMM per group (forward), col2im of Wᵀ @ grad_output (grad of
//   the input) and Σ_n grad_output @ columnsᵀ (grad of the weight), against torch::conv2d;
// - max pooling (values, argmax positions h * W + w, gradient) against max_pool2d_with_indices;
// - average pooling, with and without count_include_pad, against torch::avg_pool2d;
// - cross-entropy (log-probabilities, per-row and mean loss, gradient) with ignore_index and
//   label smoothing, against torch::nn::functional::cross_entropy;
// - three steps of SGD (momentum, dampening, Nesterov, weight decay) and of Adam/AdamW against
//   torch::optim, parameters and optimizer state compared after every step.
// Tolerances are the harness's float32 rounding (kRelative, kAbsolute), so a wrong tap, a wrong
// divisor or a wrong step fails.
#include "torch_harness.hpp"

#include <stepgrad/tensor/backend.hpp>

namespace torchref {
namespace {

using sg::Window2d;

sg::Backend& cpu() { return sg::get_backend(sg::Device::CPU); }

float* ptr(const sg::Tensor& t) { return t.data_ptr<float>(); }
std::int64_t* index_ptr(const sg::Tensor& t) { return t.data_ptr<std::int64_t>(); }

/// A new, uninitialised Float32 tensor for a kernel to write.
sg::Tensor empty(const sg::Shape& shape) { return sg::Tensor::empty(shape); }

/// The same random numbers as a stepgrad tensor and as a LibTorch tensor (which may require grad).
struct Twin {
    sg::Tensor mine;
    torch::Tensor theirs;
};

Twin twin(const Input& input, sg::Generator& gen, bool requires_grad = false) {
    const std::vector<float> data = draw(input, gen);
    torch::Tensor theirs = to_torch(data, input.shape);
    if (requires_grad) theirs.requires_grad_();
    return {sg::from_vector(data, input.shape), theirs};
}

/// Shape first (REQUIRE), then every element within float32 rounding (see mismatch()).
void check_close(const std::string& what, const sg::Tensor& actual, const torch::Tensor& expected) {
    const sg::Shape expected_shape(expected.sizes().begin(), expected.sizes().end());
    INFO(what << ": stepgrad " << shape_text(actual.shape()) << ", LibTorch " << shape_text(expected_shape));
    REQUIRE(actual.shape() == expected_shape);
    CHECK(mismatch(what, from_stepgrad(actual), from_torch(expected)) == "");
}

std::vector<std::int64_t> int64_values(const torch::Tensor& t) {
    const torch::Tensor flat = t.to(torch::kLong).contiguous().reshape({-1});
    return std::vector<std::int64_t>(flat.data_ptr<std::int64_t>(), flat.data_ptr<std::int64_t>() + flat.numel());
}

std::string describe(const Window2d& w) {
    std::ostringstream out;
    out << "N" << w.batch << " C" << w.channels << " " << w.height << "x" << w.width << " kernel " << w.kernel_h << "x"
        << w.kernel_w << " stride " << w.stride_h << "," << w.stride_w << " pad " << w.pad_h << "," << w.pad_w
        << " dilation " << w.dilation_h << "," << w.dilation_w << (w.ceil_mode ? " ceil" : "");
    return out.str();
}

sg::Shape image_shape(const Window2d& w) { return {w.batch, w.channels, w.height, w.width}; }
sg::Shape pooled_shape(const Window2d& w) { return {w.batch, w.channels, w.out_height(), w.out_width()}; }

// ---- convolution as im2col + GEMM -------------------------------------------------------------

struct ConvCase {
    std::string name;
    Window2d window;  // input geometry; channels = in_channels
    std::int64_t out_channels;
    std::int64_t groups;
};

//   N  C  H  W  kh kw sh sw ph pw dh dw
const std::vector<ConvCase> conv_cases = {
    {"stride 2", {3, 2, 7, 5, 3, 3, 2, 2, 1, 1, 1, 1}, 4, 1},
    {"padding (1, 2)", {3, 2, 7, 5, 3, 3, 1, 1, 1, 2, 1, 1}, 3, 1},
    {"dilation 2, padding 2", {3, 2, 7, 5, 3, 3, 1, 1, 2, 2, 2, 2}, 3, 1},
    {"kernel 2x3, no padding", {3, 2, 7, 5, 2, 3, 1, 1, 0, 0, 1, 1}, 3, 1},
    {"same 3x3 (im2col's one-memcpy path)", {3, 3, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1}, 2, 1},
    {"stride (2, 1), kernel 3x2, padding (1, 2)", {3, 2, 7, 3, 3, 2, 2, 1, 1, 2, 1, 1}, 2, 1},
    {"1x1, stride (3, 2)", {3, 2, 7, 5, 1, 1, 3, 2, 0, 0, 1, 1}, 5, 1},
    {"groups 2, same 3x3", {3, 4, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1}, 6, 2},
    {"groups 2, kernel 2x3, stride (2, 1), padding (1, 2), dilation (2, 1)",
     {3, 4, 5, 7, 2, 3, 2, 1, 1, 2, 2, 1}, 4, 2},
};

/// The forward and both gradients of a grouped convolution, the way a Conv2d layer builds them
/// from the backend's kernels. With K = (C/G) kh kw taps per group and L = OH OW positions:
///   columns      (N, G, K, L)    = im2col(image)
///   out          (N, G, OC/G, L) = weight (G, OC/G, K) @ columns            (batch axes broadcast)
///   grad_image   (N, C, H, W)    = col2im(weightᵀ (G, K, OC/G) @ grad_out)  (adjoint of im2col)
///   grad_weight  (G, OC/G, K)    = Σ_n grad_out[n] @ columns[n]ᵀ
struct ConvResult {
    sg::Tensor out, grad_image, grad_weight;
};

ConvResult conv_through_kernels(const sg::Tensor& image, const sg::Tensor& weight, const sg::Tensor& grad_out,
                                const ConvCase& c) {
    const Window2d& w = c.window;
    const std::int64_t groups = c.groups, out_per_group = c.out_channels / groups;
    const std::int64_t taps = w.channels / groups * w.kernel_h * w.kernel_w;  // K
    const std::int64_t positions = w.out_height() * w.out_width();           // L

    sg::Tensor columns = empty({w.batch, groups, taps, positions});
    cpu().im2col(ptr(image), w, ptr(columns));
    const sg::Tensor weight_matrices = weight.reshape({groups, out_per_group, taps});
    const sg::Tensor out = sg::matmul(weight_matrices, columns)
                               .reshape({w.batch, c.out_channels, w.out_height(), w.out_width()});

    const sg::Tensor grad_matrices = grad_out.reshape({w.batch, groups, out_per_group, positions});
    sg::Tensor weight_t = empty({groups, taps, out_per_group});
    cpu().transpose(ptr(weight_matrices), groups, out_per_group, taps, ptr(weight_t));
    const sg::Tensor grad_columns = sg::matmul(weight_t, grad_matrices);  // (N, G, K, L), contiguous
    sg::Tensor grad_image = empty(image_shape(w));
    cpu().col2im(ptr(grad_columns), w, ptr(grad_image));

    sg::Tensor columns_t = empty({w.batch, groups, positions, taps});
    cpu().transpose(ptr(columns), w.batch * groups, taps, positions, ptr(columns_t));
    const sg::Tensor per_image = sg::matmul(grad_matrices, columns_t);  // (N, G, OC/G, K)
    sg::Tensor grad_weight = sg::zeros(weight.shape());
    const std::int64_t weight_size = weight.numel();
    for (std::int64_t n = 0; n < w.batch; ++n)
        cpu().axpy(weight_size, 1.0f, ptr(per_image) + n * weight_size, ptr(grad_weight));
    return {out, grad_image, grad_weight};
}

// ---- pooling ----------------------------------------------------------------------------------

// Padding at most half the kernel, as PyTorch requires; odd sizes, ragged last windows with
// ceil_mode (6 rows, kernel 3, stride 2, padding 1: ceil_mode adds a window that hangs over the
// bottom padding, so count_include_pad divides it by 2 rows, not 3).
//   N  C  H  W  kh kw sh sw ph pw dh dw ceil
const std::vector<Window2d> pool_windows = {
    {3, 2, 7, 5, 3, 3, 2, 2, 1, 1, 1, 1, false},
    {3, 2, 7, 5, 3, 3, 2, 2, 1, 1, 1, 1, true},
    {3, 2, 6, 8, 3, 3, 2, 2, 1, 1, 1, 1, false},
    {3, 2, 6, 8, 3, 3, 2, 2, 1, 1, 1, 1, true},
    {3, 2, 9, 7, 3, 3, 3, 3, 1, 1, 1, 1, true},
    {3, 2, 7, 5, 2, 2, 2, 2, 0, 0, 1, 1, true},
    {3, 2, 7, 5, 2, 3, 2, 1, 1, 1, 1, 1, true},
    {3, 2, 5, 7, 2, 3, 1, 2, 1, 1, 1, 1, false},
};

void check_max_pool(const Window2d& w, const Input& input, sg::Generator& gen) {
    const Twin image = twin(input, gen, true);
    sg::Tensor out = empty(pooled_shape(w));
    sg::Tensor argmax = sg::Tensor::empty(pooled_shape(w), sg::Device::CPU, sg::Dtype::Int64);
    cpu().max_pool2d_forward(ptr(image.mine), w, ptr(out), index_ptr(argmax));

    const auto [expected, expected_indices] =
        torch::max_pool2d_with_indices(image.theirs, {w.kernel_h, w.kernel_w}, {w.stride_h, w.stride_w},
                                       {w.pad_h, w.pad_w}, {w.dilation_h, w.dilation_w}, w.ceil_mode);
    check_close("max_pool2d output", out, expected);
    CHECK(argmax.to_vector<std::int64_t>() == int64_values(expected_indices));

    const Twin grad_out = twin(real(pooled_shape(w)), gen);
    sg::Tensor grad_image = empty(image_shape(w));
    cpu().max_pool2d_backward(ptr(grad_out.mine), index_ptr(argmax), w, ptr(grad_image));
    expected.backward(grad_out.theirs);
    check_close("max_pool2d grad of input", grad_image, image.theirs.grad());
}

void check_avg_pool(const Window2d& w, bool count_include_pad, sg::Generator& gen) {
    const Twin image = twin(real(image_shape(w)), gen, true);
    sg::Tensor out = empty(pooled_shape(w));
    cpu().avg_pool2d_forward(ptr(image.mine), w, count_include_pad, ptr(out));
    const torch::Tensor expected = torch::avg_pool2d(image.theirs, {w.kernel_h, w.kernel_w}, {w.stride_h, w.stride_w},
                                                     {w.pad_h, w.pad_w}, w.ceil_mode, count_include_pad);
    check_close("avg_pool2d output", out, expected);

    const Twin grad_out = twin(real(pooled_shape(w)), gen);
    sg::Tensor grad_image = empty(image_shape(w));
    cpu().avg_pool2d_backward(ptr(grad_out.mine), w, count_include_pad, ptr(grad_image));
    expected.backward(grad_out.theirs);
    check_close("avg_pool2d grad of input", grad_image, image.theirs.grad());
}

// ---- optimizers -------------------------------------------------------------------------------

constexpr std::int64_t kParameterCount = 37;  // odd: no vector-width luck
constexpr int kSteps = 3;

/// The state of the optimizer's only parameter (LibTorch keys it by the parameter's address).
template <class State>
State& only_state(torch::optim::Optimizer& optimizer) {
    REQUIRE(optimizer.state().size() == 1);
    return static_cast<State&>(*optimizer.state().begin()->second);
}

void check_sgd(sg::SgdUpdate update, std::uint64_t seed) {
    sg::Generator gen(seed);
    const Twin param = twin(real({kParameterCount}), gen);
    torch::Tensor theirs = param.theirs.clone().requires_grad_();
    torch::optim::SGD optimizer(std::vector<torch::Tensor>{theirs}, torch::optim::SGDOptions(update.lr)
                                              .momentum(update.momentum)
                                              .dampening(update.dampening)
                                              .weight_decay(update.weight_decay)
                                              .nesterov(update.nesterov));
    const bool has_momentum = update.momentum != 0.0f;
    sg::Tensor buffer = sg::zeros({kParameterCount});
    for (int step = 0; step < kSteps; ++step) {
        INFO("step " << step + 1);
        const Twin grad = twin(real({kParameterCount}), gen);
        update.first_step = step == 0;
        cpu().sgd_step(ptr(param.mine), ptr(grad.mine), has_momentum ? ptr(buffer) : nullptr, kParameterCount,
                       update);
        theirs.mutable_grad() = grad.theirs;
        optimizer.step();
        check_close("parameter", param.mine, theirs);
        if (has_momentum)
            check_close("momentum buffer", buffer,
                        only_state<torch::optim::SGDParamState>(optimizer).momentum_buffer());
    }
}

template <class Optimizer, class State>
void check_adam(Optimizer& optimizer, torch::Tensor& theirs, sg::AdamUpdate update, const Twin& param,
                sg::Generator& gen) {
    sg::Tensor exp_avg = sg::zeros({kParameterCount}), exp_avg_sq = sg::zeros({kParameterCount});
    for (int step = 1; step <= kSteps; ++step) {
        INFO("step " << step);
        const Twin grad = twin(real({kParameterCount}), gen);
        update.step = step;
        cpu().adam_step(ptr(param.mine), ptr(grad.mine), ptr(exp_avg), ptr(exp_avg_sq), kParameterCount, update);
        theirs.mutable_grad() = grad.theirs;
        optimizer.step();
        check_close("parameter", param.mine, theirs);
        const State& state = only_state<State>(optimizer);
        check_close("exp_avg", exp_avg, state.exp_avg());
        check_close("exp_avg_sq", exp_avg_sq, state.exp_avg_sq());
    }
}

}  // namespace

TEST_CASE("convolution as im2col + GEMM, and its gradients through col2im, match torch::conv2d",
          "[chapter02][torch][kernels]") {
    torch::set_num_threads(1);
    for (const ConvCase& c : conv_cases) {
        DYNAMIC_SECTION(c.name) {
            const Window2d& w = c.window;
            INFO(describe(w) << ", " << c.out_channels << " out channels, groups " << c.groups);
            sg::Generator gen(17);
            const Twin image = twin(real(image_shape(w)), gen, true);
            const Twin weight = twin(real({c.out_channels, w.channels / c.groups, w.kernel_h, w.kernel_w}), gen, true);
            const Twin grad_out = twin(real({w.batch, c.out_channels, w.out_height(), w.out_width()}), gen);

            const ConvResult mine = conv_through_kernels(image.mine, weight.mine, grad_out.mine, c);
            const torch::Tensor expected =
                torch::conv2d(image.theirs, weight.theirs, {}, {w.stride_h, w.stride_w}, {w.pad_h, w.pad_w},
                              {w.dilation_h, w.dilation_w}, c.groups);
            check_close("conv2d output", mine.out, expected);
            expected.backward(grad_out.theirs);
            check_close("conv2d grad of input", mine.grad_image, image.theirs.grad());
            check_close("conv2d grad of weight", mine.grad_weight, weight.theirs.grad());
        }
    }
}

TEST_CASE("max_pool2d forward, argmax positions and backward match max_pool2d_with_indices",
          "[chapter02][torch][kernels]") {
    torch::set_num_threads(1);
    std::vector<Window2d> windows = pool_windows;
    windows.push_back({3, 2, 7, 5, 3, 3, 1, 1, 1, 1, 2, 2, false});  // dilation 2 (max pooling only)
    windows.push_back({3, 2, 8, 7, 3, 2, 2, 2, 1, 1, 2, 1, true});
    for (const Window2d& w : windows) {
        DYNAMIC_SECTION(describe(w)) {
            sg::Generator gen(23);
            SECTION("distinct values") { check_max_pool(w, real(image_shape(w)), gen); }
            // values from {-1, -0.5, 0, 0.5, 1}: most windows have tied maxima; both pick the first
            SECTION("many ties") { check_max_pool(w, kinks(image_shape(w)), gen); }
        }
    }
}

TEST_CASE("avg_pool2d forward and backward match torch::avg_pool2d with and without count_include_pad",
          "[chapter02][torch][kernels]") {
    torch::set_num_threads(1);
    for (const Window2d& w : pool_windows) {
        for (const bool count_include_pad : {true, false}) {
            DYNAMIC_SECTION(describe(w) << (count_include_pad ? ", count_include_pad" : ", taps inside only")) {
                sg::Generator gen(29);
                check_avg_pool(w, count_include_pad, gen);
            }
        }
    }
}

// PyTorch 1.13's mean with ignore_index divides both the NLL part and the label-smoothing part by
// the number of non-ignored rows, so its mean is Σ loss / Σ valid of the kernel's per-row outputs,
// and its gradient is the kernel's backward with grad_loss = 1 / Σ valid on every row.
TEST_CASE("cross-entropy with ignore_index and label smoothing matches torch cross_entropy",
          "[chapter02][torch][kernels]") {
    torch::set_num_threads(1);
    namespace F = torch::nn::functional;
    constexpr std::int64_t batch = 9, classes = 5;
    for (const std::int64_t ignore_index : {std::int64_t{-100}, std::int64_t{2}}) {
        for (const float smoothing : {0.0f, 0.1f}) {
            DYNAMIC_SECTION("ignore_index " << ignore_index << ", label_smoothing " << smoothing) {
                sg::Generator gen(31);
                const std::vector<float> logits_data = [&] {
                    std::vector<float> v = draw(real({batch, classes}), gen);
                    for (float& x : v) x *= 3.0f;  // confident and wrong rows alike
                    return v;
                }();
                std::vector<std::int64_t> targets;
                for (std::int64_t row = 0; row < batch; ++row)
                    targets.push_back(static_cast<std::int64_t>(gen.below(static_cast<std::uint64_t>(classes))));
                targets[1] = targets[4] = targets[8] = ignore_index;  // with ignore_index 2, a class: more rows may match

                const sg::Tensor logits = sg::from_vector(logits_data, {batch, classes});
                const sg::Tensor target = sg::from_vector(targets, {batch});
                sg::Tensor log_probs = empty({batch, classes}), loss = empty({batch}), valid = empty({batch});
                cpu().cross_entropy_forward(ptr(logits), index_ptr(target), batch, classes, ignore_index, smoothing,
                                            ptr(log_probs), ptr(loss), ptr(valid));
                const std::vector<float> row_loss = loss.to_vector(), row_valid = valid.to_vector();
                double loss_sum = 0.0, valid_count = 0.0;
                for (std::int64_t row = 0; row < batch; ++row) {
                    loss_sum += row_loss[static_cast<std::size_t>(row)];
                    valid_count += row_valid[static_cast<std::size_t>(row)];
                }
                REQUIRE(valid_count >= 1.0);
                REQUIRE(valid_count < static_cast<double>(batch));  // some rows really are ignored

                const torch::Tensor theirs_logits = to_torch(logits_data, {batch, classes}).requires_grad_();
                const torch::Tensor theirs_target = long_tensor(targets, {batch});
                const auto options = F::CrossEntropyFuncOptions().ignore_index(ignore_index).label_smoothing(smoothing);
                const torch::Tensor per_row = F::cross_entropy(theirs_logits, theirs_target,
                                                               F::CrossEntropyFuncOptions(options).reduction(torch::kNone));
                const torch::Tensor mean = F::cross_entropy(theirs_logits, theirs_target, options);

                check_close("log_probs", log_probs, torch::log_softmax(theirs_logits, 1));
                check_close("per-row loss (0 on ignored rows)", loss, per_row);
                CHECK(mismatch("mean loss", {loss_sum / valid_count}, from_torch(mean)) == "");
                std::vector<double> expected_valid;
                for (const std::int64_t t : targets) expected_valid.push_back(t == ignore_index ? 0.0 : 1.0);
                CHECK(mismatch("valid", from_stepgrad(valid), expected_valid) == "");

                SECTION("gradient of the mean") {
                    const sg::Tensor grad_loss = sg::full({batch}, static_cast<float>(1.0 / valid_count));
                    sg::Tensor grad_logits = empty({batch, classes});
                    cpu().cross_entropy_backward(ptr(log_probs), index_ptr(target), ptr(grad_loss), batch, classes,
                                                 ignore_index, smoothing, ptr(grad_logits));
                    mean.backward();
                    check_close("grad of logits (mean)", grad_logits, theirs_logits.grad());
                }
                SECTION("gradient of the per-row losses under a random upstream gradient") {
                    const Twin grad_loss = twin(real({batch}), gen);
                    sg::Tensor grad_logits = empty({batch, classes});
                    cpu().cross_entropy_backward(ptr(log_probs), index_ptr(target), ptr(grad_loss.mine), batch,
                                                 classes, ignore_index, smoothing, ptr(grad_logits));
                    per_row.backward(grad_loss.theirs);
                    check_close("grad of logits (per row)", grad_logits, theirs_logits.grad());
                }
            }
        }
    }
}

// torch.optim.SGD: dampening is not applied on the first step (the buffer starts as the
// gradient), and Nesterov requires zero dampening (LibTorch's constructor rejects it otherwise).
TEST_CASE("three sgd_step updates match torch::optim::SGD", "[chapter02][torch][kernels]") {
    torch::set_num_threads(1);
    //                lr     momentum dampening weight_decay nesterov
    SECTION("momentum 0.9, dampening 0.1, weight decay 0.01") { check_sgd({0.1f, 0.9f, 0.1f, 0.01f, false}, 41); }
    SECTION("Nesterov, momentum 0.9, dampening 0, weight decay 0.01") { check_sgd({0.1f, 0.9f, 0.0f, 0.01f, true}, 42); }
    SECTION("no momentum, weight decay 0.01") { check_sgd({0.1f, 0.0f, 0.0f, 0.01f, false}, 43); }
    SECTION("LibTorch rejects Nesterov with dampening") {
        const std::vector<torch::Tensor> params{torch::zeros({1}, torch::requires_grad())};
        const auto options = torch::optim::SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true);
        CHECK_THROWS([&] { torch::optim::SGD rejected(params, options); }());
    }
}

TEST_CASE("three adam_step updates match torch::optim::Adam (L2) and AdamW (decoupled)",
          "[chapter02][torch][kernels]") {
    torch::set_num_threads(1);
    constexpr float lr = 0.05f;
    sg::Generator gen(51);
    const Twin param = twin(real({kParameterCount}), gen);
    torch::Tensor theirs = param.theirs.clone().requires_grad_();
    SECTION("Adam, weight decay 0.01 added to the gradient") {
        torch::optim::Adam optimizer(std::vector<torch::Tensor>{theirs}, torch::optim::AdamOptions(lr).weight_decay(0.01));
        check_adam<torch::optim::Adam, torch::optim::AdamParamState>(
            optimizer, theirs, {lr, 0.9f, 0.999f, 1e-8f, 0.01f, false, 1}, param, gen);
    }
    SECTION("AdamW, weight decay 0.1 decoupled") {
        torch::optim::AdamW optimizer(std::vector<torch::Tensor>{theirs}, torch::optim::AdamWOptions(lr).weight_decay(0.1));
        check_adam<torch::optim::AdamW, torch::optim::AdamWParamState>(
            optimizer, theirs, {lr, 0.9f, 0.999f, 1e-8f, 0.1f, true, 1}, param, gen);
    }
}

}  // namespace torchref
