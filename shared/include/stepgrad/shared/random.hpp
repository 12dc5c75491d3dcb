#pragma once
/// @file random.hpp
/// @brief A small seeded random generator whose streams are the same on every platform.
///
/// The standard distributions (`std::normal_distribution`, ...) may differ between library
/// implementations, so stepgrad draws its numbers itself from a 64-bit Mersenne Twister:
/// a seed gives the same weights and the same data everywhere.

#include <cstdint>
#include <random>
#include <string>

namespace stepgrad {

/// @brief Seeded source of uniform and normal numbers (one stream per object, not thread-safe).
///
/// A Generator is a plain value with no locks: one thread at a time may draw from it or seed
/// it (two threads drawing at once is a data race, and their streams would interleave anyway).
/// Give each thread its own, or guard a shared one with a mutex. stepgrad's default generator
/// (`stepgrad::default_generator()`, `manual_seed`) is one per thread for this reason; a
/// DataLoader owns its own.
///
/// Example:
/// @code
/// stepgrad::Generator gen(42);
/// double w = gen.uniform(-1.0, 1.0);
/// double noise = gen.normal(0.0, 0.1);
/// @endcode
class Generator {
public:
    /// @brief A generator whose stream is fully determined by `seed`.
    explicit Generator(std::uint64_t seed = 0) : engine_(seed) {}

    /// @brief Restarts the stream from `seed`.
    void seed(std::uint64_t seed) { engine_.seed(seed); has_spare_normal_ = false; }

    /// @brief 64 random bits.
    std::uint64_t next_u64() { return engine_(); }

    /// @brief A uniform double in [0, 1) with 53 random bits.
    double uniform();

    /// @brief A uniform double in [low, high).
    double uniform(double low, double high) { return low + (high - low) * uniform(); }

    /// @brief A normal double with the given mean and standard deviation (Box–Muller).
    double normal(double mean = 0.0, double stddev = 1.0);

    /// @brief A uniform integer in [0, n); `n` must be positive.
    std::uint64_t below(std::uint64_t n);

    /// @brief The whole state as text: the engine's 312 words and the kept Box–Muller normal.
    ///
    /// A checkpoint stores it so that training resumes with the very numbers it would have
    /// drawn (dropout masks, shuffles). Example: `std::string saved = gen.state();` ... later
    /// `gen.set_state(saved);` and the stream continues where `saved` was taken.
    [[nodiscard]] std::string state() const;

    /// @brief Restores a state from state(); throws std::invalid_argument when `state` is not one.
    void set_state(const std::string& state);

private:
    std::mt19937_64 engine_;
    bool has_spare_normal_ = false;
    double spare_normal_ = 0.0;
};

}  // namespace stepgrad
