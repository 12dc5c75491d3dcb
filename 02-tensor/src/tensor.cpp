// Tensor: the handle, its storage and views, dtypes, devices, and in-place updates.
#include <stepgrad/shared/error.hpp>
#include <stepgrad/tensor/autograd.hpp>
#include <stepgrad/tensor/elementwise.hpp>
#include <stepgrad/tensor/tensor.hpp>

#include <limits>
#include <stdexcept>

namespace stepgrad {

namespace detail {

void check_defined(const char* op, const Tensor& t) {
    STEPGRAD_CHECK(t.defined(), op << ": the tensor is undefined (default-constructed or an unset grad)");
}

void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
    check_defined(op, a);
    check_defined(op, b);
    STEPGRAD_CHECK(a.device() == b.device(),
                   op << ": expected all tensors on the same device, but got " << to_string(a.device())
                      << " and " << to_string(b.device()) << "; move one with .to(...)");
}

void check_float(const char* op, const Tensor& t) {
    check_defined(op, t);
    STEPGRAD_CHECK(t.dtype() == Dtype::Float32, op << ": expected a Float32 tensor, got " << to_string(t.dtype())
                                                   << " (shape " << shape_to_string(t.shape())
                                                   << "); convert it with .to(Dtype::Float32)");
}

void check_index_dtype(const char* op, const Tensor& index) {
    check_defined(op, index);
    STEPGRAD_CHECK(index.dtype() == Dtype::Int64,
                   op << ": expected an Int64 index tensor, got " << to_string(index.dtype())
                      << "; make indices with arange, randperm or argmax, or convert with .to(Dtype::Int64)");
}

void mark_modified(const Tensor& t) { t.impl()->storage->bump_version(); }

void set_data(const Tensor& t, const Tensor& data) {
    check_defined("set_data", t);
    check_defined("set_data", data);
    STEPGRAD_CHECK(t.is_leaf(), "set_data: only a leaf tensor's data can be replaced");
    STEPGRAD_CHECK(t.dtype() == data.dtype(), "set_data: dtype " << to_string(data.dtype()) << " differs from "
                                                                << to_string(t.dtype()));
    TensorImpl& impl = *t.impl();
    impl.storage = data.impl()->storage;
    impl.offset = data.impl()->offset;
    impl.shape = data.shape();
    if (impl.node) {  // a leaf's gradient accumulator records where its gradient lives
        impl.node->shape = impl.shape;
        impl.node->device = data.device();
    }
    if (impl.grad) {
        const Tensor grad(impl.grad);
        impl.grad = grad.shape() == data.shape() ? grad.detach().to(data.device()).impl() : nullptr;
    }
}

}  // namespace detail

namespace {

std::shared_ptr<TensorImpl> make_impl(std::shared_ptr<Storage> storage, std::int64_t offset, Shape shape,
                                      Dtype dtype) {
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = std::move(storage);
    impl->offset = offset;
    impl->shape = std::move(shape);
    impl->dtype = dtype;
    return impl;
}

template <class T>
Tensor from_host_array(const xt::xarray<T>& array) {
    const Shape shape(array.shape().begin(), array.shape().end());
    Tensor t = Tensor::empty(shape, Device::CPU, dtype_of<T>());
    // xarray is row-major by default; copy element by element in that order either way.
    std::copy(array.begin(), array.end(), t.data_ptr<T>());
    return t;
}

}  // namespace

Tensor::Tensor(const xt::xarray<float>& array, bool requires_grad) : impl_(from_host_array(array).impl()) {
    if (requires_grad) requires_grad_(true);
}

Tensor::Tensor(const xt::xarray<std::int64_t>& array) : impl_(from_host_array(array).impl()) {}

