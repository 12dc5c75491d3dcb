// Chapter 4's fused kernels (backend_conv_pool.cu, backend_loss_optim.cu) against the CPU
// backend: im2col/col2im, max and average pooling, cross-entropy, SGD and Adam. Each test runs
// one kernel on both backends with the same inputs, on awkward geometries (stride, padding,
// dilation, ceil_mode, non-square windows, windows wholly in the padding) and compares.
// The gathering backward kernels add in the CPU's order, so most comparisons are exact.
#include "device_buffers.hpp"

#include <stepgrad/tensor/backend.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using stepgrad::AdamUpdate;
using stepgrad::SgdUpdate;
using stepgrad::Window2d;
using stepgrad::gpu_test::check_close;
using stepgrad::gpu_test::cpu;
using stepgrad::gpu_test::device;
using stepgrad::gpu_test::DeviceBuffer;
using stepgrad::gpu_test::random_floats;

std::size_t image_size(const Window2d& w) {
    return static_cast<std::size_t>(w.batch * w.channels * w.height * w.width);
}
std::size_t pooled_size(const Window2d& w) {
    return static_cast<std::size_t>(w.batch * w.channels * w.out_height() * w.out_width());
}
std::size_t columns_size(const Window2d& w) {
    return static_cast<std::size_t>(w.batch * w.channels * w.kernel_h * w.kernel_w * w.out_height() * w.out_width());
}

/// Makes a window: batch, channels, H, W, kh, kw, stride, padding, dilation (each h then w), ceil_mode.
Window2d make_window(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w, std::int64_t kh,
                     std::int64_t kw, std::int64_t sh, std::int64_t sw, std::int64_t ph, std::int64_t pw,
                     std::int64_t dh, std::int64_t dw, bool ceil_mode = false) {
    Window2d window;
    window.batch = n;
    window.channels = c;
    window.height = h;
    window.width = w;
    window.kernel_h = kh;
    window.kernel_w = kw;
    window.stride_h = sh;
    window.stride_w = sw;
    window.pad_h = ph;
    window.pad_w = pw;
    window.dilation_h = dh;
    window.dilation_w = dw;
    window.ceil_mode = ceil_mode;
    return window;
}

std::string describe(const Window2d& w) {
    return std::to_string(w.batch) + "x" + std::to_string(w.channels) + "x" + std::to_string(w.height) + "x" +
           std::to_string(w.width) + " kernel " + std::to_string(w.kernel_h) + "x" + std::to_string(w.kernel_w) +
           " stride " + std::to_string(w.stride_h) + "," + std::to_string(w.stride_w) + " pad " +
           std::to_string(w.pad_h) + "," + std::to_string(w.pad_w) + " dilation " + std::to_string(w.dilation_h) +
           "," + std::to_string(w.dilation_w) + (w.ceil_mode ? " ceil" : "") + " -> " +
           std::to_string(w.out_height()) + "x" + std::to_string(w.out_width());
}

/// Convolution windows: "same" 3x3 (the CPU's shifted-image path), strided, dilated,
/// non-square, 1x1, stride wider than the kernel (gaps), padding wider than the kernel.
std::vector<Window2d> conv_windows() {
    return {
        make_window(2, 1, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1),
        make_window(2, 3, 7, 9, 3, 2, 2, 3, 1, 2, 2, 1),
        make_window(3, 5, 6, 5, 2, 4, 1, 2, 0, 3, 1, 2),
        make_window(1, 4, 5, 7, 1, 1, 1, 1, 0, 0, 1, 1),
        make_window(2, 2, 9, 8, 2, 2, 3, 3, 0, 1, 1, 1),
        make_window(1, 3, 4, 6, 2, 3, 2, 1, 3, 2, 1, 1),
        make_window(2, 2, 10, 11, 3, 3, 2, 2, 2, 2, 3, 2),
    };
}

