#include "stepgrad/scalar/moons.hpp"

#include <cmath>
#include <numbers>
#include <utility>

#include "stepgrad/shared/error.hpp"
#include "stepgrad/shared/random.hpp"

namespace stepgrad::scalar {

Moons make_moons(std::size_t count, double noise, std::uint64_t seed) {
    STEPGRAD_CHECK(count >= 2, "make_moons: needs at least 2 points, got " << count);
    Generator gen(seed);
    Moons moons;
    const std::size_t upper = count / 2;
    const std::size_t lower = count - upper;
    auto add_moon = [&](std::size_t n, bool is_upper) {
        for (std::size_t i = 0; i < n; ++i) {
            const double t = n > 1 ? std::numbers::pi * static_cast<double>(i) / static_cast<double>(n - 1) : 0.0;
            const double x = is_upper ? std::cos(t) : 1.0 - std::cos(t);
            const double y = is_upper ? std::sin(t) : 0.5 - std::sin(t);
            moons.points.push_back({x + gen.normal(0.0, noise), y + gen.normal(0.0, noise)});
            moons.labels.push_back(is_upper ? -1.0 : 1.0);
        }
    };
    add_moon(upper, true);
    add_moon(lower, false);
    // Fisher–Yates shuffle, so the order does not give the labels away.
    for (std::size_t i = count - 1; i > 0; --i) {
        const std::size_t j = gen.below(i + 1);
        std::swap(moons.points[i], moons.points[j]);
        std::swap(moons.labels[i], moons.labels[j]);
    }
    return moons;
}

LossAndAccuracy moons_loss(const MLP& model, const Moons& data, double alpha) {
    const std::size_t n = data.points.size();
    STEPGRAD_CHECK(n > 0 && data.labels.size() == n,
                   "moons_loss: " << n << " points but " << data.labels.size() << " labels");
    //! [svm loss]
    Value data_loss = 0.0;
    std::size_t correct = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const auto& [x, y] = data.points[i];
        const double label = data.labels[i];
        Value score = model({Value(x), Value(y)})[0];
        data_loss += (1.0 - label * score).relu();  // hinge: 0 once the margin is >= 1
        if ((score.data() > 0.0) == (label > 0.0)) ++correct;
    }
    data_loss = data_loss * (1.0 / static_cast<double>(n));
    Value reg_loss = 0.0;
    for (const Value& p : model.parameters()) reg_loss += p * p;
    Value total = data_loss + alpha * reg_loss;
    //! [svm loss]
    return {total, static_cast<double>(correct) / static_cast<double>(n)};
}

}  // namespace stepgrad::scalar
