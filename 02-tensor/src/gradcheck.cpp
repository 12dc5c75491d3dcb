// gradcheck: backward() against fourth-order central differences of L = Σ fn(x) · r, r fixed random.
#include <stepgrad/shared/error.hpp>
#include <stepgrad/shared/random.hpp>
#include <stepgrad/tensor/autograd.hpp>
#include <stepgrad/tensor/elementwise.hpp>
#include <stepgrad/tensor/factories.hpp>
#include <stepgrad/tensor/gradcheck.hpp>

#include <cmath>
#include <sstream>

namespace stepgrad {

namespace {

// L = Σ out · weights, accumulated in double.
double weighted_sum(const Tensor& out, const std::vector<float>& weights) {
    const std::vector<float> values = out.cpu().to_vector();
    double total = 0.0;
    for (std::size_t i = 0; i < values.size(); ++i) total += static_cast<double>(values[i]) * weights[i];
    return total;
}

}  // namespace

bool gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& inputs,
               const GradcheckOptions& options) {
    // Private copies, so perturbing them leaves the caller's tensors alone.
    std::vector<Tensor> leaves;
    for (const Tensor& input : inputs) {
        detail::check_defined("gradcheck", input);
        Tensor copy = input.detach().clone();
        if (input.requires_grad()) copy.requires_grad_(true);
        leaves.push_back(copy);
    }
    const Tensor out = fn(leaves);
    Generator generator(20240601);
    const std::vector<float> weights = randn(out.shape(), generator).to_vector();
    if (out.requires_grad()) {
        out.backward(from_vector(weights, out.shape(), TensorOptions().device(out.device())));  // dL/d(out) = r
    }

    for (std::size_t i = 0; i < leaves.size(); ++i) {
        Tensor& leaf = leaves[i];
        if (!leaf.requires_grad()) continue;
        const std::vector<float> analytic =
            leaf.grad().defined() ? leaf.grad().to_vector() : std::vector<float>(static_cast<std::size_t>(leaf.numel()), 0.0f);
        // Elements are changed through the backend, so gradcheck works on any device.
        Backend& backend = get_backend(leaf.device());
        float* data = leaf.data_ptr<float>();
        const std::vector<float> values = leaf.to_vector();
        NoGradGuard no_grad;
        for (std::size_t j = 0; j < analytic.size(); ++j) {
            // L at x_j + k h for k = -2, -1, 1, 2; the steps actually taken (float rounding moves them).
            auto loss_at = [&](int k, double& step_taken) {
                const float moved = values[j] + static_cast<float>(k * options.eps);
                step_taken = static_cast<double>(moved) - static_cast<double>(values[j]);
                backend.copy_from_host(&moved, data + j, sizeof(float));
                return weighted_sum(fn(leaves), weights);
            };
            double h1 = 0, h2 = 0, m1 = 0, m2 = 0;
            const double up2 = loss_at(2, h2), up1 = loss_at(1, h1), down1 = loss_at(-1, m1), down2 = loss_at(-2, m2);
            backend.copy_from_host(&values[j], data + j, sizeof(float));
            // Fourth-order central difference: its error shrinks as h^4, so h can be large enough
            // that float32 rounding in fn stays small next to the step.
            const double numeric = (8.0 * (up1 - down1) - (up2 - down2)) / (8.0 * (h1 - m1) - (h2 - m2));
            const double error = std::fabs(numeric - analytic[j]);
            if (!(error <= options.atol + options.rtol * std::fabs(numeric))) {
                if (!options.raise_exception) return false;
                std::ostringstream message;
                message << "gradcheck: input " << i << " (shape " << shape_to_string(leaf.shape()) << "), element " << j
                        << ": backward gives " << analytic[j] << " but central differences give " << numeric
                        << " (error " << error << ")";
                throw std::runtime_error(message.str());
            }
        }
    }
    return true;
}

}  // namespace stepgrad
