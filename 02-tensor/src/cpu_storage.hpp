#pragma once
// CPU storage: an xt::xarray<float> in the tensor's shape. Private to the library.

#include <stepgrad/tensor/backend.hpp>

#include <xtensor/xarray.hpp>

namespace stepgrad {

/// @brief The CPU's Storage: the data is an `xt::xarray<float>` shaped like its tensor.
class CpuStorage final : public Storage {
public:
    /// @brief Takes over `data`.
    explicit CpuStorage(xt::xarray<float> data) : array(std::move(data)) {}
    /// @brief Device::CPU.
    [[nodiscard]] Device device() const override { return Device::CPU; }
    /// @brief The array's first element.
    [[nodiscard]] float* data() override { return array.data(); }
    /// @brief The array's size.
    [[nodiscard]] std::size_t size() const override { return array.size(); }

    xt::xarray<float> array;  ///< the data
};

}  // namespace stepgrad
