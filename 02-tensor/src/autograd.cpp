// Autograd: recording nodes, freeing graphs without recursion, and backward().
#include <stepgrad/shared/error.hpp>
#include <stepgrad/tensor/autograd.hpp>
#include <stepgrad/tensor/elementwise.hpp>
#include <stepgrad/tensor/reduce.hpp>
#include <stepgrad/tensor/shape_ops.hpp>

#include <cctype>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace stepgrad {

namespace {
thread_local bool grad_enabled = true;
thread_local bool anomaly_enabled = false;
thread_local bool running_backward = false;  // forward checks are off inside backward rules
}  // namespace

SavedTensor::SavedTensor(const Tensor& tensor)
    : tensor_(tensor.detach()), version_(tensor.version()), requires_grad_(tensor.requires_grad()) {}

const Tensor& SavedTensor::unpack() const {
    if (tensor_.defined() && tensor_.version() != version_) {
        throw SavedTensorModified(
            "one of the tensors needed for gradient computation has been modified by an inplace operation: "
            "a " + to_string(tensor_.dtype()) + " tensor of shape " + shape_to_string(tensor_.shape()) +
            " is at version " + std::to_string(tensor_.version()) + "; expected version " +
            std::to_string(version_) + " instead. Change a clone() of it, or call backward() before changing it.");
    }
    return tensor_;
}

bool GradMode::is_enabled() { return grad_enabled; }
void GradMode::set_enabled(bool enabled) { grad_enabled = enabled; }

AnomalyGuard::AnomalyGuard() : previous_(anomaly_enabled) { anomaly_enabled = true; }
AnomalyGuard::~AnomalyGuard() { anomaly_enabled = previous_; }
bool AnomalyGuard::is_enabled() { return anomaly_enabled; }

std::string Node::name() const {
    if (!backward) return "AccumulateGrad";
    // "log_softmax" -> "LogSoftmaxBackward0", as PyTorch names its nodes.
    std::string text;
    bool upper = true;
    for (const char* c = op; *c != '\0'; ++c) {
        if (*c == '_') {
            upper = true;
            continue;
        }
        text += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(*c))) : *c;
        upper = false;
    }
    return text + "Backward0";
}

// Destroying the last handle of a long chain would otherwise destroy node N, which destroys
// node N-1, ... one stack frame per node. Instead, nodes that only this one keeps alive are
// emptied one by one from a local stack, so each is destroyed with no inputs left.
Node::~Node() {
    std::vector<std::shared_ptr<Node>> stack = std::move(inputs);
    BackwardFn doomed = std::move(backward);
    doomed = nullptr;  // drops tensors the rule captured (they may hold nodes too)
    while (!stack.empty()) {
        std::shared_ptr<Node> node = std::move(stack.back());
        stack.pop_back();
        if (node && node.use_count() == 1) {
            for (auto& input : node->inputs) stack.push_back(std::move(input));
            node->inputs.clear();
            BackwardFn rule = std::move(node->backward);
            rule = nullptr;
        }
    }  // each `node` is released here with nothing left to release recursively
}

