#pragma once
/// @file tensor.hpp
/// @brief `Tensor`: float32 data with a shape, a device, and the autograd node that made it.

#include <stepgrad/tensor/backend.hpp>
#include <stepgrad/tensor/device.hpp>

#include <xtensor/xarray.hpp>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stepgrad {

struct Node;
class Tensor;

/// @brief The shared state behind a Tensor handle. Users go through Tensor.
struct TensorImpl {
    Shape shape;                       ///< sizes, outermost first
    std::shared_ptr<Storage> storage;  ///< contiguous row-major data (shared by detach())
    std::shared_ptr<Node> node;        ///< grad_fn (non-leaf) or grad accumulator (leaf); may be null
    std::shared_ptr<TensorImpl> grad;  ///< accumulated gradient, null until backward reaches it
    bool requires_grad = false;        ///< whether operations on it are recorded
};

/// @brief A float32 n-dimensional array with reverse-mode automatic differentiation.
///
/// A Tensor is a handle: copies share data and gradient (like `torch::Tensor`). Every tensor
/// is contiguous and row-major; operations that reorder memory (transpose, permute, slicing)
/// copy. On the CPU the data is an `xt::xarray<float>`.
///
/// Example:
/// @code
/// stepgrad::Tensor w = stepgrad::tensor({{1, 2}, {3, 4}}).requires_grad_();
/// stepgrad::Tensor loss = (w * w).sum();
/// loss.backward();
/// // w.grad() is 2 * w: [[2, 4], [6, 8]]
/// @endcode
class Tensor {
public:
    /// @brief An undefined tensor (no data); `defined()` is false. Gradients start like this.
    Tensor() = default;

    /// @brief A CPU tensor that takes over `array` (moved in, no copy when passed an rvalue).
    explicit Tensor(xt::xarray<float> array, bool requires_grad = false);

    /// @brief A CPU tensor evaluated from any xtensor expression (views, transposes, sums).
    ///
    /// Example: `Tensor t(xt::transpose(a));` copies `a`'s transpose into row-major storage.
    template <class E>
    explicit Tensor(const xt::xexpression<E>& expression, bool requires_grad = false)
        : Tensor(xt::xarray<float>(expression.derived_cast()), requires_grad) {}

    /// @brief A tensor of `shape` on `device` with uninitialised data (fill it before use).
    static Tensor empty(const Shape& shape, Device device = Device::CPU);

    /// @brief Wraps existing shared state (used by operations and backends).
    explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

    // ---- what it is ----------------------------------------------------------------------

    /// @brief Whether this handle refers to data (false for `Tensor()` and unset gradients).
    [[nodiscard]] bool defined() const { return impl_ != nullptr; }
    /// @brief The sizes, e.g. `{64, 784}`.
    [[nodiscard]] const Shape& shape() const;
    /// @brief Same as shape(), LibTorch's name.
    [[nodiscard]] const Shape& sizes() const { return shape(); }
    /// @brief The size of one dimension (negative counts from the end).
    [[nodiscard]] std::int64_t size(std::int64_t axis) const;
    /// @brief Number of dimensions (0 for a scalar).
    [[nodiscard]] std::int64_t dim() const { return static_cast<std::int64_t>(shape().size()); }
    /// @brief Number of elements.
    [[nodiscard]] std::int64_t numel() const { return numel_of(shape()); }
    /// @brief The device the data lives on.
    [[nodiscard]] Device device() const;
    /// @brief Whether operations on this tensor are recorded for backward().
    [[nodiscard]] bool requires_grad() const;
    /// @brief True for tensors made by the user (not by a recorded operation).
    [[nodiscard]] bool is_leaf() const;
    /// @brief The accumulated gradient; undefined until backward() reaches this tensor.
    [[nodiscard]] Tensor grad() const;
    /// @brief Replaces the gradient (an undefined tensor clears it), e.g. to zero it.
    void set_grad(const Tensor& grad);
    /// @brief The node that produced this tensor (null for leaves), for inspecting the graph.
    [[nodiscard]] std::shared_ptr<Node> grad_fn() const;
    /// @brief The shared state (for operation implementers).
    [[nodiscard]] const std::shared_ptr<TensorImpl>& impl() const { return impl_; }

    // ---- data ----------------------------------------------------------------------------

