#pragma once
// Helpers for chapter 4's kernel tests: host vectors in and out of Device::CUDA memory, and the
// two backends side by side, so each test runs one kernel on the CPU backend and on the device
// backend with the same inputs and compares.
#include <stepgrad/tensor/backend.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

namespace stepgrad::gpu_test {

/// Device::CUDA memory holding a copy of a host vector (or `count` uninitialised elements).
template <class T>
class DeviceBuffer {
public:
    explicit DeviceBuffer(const std::vector<T>& host)
        : storage_(get_backend(Device::CUDA).allocate(host.size() * sizeof(T))), count_(host.size()) {
        get_backend(Device::CUDA).copy_from_host(host.data(), storage_->data(), host.size() * sizeof(T));
    }
    explicit DeviceBuffer(std::size_t count, T fill_value = T{}) : DeviceBuffer(std::vector<T>(count, fill_value)) {}
    T* data() { return static_cast<T*>(storage_->data()); }
    [[nodiscard]] const T* data() const { return static_cast<const T*>(storage_->data()); }
    /// Copies the contents back (a synchronising read; throws any error a kernel recorded).
    [[nodiscard]] std::vector<T> to_host() const {
        std::vector<T> host(count_);
        get_backend(Device::CUDA).copy_to_host(storage_->data(), host.data(), count_ * sizeof(T));
        return host;
    }

private:
    std::shared_ptr<Storage> storage_;
    std::size_t count_;
};

/// The CPU backend and the device backend (the host build or a real GPU, registered as CUDA).
inline Backend& cpu() { return get_backend(Device::CPU); }
inline Backend& device() { return get_backend(Device::CUDA); }

/// Checks two float vectors element by element: |a - b| <= tolerance * max(1, |b|), NaN only
/// where the other has NaN too. Names the first differing position.
inline void check_close(const std::vector<float>& actual, const std::vector<float>& expected,
                        double tolerance = 1e-5) {
    REQUIRE(actual.size() == expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i) {
        const double a = actual[i], e = expected[i];
        if (std::isnan(e) || std::isnan(a)) {
            INFO("element " << i << ": device " << a << ", cpu " << e);
            REQUIRE(std::isnan(a) == std::isnan(e));
            continue;
        }
        if (std::isinf(e) || std::isinf(a)) {
            INFO("element " << i << ": device " << a << ", cpu " << e);
            REQUIRE(a == e);
            continue;
        }
        const double limit = tolerance * std::max(1.0, std::abs(e));
        if (std::abs(a - e) > limit) {
            INFO("element " << i << " of " << actual.size() << ": device " << a << ", cpu " << e);
            REQUIRE(std::abs(a - e) <= limit);
        }
    }
}

/// Seeded random floats in [low, high).
inline std::vector<float> random_floats(std::size_t count, std::uint64_t seed, float low = -2.0f,
                                        float high = 2.0f) {
    std::vector<float> values(count);
    std::uint64_t state = seed * 6364136223846793005ull + 1442695040888963407ull;
    for (float& value : values) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        const double unit = static_cast<double>(state >> 11) / static_cast<double>(1ull << 53);
        value = low + static_cast<float>(unit) * (high - low);
    }
    return values;
}

/// A quiet NaN, for the NaN rules of the kernels.
inline const float kNaN = std::numeric_limits<float>::quiet_NaN();

// Seeded random integers in [low, high) (small ranges give ties; every bit of a large range varies).
inline std::vector<std::int64_t> random_ints(std::size_t count, std::uint64_t seed, std::int64_t low, std::int64_t high) {
    std::vector<std::int64_t> values(count);
    std::uint64_t state = seed * 6364136223846793005ull + 1442695040888963407ull;
    const auto range = static_cast<std::uint64_t>(high - low);
    for (std::int64_t& value : values) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        value = low + static_cast<std::int64_t>((state >> 7) % range);
    }
    return values;
}

}  // namespace stepgrad::gpu_test