Tensor Tensor::empty(const Shape& shape, Device device, Dtype dtype) {
    const std::int64_t count = numel_of(shape);  // throws for negative sizes and overflow
    const std::size_t size = element_size(dtype);
    STEPGRAD_CHECK(static_cast<std::uint64_t>(count) <= std::numeric_limits<std::int64_t>::max() / size,
                   "empty: shape " << shape_to_string(shape) << " needs more bytes than memory can address");
    auto storage = get_backend(device).allocate(static_cast<std::size_t>(count) * size);
    return Tensor(make_impl(std::move(storage), 0, shape, dtype));
}

const Shape& Tensor::shape() const {
    detail::check_defined("shape", *this);
    return impl_->shape;
}

std::int64_t Tensor::size(std::int64_t axis) const {
    return shape()[static_cast<std::size_t>(normalize_axis("size", axis, dim()))];
}

Device Tensor::device() const {
    detail::check_defined("device", *this);
    return impl_->storage->device();
}

Dtype Tensor::dtype() const {
    detail::check_defined("dtype", *this);
    return impl_->dtype;
}

std::uint64_t Tensor::version() const {
    detail::check_defined("version", *this);
    return impl_->storage->version();
}

bool Tensor::requires_grad() const { return impl_ != nullptr && impl_->requires_grad; }

bool Tensor::is_leaf() const { return impl_ == nullptr || impl_->node == nullptr || !impl_->node->backward; }

Tensor Tensor::grad() const {
    detail::check_defined("grad", *this);
    return impl_->grad ? Tensor(impl_->grad) : Tensor();
}

void Tensor::set_grad(const Tensor& grad) {
    detail::check_defined("set_grad", *this);
    if (grad.defined()) {
        STEPGRAD_CHECK(grad.shape() == shape(), "set_grad: gradient of shape " << shape_to_string(grad.shape())
                                                    << " for a tensor of shape " << shape_to_string(shape()));
        detail::check_same_device("set_grad", *this, grad);
        detail::check_float("set_grad", grad);
    }
    impl_->grad = grad.impl();
}

std::shared_ptr<Node> Tensor::grad_fn() const { return is_leaf() ? nullptr : impl_->node; }

void Tensor::check_dtype(const char* op, Dtype expected) const {
    detail::check_defined(op, *this);
    STEPGRAD_CHECK(dtype() == expected, op << ": the tensor is " << stepgrad::to_string(dtype()) << ", not "
                                           << stepgrad::to_string(expected));
}

void Tensor::check_host_view(Dtype expected) const {
    check_dtype("data", expected);
    STEPGRAD_CHECK(device() == Device::CPU, "data: the tensor is on " << stepgrad::to_string(device())
                                                << "; call .cpu() first to get an xtensor array");
}

void* Tensor::data_ptr() const {
    detail::check_defined("data_ptr", *this);
    auto* base = static_cast<char*>(impl_->storage->data());
    if (base == nullptr) return nullptr;  // an empty tensor
    return base + impl_->offset * static_cast<std::int64_t>(element_size(impl_->dtype));
}

std::vector<double> Tensor::host_values(const char* op, std::int64_t limit) const {
    detail::check_defined(op, *this);
    if (limit >= 0) {
        STEPGRAD_CHECK(numel() == limit, op << ": expected a tensor with " << limit << " element(s), got shape "
                                            << shape_to_string(shape()));
    }
    if (dtype() == Dtype::Int64) {
        const std::vector<std::int64_t> values = to_vector<std::int64_t>();
        return {values.begin(), values.end()};
    }
    const std::vector<float> values = to_vector<float>();
    return {values.begin(), values.end()};
}

std::int64_t Tensor::item_int64() const {
    if (dtype() == Dtype::Float32) return static_cast<std::int64_t>(host_values("item", 1)[0]);
    STEPGRAD_CHECK(numel() == 1, "item: expected a tensor with 1 element(s), got shape " << shape_to_string(shape()));
    return to_vector<std::int64_t>()[0];
}

template <>
std::vector<float> Tensor::to_vector<float>() const {
    if (dtype() != Dtype::Float32) {
        const std::vector<double> values = host_values("to_vector");
        return {values.begin(), values.end()};
    }
    std::vector<float> values(static_cast<std::size_t>(numel()));
    get_backend(device()).copy_to_host(data_ptr(), values.data(), values.size() * sizeof(float));
    return values;
}

