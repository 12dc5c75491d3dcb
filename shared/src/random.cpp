#include "stepgrad/shared/random.hpp"

#include <cmath>
#include <bit>
#include <numbers>
#include <sstream>
#include <stdexcept>

#include "stepgrad/shared/error.hpp"

namespace stepgrad {

double Generator::uniform() {
    // The top 53 bits, scaled by 2^-53: every double in [0, 1) on that grid, equally likely.
    return static_cast<double>(engine_() >> 11) * 0x1.0p-53;
}

double Generator::normal(double mean, double stddev) {
    // Box–Muller turns two uniforms into two independent standard normals; keep the second.
    if (has_spare_normal_) {
        has_spare_normal_ = false;
        return mean + stddev * spare_normal_;
    }
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();  // log(0) is -inf
    const double u2 = uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 2.0 * std::numbers::pi * u2;
    spare_normal_ = radius * std::sin(angle);
    has_spare_normal_ = true;
    return mean + stddev * radius * std::cos(angle);
}

std::uint64_t Generator::below(std::uint64_t n) {
    STEPGRAD_CHECK(n > 0, "Generator::below: n must be positive");
    // Rejection sampling avoids the bias of a plain modulo.
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t r = engine_();
    while (r >= limit) r = engine_();
    return r % n;
}

std::string Generator::state() const {
    // The engine writes its words as decimal text; the spare normal goes as its exact bits.
    std::ostringstream text;
    text << engine_ << ' ' << (has_spare_normal_ ? 1 : 0) << ' ' << std::bit_cast<std::uint64_t>(spare_normal_);
    return text.str();
}

void Generator::set_state(const std::string& state) {
    std::istringstream text(state);
    std::mt19937_64 engine;
    int has_spare = 0;
    std::uint64_t spare_bits = 0;
    text >> engine >> has_spare >> spare_bits;
    if (text.fail() || (has_spare != 0 && has_spare != 1) || !(text >> std::ws).eof()) {
        throw std::invalid_argument("Generator::set_state: not a state written by Generator::state()");
    }
    engine_ = engine;
    has_spare_normal_ = has_spare == 1;
    spare_normal_ = std::bit_cast<double>(spare_bits);
}

}  // namespace stepgrad
