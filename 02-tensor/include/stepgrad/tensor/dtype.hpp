#pragma once
/// @file dtype.hpp
/// @brief `Dtype`: what one element of a tensor is (float32 numbers or int64 indices).

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <type_traits>

namespace stepgrad {

/// @brief The element type of a tensor, as `torch::kFloat32` and `torch::kInt64`.
///
/// Float32 tensors hold the numbers a model computes with and are the only ones that can
/// require gradients. Int64 tensors hold indices and labels: `arange`, `randperm`, `argmax`,
/// the targets of a loss, the index of `index_select` and `gather`. Cast with `to(Dtype)`.
///
/// Example: `Tensor labels = tensor({3, 1, 4}, TensorOptions().dtype(Dtype::Int64));`
enum class Dtype {
    Float32,  ///< 32-bit IEEE float (PyTorch's default dtype)
    Int64,    ///< 64-bit signed integer (PyTorch's default integer dtype)
};

/// @brief Bytes per element: 4 for Float32, 8 for Int64.
std::size_t element_size(Dtype dtype);

/// @brief The dtype as PyTorch prints it: "torch.float32" or "torch.int64".
std::string to_string(Dtype dtype);

/// @brief Writes `to_string(dtype)`.
std::ostream& operator<<(std::ostream& out, Dtype dtype);

/// @brief The Dtype of a C++ element type: `dtype_of<float>() == Dtype::Float32`.
template <class T>
constexpr Dtype dtype_of() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, std::int64_t>,
                  "stepgrad tensors hold float (Float32) or std::int64_t (Int64) elements");
    return std::is_same_v<T, float> ? Dtype::Float32 : Dtype::Int64;
}

}  // namespace stepgrad