/// Pooling windows: the CNN's plain 2x2 (the CPU's fast path), overlapping 3x3 stride 2,
/// ceil_mode windows hanging past the edge, dilation, non-square, padding wider than the
/// kernel's half (windows wholly in the padding: -inf and argmax -1).
std::vector<Window2d> pool_windows() {
    return {
        make_window(2, 3, 8, 6, 2, 2, 2, 2, 0, 0, 1, 1),
        make_window(2, 3, 7, 5, 2, 2, 2, 2, 0, 0, 1, 1),
        make_window(2, 2, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1),
        make_window(1, 3, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1, true),
        make_window(2, 3, 6, 6, 3, 3, 2, 2, 1, 1, 1, 1, true),  // last window hangs past the padding
        make_window(2, 3, 8, 6, 2, 3, 3, 2, 0, 1, 1, 1, true),
        make_window(3, 2, 9, 10, 2, 3, 2, 3, 1, 1, 2, 2, true),
        make_window(2, 5, 6, 9, 3, 2, 1, 2, 1, 1, 2, 1),
        make_window(1, 2, 5, 5, 2, 2, 3, 3, 2, 2, 1, 1),
        make_window(2, 1, 6, 7, 1, 3, 1, 2, 0, 1, 1, 3, true),
    };
}

/// Small integers (many ties), a few NaNs and -inf: the max-pool rules show on every window.
std::vector<float> tie_heavy_input(std::size_t count, std::uint64_t seed) {
    std::vector<float> values = random_floats(count, seed, 0.0f, 3.0f);
    for (std::size_t k = 0; k < count; ++k) {
        values[k] = std::floor(values[k]);
        if (k % 17 == 5) values[k] = std::numeric_limits<float>::quiet_NaN();
        if (k % 23 == 7) values[k] = -std::numeric_limits<float>::infinity();
    }
    return values;
}

}  // namespace

TEST_CASE("im2col on the device equals the CPU's", "[chapter04][kernels]") {
    for (const Window2d& window : conv_windows()) {
        INFO(describe(window));
        const auto image = random_floats(image_size(window), 11);
        std::vector<float> expected(columns_size(window));
        cpu().im2col(image.data(), window, expected.data());
        const DeviceBuffer<float> input(image);
        DeviceBuffer<float> columns(columns_size(window), 42.0f);
        device().im2col(input.data(), window, columns.data());
        check_close(columns.to_host(), expected, 0.0);
    }
}

TEST_CASE("col2im on the device gathers what the CPU scatters, in the same order", "[chapter04][kernels]") {
    for (const Window2d& window : conv_windows()) {
        INFO(describe(window));
        const auto columns = random_floats(columns_size(window), 12);
        std::vector<float> expected(image_size(window));
        cpu().col2im(columns.data(), window, expected.data());
        const DeviceBuffer<float> input(columns);
        DeviceBuffer<float> image(image_size(window), 42.0f);  // overwritten, not added to
        device().col2im(input.data(), window, image.data());
        check_close(image.to_host(), expected, 0.0);
    }
}

TEST_CASE("max_pool2d forward on the device: same maxima, ties to the first, NaN propagates",
          "[chapter04][kernels]") {
    for (const Window2d& window : pool_windows()) {
        INFO(describe(window));
        for (const bool ties : {false, true}) {
            const auto input = ties ? tie_heavy_input(image_size(window), 13) : random_floats(image_size(window), 14);
            std::vector<float> expected(pooled_size(window));
            std::vector<std::int64_t> expected_argmax(pooled_size(window));
            cpu().max_pool2d_forward(input.data(), window, expected.data(), expected_argmax.data());
            const DeviceBuffer<float> x(input);
            DeviceBuffer<float> out(pooled_size(window), 42.0f);
            DeviceBuffer<std::int64_t> argmax(pooled_size(window), 42);
            device().max_pool2d_forward(x.data(), window, out.data(), argmax.data());
            check_close(out.to_host(), expected, 0.0);
            CHECK(argmax.to_host() == expected_argmax);
        }
    }
}

