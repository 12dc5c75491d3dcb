// Tensor: the handle, its data, devices, and in-place updates.
#include "cpu_storage.hpp"

#include <stepgrad/shared/error.hpp>
#include <stepgrad/tensor/autograd.hpp>
#include <stepgrad/tensor/elementwise.hpp>
#include <stepgrad/tensor/tensor.hpp>

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

}  // namespace detail

namespace {

std::shared_ptr<TensorImpl> make_impl(Shape shape, std::shared_ptr<Storage> storage) {
    auto impl = std::make_shared<TensorImpl>();
    impl->shape = std::move(shape);
    impl->storage = std::move(storage);
    return impl;
}

}  // namespace

Tensor::Tensor(xt::xarray<float> array, bool requires_grad) {
    Shape shape(array.shape().begin(), array.shape().end());
    impl_ = make_impl(std::move(shape), std::make_shared<CpuStorage>(std::move(array)));
    if (requires_grad) requires_grad_(true);
}

Tensor Tensor::empty(const Shape& shape, Device device) {
    for (std::int64_t size : shape) {
        STEPGRAD_CHECK(size >= 0, "empty: negative size in shape " << shape_to_string(shape));
    }
    return Tensor(make_impl(shape, get_backend(device).allocate(shape)));
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
    }
    impl_->grad = grad.impl();
}

std::shared_ptr<Node> Tensor::grad_fn() const {
    return is_leaf() ? nullptr : impl_->node;
}

const xt::xarray<float>& Tensor::data() const {
    detail::check_defined("data", *this);
    auto* storage = dynamic_cast<CpuStorage*>(impl_->storage.get());
    STEPGRAD_CHECK(storage != nullptr, "data: the tensor is on " << stepgrad::to_string(device())
                                           << "; call .cpu() first to get an xtensor array");
    return storage->array;
}

float* Tensor::data_ptr() const {
    detail::check_defined("data_ptr", *this);
    return impl_->storage->data();
}

float Tensor::item() const {
    STEPGRAD_CHECK(numel() == 1, "item: expected a tensor with one element, got shape " << shape_to_string(shape()));
    float value = 0.0f;
    get_backend(device()).copy_to_host(data_ptr(), &value, 1);
    return value;
}

std::vector<float> Tensor::to_vector() const {
    std::vector<float> values(static_cast<std::size_t>(numel()));
    get_backend(device()).copy_to_host(data_ptr(), values.data(), values.size());
    return values;
}

Tensor Tensor::clone() const {
    Tensor copy = Tensor::empty(shape(), device());
    Backend& backend = get_backend(device());
    const std::vector<std::int64_t> strides = contiguous_strides(shape());
    backend.copy_strided(data_ptr(), strides, 0, copy.data_ptr(), strides, 0, shape(), false);
    return copy;
}

Tensor Tensor::to(Device target) const {
    detail::check_defined("to", *this);
    const Device source = device();
    if (source == target) return *this;
    Backend& to_backend = get_backend(target);
    Tensor out = Tensor::empty(shape(), target);
    const std::vector<float> host = to_vector();
    to_backend.copy_from_host(host.data(), out.data_ptr(), host.size());
    return record("to", out, {*this}, [source](const Tensor& grad_output) { return Grads{grad_output.to(source)}; });
}

Tensor& Tensor::requires_grad_(bool requires_grad) {
    detail::check_defined("requires_grad_", *this);
    if (!is_leaf()) {
        STEPGRAD_CHECK(requires_grad, "requires_grad_: cannot turn off requires_grad of a non-leaf tensor; "
                                      "use detach() instead");
        return *this;
    }
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
    return Tensor(make_impl(impl_->shape, impl_->storage));
}

namespace {

void check_in_place(const char* op, const Tensor& t) {
    detail::check_defined(op, t);
    STEPGRAD_CHECK(!(GradMode::is_enabled() && t.requires_grad()),
                   op << ": in-place update of a tensor that requires grad; wrap it in a NoGradGuard "
                         "(as an optimizer step does) or update a detach()ed tensor");
}

// Writes op(self, other) into self's storage, other broadcast to self's shape.
void binary_in_place(const char* op, BinaryOp kind, Tensor& self, const Tensor& other) {
    detail::check_same_device(op, self, other);
    STEPGRAD_CHECK(broadcast_shapes(op, self.shape(), other.shape()) == self.shape(),
                   op << ": cannot broadcast shape " << shape_to_string(other.shape()) << " to "
                      << shape_to_string(self.shape()) << " in place");
    get_backend(self.device()).binary(kind, self.data_ptr(), self.shape(), other.data_ptr(), other.shape(),
                                      self.data_ptr(), self.shape());
}

}  // namespace

Tensor& Tensor::add_(const Tensor& other, double alpha) {
    check_in_place("add_", *this);
    if (alpha == 1.0) {
        binary_in_place("add_", BinaryOp::Add, *this, other);
    } else {
        NoGradGuard no_grad;
        binary_in_place("add_", BinaryOp::Add, *this, other * alpha);
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
    get_backend(device()).unary(UnaryOp::MulScalar, data_ptr(), data_ptr(), static_cast<std::size_t>(numel()),
                                static_cast<float>(value));
    return *this;
}

Tensor& Tensor::fill_(double value) {
    check_in_place("fill_", *this);
    get_backend(device()).fill(data_ptr(), static_cast<std::size_t>(numel()), static_cast<float>(value));
    return *this;
}

Tensor& Tensor::copy_(const Tensor& source) {
    check_in_place("copy_", *this);
    detail::check_defined("copy_", source);
    Tensor moved = source.device() == device() ? source : source.detach().to(device());
    STEPGRAD_CHECK(broadcast_shapes("copy_", shape(), moved.shape()) == shape(),
                   "copy_: cannot broadcast shape " << shape_to_string(source.shape()) << " to "
                                                    << shape_to_string(shape()));
    const Shape& target = shape();
    std::vector<std::int64_t> src_strides(target.size(), 0);
    const std::vector<std::int64_t> moved_strides = contiguous_strides(moved.shape());
    const std::size_t lead = target.size() - moved.shape().size();
    for (std::size_t i = 0; i < moved.shape().size(); ++i) {
        src_strides[lead + i] = moved.shape()[i] == 1 ? 0 : moved_strides[i];
    }
    get_backend(device()).copy_strided(moved.data_ptr(), src_strides, 0, data_ptr(), contiguous_strides(target), 0,
                                       target, false);
    return *this;
}

}  // namespace stepgrad