namespace detail {

bool any_requires_grad(TensorList inputs) {
    if (!GradMode::is_enabled()) return false;
    for (const Tensor& input : inputs) {
        if (input.requires_grad()) return true;
    }
    return false;
}

void attach_node(const char* op, Tensor& result, TensorList inputs, BackwardFn backward) {
    if (result.dtype() != Dtype::Float32) return;  // Int64 results (argmax, casts) have no gradient
    auto node = std::make_shared<Node>();
    node->op = op;
    node->inputs.reserve(inputs.size());
    for (const Tensor& input : inputs) {
        node->inputs.push_back(input.requires_grad() ? input.impl()->node : nullptr);
    }
    node->backward = std::move(backward);
    node->shape = result.shape();
    node->device = result.device();
    result.impl()->node = std::move(node);
    result.impl()->requires_grad = true;
    check_anomaly(op, result, "forward");
}

void check_anomaly(const char* op, const Tensor& t, const char* phase) {
    if (!anomaly_enabled || !t.defined() || t.numel() == 0) return;
    if (running_backward && std::string(phase) == "forward") return;  // the engine checks each rule's result
    if (t.dtype() != Dtype::Float32) return;
    Backend& backend = get_backend(t.device());
    Tensor flags = Tensor::empty(t.shape(), t.device());
    backend.unary(UnaryOp::IsNotFinite, Dtype::Float32, t.data_ptr(), flags.data_ptr(),
                  static_cast<std::size_t>(t.numel()));
    Tensor count = Tensor::empty({}, t.device());
    backend.reduce(ReduceOp::Sum, Dtype::Float32, flags.data_ptr(), t.shape(), std::vector<bool>(t.shape().size(), true),
                   count.data_ptr());
    if (count.item() > 0.0f) {
        throw std::runtime_error(std::string("anomaly detected: ") + phase + " of '" + op + "' produced " +
                                 std::to_string(static_cast<long long>(count.item())) +
                                 " NaN or Inf value(s) in a tensor of shape " + shape_to_string(t.shape()));
    }
}

}  // namespace detail

namespace {

// Nodes reachable from `root`, each after all of its inputs (iterative depth-first search).
// The visited set is local to this call, so concurrent backward passes do not interfere.
std::vector<Node*> topological_order(Node* root) {
    std::vector<Node*> order;
    std::unordered_set<Node*> visited{root};
    std::vector<std::pair<Node*, std::size_t>> stack{{root, 0}};
    while (!stack.empty()) {
        auto& [node, next] = stack.back();
        if (next < node->inputs.size()) {
            Node* input = node->inputs[next++].get();
            if (input != nullptr && visited.insert(input).second) stack.emplace_back(input, 0);
        } else {
            order.push_back(node);
            stack.pop_back();
        }
    }
    return order;
}

// Adds `grad` into the tensor that keeps this node's gradient (a leaf, or retain_grad), under
// the node's lock: two threads reaching the same leaf must both be counted.
void accumulate_into_holder(Node& node, const Tensor& grad) {
    std::shared_ptr<TensorImpl> holder = node.grad_holder.lock();
    if (!holder) return;
    std::lock_guard<std::mutex> lock(node.grad_mutex);
    if (holder->grad) {
        holder->grad = (Tensor(holder->grad) + grad).impl();
    } else {
        // Keep a private copy unless nobody else holds this gradient tensor.
        holder->grad = grad.impl().use_count() == 1 ? grad.impl() : grad.clone().impl();
    }
}

// Runs node.backward, turning a saved tensor's version error into one that names the operation.
Grads call_backward(Node& node, const Tensor& grad) {
    try {
        return node.backward(grad);
    } catch (const SavedTensorModified& error) {
        throw std::runtime_error("backward of '" + std::string(node.op) + "' (" + node.name() + "): " + error.what());
    }
}

// The gradients reach the tensors that keep them (leaves, retain_grad) only once the whole pass
// has succeeded: a pass stopped by an error (anomaly mode, a saved tensor changed in place)
// leaves every grad() as it was, as a failed call should.
void run_backward(const Tensor& root, Tensor root_grad) {
    Node* root_node = root.impl()->node.get();
    const std::vector<Node*> order = topological_order(root_node);
    std::unordered_map<Node*, Tensor> pending{{root_node, std::move(root_grad)}};  // this call's gradients
    std::vector<std::pair<Node*, Tensor>> finished;  // complete gradients of nodes that keep one
    NoGradGuard no_grad;  // backward rules are not themselves recorded
    const bool was_running = running_backward;
    running_backward = true;
    try {
        for (auto it = order.rbegin(); it != order.rend(); ++it) {
            Node& node = **it;
            auto found = pending.find(&node);
            if (found == pending.end()) continue;
            const Tensor grad = std::move(found->second);
            pending.erase(found);
            if (!node.grad_holder.expired()) finished.emplace_back(&node, grad);
            if (!node.backward) continue;
            Grads input_grads = call_backward(node, grad);
            STEPGRAD_CHECK_AS(std::logic_error, input_grads.size() == node.inputs.size(),
                              "backward of '" << node.op << "' returned " << input_grads.size()
                                              << " gradients for " << node.inputs.size() << " inputs");
            for (std::size_t i = 0; i < input_grads.size(); ++i) {
                Node* input = node.inputs[i].get();
                Tensor& input_grad = input_grads[i];
                if (input == nullptr || !input_grad.defined()) continue;
                STEPGRAD_CHECK_AS(std::logic_error, input_grad.shape() == input->shape,
                                  "backward of '" << node.op << "' returned a gradient of shape "
                                                  << shape_to_string(input_grad.shape()) << " for input " << i
                                                  << " of shape " << shape_to_string(input->shape));
                detail::check_anomaly(node.op, input_grad, "backward (in its gradient rule)");
                auto slot = pending.find(input);
                if (slot == pending.end()) {
                    pending.emplace(input, std::move(input_grad));
                } else {
                    slot->second = slot->second + input_grad;
                }
            }
        }
    } catch (...) {
        running_backward = was_running;
        throw;
    }
    running_backward = was_running;
    for (auto& [node, grad] : finished) accumulate_into_holder(*node, grad);
}

}  // namespace

