// The reference kernels: each formula from reference_kernels.hpp as directly as it can be
// written. No tricks, no precomputed ranges: every tap is bounds-checked where it is read.
#include <stepgrad/tensor/reference_kernels.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>

namespace stepgrad::reference {
namespace {

std::size_t to_size(std::int64_t n) { return static_cast<std::size_t>(n); }

/// Throws std::invalid_argument unless `size` is the `expected` element count.
void check_size(const char* what, std::size_t size, std::int64_t expected) {
    if (size != to_size(expected))
        throw std::invalid_argument(std::string("reference kernels: ") + what + " has " + std::to_string(size) +
                                    " elements, expected " + std::to_string(expected));
}

/// Throws std::out_of_range for a target that is neither a class nor ignore_index.
void check_target(std::int64_t target, std::int64_t classes, std::int64_t ignore_index) {
    if (target != ignore_index && (target < 0 || target >= classes))
        throw std::out_of_range("target " + std::to_string(target) + " is out of range for " +
                                std::to_string(classes) + " classes");
}

std::int64_t image_size(const Window2d& w) { return w.batch * w.channels * w.height * w.width; }
std::int64_t pooled_size(const Window2d& w) { return w.batch * w.channels * w.out_height() * w.out_width(); }

/// Index of image[n, c, h, w] in a contiguous (N, C, H, W) buffer.
std::size_t pixel(const Window2d& w, std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t x) {
    return to_size(((n * w.channels + c) * w.height + h) * w.width + x);
}

/// Index of out[n, c, oh, ow] in a contiguous (N, C, OH, OW) buffer.
std::size_t output(const Window2d& w, std::int64_t n, std::int64_t c, std::int64_t oh, std::int64_t ow) {
    return to_size(((n * w.channels + c) * w.out_height() + oh) * w.out_width() + ow);
}

/// Index of columns[n, (c, i, j), (oh, ow)] in a contiguous (N, C * kh * kw, OH * OW) buffer.
std::size_t column(const Window2d& w, std::int64_t n, std::int64_t c, std::int64_t i, std::int64_t j,
                   std::int64_t oh, std::int64_t ow) {
    const std::int64_t row = (c * w.kernel_h + i) * w.kernel_w + j;
    return to_size(((n * w.channels * w.kernel_h * w.kernel_w + row) * w.out_height() + oh) * w.out_width() + ow);
}

/// Does (h, x) lie inside the image (not in the padding)?
bool in_image(const Window2d& w, std::int64_t h, std::int64_t x) {
    return h >= 0 && h < w.height && x >= 0 && x < w.width;
}

/// The pooling divisor of window (oh, ow): its taps inside the padded image, or inside the image.
std::int64_t pool_divisor(const Window2d& w, std::int64_t oh, std::int64_t ow, bool count_include_pad) {
    std::int64_t count = 0;
    for (std::int64_t i = 0; i < w.kernel_h; ++i) {
        for (std::int64_t j = 0; j < w.kernel_w; ++j) {
            const std::int64_t h = oh * w.stride_h - w.pad_h + i * w.dilation_h;
            const std::int64_t x = ow * w.stride_w - w.pad_w + j * w.dilation_w;
            const bool counted = count_include_pad ? (h < w.height + w.pad_h && x < w.width + w.pad_w)
                                                   : in_image(w, h, x);
            if (counted) ++count;
        }
    }
    return count;
}

}  // namespace

std::vector<float> im2col(const std::vector<float>& image, const Window2d& w) {
    check_size("im2col image", image.size(), image_size(w));
    std::vector<float> columns(to_size(w.batch * w.channels * w.kernel_h * w.kernel_w * w.out_height() * w.out_width()));
    for (std::int64_t n = 0; n < w.batch; ++n)
        for (std::int64_t c = 0; c < w.channels; ++c)
            for (std::int64_t i = 0; i < w.kernel_h; ++i)
                for (std::int64_t j = 0; j < w.kernel_w; ++j)
                    for (std::int64_t oh = 0; oh < w.out_height(); ++oh)
                        for (std::int64_t ow = 0; ow < w.out_width(); ++ow) {
                            const std::int64_t h = oh * w.stride_h - w.pad_h + i * w.dilation_h;
                            const std::int64_t x = ow * w.stride_w - w.pad_w + j * w.dilation_w;
                            columns[column(w, n, c, i, j, oh, ow)] = in_image(w, h, x) ? image[pixel(w, n, c, h, x)] : 0.0f;
                        }
    return columns;
}

std::vector<float> col2im(const std::vector<float>& columns, const Window2d& w) {
    check_size("col2im columns", columns.size(),
               w.batch * w.channels * w.kernel_h * w.kernel_w * w.out_height() * w.out_width());
    std::vector<float> image(to_size(image_size(w)), 0.0f);
    for (std::int64_t n = 0; n < w.batch; ++n)
        for (std::int64_t c = 0; c < w.channels; ++c)
            for (std::int64_t i = 0; i < w.kernel_h; ++i)
                for (std::int64_t j = 0; j < w.kernel_w; ++j)
                    for (std::int64_t oh = 0; oh < w.out_height(); ++oh)
                        for (std::int64_t ow = 0; ow < w.out_width(); ++ow) {
                            const std::int64_t h = oh * w.stride_h - w.pad_h + i * w.dilation_h;
                            const std::int64_t x = ow * w.stride_w - w.pad_w + j * w.dilation_w;
                            if (in_image(w, h, x)) image[pixel(w, n, c, h, x)] += columns[column(w, n, c, i, j, oh, ow)];
                        }
    return image;
}

MaxPoolResult max_pool2d_forward(const std::vector<float>& input, const Window2d& w) {
    check_size("max_pool2d input", input.size(), image_size(w));
    MaxPoolResult result{std::vector<float>(to_size(pooled_size(w))), std::vector<std::int64_t>(to_size(pooled_size(w)))};
    for (std::int64_t n = 0; n < w.batch; ++n)
        for (std::int64_t c = 0; c < w.channels; ++c)
            for (std::int64_t oh = 0; oh < w.out_height(); ++oh)
                for (std::int64_t ow = 0; ow < w.out_width(); ++ow) {
                    float best = -std::numeric_limits<float>::infinity();
                    std::int64_t best_index = -1;
                    for (std::int64_t i = 0; i < w.kernel_h; ++i)
                        for (std::int64_t j = 0; j < w.kernel_w; ++j) {
                            const std::int64_t h = oh * w.stride_h - w.pad_h + i * w.dilation_h;
                            const std::int64_t x = ow * w.stride_w - w.pad_w + j * w.dilation_w;
                            if (!in_image(w, h, x)) continue;
                            const float value = input[pixel(w, n, c, h, x)];
                            if (best_index == -1 || value > best || std::isnan(value)) {
                                best = value;
                                best_index = h * w.width + x;
                            }
                        }
                    result.out[output(w, n, c, oh, ow)] = best;
                    result.argmax[output(w, n, c, oh, ow)] = best_index;
                }
    return result;
}

std::vector<float> max_pool2d_backward(const std::vector<float>& grad_output,
                                       const std::vector<std::int64_t>& argmax, const Window2d& w) {
    check_size("max_pool2d grad_output", grad_output.size(), pooled_size(w));
    check_size("max_pool2d argmax", argmax.size(), pooled_size(w));
    std::vector<float> grad_input(to_size(image_size(w)), 0.0f);
    for (std::int64_t n = 0; n < w.batch; ++n)
        for (std::int64_t c = 0; c < w.channels; ++c)
            for (std::int64_t oh = 0; oh < w.out_height(); ++oh)
                for (std::int64_t ow = 0; ow < w.out_width(); ++ow) {
                    const std::int64_t index = argmax[output(w, n, c, oh, ow)];
                    if (index < 0) continue;
                    grad_input[pixel(w, n, c, index / w.width, index % w.width)] += grad_output[output(w, n, c, oh, ow)];
                }
    return grad_input;
}

std::vector<float> avg_pool2d_forward(const std::vector<float>& input, const Window2d& w, bool count_include_pad) {
    check_size("avg_pool2d input", input.size(), image_size(w));
    std::vector<float> out(to_size(pooled_size(w)));
    for (std::int64_t n = 0; n < w.batch; ++n)
        for (std::int64_t c = 0; c < w.channels; ++c)
            for (std::int64_t oh = 0; oh < w.out_height(); ++oh)
                for (std::int64_t ow = 0; ow < w.out_width(); ++ow) {
                    double sum = 0.0;
                    for (std::int64_t i = 0; i < w.kernel_h; ++i)
                        for (std::int64_t j = 0; j < w.kernel_w; ++j) {
                            const std::int64_t h = oh * w.stride_h - w.pad_h + i * w.dilation_h;
                            const std::int64_t x = ow * w.stride_w - w.pad_w + j * w.dilation_w;
                            if (in_image(w, h, x)) sum += input[pixel(w, n, c, h, x)];
                        }
                    out[output(w, n, c, oh, ow)] =
                        static_cast<float>(sum / static_cast<double>(pool_divisor(w, oh, ow, count_include_pad)));
                }
    return out;
}

std::vector<float> avg_pool2d_backward(const std::vector<float>& grad_output, const Window2d& w,
                                       bool count_include_pad) {
    check_size("avg_pool2d grad_output", grad_output.size(), pooled_size(w));
    std::vector<float> grad_input(to_size(image_size(w)), 0.0f);
    for (std::int64_t n = 0; n < w.batch; ++n)
        for (std::int64_t c = 0; c < w.channels; ++c)
            for (std::int64_t oh = 0; oh < w.out_height(); ++oh)
                for (std::int64_t ow = 0; ow < w.out_width(); ++ow) {
                    const double divisor = static_cast<double>(pool_divisor(w, oh, ow, count_include_pad));
                    const double share = grad_output[output(w, n, c, oh, ow)] / divisor;
                    for (std::int64_t i = 0; i < w.kernel_h; ++i)
                        for (std::int64_t j = 0; j < w.kernel_w; ++j) {
                            const std::int64_t h = oh * w.stride_h - w.pad_h + i * w.dilation_h;
                            const std::int64_t x = ow * w.stride_w - w.pad_w + j * w.dilation_w;
                            if (in_image(w, h, x)) grad_input[pixel(w, n, c, h, x)] += static_cast<float>(share);
                        }
                }
    return grad_input;
}

// log_softmax(x)_c = x_c - log Σ_k exp(x_k); with m = max_k x_k subtracted from every x first
// (which changes nothing mathematically), no exp can overflow even in double.
CrossEntropyResult cross_entropy_forward(const std::vector<float>& logits, const std::vector<std::int64_t>& target,
                                         std::int64_t classes, std::int64_t ignore_index, float label_smoothing) {
    const auto batch = static_cast<std::int64_t>(target.size());
    check_size("cross_entropy logits", logits.size(), batch * classes);
    for (const std::int64_t t : target) check_target(t, classes, ignore_index);
    CrossEntropyResult result{std::vector<double>(logits.size()), std::vector<double>(target.size(), 0.0),
                              std::vector<float>(target.size(), 0.0f)};
    const double smoothing = label_smoothing;
    for (std::int64_t row = 0; row < batch; ++row) {
        double largest = -std::numeric_limits<double>::infinity();
        for (std::int64_t c = 0; c < classes; ++c) largest = std::max(largest, double{logits[to_size(row * classes + c)]});
        double sum_exp = 0.0;
        for (std::int64_t c = 0; c < classes; ++c) sum_exp += std::exp(logits[to_size(row * classes + c)] - largest);
        for (std::int64_t c = 0; c < classes; ++c)
            result.log_probs[to_size(row * classes + c)] = logits[to_size(row * classes + c)] - largest - std::log(sum_exp);

        const std::int64_t t = target[to_size(row)];
        if (t == ignore_index) continue;  // loss 0, valid 0
        double loss = (1.0 - smoothing) * -result.log_probs[to_size(row * classes + t)];
        for (std::int64_t c = 0; c < classes; ++c)
            loss += smoothing / static_cast<double>(classes) * -result.log_probs[to_size(row * classes + c)];
        result.loss[to_size(row)] = loss;
        result.valid[to_size(row)] = 1.0f;
    }
    return result;
}

std::vector<float> cross_entropy_backward(const std::vector<float>& log_probs, const std::vector<std::int64_t>& target,
                                          const std::vector<float>& grad_loss, std::int64_t classes,
                                          std::int64_t ignore_index, float label_smoothing) {
    const auto batch = static_cast<std::int64_t>(target.size());
    check_size("cross_entropy log_probs", log_probs.size(), batch * classes);
    check_size("cross_entropy grad_loss", grad_loss.size(), batch);
    for (const std::int64_t t : target) check_target(t, classes, ignore_index);
    const double smoothing = label_smoothing;
    std::vector<float> grad_logits(log_probs.size(), 0.0f);
    for (std::int64_t row = 0; row < batch; ++row) {
        const std::int64_t t = target[to_size(row)];
        if (t == ignore_index) continue;
        for (std::int64_t c = 0; c < classes; ++c) {
            const double softmax = std::exp(double{log_probs[to_size(row * classes + c)]});
            const double q = (c == t ? 1.0 - smoothing : 0.0) + smoothing / static_cast<double>(classes);
            grad_logits[to_size(row * classes + c)] = static_cast<float>(grad_loss[to_size(row)] * (softmax - q));
        }
    }
    return grad_logits;
}

void sgd_step(std::vector<float>& param, const std::vector<float>& grad, std::vector<float>& momentum_buffer,
              const SgdUpdate& u) {
    check_size("sgd grad", grad.size(), static_cast<std::int64_t>(param.size()));
    if (u.momentum != 0.0f) check_size("sgd momentum_buffer", momentum_buffer.size(), static_cast<std::int64_t>(param.size()));
    for (std::size_t k = 0; k < param.size(); ++k) {
        float g = grad[k] + u.weight_decay * param[k];
        if (u.momentum != 0.0f) {
            momentum_buffer[k] = u.first_step ? g : u.momentum * momentum_buffer[k] + (1.0f - u.dampening) * g;
            g = u.nesterov ? g + u.momentum * momentum_buffer[k] : momentum_buffer[k];
        }
        param[k] -= u.lr * g;
    }
}

void adam_step(std::vector<float>& param, const std::vector<float>& grad, std::vector<float>& exp_avg,
               std::vector<float>& exp_avg_sq, const AdamUpdate& u) {
    check_size("adam grad", grad.size(), static_cast<std::int64_t>(param.size()));
    check_size("adam exp_avg", exp_avg.size(), static_cast<std::int64_t>(param.size()));
    check_size("adam exp_avg_sq", exp_avg_sq.size(), static_cast<std::int64_t>(param.size()));
    const double step = static_cast<double>(u.step);
    for (std::size_t k = 0; k < param.size(); ++k) {
        float g = grad[k];
        if (u.decoupled_weight_decay) {
            param[k] *= 1.0f - u.lr * u.weight_decay;
        } else {
            g += u.weight_decay * param[k];
        }
        exp_avg[k] = u.beta1 * exp_avg[k] + (1.0f - u.beta1) * g;
        exp_avg_sq[k] = u.beta2 * exp_avg_sq[k] + (1.0f - u.beta2) * g * g;
        const double bias_correction1 = 1.0 - std::pow(double{u.beta1}, step);
        const double bias_correction2 = 1.0 - std::pow(double{u.beta2}, step);
        const double denominator = std::sqrt(double{exp_avg_sq[k]}) / std::sqrt(bias_correction2) + u.eps;
        param[k] = static_cast<float>(param[k] - u.lr / bias_correction1 * exp_avg[k] / denominator);
    }
}

std::vector<float> transpose(const std::vector<float>& x, std::int64_t batch, std::int64_t rows, std::int64_t cols) {
    check_size("transpose x", x.size(), batch * rows * cols);
    std::vector<float> out(x.size());
    for (std::int64_t b = 0; b < batch; ++b)
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t c = 0; c < cols; ++c)
                out[to_size((b * cols + c) * rows + r)] = x[to_size((b * rows + r) * cols + c)];
    return out;
}

void axpy(float alpha, const std::vector<float>& x, std::vector<float>& y) {
    check_size("axpy y", y.size(), static_cast<std::int64_t>(x.size()));
    for (std::size_t k = 0; k < x.size(); ++k) y[k] += alpha * x[k];
}

}  // namespace stepgrad::reference
