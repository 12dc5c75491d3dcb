#pragma once
/// @file autograd.hpp
/// @brief Reverse-mode automatic differentiation: graph nodes, `record`, grad mode, anomaly mode.
///
/// Every recorded operation gives its output a Node that holds the nodes of its inputs and a
/// backward function: given the gradient of the final result with respect to the output, it
/// returns the gradients with respect to each input (the chain rule, one op at a time).
/// `Tensor::backward()` orders the nodes topologically (iteratively, so deep graphs are fine)
/// and runs each backward function once, adding up the gradients that reach each node.
///
/// Backward functions keep what they need as SavedTensor: a detached tensor plus the version
/// of its storage when it was saved. A saved tensor never keeps a graph alive, and an in-place
/// update of it before backward is caught instead of giving a wrong gradient.

#include <stepgrad/tensor/tensor.hpp>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

namespace stepgrad {

/// @brief Gradients with respect to an operation's inputs, in the order the inputs were given.
/// An undefined Tensor means "no gradient for this input".
using Grads = std::vector<Tensor>;

/// @brief A backward function: gradient of the output in, gradients of the inputs out.
using BackwardFn = std::function<Grads(const Tensor& grad_output)>;

/// @brief One node of the graph: an operation's backward rule, or a leaf's gradient slot.
///
/// Outputs own their node (`TensorImpl::node`), nodes own their inputs' nodes, so a graph lives
/// as long as some tensor of it does. Dropping a long chain frees it iteratively. A node keeps
/// no state of a backward pass, so several threads may run backward through shared nodes.
struct Node {
    const char* op = "leaf";                   ///< operation name, e.g. "mul"
    std::vector<std::shared_ptr<Node>> inputs;  ///< inputs' nodes (null: no gradient needed)
    BackwardFn backward;                        ///< empty for a leaf
    std::weak_ptr<TensorImpl> grad_holder;      ///< where grad() accumulates (leaf or retain_grad)
    Shape shape;                                ///< the output's shape (gradients must match)
    Device device = Device::CPU;                ///< the output's device
    std::mutex grad_mutex;                      ///< held while a gradient is added into grad_holder

    /// @brief PyTorch's name of this node, e.g. "MulBackward0" (or "AccumulateGrad" for leaves).
    [[nodiscard]] std::string name() const;