void Tensor::backward() const {
    detail::check_defined("backward", *this);
    if (!requires_grad()) {
        throw std::runtime_error("backward: the tensor does not require grad and has no grad_fn; call "
                                 "requires_grad_() on the inputs you want gradients for before computing it");
    }
    if (numel() != 1) {
        throw std::runtime_error("backward: grad can be implicitly created only for a tensor with one element, "
                                 "but this one has shape " + shape_to_string(shape()) +
                                 "; pass backward(gradient) with a gradient of that shape");
    }
    Tensor one = Tensor::empty(shape(), device());
    get_backend(device()).fill(Dtype::Float32, one.data_ptr(), 1, 1.0);
    run_backward(*this, std::move(one));
}

void Tensor::backward(const Tensor& gradient) const {
    detail::check_defined("backward", *this);
    if (!gradient.defined()) return backward();
    if (!requires_grad()) {
        throw std::runtime_error("backward: the tensor does not require grad and has no grad_fn");
    }
    detail::check_same_device("backward", *this, gradient);
    detail::check_float("backward", gradient);
    STEPGRAD_CHECK(gradient.shape() == shape(), "backward: gradient of shape " << shape_to_string(gradient.shape())
                                                    << " for a tensor of shape " << shape_to_string(shape()));
    run_backward(*this, gradient.detach());
}

Tensor sum_to(const Tensor& grad, const Shape& shape) {
    if (grad.shape() == shape) return grad;
    STEPGRAD_CHECK(shape.size() <= grad.shape().size() &&
                       broadcast_shapes("sum_to", grad.shape(), shape) == grad.shape(),
                   "sum_to: shape " << shape_to_string(shape) << " does not broadcast to the gradient's shape "
                                    << shape_to_string(grad.shape()));
    // exercise 02.1: sum_to, the gradient of broadcasting
    // hint: sum over the leading axes that broadcasting added, then (keepdim) over axes where shape had 1.
    // hint: then reshape the result to `shape` (this drops the leading axes, now of size 1).
    const std::size_t lead = grad.shape().size() - shape.size();
    std::vector<std::int64_t> axes;
    for (std::size_t axis = 0; axis < lead; ++axis) axes.push_back(static_cast<std::int64_t>(axis));
    for (std::size_t axis = 0; axis < shape.size(); ++axis) {
        if (shape[axis] == 1 && grad.shape()[lead + axis] != 1) axes.push_back(static_cast<std::int64_t>(lead + axis));
    }
    if (axes.empty()) return grad.reshape(shape);
    return grad.sum(axes, /*keepdim=*/true).reshape(shape);
    // end exercise
}

}  // namespace stepgrad
