#pragma once
/// @file nn.hpp
/// @brief Chapter 1's neural networks on scalars: Neuron, Layer and MLP, as in micrograd.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "stepgrad/scalar/value.hpp"
#include "stepgrad/shared/random.hpp"

namespace stepgrad::scalar {

/// @brief Something with trainable parameters.
class Module {
public:
    virtual ~Module() = default;
    /// @brief Handles to every trainable Value (updating them updates the module).
    [[nodiscard]] virtual std::vector<Value> parameters() const = 0;
    /// @brief Sets every parameter's gradient to 0 (call before each backward()).
    void zero_grad() const;
};

/// @brief One neuron: act(w · x + b), with act = relu, or identity when `nonlinear` is false.
///
/// Weights start uniform in [-1, 1) from the generator, the bias at 0 (as in micrograd).
/// Example: `Neuron n(3, gen); Value y = n({1.0, 2.0, 3.0});`
class Neuron : public Module {
public:
    /// @brief A neuron with `inputs` weights drawn from `gen`.
    Neuron(std::size_t inputs, Generator& gen, bool nonlinear = true);
    /// @brief act(w · x + b); `x` must have as many entries as the neuron has weights.
    Value operator()(const std::vector<Value>& x) const;
    /// @brief The weights, then the bias.
    [[nodiscard]] std::vector<Value> parameters() const override;
    /// @brief The weights (one per input).
    [[nodiscard]] const std::vector<Value>& weights() const { return weights_; }
    /// @brief The bias.
    [[nodiscard]] const Value& bias() const { return bias_; }
    /// @brief Whether relu is applied to the output.
    [[nodiscard]] bool nonlinear() const { return nonlinear_; }

private:
    std::vector<Value> weights_;
    Value bias_;
    bool nonlinear_;
};

/// @brief `outputs` neurons that all read the same inputs.
class Layer : public Module {
public:
    /// @brief A layer mapping `inputs` values to `outputs` values.
    Layer(std::size_t inputs, std::size_t outputs, Generator& gen, bool nonlinear = true);
    /// @brief Each neuron applied to `x`: a vector of `outputs` values.
    std::vector<Value> operator()(const std::vector<Value>& x) const;
    /// @brief All neurons' parameters, neuron by neuron.
    [[nodiscard]] std::vector<Value> parameters() const override;
    /// @brief The neurons.
    [[nodiscard]] const std::vector<Neuron>& neurons() const { return neurons_; }

private:
    std::vector<Neuron> neurons_;
};

/// @brief A multi-layer perceptron: relu layers, then a linear last layer.
///
/// Example (the moons model): `MLP model(2, {16, 16, 1}); Value score = model({x0, x1})[0];`
class MLP : public Module {
public:
    /// @brief Layers of the given widths after `inputs` inputs, weights drawn from `gen`.
    MLP(std::size_t inputs, const std::vector<std::size_t>& layer_sizes, Generator& gen);
    /// @brief Same, with a generator seeded by `seed`.
    MLP(std::size_t inputs, const std::vector<std::size_t>& layer_sizes, std::uint64_t seed = 1337);
    /// @brief The network's outputs for one input vector.
    std::vector<Value> operator()(const std::vector<Value>& x) const;
    /// @brief All layers' parameters, in order.
    [[nodiscard]] std::vector<Value> parameters() const override;
    /// @brief The layers.
    [[nodiscard]] const std::vector<Layer>& layers() const { return layers_; }

private:
    static std::vector<Layer> build_layers(std::size_t inputs,
                                           const std::vector<std::size_t>& layer_sizes,
                                           Generator& gen);
    std::vector<Layer> layers_;
};

}  // namespace stepgrad::scalar
