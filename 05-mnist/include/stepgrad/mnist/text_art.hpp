#pragma once
/// @file text_art.hpp
/// @brief Pictures made of Unicode blocks for a terminal: an MNIST digit as shaded text, and a
/// probability as a bar (for `stepgrad-mnist predict`'s top-3 listing).

#include <stepgrad/tensor.hpp>

#include <string>

namespace stepgrad::mnist {

/// @brief An image as H lines of shaded blocks, each pixel drawn twice across so that it looks
/// square: intensity 0 is a space, then "░", "▒", "▓", and 1 is "█" (5 levels, the nearest one).
///
/// `image` is a Float32 tensor of shape (H, W) or (1, H, W) with values in [0, 1] (values
/// outside are clamped, NaN reads as 0). The result is UTF-8 text of H lines, each 2 * W columns
/// and ending in a newline. Throws std::invalid_argument naming the shape and dtype for any other
/// rank or dtype. Example: the 1x3 image [0, 0.5, 1] gives two spaces, `▒▒`, `██` and a newline.
std::string image_as_text(const Tensor& image);

/// @brief A bar of exactly `width` columns filled to `probability` (clamped to [0, 1]), with
/// eighth blocks for the part of a cell, e.g. `probability_bar(0.54, 10)` is `█████▍` and four
/// spaces. Throws std::invalid_argument for a negative width.
std::string probability_bar(double probability, int width);

}  // namespace stepgrad::mnist
