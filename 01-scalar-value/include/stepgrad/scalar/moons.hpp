#pragma once
/// @file moons.hpp
/// @brief The two-moons data set and the max-margin loss of chapter 1's demo.

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "stepgrad/scalar/nn.hpp"
#include "stepgrad/scalar/value.hpp"

namespace stepgrad::scalar {

/// @brief Points in the plane, each labelled -1 or +1.
struct Moons {
    std::vector<std::array<double, 2>> points;  ///< (x, y) of each point
    std::vector<double> labels;                 ///< -1 for the upper moon, +1 for the lower one
};

/// @brief Two interleaving half circles with Gaussian noise (as scikit-learn's make_moons):
/// the upper moon is (cos t, sin t), the lower (1 - cos t, 0.5 - sin t), t in [0, pi].
///
/// @param count number of points (the upper moon gets count/2 of them)
/// @param noise standard deviation of the noise added to each coordinate
/// @param seed the same seed gives the same points, shuffled the same way
Moons make_moons(std::size_t count = 100, double noise = 0.1, std::uint64_t seed = 1);

/// @brief A loss and the accuracy it was computed with.
struct LossAndAccuracy {
    Value loss;       ///< differentiable: call loss.backward()
    double accuracy;  ///< fraction of points whose score has the sign of their label
};

/// @brief The moons demo's objective over the whole set: the SVM max-margin loss
/// mean(relu(1 - y_i * score_i)) plus `alpha` times the sum of the squared parameters.
LossAndAccuracy moons_loss(const MLP& model, const Moons& data, double alpha = 1e-4);

}  // namespace stepgrad::scalar
