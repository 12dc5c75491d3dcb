// Activation modules, Flatten and Identity: each forward is one chapter-2 call (whose gradient
// chapter 2 already defines), each printed as PyTorch prints it.
#include <stepgrad/nn/activation.hpp>
#include "python_repr.hpp"

#include <ostream>

namespace stepgrad::nn {

Tensor ReLU::forward(const Tensor& input) { return stepgrad::relu(input); }
void ReLU::pretty_print(std::ostream& stream) const { stream << "ReLU()"; }

Tensor LeakyReLU::forward(const Tensor& input) { return stepgrad::leaky_relu(input, options.negative_slope()); }
void LeakyReLU::pretty_print(std::ostream& stream) const {
    stream << "LeakyReLU(negative_slope=" << repr::python_float(options.negative_slope()) << ")";
}

Tensor Sigmoid::forward(const Tensor& input) { return stepgrad::sigmoid(input); }
void Sigmoid::pretty_print(std::ostream& stream) const { stream << "Sigmoid()"; }

Tensor Tanh::forward(const Tensor& input) { return stepgrad::tanh(input); }
void Tanh::pretty_print(std::ostream& stream) const { stream << "Tanh()"; }

Tensor GELU::forward(const Tensor& input) { return stepgrad::gelu(input); }
void GELU::pretty_print(std::ostream& stream) const { stream << "GELU()"; }

Tensor Softmax::forward(const Tensor& input) { return stepgrad::softmax(input, dim); }
void Softmax::pretty_print(std::ostream& stream) const { stream << "Softmax(dim=" << dim << ")"; }

Tensor LogSoftmax::forward(const Tensor& input) { return stepgrad::log_softmax(input, dim); }
void LogSoftmax::pretty_print(std::ostream& stream) const { stream << "LogSoftmax(dim=" << dim << ")"; }

Tensor Flatten::forward(const Tensor& input) {
    return stepgrad::flatten(input, options.start_dim(), options.end_dim());
}
void Flatten::pretty_print(std::ostream& stream) const {
    stream << "Flatten(start_dim=" << options.start_dim() << ", end_dim=" << options.end_dim() << ")";
}

Tensor Identity::forward(const Tensor& input) { return input; }
void Identity::pretty_print(std::ostream& stream) const { stream << "Identity()"; }

}  // namespace stepgrad::nn
