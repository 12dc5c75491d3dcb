#include "stepgrad/scalar/nn.hpp"

#include "stepgrad/shared/error.hpp"

namespace stepgrad::scalar {

namespace {

// Every parameter of every module in `modules`, in order.
template <class Modules>
std::vector<Value> parameters_of(const Modules& modules) {
    std::vector<Value> params;
    for (const auto& module : modules) {
        for (Value& p : module.parameters()) params.push_back(std::move(p));
    }
    return params;
}

}  // namespace

void Module::zero_grad() const {
    for (const Value& p : parameters()) p.grad() = 0.0;
}

Neuron::Neuron(std::size_t inputs, Generator& gen, bool nonlinear)
    : bias_(0.0), nonlinear_(nonlinear) {
    weights_.reserve(inputs);
    for (std::size_t i = 0; i < inputs; ++i) weights_.emplace_back(gen.uniform(-1.0, 1.0));
}

Value Neuron::operator()(const std::vector<Value>& x) const {
    STEPGRAD_CHECK(x.size() == weights_.size(),
                   "Neuron: expected " << weights_.size() << " inputs, got " << x.size());
    // exercise 01.3: a neuron
    // hint: start from the bias, add w[i] * x[i] for every input (activation += ...), then
    // hint: return relu of the sum when the neuron is nonlinear, the sum itself otherwise.
    Value activation = bias_;
    for (std::size_t i = 0; i < x.size(); ++i) activation += weights_[i] * x[i];
    return nonlinear_ ? activation.relu() : activation;
    // end exercise
}

std::vector<Value> Neuron::parameters() const {
    std::vector<Value> params = weights_;
    params.push_back(bias_);
    return params;
}

Layer::Layer(std::size_t inputs, std::size_t outputs, Generator& gen, bool nonlinear) {
    neurons_.reserve(outputs);
    for (std::size_t i = 0; i < outputs; ++i) neurons_.emplace_back(inputs, gen, nonlinear);
}

std::vector<Value> Layer::operator()(const std::vector<Value>& x) const {
    std::vector<Value> out;
    out.reserve(neurons_.size());
    for (const Neuron& neuron : neurons_) out.push_back(neuron(x));
    return out;
}

std::vector<Value> Layer::parameters() const { return parameters_of(neurons_); }

std::vector<Layer> MLP::build_layers([[maybe_unused]] std::size_t inputs,
                                     const std::vector<std::size_t>& layer_sizes,
                                     [[maybe_unused]] Generator& gen) {
    STEPGRAD_CHECK(!layer_sizes.empty(), "MLP: needs at least one layer size");
    [[maybe_unused]] std::vector<Layer> layers;
    // exercise 01.4: the MLP
    // hint: layer i maps sizes[i] to sizes[i+1], where sizes = inputs followed by layer_sizes;
    // hint: every layer is nonlinear (relu) except the last, which stays linear.
    std::size_t width = inputs;
    for (std::size_t i = 0; i < layer_sizes.size(); ++i) {
        const bool last = i + 1 == layer_sizes.size();
        layers.emplace_back(width, layer_sizes[i], gen, /*nonlinear=*/!last);
        width = layer_sizes[i];
    }
    return layers;
    // end exercise
}

MLP::MLP(std::size_t inputs, const std::vector<std::size_t>& layer_sizes, Generator& gen)
    : layers_(build_layers(inputs, layer_sizes, gen)) {}

MLP::MLP(std::size_t inputs, const std::vector<std::size_t>& layer_sizes, std::uint64_t seed) {
    Generator gen(seed);
    layers_ = build_layers(inputs, layer_sizes, gen);
}

std::vector<Value> MLP::operator()(const std::vector<Value>& x) const {
    std::vector<Value> activations = x;
    for (const Layer& layer : layers_) activations = layer(activations);
    return activations;
}

std::vector<Value> MLP::parameters() const { return parameters_of(layers_); }

}  // namespace stepgrad::scalar
