// Text pictures: an image's pixels as five shades of block, a probability as an eighth-block
// bar (the progress bar's, from stepgrad/shared/progress.hpp).
#include <stepgrad/mnist/text_art.hpp>
#include <stepgrad/shared/error.hpp>
#include <stepgrad/shared/progress.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>
#include <vector>

namespace stepgrad::mnist {
namespace {

// From blank to full: the nearest of 5 levels of intensity.
constexpr std::array<std::string_view, 5> kShades = {" ", "░", "▒", "▓", "█"};

std::string_view shade_of(float intensity) {
    const double clamped = std::isnan(intensity) ? 0.0 : std::clamp(static_cast<double>(intensity), 0.0, 1.0);
    const auto level = static_cast<std::size_t>(std::lround(clamped * (kShades.size() - 1)));
    return kShades[level];
}

}  // namespace

std::string image_as_text(const Tensor& image) {
    STEPGRAD_CHECK(image.defined(), "image_as_text: the image tensor is undefined (no data)");
    const Shape& shape = image.shape();
    const bool image_shape = shape.size() == 2 || (shape.size() == 3 && shape[0] == 1);
    STEPGRAD_CHECK(image.dtype() == Dtype::Float32 && image_shape,
                   "image_as_text: expected a Float32 image of shape [H, W] or [1, H, W], got shape "
                       << shape_to_string(shape) << " of dtype " << image.dtype());
    const std::int64_t height = shape[shape.size() - 2];
    const std::int64_t width = shape[shape.size() - 1];
    const std::vector<float> pixels = image.to_vector<float>();
    std::string art;
    for (std::int64_t row = 0; row < height; ++row) {
        for (std::int64_t column = 0; column < width; ++column) {
            const std::string_view shade = shade_of(pixels[static_cast<std::size_t>(row * width + column)]);
            art += shade;
            art += shade;
        }
        art += '\n';
    }
    return art;
}

std::string probability_bar(double probability, int width) {
    STEPGRAD_CHECK(width >= 0, "probability_bar: the width must be >= 0, got " << width);
    return eighth_block_bar(probability, width);
}

}  // namespace stepgrad::mnist
