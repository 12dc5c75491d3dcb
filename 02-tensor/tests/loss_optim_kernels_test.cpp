// The CPU's cross-entropy, optimizer and data-movement kernels (cpu_training_kernels.hpp)
// against their plain references (reference_kernels.hpp), hand-computed values and finite
// differences.
#include "kernel_test_helpers.hpp"

using namespace kernel_test;

// ---- cross-entropy --------------------------------------------------------------------------

namespace {

constexpr std::int64_t ignore = -100;  // PyTorch's default ignore_index

struct CrossEntropyOutputs {
    std::vector<float> log_probs, loss, valid;
};

CrossEntropyOutputs run_cross_entropy(const std::vector<float>& logits, const std::vector<std::int64_t>& target,
                                      std::int64_t classes, std::int64_t ignore_index, float smoothing) {
    const auto batch = static_cast<std::int64_t>(target.size());
    CrossEntropyOutputs out{std::vector<float>(logits.size(), sentinel), std::vector<float>(target.size(), sentinel),
                            std::vector<float>(target.size(), sentinel)};
    cpu::cross_entropy_forward(logits.data(), target.data(), batch, classes, ignore_index, smoothing,
                               out.log_probs.data(), out.loss.data(), out.valid.data());
    return out;
}

}  // namespace

TEST_CASE("cross_entropy forward matches the reference, ignored rows and label smoothing included",
          "[chapter02][kernels]") {
    constexpr std::int64_t classes = 7;
    const std::vector<std::int64_t> target{3, ignore, 0, 6, ignore, 2};
    for (const float smoothing : {0.0f, 0.1f}) {
        for (const float scale : {1.0f, 300.0f}) {  // large logits: exp would overflow without the shift
            INFO("smoothing " << smoothing << ", logits scaled by " << scale);
            std::vector<float> logits = random_normal(target.size() * classes, 61);
            for (float& v : logits) v *= scale;
            const CrossEntropyOutputs fast = run_cross_entropy(logits, target, classes, ignore, smoothing);
            const reference::CrossEntropyResult expected =
                reference::cross_entropy_forward(logits, target, classes, ignore, smoothing);
            check_close(fast.log_probs, expected.log_probs);
            check_close(fast.loss, expected.loss);
            check_close(fast.valid, std::vector<float>{1, 0, 1, 1, 0, 1}, 0.0, 0.0);
            check_close(expected.valid, fast.valid, 0.0, 0.0);
            CHECK(fast.loss[1] == 0.0f);
            CHECK(fast.loss[4] == 0.0f);
        }
    }
}

TEST_CASE("cross_entropy of uniform logits is log(classes), with or without smoothing", "[chapter02][kernels]") {
    const std::vector<float> logits(2 * 5, 0.25f);
    const std::vector<std::int64_t> target{4, 0};
    for (const float smoothing : {0.0f, 0.1f}) {
        const CrossEntropyOutputs fast = run_cross_entropy(logits, target, 5, ignore, smoothing);
        check_close(fast.loss, std::vector<double>{std::log(5.0), std::log(5.0)});
    }
    // smoothing 0.1 over 3 classes, logits (0, 0, log 2): log_probs = (-log 4, -log 4, -log 2);
    // loss for target 2 = 0.9 log 2 + 0.1 / 3 (2 log 4 + log 2) = 0.9 log 2 + 0.1 / 3 * 5 log 2
    const std::vector<float> skewed{0.0f, 0.0f, static_cast<float>(std::log(2.0))};
    const CrossEntropyOutputs fast = run_cross_entropy(skewed, {2}, 3, ignore, 0.1f);
    check_close(fast.loss, std::vector<double>{0.9 * std::log(2.0) + 0.1 / 3.0 * 5.0 * std::log(2.0)});
}