TEST_CASE("max_pool2d on the device: NaN, -inf and a window wholly in the padding", "[chapter04][kernels]") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    // one 3x3 plane, 2x2 windows, stride 2, padding 2: the corner windows see only padding
    const Window2d window = make_window(1, 1, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1);
    REQUIRE(window.out_height() == 3);
    const std::vector<float> input{1.0f, nan, 1.0f, -inf, 2.0f, 2.0f, -inf, -inf, 5.0f};
    const DeviceBuffer<float> x(input);
    DeviceBuffer<float> out(pooled_size(window));
    DeviceBuffer<std::int64_t> argmax(pooled_size(window));
    device().max_pool2d_forward(x.data(), window, out.data(), argmax.data());
    // window (1, 1) holds rows 0..1, columns 0..1: 1, NaN, -inf, 2 -> NaN at position 1
    const auto values = out.to_host();
    const auto positions = argmax.to_host();
    CHECK(std::isnan(values[4]));
    CHECK(positions[4] == 1);
    CHECK(values[0] == -inf);  // only padding
    CHECK(positions[0] == -1);
    CHECK(values[8] == 5.0f);
    CHECK(positions[8] == 8);
    // the bottom-left window holds -inf, -inf only: the first one wins
    CHECK(values[7] == -inf);
    CHECK(positions[7] == 6);
}

TEST_CASE("max_pool2d backward on the device adds each gradient at its argmax", "[chapter04][kernels]") {
    for (const Window2d& window : pool_windows()) {
        INFO(describe(window));
        // ties make one input the maximum of several overlapping windows
        const auto input = tie_heavy_input(image_size(window), 15);
        std::vector<float> pooled(pooled_size(window));
        std::vector<std::int64_t> argmax(pooled_size(window));
        cpu().max_pool2d_forward(input.data(), window, pooled.data(), argmax.data());
        const auto grad_output = random_floats(pooled_size(window), 16);
        std::vector<float> expected(image_size(window));
        cpu().max_pool2d_backward(grad_output.data(), argmax.data(), window, expected.data());
        const DeviceBuffer<float> grad(grad_output);
        const DeviceBuffer<std::int64_t> positions(argmax);
        DeviceBuffer<float> grad_input(image_size(window), 42.0f);
        device().max_pool2d_backward(grad.data(), positions.data(), window, grad_input.data());
        check_close(grad_input.to_host(), expected, 0.0);
    }
}

TEST_CASE("avg_pool2d forward and backward on the device, count_include_pad both ways", "[chapter04][kernels]") {
    for (const Window2d& window : pool_windows()) {
        for (const bool count_include_pad : {false, true}) {
            INFO(describe(window) << (count_include_pad ? " count_include_pad" : ""));
            const auto input = random_floats(image_size(window), 17);
            std::vector<float> expected(pooled_size(window));
            cpu().avg_pool2d_forward(input.data(), window, count_include_pad, expected.data());
            const DeviceBuffer<float> x(input);
            DeviceBuffer<float> out(pooled_size(window), 42.0f);
            device().avg_pool2d_forward(x.data(), window, count_include_pad, out.data());
            check_close(out.to_host(), expected, 0.0);  // same sums in the same order, same division

            const auto grad_output = random_floats(pooled_size(window), 18);
            std::vector<float> expected_grad(image_size(window));
            cpu().avg_pool2d_backward(grad_output.data(), window, count_include_pad, expected_grad.data());
            const DeviceBuffer<float> grad(grad_output);
            DeviceBuffer<float> grad_input(image_size(window), 42.0f);
            device().avg_pool2d_backward(grad.data(), window, count_include_pad, grad_input.data());
            check_close(grad_input.to_host(), expected_grad, 0.0);
        }
    }
}