    /// @brief The CPU data as an xtensor array (throws for other devices: call cpu() first).
    [[nodiscard]] const xt::xarray<float>& data() const;
    /// @brief Raw pointer to the contiguous data on its device.
    [[nodiscard]] float* data_ptr() const;
    /// @brief The only element of a one-element tensor as a float (copies from the device).
    [[nodiscard]] float item() const;
    /// @brief The elements in row-major order, copied to a host vector.
    [[nodiscard]] std::vector<float> to_vector() const;
    /// @brief A copy of the data on the same device, without history.
    [[nodiscard]] Tensor clone() const;
    /// @brief This tensor on `device` (itself when already there). Differentiable.
    [[nodiscard]] Tensor to(Device device) const;
    /// @brief Same as `to(Device::CPU)`.
    [[nodiscard]] Tensor cpu() const { return to(Device::CPU); }
    /// @brief Same as `to(Device::CUDA)`.
    [[nodiscard]] Tensor cuda() const { return to(Device::CUDA); }

    // ---- autograd ------------------------------------------------------------------------

    /// @brief Starts or stops recording operations on this leaf; returns *this for chaining.
    Tensor& requires_grad_(bool requires_grad = true);
    /// @brief Keeps this non-leaf tensor's gradient in grad() after backward().
    Tensor& retain_grad();
    /// @brief A tensor sharing this data, cut from the graph (requires_grad false).
    [[nodiscard]] Tensor detach() const;
    /// @brief Back-propagates from this one-element tensor (the implicit gradient 1).
    ///
    /// Throws std::runtime_error when this tensor does not require grad or has more than
    /// one element. Gradients add up over calls; zero them between steps.
    void backward() const;
    /// @brief Back-propagates `gradient` (same shape as this tensor) through the graph.
    void backward(const Tensor& gradient) const;

    // ---- in-place updates (outside autograd: for optimizers, under NoGradGuard) -----------

    /// @brief `this += alpha * other` in place (other broadcast to this shape).
    Tensor& add_(const Tensor& other, double alpha = 1.0);
    /// @brief `this -= other` in place.
    Tensor& sub_(const Tensor& other) { return add_(other, -1.0); }
    /// @brief `this *= other` in place (other broadcast to this shape).
    Tensor& mul_(const Tensor& other);
    /// @brief `this *= value` in place.
    Tensor& mul_(double value);
    /// @brief Sets every element to `value`.
    Tensor& fill_(double value);
    /// @brief Sets every element to 0.
    Tensor& zero_() { return fill_(0.0); }
    /// @brief Copies `source` (broadcast to this shape, any device) into this tensor.
    Tensor& copy_(const Tensor& source);

    // ---- operations as methods (the free functions are documented in their headers) ------

    /// @brief `stepgrad::sum` over `axes` (all when empty).
    [[nodiscard]] Tensor sum(const std::vector<std::int64_t>& axes = {}, bool keepdim = false) const;
    /// @brief `stepgrad::mean` over `axes` (all when empty).
    [[nodiscard]] Tensor mean(const std::vector<std::int64_t>& axes = {}, bool keepdim = false) const;
    /// @brief `stepgrad::max` (largest values) over `axes` (all when empty).
    [[nodiscard]] Tensor max(const std::vector<std::int64_t>& axes = {}, bool keepdim = false) const;
    /// @brief `stepgrad::min` (smallest values) over `axes` (all when empty).
    [[nodiscard]] Tensor min(const std::vector<std::int64_t>& axes = {}, bool keepdim = false) const;
    /// @brief `stepgrad::var` over `axes` (all when empty), unbiased by default.
    [[nodiscard]] Tensor var(const std::vector<std::int64_t>& axes = {}, bool unbiased = true,
                             bool keepdim = false) const;
    /// @brief `stepgrad::argmax` along `axis` (over all elements when none).
    [[nodiscard]] Tensor argmax(std::optional<std::int64_t> axis = std::nullopt, bool keepdim = false) const;
    /// @brief `stepgrad::argmin` along `axis` (over all elements when none).
    [[nodiscard]] Tensor argmin(std::optional<std::int64_t> axis = std::nullopt, bool keepdim = false) const;