TEST_CASE("cross_entropy backward matches the reference and finite differences", "[chapter02][kernels][ex-03.2]") {
    constexpr std::int64_t classes = 6;
    const std::vector<std::int64_t> target{5, ignore, 0, 2, 2};
    const auto batch = static_cast<std::int64_t>(target.size());
    // logits on a grid of 2^-12 (|x| < 4) and a step of 2^-10: x +- h is exact in float, so the
    // difference quotient of the double-precision reference loss sees exactly the step it divides by
    std::vector<float> logits = random_normal(target.size() * classes, 71);
    for (float& v : logits) v = std::round(v * 4096.0f) / 4096.0f;
    const std::vector<float> grad_loss = random_normal(target.size(), 72);
    const double step = 1.0 / 1024.0;

    for (const float smoothing : {0.0f, 0.1f}) {
        INFO("smoothing " << smoothing);
        const CrossEntropyOutputs forward = run_cross_entropy(logits, target, classes, ignore, smoothing);
        std::vector<float> grad_logits(logits.size(), sentinel);
        cpu::cross_entropy_backward(forward.log_probs.data(), target.data(), grad_loss.data(), batch, classes, ignore,
                                    smoothing, grad_logits.data());
        check_close(grad_logits,
                    reference::cross_entropy_backward(forward.log_probs, target, grad_loss, classes, ignore, smoothing));

        // L(x) = Σ_row grad_loss[row] * loss[row]; dL/dx_k ≈ (L(x + h e_k) - L(x - h e_k)) / 2h
        auto total = [&](const std::vector<float>& x) {
            const reference::CrossEntropyResult r = reference::cross_entropy_forward(x, target, classes, ignore, smoothing);
            double sum = 0.0;
            for (std::size_t row = 0; row < target.size(); ++row) sum += double{grad_loss[row]} * r.loss[row];
            return sum;
        };
        std::vector<double> numeric(logits.size());
        for (std::size_t k = 0; k < logits.size(); ++k) {
            std::vector<float> plus = logits, minus = logits;
            plus[k] += static_cast<float>(step);
            minus[k] -= static_cast<float>(step);
            REQUIRE(double{plus[k]} - double{minus[k]} == 2 * step);
            numeric[k] = (total(plus) - total(minus)) / (2 * step);
        }
        check_close(grad_logits, numeric, 1e-5, 1e-6);
    }
}

TEST_CASE("cross_entropy rejects targets out of range and honours any ignore_index", "[chapter02][kernels]") {
    const std::vector<float> logits = random_normal(2 * 10, 81);
    std::vector<float> log_probs(logits.size()), loss(2), valid(2), grad(logits.size());
    const std::vector<float> grad_loss{1.0f, 1.0f};
    for (const std::int64_t bad : {std::int64_t{12}, std::int64_t{10}, std::int64_t{-1}}) {
        INFO("target " << bad);
        const std::vector<std::int64_t> target{3, bad};
        const std::string message = "target " + std::to_string(bad) + " is out of range for 10 classes";
        CHECK_THROWS_AS(cpu::cross_entropy_forward(logits.data(), target.data(), 2, 10, ignore, 0.0f, log_probs.data(),
                                                   loss.data(), valid.data()),
                        std::out_of_range);
        CHECK_THROWS_WITH(cpu::cross_entropy_forward(logits.data(), target.data(), 2, 10, ignore, 0.0f,
                                                     log_probs.data(), loss.data(), valid.data()),
                          message);
        CHECK_THROWS_WITH(cpu::cross_entropy_backward(log_probs.data(), target.data(), grad_loss.data(), 2, 10, ignore,
                                                      0.0f, grad.data()),
                          message);
        CHECK_THROWS_AS(reference::cross_entropy_forward(logits, target, 10, ignore, 0.0f), std::out_of_range);
        CHECK_THROWS_WITH(reference::cross_entropy_forward(logits, target, 10, ignore, 0.0f), message);
        CHECK_THROWS_AS(reference::cross_entropy_backward(log_probs, target, grad_loss, 10, ignore, 0.0f),
                        std::out_of_range);
    }
    // ignore_index may itself be a class (or any number): those rows are skipped, not rejected
    const std::vector<std::int64_t> target{3, 12};
    const CrossEntropyOutputs fast = run_cross_entropy(logits, target, 10, 12, 0.1f);
    CHECK(fast.valid == std::vector<float>{1.0f, 0.0f});
    const std::vector<std::int64_t> class_ignored{3, 7};
    const CrossEntropyOutputs skipped = run_cross_entropy(logits, class_ignored, 10, 3, 0.1f);
    CHECK(skipped.valid == std::vector<float>{0.0f, 1.0f});
    CHECK(skipped.loss[0] == 0.0f);
    check_close(skipped.loss, reference::cross_entropy_forward(logits, class_ignored, 10, 3, 0.1f).loss);
}

