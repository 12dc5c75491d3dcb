#pragma once
/// @file tensor.hpp
/// @brief `Tensor`: data with a shape, a dtype, a device, and the autograd node that made it.

#include <stepgrad/tensor/backend.hpp>
#include <stepgrad/tensor/device.hpp>
#include <stepgrad/tensor/dtype.hpp>

#include <xtensor/xadapt.hpp>
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
    std::shared_ptr<Storage> storage;  ///< the buffer (shared by views and detach())
    std::int64_t offset = 0;           ///< where this tensor's first element is, in elements
    Shape shape;                       ///< sizes, outermost first (strides are row-major)
    Dtype dtype = Dtype::Float32;      ///< element type
    std::shared_ptr<Node> node;        ///< grad_fn (non-leaf) or grad accumulator (leaf); may be null
    std::shared_ptr<TensorImpl> grad;  ///< accumulated gradient, null until backward reaches it
    bool requires_grad = false;        ///< whether operations on it are recorded
};

/// @brief A writable xtensor view of a CPU tensor's elements (no copy), as `Tensor::data()` gives it.
template <class T>
using ArrayView = xt::xarray_adaptor<xt::xbuffer_adaptor<T*, xt::no_ownership>, xt::layout_type::row_major,
                                     std::vector<std::size_t>>;

/// @brief An n-dimensional array of Float32 numbers or Int64 indices, with reverse-mode
/// automatic differentiation.
///
/// A Tensor is a handle: copies share data and gradient (like `torch::Tensor`). A tensor is a
/// window (offset, shape) on a Storage; every tensor is contiguous and row-major, so
/// `reshape`, `view`, `flatten`, `squeeze`, `unsqueeze`, `detach()` and slices that stay
/// contiguous share the storage, while transpose, permute and other slices copy. On the CPU,
/// `data()` shows the elements as an xtensor array without copying.
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

    /// @brief A Float32 CPU tensor with a copy of `array`'s elements.
    explicit Tensor(const xt::xarray<float>& array, bool requires_grad = false);

    /// @brief An Int64 CPU tensor with a copy of `array`'s elements.
    explicit Tensor(const xt::xarray<std::int64_t>& array);

    /// @brief A CPU tensor evaluated from any xtensor expression (views, transposes, sums).
    /// Floating-point expressions give Float32, integer ones Int64.
    ///
    /// Example: `Tensor t(xt::transpose(a));` copies `a`'s transpose into row-major storage.
    template <class E>
    explicit Tensor(const xt::xexpression<E>& expression, bool requires_grad = false)
        : Tensor(evaluate(expression, requires_grad)) {}

    /// @brief A tensor of `shape` on `device` with uninitialised data (fill it before use).
    ///
    /// Throws std::invalid_argument for a negative size or an element count that overflows.
    static Tensor empty(const Shape& shape, Device device = Device::CPU, Dtype dtype = Dtype::Float32);

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
    /// @brief The element type.
    [[nodiscard]] Dtype dtype() const;
    /// @brief Same as dtype(), LibTorch's name.
    [[nodiscard]] Dtype scalar_type() const { return dtype(); }
    /// @brief Whether the elements are Float32 (the only dtype that can require grad).
    [[nodiscard]] bool is_floating_point() const { return dtype() == Dtype::Float32; }
    /// @brief How many in-place updates this tensor's storage has seen (PyTorch's `_version`).
    [[nodiscard]] std::uint64_t version() const;
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

    /// @brief The CPU elements as a writable xtensor view of the storage (no copy).
    ///
    /// `T` must match dtype() (`float` for Float32, `std::int64_t` for Int64). Throws for other
    /// devices: call cpu() first. Writing through the view bypasses the version counter; to
    /// change a tensor that autograd may have saved, use the in-place operations.
    /// Example: `double total = xt::sum(t.data())();`
    template <class T = float>
    [[nodiscard]] ArrayView<T> data() const {
        check_host_view(dtype_of<T>());
        std::vector<std::size_t> sizes(shape().begin(), shape().end());
        return xt::adapt(data_ptr<T>(), static_cast<std::size_t>(numel()), xt::no_ownership(), std::move(sizes));
    }
    /// @brief Raw pointer to the first element on its device (LibTorch's untyped `data_ptr()`).
    [[nodiscard]] void* data_ptr() const;
    /// @brief Typed pointer to the first element; throws unless `T` matches dtype().
    template <class T>
    [[nodiscard]] T* data_ptr() const {
        check_dtype("data_ptr", dtype_of<T>());
        return static_cast<T*>(data_ptr());
    }
    /// @brief The only element of a one-element tensor as a float (copies from the device).
    [[nodiscard]] float item() const { return item<float>(); }
    /// @brief The only element converted to `T` (`float`, `double`, `std::int64_t`, `int`...).
    template <class T>
    [[nodiscard]] T item() const {
        if constexpr (std::is_integral_v<T>) {
            return static_cast<T>(item_int64());  // exact for Int64 elements
        } else {
            return static_cast<T>(host_values("item", 1)[0]);
        }
    }
    /// @brief The elements in row-major order, copied to a host vector of floats.
    [[nodiscard]] std::vector<float> to_vector() const;
    /// @brief The elements in row-major order, copied to the host and converted to `T`.
    ///
    /// Int64 elements come back exactly as `std::vector<std::int64_t>`.
    template <class T>
    [[nodiscard]] std::vector<T> to_vector() const;
    /// @brief A copy of the data (its own storage) on the same device, without history.
    [[nodiscard]] Tensor clone() const;
    /// @brief This tensor on `device` (itself when already there). Differentiable.
    ///
    /// The bytes go straight from one device's memory to the other's (no host staging).
    [[nodiscard]] Tensor to(Device device) const;
    /// @brief This tensor converted to `dtype` (itself when it already is). Not differentiable:
    /// Int64 never requires grad. Float32 to Int64 truncates toward zero.
    [[nodiscard]] Tensor to(Dtype dtype) const;
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
    // Each bumps the storage's version. On a tensor that requires grad they are refused
    // while recording is on (wrap them in a NoGradGuard, as an optimizer step does).

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
    /// @brief `stepgrad::reshape`; every stepgrad tensor is contiguous, so view == reshape (no copy).
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
    /// @brief `stepgrad::index` (integer-array indexing of the first axis with an Int64 tensor).
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
    template <class E>
    static Tensor evaluate(const xt::xexpression<E>& expression, bool requires_grad) {
        using Value = typename E::value_type;
        if constexpr (std::is_floating_point_v<Value>) {
            return Tensor(xt::xarray<float>(expression.derived_cast()), requires_grad);
        } else {
            return Tensor(xt::xarray<std::int64_t>(expression.derived_cast()));
        }
    }
    void check_dtype(const char* op, Dtype expected) const;
    void check_host_view(Dtype expected) const;
    // The elements (or the first `limit`) copied to the host as doubles (exact for int64 below 2^53).
    [[nodiscard]] std::vector<double> host_values(const char* op, std::int64_t limit = -1) const;
    // The only element as an int64 (exact for Int64, truncated toward zero for Float32).
    [[nodiscard]] std::int64_t item_int64() const;

    std::shared_ptr<TensorImpl> impl_;
};

