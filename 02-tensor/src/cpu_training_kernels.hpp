#pragma once
// The CPU's fused training kernels: plain pointers in, plain pointers out (no Tensor, no
// xtensor). CpuBackend forwards to these; each has a plain reference in reference_kernels.hpp
// that a test ties it to. All buffers are contiguous row-major.

#include <stepgrad/tensor/optimizer_kernels.hpp>
#include <stepgrad/tensor/window.hpp>

#include <cstdint>

namespace stepgrad::cpu {

// ---- convolution as a matrix product ----------------------------------------------------

// image is (N, C, H, W); columns is (N, C * kh * kw, OH * OW): row (c, i, j) of image n holds,
// for every output position, the input pixel under tap (i, j) of channel c (0 in the padding).
void im2col(const float* image, const Window2d& window, float* columns);

// The adjoint of im2col: image (N, C, H, W) is overwritten with the sum, over every column
// entry, of that entry added back at the pixel it was read from (overlapping patches add up;
// padding positions are dropped).
void col2im(const float* columns, const Window2d& window, float* image);

// ---- pooling --------------------------------------------------------------------------------

// out (N, C, OH, OW) = the largest input in each window (padding counts as -inf; NaN wins);
// argmax (same shape) = the position of that input inside its (H, W) plane, h * W + w.
void max_pool2d_forward(const float* input, const Window2d& window, float* out, std::int64_t* argmax);

// grad_input (N, C, H, W) is overwritten: zeros, plus each grad_output element added at its argmax.
void max_pool2d_backward(const float* grad_output, const std::int64_t* argmax, const Window2d& window,
                         float* grad_input);

// out = the mean of each window; the divisor is kh * kw when count_include_pad, else the number
// of taps inside the image (padding included in the window as zeros either way; with ceil_mode
// a window clipped by the right/bottom edge divides by its clipped size, as PyTorch does).
void avg_pool2d_forward(const float* input, const Window2d& window, bool count_include_pad, float* out);

// grad_input is overwritten: each grad_output element divided by its window's divisor and
// added to every tap of that window that lies inside the image.
void avg_pool2d_backward(const float* grad_output, const Window2d& window, bool count_include_pad,
                         float* grad_input);

// ---- cross-entropy: log-softmax + negative log-likelihood, fused -------------------------------

// logits (batch, classes), target (batch) class indices. Writes log_probs (batch, classes) =
// log_softmax(logits) along classes (max-shifted, stable); loss (batch) per row =
// (1 - smoothing) * -log_probs[target] + smoothing / classes * sum_c -log_probs[c];
// valid (batch) = 1, or 0 (and loss 0) where target == ignore_index.
// A target outside [0, classes) that is not ignore_index throws std::out_of_range
// "target 12 is out of range for 10 classes".
void cross_entropy_forward(const float* logits, const std::int64_t* target, std::int64_t batch,
                           std::int64_t classes, std::int64_t ignore_index, float label_smoothing,
                           float* log_probs, float* loss, float* valid);

// grad_logits (batch, classes) = grad_loss[row] * (softmax - q), q the smoothed one-hot
// (1 - smoothing at the target, plus smoothing / classes everywhere); rows with an ignored
// target get 0. grad_loss is the gradient of each row's loss (batch).
void cross_entropy_backward(const float* log_probs, const std::int64_t* target, const float* grad_loss,
                            std::int64_t batch, std::int64_t classes, std::int64_t ignore_index,
                            float label_smoothing, float* grad_logits);

// ---- optimizer updates, in place --------------------------------------------------------------

// One SGD step over `count` elements (see SgdUpdate); momentum_buffer may be null when momentum == 0.
void sgd_step(float* param, const float* grad, float* momentum_buffer, std::int64_t count,
              const SgdUpdate& update);

// One Adam/AdamW step over `count` elements (see AdamUpdate).
void adam_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, std::int64_t count,
               const AdamUpdate& update);

// ---- data movement -------------------------------------------------------------------------

// out[b] = transpose(x[b]) for b < batch: x[b] is (rows, cols), out[b] is (cols, rows).
// Cache-blocked (tiles), so both reads and writes stay mostly sequential.
void transpose(const float* x, std::int64_t batch, std::int64_t rows, std::int64_t cols, float* out);

// y += alpha * x over `count` elements, without allocating.
void axpy(std::int64_t count, float alpha, const float* x, float* y);

}  // namespace stepgrad::cpu