// ---- optimizers -----------------------------------------------------------------------------

namespace {

/// torch.optim.SGD for one element over several steps, written out in double.
struct SgdByHand {
    double param, buffer = 0.0;
    void step(double grad, const stepgrad::SgdUpdate& u, bool first) {
        double g = grad + u.weight_decay * param;
        if (u.momentum != 0.0f) {
            buffer = first ? g : u.momentum * buffer + (1.0 - u.dampening) * g;
            g = u.nesterov ? g + u.momentum * buffer : buffer;
        }
        param -= u.lr * g;
    }
};

/// torch.optim.Adam / AdamW for one element, written out in double.
struct AdamByHand {
    double param, m = 0.0, v = 0.0;
    void step(double grad, const stepgrad::AdamUpdate& u) {
        const double t = static_cast<double>(u.step);
        double g = grad;
        if (u.decoupled_weight_decay) {
            param *= 1.0 - double{u.lr} * u.weight_decay;
        } else {
            g += u.weight_decay * param;
        }
        m = u.beta1 * m + (1.0 - u.beta1) * g;
        v = u.beta2 * v + (1.0 - u.beta2) * g * g;
        const double m_hat = m / (1.0 - std::pow(double{u.beta1}, t));
        const double v_hat = v / (1.0 - std::pow(double{u.beta2}, t));
        param -= u.lr * m_hat / (std::sqrt(v_hat) + u.eps);
    }
};

}  // namespace

TEST_CASE("SGD with momentum, dampening, Nesterov and weight decay: 3 steps", "[chapter02][kernels]") {
    constexpr std::size_t count = 37;  // not a multiple of any vector width
    for (const bool nesterov : {false, true}) {
        for (const float momentum : {0.9f, 0.0f}) {
            INFO("nesterov " << nesterov << ", momentum " << momentum);
            stepgrad::SgdUpdate update{0.1f, momentum, 0.1f, 0.01f, nesterov && momentum != 0.0f, true};
            std::vector<float> param = random_normal(count, 91), buffer(count, sentinel);
            std::vector<float> ref_param = param, ref_buffer = buffer;
            std::vector<SgdByHand> by_hand;
            for (const float p : param) by_hand.push_back({p});
            for (int step = 0; step < 3; ++step) {
                INFO("step " << step + 1);
                update.first_step = step == 0;
                const std::vector<float> grad = random_normal(count, 92 + static_cast<std::uint64_t>(step));
                cpu::sgd_step(param.data(), grad.data(), momentum != 0.0f ? buffer.data() : nullptr,
                              static_cast<std::int64_t>(count), update);
                reference::sgd_step(ref_param, grad, ref_buffer, update);
                for (std::size_t k = 0; k < count; ++k) by_hand[k].step(grad[k], update, step == 0);

                check_close(param, ref_param);
                std::vector<double> hand_param, hand_buffer;
                for (const SgdByHand& h : by_hand) {
                    hand_param.push_back(h.param);
                    hand_buffer.push_back(h.buffer);
                }
                check_close(param, hand_param);
                if (momentum != 0.0f) {
                    check_close(buffer, ref_buffer);
                    check_close(buffer, hand_buffer);
                } else {
                    check_close(buffer, std::vector<float>(count, sentinel), 0.0, 0.0);  // untouched
                }
            }
        }
    }
}