    /// @brief `stepgrad::neg`.
    [[nodiscard]] Tensor neg() const;
    /// @brief `stepgrad::exp`.
    [[nodiscard]] Tensor exp() const;
    /// @brief `stepgrad::log`.
    [[nodiscard]] Tensor log() const;
    /// @brief `stepgrad::sqrt`.
    [[nodiscard]] Tensor sqrt() const;
    /// @brief `stepgrad::abs`.
    [[nodiscard]] Tensor abs() const;
    /// @brief `stepgrad::relu`.
    [[nodiscard]] Tensor relu() const;
    /// @brief `stepgrad::sigmoid`.
    [[nodiscard]] Tensor sigmoid() const;
    /// @brief `stepgrad::tanh`.
    [[nodiscard]] Tensor tanh() const;
    /// @brief `stepgrad::pow` with a scalar exponent.
    [[nodiscard]] Tensor pow(double exponent) const;
    /// @brief `stepgrad::pow` with a tensor exponent.
    [[nodiscard]] Tensor pow(const Tensor& exponent) const;
    /// @brief `stepgrad::clamp`.
    [[nodiscard]] Tensor clamp(std::optional<double> min, std::optional<double> max) const;
    /// @brief `stepgrad::matmul`.
    [[nodiscard]] Tensor matmul(const Tensor& other) const;

    /// @brief `stepgrad::reshape` (one size may be -1).
    [[nodiscard]] Tensor reshape(const Shape& shape) const;
    /// @brief `stepgrad::reshape`; every stepgrad tensor is contiguous, so view == reshape.
    [[nodiscard]] Tensor view(const Shape& shape) const { return reshape(shape); }
    /// @brief `stepgrad::flatten`.
    [[nodiscard]] Tensor flatten(std::int64_t start_axis = 0, std::int64_t end_axis = -1) const;
    /// @brief `stepgrad::transpose`.
    [[nodiscard]] Tensor transpose(std::int64_t axis0, std::int64_t axis1) const;
    /// @brief The transpose of a matrix (at most 2 dimensions), as `torch::Tensor::t()`.
    [[nodiscard]] Tensor t() const;
    /// @brief `stepgrad::permute`.
    [[nodiscard]] Tensor permute(const std::vector<std::int64_t>& order) const;
    /// @brief `stepgrad::unsqueeze`.
    [[nodiscard]] Tensor unsqueeze(std::int64_t axis) const;
    /// @brief `stepgrad::squeeze` of every size-1 axis, or of `axis` only.
    [[nodiscard]] Tensor squeeze(std::optional<std::int64_t> axis = std::nullopt) const;
    /// @brief `stepgrad::expand`.
    [[nodiscard]] Tensor expand(const Shape& shape) const;
    /// @brief `stepgrad::slice`.
    [[nodiscard]] Tensor slice(std::int64_t axis, std::optional<std::int64_t> start,
                               std::optional<std::int64_t> end, std::int64_t step = 1) const;
    /// @brief `stepgrad::select`.
    [[nodiscard]] Tensor select(std::int64_t axis, std::int64_t index) const;
    /// @brief `select(0, index)`, as `t[index]` in Python.
    [[nodiscard]] Tensor operator[](std::int64_t index) const { return select(0, index); }
    /// @brief `stepgrad::index_select`.
    [[nodiscard]] Tensor index_select(std::int64_t axis, const Tensor& index) const;
    /// @brief `stepgrad::index` (integer-array indexing of the first axis).
    [[nodiscard]] Tensor index(const Tensor& indices) const;
    /// @brief `stepgrad::gather`.
    [[nodiscard]] Tensor gather(std::int64_t axis, const Tensor& index) const;

    /// @brief `stepgrad::softmax` along `axis`.
    [[nodiscard]] Tensor softmax(std::int64_t axis) const;
    /// @brief `stepgrad::log_softmax` along `axis`.
    [[nodiscard]] Tensor log_softmax(std::int64_t axis) const;

    /// @brief PyTorch-style text, e.g. `tensor([1., 2.], requires_grad=True)`.
    [[nodiscard]] std::string to_string() const;

private:
    std::shared_ptr<TensorImpl> impl_;
};

namespace detail {
/// @brief Throws std::invalid_argument unless `t` is defined (names `op`).
void check_defined(const char* op, const Tensor& t);
/// @brief Throws std::invalid_argument naming `op` and both devices unless they match.
void check_same_device(const char* op, const Tensor& a, const Tensor& b);
}  // namespace detail

}  // namespace stepgrad