TEST_CASE("cross_entropy on the device: log-softmax, smoothing, ignore_index, backward", "[chapter04][kernels]") {
    const std::int64_t batch = 9, classes = 7;
    auto logits = random_floats(static_cast<std::size_t>(batch * classes), 19, -4.0f, 4.0f);
    for (std::int64_t c = 0; c < classes; ++c) logits[static_cast<std::size_t>(3 * classes + c)] += 1000.0f;  // needs the max shift
    logits[static_cast<std::size_t>(5 * classes + 2)] = logits[static_cast<std::size_t>(5 * classes + 4)];  // a tied maximum
    const auto grad_loss = random_floats(static_cast<std::size_t>(batch), 20, 0.1f, 1.5f);
    // ignore_index -100 (PyTorch's default) and a class index that is ignored
    for (const std::int64_t ignore_index : {std::int64_t{-100}, std::int64_t{3}}) {
        for (const float smoothing : {0.0f, 0.1f, 0.35f}) {
            INFO("ignore_index " << ignore_index << ", label_smoothing " << smoothing);
            const std::vector<std::int64_t> target{0, 6, ignore_index, 3, 1, 2, ignore_index, 5, 4};
            std::vector<float> log_probs(logits.size()), loss(static_cast<std::size_t>(batch)),
                valid(static_cast<std::size_t>(batch));
            cpu().cross_entropy_forward(logits.data(), target.data(), batch, classes, ignore_index, smoothing,
                                        log_probs.data(), loss.data(), valid.data());
            const DeviceBuffer<float> x(logits);
            const DeviceBuffer<std::int64_t> t(target);
            DeviceBuffer<float> d_log_probs(logits.size(), 42.0f), d_loss(loss.size(), 42.0f),
                d_valid(valid.size(), 42.0f);
            device().cross_entropy_forward(x.data(), t.data(), batch, classes, ignore_index, smoothing,
                                           d_log_probs.data(), d_loss.data(), d_valid.data());
            check_close(d_log_probs.to_host(), log_probs, 1e-6);
            check_close(d_loss.to_host(), loss, 1e-6);
            check_close(d_valid.to_host(), valid, 0.0);

            std::vector<float> grad_logits(logits.size());
            cpu().cross_entropy_backward(log_probs.data(), target.data(), grad_loss.data(), batch, classes,
                                         ignore_index, smoothing, grad_logits.data());
            const DeviceBuffer<float> g(grad_loss);
            DeviceBuffer<float> d_grad(logits.size(), 42.0f);
            device().cross_entropy_backward(d_log_probs.data(), t.data(), g.data(), batch, classes, ignore_index,
                                            smoothing, d_grad.data());
            check_close(d_grad.to_host(), grad_logits, 1e-6);
        }
    }
}

TEST_CASE("cross_entropy on the device reports a bad target at the next copy to the host", "[chapter04][kernels]") {
    const std::int64_t batch = 4, classes = 5;
    const auto logits = random_floats(static_cast<std::size_t>(batch * classes), 21);
    const DeviceBuffer<float> x(logits);
    for (const std::int64_t bad : {std::int64_t{5}, std::int64_t{-3}, std::int64_t{1} << 40}) {
        INFO("target " << bad);
        const std::vector<std::int64_t> target{1, bad, -100, 4};
        // the CPU throws at once ...
        std::vector<float> cpu_log_probs(logits.size()), cpu_loss(4), cpu_valid(4);
        CHECK_THROWS_AS(cpu().cross_entropy_forward(logits.data(), target.data(), batch, classes, -100, 0.0f,
                                                    cpu_log_probs.data(), cpu_loss.data(), cpu_valid.data()),
                        std::out_of_range);
        // ... the device records it and throws at the next synchronising copy
        const DeviceBuffer<std::int64_t> t(target);
        DeviceBuffer<float> log_probs(logits.size()), loss(4), valid(4);
        REQUIRE_NOTHROW(device().cross_entropy_forward(x.data(), t.data(), batch, classes, -100, 0.1f,
                                                       log_probs.data(), loss.data(), valid.data()));
        try {
            (void)loss.to_host();
            FAIL("no error reported for target " << bad);
        } catch (const std::out_of_range& error) {
            CHECK_THAT(error.what(), Catch::Contains("target " + std::to_string(bad)) &&
                                         Catch::Contains("5 classes"));
        }
        // the slot was cleared: the next copy is fine, and the good rows were computed
        const auto valid_rows = valid.to_host();
        CHECK(valid_rows[0] == 1.0f);
        CHECK(valid_rows[1] == 0.0f);
        CHECK(valid_rows[2] == 0.0f);
        CHECK(valid_rows[3] == 1.0f);

        const DeviceBuffer<float> grad_loss(std::vector<float>(4, 1.0f));
        DeviceBuffer<float> grad(logits.size());
        device().cross_entropy_backward(log_probs.data(), t.data(), grad_loss.data(), batch, classes, -100, 0.0f,
                                        grad.data());
        CHECK_THROWS_AS(grad.to_host(), std::out_of_range);
        CHECK_NOTHROW(grad.to_host());
    }
}