/// @brief Copies the elements to the host: the one synchronising read of device memory.
template <class T>
std::vector<T> Tensor::to_vector() const {
    const std::vector<double> values = host_values("to_vector");
    return std::vector<T>(values.begin(), values.end());
}

/// @brief Float32 elements as they are (one copy).
template <>
std::vector<float> Tensor::to_vector<float>() const;

/// @brief Int64 elements exactly (not through double).
template <>
std::vector<std::int64_t> Tensor::to_vector<std::int64_t>() const;

namespace detail {
/// @brief Throws std::invalid_argument unless `t` is defined (names `op`).
void check_defined(const char* op, const Tensor& t);
/// @brief Throws std::invalid_argument naming `op` and both devices unless they match.
void check_same_device(const char* op, const Tensor& a, const Tensor& b);
/// @brief Throws std::invalid_argument naming `op` unless `t` is Float32 (for math that needs
/// real numbers: exp, log, division, matmul, gradients).
void check_float(const char* op, const Tensor& t);
/// @brief Throws std::invalid_argument naming `op` unless `index` is an Int64 tensor.
void check_index_dtype(const char* op, const Tensor& index);
/// @brief Records an in-place update of `t`'s storage (bumps its version).
void mark_modified(const Tensor& t);
/// @brief A tensor on `x`'s storage (no copy) with `shape` and `x`'s dtype, starting
/// `extra_offset` elements after `x`'s first element. Not recorded: callers record it.
Tensor view_of(const Tensor& x, const Shape& shape, std::int64_t extra_offset = 0);
/// @brief Points the leaf `t` at `data`'s storage, offset and shape (PyTorch's `set_data`), so
/// that every handle of `t` sees the new data: how `Module::to(device)` moves a parameter that
/// a layer also holds as a member. `t`'s gradient, if any, moves to `data`'s device. Throws
/// unless `t` is a leaf and both have the same dtype.
void set_data(const Tensor& t, const Tensor& data);
}  // namespace detail

}  // namespace stepgrad
