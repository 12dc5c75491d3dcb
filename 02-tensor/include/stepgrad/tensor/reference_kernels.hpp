#pragma once
/// @file reference_kernels.hpp
/// @brief Plain, obviously-correct versions of the backend's fused training kernels
/// (`stepgrad::cpu` in 02-tensor/src/cpu_training_kernels.hpp, and the CUDA kernels later).
///
/// Each function is the textbook formula written as nested loops over `std::vector`, with an
/// explicit bounds check for every tap: slow, but easy to check by eye. Tests run a fast kernel
/// and its reference on the same input and compare. All buffers are contiguous row-major; the
/// sizes of the inputs must match the shapes given (std::invalid_argument otherwise).

#include <stepgrad/tensor/optimizer_kernels.hpp>
#include <stepgrad/tensor/window.hpp>

#include <cstdint>
#include <vector>

namespace stepgrad::reference {

// ---- convolution as a matrix product ----------------------------------------------------

/// @brief Unfolds every window of `image` into a column.
/// `image`: (N, C, H, W), as described by `window`.
/// returns columns (N, C * kh * kw, OH * OW): entry ((n, c, i, j), (oh, ow)) is the pixel
/// `image[n, c, oh * stride_h - pad_h + i * dilation_h, ow * stride_w - pad_w + j * dilation_w]`,
/// or 0 where that position is padding.
/// Example: a 3x3 window with padding 1 over one 28x28 image gives a 9 x 784 matrix.
std::vector<float> im2col(const std::vector<float>& image, const Window2d& window);

/// @brief The adjoint of im2col: every column entry added back at the pixel it was read from.
/// `columns`: (N, C * kh * kw, OH * OW).
/// returns image (N, C, H, W); overlapping windows add up, entries read from padding are dropped.
std::vector<float> col2im(const std::vector<float>& columns, const Window2d& window);

// ---- pooling --------------------------------------------------------------------------------

/// @brief The output of max pooling and where each maximum came from.
struct MaxPoolResult {
    std::vector<float> out;            ///< (N, C, OH, OW): the largest input of each window
    std::vector<std::int64_t> argmax;  ///< (N, C, OH, OW): its position h * W + w in its plane
};

/// @brief Max pooling, as PyTorch's CPU kernel: taps are visited row by row; a tap replaces
/// the current maximum when it is strictly greater (so the first of equal maxima wins) or NaN
/// (so a NaN in the window wins). Padding is never selected (it counts as -inf).
/// A window with no tap inside the image gives -inf and argmax -1.
/// `input`: (N, C, H, W).
MaxPoolResult max_pool2d_forward(const std::vector<float>& input, const Window2d& window);

/// @brief The gradient of max pooling: zeros, plus each grad_output element added at its argmax.
/// `grad_output`: (N, C, OH, OW); `argmax`: (N, C, OH, OW), from max_pool2d_forward
/// (entries < 0 are skipped).
/// returns grad_input (N, C, H, W).
std::vector<float> max_pool2d_backward(const std::vector<float>& grad_output,
                                       const std::vector<std::int64_t>& argmax, const Window2d& window);

/// @brief Average pooling: the sum of each window's taps inside the image, divided by the
/// number of taps inside the padded image (`count_include_pad`, kh * kw unless ceil_mode
/// clipped the window) or inside the image (otherwise).
/// `input`: (N, C, H, W). returns out (N, C, OH, OW).
std::vector<float> avg_pool2d_forward(const std::vector<float>& input, const Window2d& window,
                                      bool count_include_pad);

/// @brief The gradient of average pooling: each grad_output element divided by its window's
/// divisor and added to every tap of that window inside the image.
/// `grad_output`: (N, C, OH, OW). returns grad_input (N, C, H, W).
std::vector<float> avg_pool2d_backward(const std::vector<float>& grad_output, const Window2d& window,
                                       bool count_include_pad);

// ---- cross-entropy --------------------------------------------------------------------------

/// @brief The forward of cross-entropy, computed in double.
struct CrossEntropyResult {
    std::vector<double> log_probs;  ///< (batch, classes): log_softmax of the logits along classes
    std::vector<double> loss;       ///< (batch): each row's loss, 0 where the target is ignored
    std::vector<float> valid;       ///< (batch): 1, or 0 where the target is ignore_index
};

/// @brief log_softmax followed by the (label-smoothed) negative log-likelihood, per row:
/// `loss = (1 - smoothing) * -log_probs[target] + smoothing / classes * sum_c -log_probs[c]`.
/// `logits`: (batch, classes); `target`: (batch) class indices, batch = target.size().
/// @throws std::out_of_range "target 12 is out of range for 10 classes" for a target outside
/// [0, classes) that is not ignore_index.
CrossEntropyResult cross_entropy_forward(const std::vector<float>& logits, const std::vector<std::int64_t>& target,
                                         std::int64_t classes, std::int64_t ignore_index, float label_smoothing);

/// @brief The gradient of cross-entropy: grad_loss[row] * (softmax - q), q the smoothed one-hot
/// (1 - smoothing at the target, plus smoothing / classes everywhere); 0 for ignored rows.
/// `log_probs`: (batch, classes), the forward's log_softmax (softmax = exp(log_probs)).
/// `target`: (batch); `grad_loss`: (batch) the gradient of each row's loss.
/// returns grad_logits (batch, classes).
/// @throws std::out_of_range as cross_entropy_forward.
std::vector<float> cross_entropy_backward(const std::vector<float>& log_probs,
                                          const std::vector<std::int64_t>& target,
                                          const std::vector<float>& grad_loss, std::int64_t classes,
                                          std::int64_t ignore_index, float label_smoothing);

// ---- optimizer updates, in place --------------------------------------------------------------

/// @brief One SGD step on every element, exactly the formula documented on SgdUpdate.
/// `momentum_buffer` (same size as param) is read and written only when momentum != 0.
void sgd_step(std::vector<float>& param, const std::vector<float>& grad, std::vector<float>& momentum_buffer,
              const SgdUpdate& update);

/// @brief One Adam or AdamW step on every element, exactly the formula documented on AdamUpdate.
/// `exp_avg` (m) and `exp_avg_sq` (v) have param's size and are updated.
void adam_step(std::vector<float>& param, const std::vector<float>& grad, std::vector<float>& exp_avg,
               std::vector<float>& exp_avg_sq, const AdamUpdate& update);

// ---- data movement -------------------------------------------------------------------------

/// @brief Transposes each matrix of a batch.
/// `x`: (batch, rows, cols). returns (batch, cols, rows).
std::vector<float> transpose(const std::vector<float>& x, std::int64_t batch, std::int64_t rows,
                             std::int64_t cols);

/// @brief y += alpha * x, element by element (x and y of the same size).
void axpy(float alpha, const std::vector<float>& x, std::vector<float>& y);

}  // namespace stepgrad::reference