    /// @brief Frees the chain of nodes only this one keeps alive, without recursion.
    ~Node();
};

/// @brief Whether operations are recorded on this thread (true unless a NoGradGuard is alive).
class GradMode {
public:
    /// @brief True when recording is on for the calling thread.
    static bool is_enabled();
    /// @brief Turns recording on or off for the calling thread.
    static void set_enabled(bool enabled);
};

/// @brief Turns off recording for its lifetime on this thread (like `torch::NoGradGuard`).
///
/// Example:
/// @code
/// { stepgrad::NoGradGuard no_grad; w.add_(w.grad(), -0.1); }  // an SGD step
/// @endcode
class NoGradGuard {
public:
    /// @brief Disables recording, remembering the previous state.
    NoGradGuard() : previous_(GradMode::is_enabled()) { GradMode::set_enabled(false); }
    /// @brief Restores the previous state.
    ~NoGradGuard() { GradMode::set_enabled(previous_); }
    NoGradGuard(const NoGradGuard&) = delete;             ///< not copyable
    NoGradGuard& operator=(const NoGradGuard&) = delete;  ///< not copyable

private:
    bool previous_;
};

/// @brief Checks, for its lifetime on this thread, every recorded operation's output (forward)
/// and every gradient (backward) for NaN or Inf, and throws std::runtime_error naming the first
/// operation that produced one (like `torch::autograd::DetectAnomalyGuard`). Slow: for debugging.
///
/// Example:
/// @code
/// stepgrad::AnomalyGuard anomaly;
/// auto y = stepgrad::log(x);  // throws "anomaly: log produced NaN or Inf ..." if x < 0
/// @endcode
class AnomalyGuard {
public:
    /// @brief Enables the checks, remembering the previous state.
    AnomalyGuard();
    /// @brief Restores the previous state.
    ~AnomalyGuard();
    AnomalyGuard(const AnomalyGuard&) = delete;             ///< not copyable
    AnomalyGuard& operator=(const AnomalyGuard&) = delete;  ///< not copyable
    /// @brief Whether anomaly checks are on for the calling thread.
    static bool is_enabled();

private:
    bool previous_;
};

/// @brief Thrown by SavedTensor::unpack() when the saved tensor was changed in place after it
/// was saved; backward() rethrows it as std::runtime_error naming the operation.
class SavedTensorModified : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// @brief A tensor a backward function needs, saved as PyTorch's SavedVariable saves it:
/// detached (so it never keeps a graph alive) with the version its storage had when saved.
///
/// Capture SavedTensor, never Tensor, in a backward function: `[x = SavedTensor(x)]`.
/// unpack() checks that no in-place operation changed the data since; otherwise the gradient
/// would be computed from the new values and be silently wrong.
///
/// Example (the gradient of mul):
/// @code
/// record("mul", out, {a, b}, [a = SavedTensor(a), b = SavedTensor(b)](const Tensor& g) {
///     return Grads{sum_to(g * b.unpack(), a.shape()), sum_to(g * a.unpack(), b.shape())};
/// });
/// @endcode
class SavedTensor {
public:
    /// @brief Saves nothing (unpack() gives an undefined tensor).
    SavedTensor() = default;
    /// @brief Saves `tensor` detached, with its current version and whether it requires grad.
    explicit SavedTensor(const Tensor& tensor);
    /// @brief The saved tensor; throws SavedTensorModified if its storage changed since saved.
    [[nodiscard]] const Tensor& unpack() const;
    /// @brief Whether the tensor required grad when saved (so whether it needs a gradient).
    [[nodiscard]] bool requires_grad() const { return requires_grad_; }
    /// @brief The saved tensor's shape.
    [[nodiscard]] const Shape& shape() const { return tensor_.shape(); }

private:
    Tensor tensor_;
    std::uint64_t version_ = 0;
    bool requires_grad_ = false;
};

/// @brief The inputs of a recorded operation: a braced list `{a, b}` or a vector (cat, stack).
///
/// A view of tensors that live at least as long as the call that takes it.
class TensorList {
public:
    /// @brief A braced list, e.g. `{a, b}` (its array lives until the end of the call's full expression).
    TensorList(std::initializer_list<Tensor> tensors) : first_(std::data(tensors)), size_(tensors.size()) {}
    /// @brief Every tensor of `tensors`.
    TensorList(const std::vector<Tensor>& tensors) : first_(tensors.data()), size_(tensors.size()) {}  // NOLINT
    /// @brief The first tensor.
    [[nodiscard]] const Tensor* begin() const { return first_; }
    /// @brief One past the last tensor.
    [[nodiscard]] const Tensor* end() const { return first_ + size_; }
    /// @brief How many tensors.
    [[nodiscard]] std::size_t size() const { return size_; }

private:
    const Tensor* first_;
    std::size_t size_;
};

namespace detail {
/// @brief Whether any of `inputs` requires grad while recording is on.
bool any_requires_grad(TensorList inputs);
/// @brief Attaches a new Node for `op` with `inputs` to `result` (see record()).
void attach_node(const char* op, Tensor& result, TensorList inputs, BackwardFn backward);
/// @brief Throws std::runtime_error when anomaly mode is on and `t` holds NaN or Inf.
void check_anomaly(const char* op, const Tensor& t, const char* phase);
}  // namespace detail

/// @brief Records `result = op(inputs...)` in the graph with its backward rule, and returns it.
///
/// Nothing is recorded (and `backward` is never stored) when recording is off or no input
/// requires grad. The backward function captures what it needs as SavedTensor (detached,
/// version-checked) or plain values such as shapes; never a Tensor of the graph, and never
/// `result` itself (a reference cycle).
///
/// Example (the body of `exp`):
/// @code
/// Tensor out = unary_kernel(UnaryOp::Exp, x);
/// return record("exp", out, {x}, [out = SavedTensor(out)](const Tensor& grad_output) {
///     return Grads{grad_output * out.unpack()};
/// });
/// @endcode
template <class F>
Tensor record(const char* op, Tensor result, TensorList inputs, F&& backward) {
    if (detail::any_requires_grad(inputs)) {
        detail::attach_node(op, result, inputs, BackwardFn(std::forward<F>(backward)));
    } else {
        detail::check_anomaly(op, result, "forward");
    }
    return result;
}

/// @brief Sums `grad` down to `shape`: the gradient of broadcasting `shape` up to `grad.shape()`.
///
/// When an input of `shape` was broadcast in the forward pass, each of its elements was used
/// several times, so its gradient is the sum of the gradients of all its copies.
/// Example: `sum_to(ones({64, 128}), {128})` is a vector of 64s; `sum_to(g, {1, 3})` of a
/// `(2, 4, 3)` gradient sums over axes 0 and 1.
Tensor sum_to(const Tensor& grad, const Shape& shape);

}  // namespace stepgrad