TEST_CASE("Adam and AdamW: 3 steps against the reference and the formula by hand", "[chapter02][kernels][ex-03.3]") {
    constexpr std::size_t count = 37;
    for (const bool decoupled : {false, true}) {
        for (const float gradient_scale : {1.0f, 1e-7f}) {  // tiny gradients: eps matters
            INFO((decoupled ? "AdamW" : "Adam") << ", gradients scaled by " << gradient_scale);
            stepgrad::AdamUpdate update{0.01f, 0.9f, 0.999f, 1e-8f, 0.05f, decoupled, 1};
            std::vector<float> param = random_normal(count, 101);
            std::vector<float> m(count, 0.0f), v(count, 0.0f);
            std::vector<float> ref_param = param, ref_m = m, ref_v = v;
            std::vector<AdamByHand> by_hand;
            for (const float p : param) by_hand.push_back({p});
            for (std::int64_t step = 1; step <= 3; ++step) {
                INFO("step " << step);
                update.step = step;
                std::vector<float> grad = random_normal(count, 102 + static_cast<std::uint64_t>(step));
                for (float& g : grad) g *= gradient_scale;
                cpu::adam_step(param.data(), grad.data(), m.data(), v.data(), static_cast<std::int64_t>(count), update);
                reference::adam_step(ref_param, grad, ref_m, ref_v, update);
                for (std::size_t k = 0; k < count; ++k) by_hand[k].step(grad[k], update);

                check_close(param, ref_param);
                check_close(m, ref_m);
                check_close(v, ref_v);
                std::vector<double> hand_param, hand_m, hand_v;
                for (const AdamByHand& h : by_hand) {
                    hand_param.push_back(h.param);
                    hand_m.push_back(h.m);
                    hand_v.push_back(h.v);
                }
                check_close(param, hand_param, 1e-5, 1e-7);
                check_close(m, hand_m, 1e-5, 0.0);
                check_close(v, hand_v, 1e-5, 0.0);
            }
        }
    }
}

// ---- data movement --------------------------------------------------------------------------

TEST_CASE("transpose matches the reference on ragged tile sizes", "[chapter02][kernels]") {
    struct Case {
        std::int64_t batch, rows, cols;
    };
    for (const Case c : {Case{1, 1, 1}, Case{1, 33, 65}, Case{2, 70, 3}, Case{3, 32, 64}, Case{1, 1, 97}}) {
        INFO(c.batch << " x " << c.rows << " x " << c.cols);
        const std::vector<float> x = random_normal(size_of(c.batch * c.rows * c.cols), 111);
        std::vector<float> out(x.size(), sentinel);
        cpu::transpose(x.data(), c.batch, c.rows, c.cols, out.data());
        const std::vector<float> expected = reference::transpose(x, c.batch, c.rows, c.cols);
        check_close(out, expected, 0.0, 0.0);
        // out[b, j, i] == x[b, i, j], spot-checked by hand at the last element of the last matrix
        CHECK(out.back() == x.back());
        if (c.rows > 1 && c.cols > 1) CHECK(out[size_of(c.rows)] == x[1]);  // out[0, 1, 0] == x[0, 0, 1]
    }
}

TEST_CASE("axpy adds alpha x to y", "[chapter02][kernels]") {
    const std::vector<float> x = random_normal(37, 121);
    const std::vector<float> y0 = random_normal(37, 122);
    std::vector<float> y = y0, ref_y = y0;
    cpu::axpy(static_cast<std::int64_t>(x.size()), -0.75f, x.data(), y.data());
    reference::axpy(-0.75f, x, ref_y);
    check_close(y, ref_y, 0.0, 0.0);
    std::vector<double> by_hand;
    for (std::size_t k = 0; k < x.size(); ++k) by_hand.push_back(double{y0[k]} - 0.75 * x[k]);
    check_close(y, by_hand);
}