namespace {

/// Three steps of `update` (first_step only on the first) on both backends, compared after each.
void check_sgd(SgdUpdate update) {
    const std::size_t count = 1037;
    auto param = random_floats(count, 22);
    std::vector<float> buffer(count, 0.0f);
    DeviceBuffer<float> d_param(param), d_buffer(buffer);
    for (int step = 0; step < 3; ++step) {
        INFO("step " << step);
        update.first_step = step == 0;
        const auto grad = random_floats(count, 23 + static_cast<std::uint64_t>(step));
        const DeviceBuffer<float> d_grad(grad);
        cpu().sgd_step(param.data(), grad.data(), update.momentum != 0.0f ? buffer.data() : nullptr,
                       static_cast<std::int64_t>(count), update);
        device().sgd_step(d_param.data(), d_grad.data(), update.momentum != 0.0f ? d_buffer.data() : nullptr,
                          static_cast<std::int64_t>(count), update);
        check_close(d_param.to_host(), param, 1e-6);
        check_close(d_buffer.to_host(), buffer, 1e-6);
    }
}

SgdUpdate sgd(float lr, float momentum, float dampening, float weight_decay, bool nesterov) {
    SgdUpdate update;
    update.lr = lr;
    update.momentum = momentum;
    update.dampening = dampening;
    update.weight_decay = weight_decay;
    update.nesterov = nesterov;
    return update;
}

}  // namespace

TEST_CASE("sgd_step on the device follows the CPU over three steps", "[chapter04][kernels]") {
    SECTION("plain") { check_sgd(sgd(0.1f, 0.0f, 0.0f, 0.0f, false)); }
    SECTION("plain with weight decay") { check_sgd(sgd(0.1f, 0.0f, 0.0f, 0.05f, false)); }
    SECTION("momentum") { check_sgd(sgd(0.05f, 0.9f, 0.0f, 0.0f, false)); }
    SECTION("momentum with dampening and weight decay") { check_sgd(sgd(0.05f, 0.8f, 0.3f, 0.01f, false)); }
    SECTION("nesterov") { check_sgd(sgd(0.05f, 0.9f, 0.0f, 0.0f, true)); }
    SECTION("nesterov with weight decay") { check_sgd(sgd(0.02f, 0.7f, 0.0f, 0.1f, true)); }
}

namespace {

/// Three Adam steps (step numbers 1, 2, 3) on both backends, compared after each.
void check_adam(const AdamUpdate& base) {
    const std::size_t count = 1031;
    auto param = random_floats(count, 30);
    std::vector<float> exp_avg(count, 0.0f), exp_avg_sq(count, 0.0f);
    DeviceBuffer<float> d_param(param), d_exp_avg(exp_avg), d_exp_avg_sq(exp_avg_sq);
    for (std::int64_t step = 1; step <= 3; ++step) {
        INFO("step " << step);
        AdamUpdate update = base;
        update.step = step;
        const auto grad = random_floats(count, 31 + static_cast<std::uint64_t>(step), -0.5f, 0.5f);
        const DeviceBuffer<float> d_grad(grad);
        cpu().adam_step(param.data(), grad.data(), exp_avg.data(), exp_avg_sq.data(), static_cast<std::int64_t>(count),
                        update);
        device().adam_step(d_param.data(), d_grad.data(), d_exp_avg.data(), d_exp_avg_sq.data(),
                           static_cast<std::int64_t>(count), update);
        check_close(d_param.to_host(), param, 1e-6);
        check_close(d_exp_avg.to_host(), exp_avg, 1e-6);
        check_close(d_exp_avg_sq.to_host(), exp_avg_sq, 1e-6);
    }
}

AdamUpdate adam(float lr, float weight_decay, bool decoupled) {
    AdamUpdate update;
    update.lr = lr;
    update.beta1 = 0.85f;
    update.beta2 = 0.99f;
    update.eps = 1e-6f;
    update.weight_decay = weight_decay;
    update.decoupled_weight_decay = decoupled;
    return update;
}

}  // namespace

TEST_CASE("adam_step on the device follows the CPU over three steps", "[chapter04][kernels]") {
    SECTION("Adam") { check_adam(adam(0.01f, 0.0f, false)); }
    SECTION("Adam with L2 weight decay") { check_adam(adam(0.01f, 0.1f, false)); }
    SECTION("AdamW") { check_adam(adam(0.01f, 0.1f, true)); }
    SECTION("defaults") { check_adam(AdamUpdate{}); }
}