template <>
std::vector<std::int64_t> Tensor::to_vector<std::int64_t>() const {
    if (dtype() != Dtype::Int64) {
        const std::vector<float> values = to_vector<float>();
        return {values.begin(), values.end()};
    }
    std::vector<std::int64_t> values(static_cast<std::size_t>(numel()));
    get_backend(device()).copy_to_host(data_ptr(), values.data(), values.size() * sizeof(std::int64_t));
    return values;
}

std::vector<float> Tensor::to_vector() const { return to_vector<float>(); }

Tensor Tensor::clone() const {
    Tensor copy = Tensor::empty(shape(), device(), dtype());
    const std::vector<std::int64_t> flat{1};
    get_backend(device()).copy_strided(dtype(), data_ptr(), flat, 0, copy.data_ptr(), flat, 0, {numel()}, false);
    return copy;
}

Tensor Tensor::to(Device target) const {
    detail::check_defined("to", *this);
    const Device source = device();
    if (source == target) return *this;
    Tensor out = Tensor::empty(shape(), target, dtype());
    const std::size_t bytes = static_cast<std::size_t>(numel()) * element_size(dtype());
    // One of the two sides is the host: the other device's backend does the transfer directly.
    if (source == Device::CPU) {
        get_backend(target).copy_from_host(data_ptr(), out.data_ptr(), bytes);
    } else {
        STEPGRAD_CHECK(target == Device::CPU, "to: copies between two non-CPU devices are not supported");
        get_backend(source).copy_to_host(data_ptr(), out.data_ptr(), bytes);
    }
    return record("to", out, {*this}, [source](const Tensor& grad_output) { return Grads{grad_output.to(source)}; });
}

Tensor Tensor::to(Dtype target) const {
    detail::check_defined("to", *this);
    if (dtype() == target) return *this;
    Tensor out = Tensor::empty(shape(), device(), target);
    get_backend(device()).cast(dtype(), data_ptr(), target, out.data_ptr(), static_cast<std::size_t>(numel()));
    return out;
}

Tensor& Tensor::requires_grad_(bool requires_grad) {
    detail::check_defined("requires_grad_", *this);
    if (!is_leaf()) {
        STEPGRAD_CHECK(requires_grad, "requires_grad_: cannot turn off requires_grad of a non-leaf tensor; "
                                      "use detach() instead");
        return *this;
    }
    STEPGRAD_CHECK(!requires_grad || dtype() == Dtype::Float32,
                   "requires_grad_: only Float32 tensors can require gradients, this one is "
                       << stepgrad::to_string(dtype()));
    impl_->requires_grad = requires_grad;
    if (requires_grad && impl_->node == nullptr) {
        // A leaf's node only accumulates the gradient into the tensor (PyTorch's AccumulateGrad).
        auto node = std::make_shared<Node>();
        node->grad_holder = impl_;
        node->shape = impl_->shape;
        node->device = device();
        impl_->node = std::move(node);
    } else if (!requires_grad) {
        impl_->node.reset();
    }
    return *this;
}

Tensor& Tensor::retain_grad() {
    detail::check_defined("retain_grad", *this);
    STEPGRAD_CHECK(requires_grad(), "retain_grad: the tensor does not require grad");
    impl_->node->grad_holder = impl_;
    return *this;
}

Tensor Tensor::detach() const {
    detail::check_defined("detach", *this);
    return Tensor(make_impl(impl_->storage, impl_->offset, impl_->shape, impl_->dtype));
}

namespace detail {

Tensor view_of(const Tensor& x, const Shape& shape, std::int64_t extra_offset) {
    const auto& impl = x.impl();
    return Tensor(make_impl(impl->storage, impl->offset + extra_offset, shape, impl->dtype));
}

}  // namespace detail

namespace {

void check_in_place(const char* op, const Tensor& t) {
    detail::check_defined(op, t);
    if (!GradMode::is_enabled() || !t.requires_grad()) return;
    STEPGRAD_CHECK(!t.is_leaf(), op << ": a leaf tensor that requires grad is being used in an in-place operation; "
                                       "wrap the update in a NoGradGuard (as an optimizer step does), or update "
                                       "t.detach() if autograd should not see it");
    STEPGRAD_CHECK(false, op << ": in-place operations on a tensor that is part of a recorded graph are not "
                                "supported; write the out-of-place form (y = y + x)");
}

// Writes op(self, other) into self's storage, other broadcast to self's shape.
void binary_in_place(const char* op, BinaryOp kind, Tensor& self, const Tensor& other) {
    detail::check_same_device(op, self, other);
    STEPGRAD_CHECK(self.dtype() == other.dtype(), op << ": cannot update a " << to_string(self.dtype())
                                                     << " tensor with a " << to_string(other.dtype()) << " one");
    STEPGRAD_CHECK(broadcast_shapes(op, self.shape(), other.shape()) == self.shape(),
                   op << ": cannot broadcast shape " << shape_to_string(other.shape()) << " to "
                      << shape_to_string(self.shape()) << " in place");
    get_backend(self.device()).binary(kind, self.dtype(), self.data_ptr(), self.shape(), other.data_ptr(),
                                      other.shape(), self.data_ptr(), self.shape());
    detail::mark_modified(self);
}

}  // namespace

Tensor& Tensor::add_(const Tensor& other, double alpha) {
    check_in_place("add_", *this);
    detail::check_same_device("add_", *this, other);
    if (alpha != 1.0 && other.shape() == shape() && dtype() == Dtype::Float32 && other.dtype() == Dtype::Float32) {
        // this += alpha * other without a temporary (the optimizer's hot path)
        get_backend(device()).axpy(numel(), static_cast<float>(alpha), other.data_ptr<float>(), data_ptr<float>());
        detail::mark_modified(*this);
    } else if (alpha != 1.0) {
        NoGradGuard no_grad;
        binary_in_place("add_", BinaryOp::Add, *this, other * alpha);
    } else {
        binary_in_place("add_", BinaryOp::Add, *this, other);
    }
    return *this;
}

Tensor& Tensor::mul_(const Tensor& other) {
    check_in_place("mul_", *this);
    binary_in_place("mul_", BinaryOp::Mul, *this, other);
    return *this;
}

Tensor& Tensor::mul_(double value) {
    check_in_place("mul_", *this);
    STEPGRAD_CHECK(dtype() == Dtype::Float32 || value == static_cast<double>(static_cast<std::int64_t>(value)),
                   "mul_: an Int64 tensor cannot be scaled in place by " << value
                                                                        << "; use x * value (a Float32 result)");
    get_backend(device()).unary(UnaryOp::MulScalar, dtype(), data_ptr(), data_ptr(), static_cast<std::size_t>(numel()),
                                value);
    detail::mark_modified(*this);
    return *this;
}

Tensor& Tensor::fill_(double value) {
    check_in_place("fill_", *this);
    get_backend(device()).fill(dtype(), data_ptr(), static_cast<std::size_t>(numel()), value);
    detail::mark_modified(*this);
    return *this;
}

Tensor& Tensor::copy_(const Tensor& source) {
    check_in_place("copy_", *this);
    detail::check_defined("copy_", source);
    Tensor moved = source.detach().to(device()).to(dtype());
    STEPGRAD_CHECK(broadcast_shapes("copy_", shape(), moved.shape()) == shape(),
                   "copy_: cannot broadcast shape " << shape_to_string(source.shape()) << " to "
                                                    << shape_to_string(shape()));
    get_backend(device()).copy_strided(dtype(), moved.data_ptr(), broadcast_strides(moved.shape(), shape()), 0,
                                       data_ptr(), contiguous_strides(shape()), 0, shape(), false);
    detail::mark_modified(*this);
    return *this;
}

}  // namespace stepgrad
