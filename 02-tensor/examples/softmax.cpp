// Softmax computed naively overflows; shifting by the maximum fixes it (chapter 2).
// The "--- name ---" lines start the parts that the site shows under each sample.
#include <stepgrad/tensor.hpp>

#include <cmath>
#include <iostream>

using namespace stepgrad;

int main() {
    std::cout << "--- naive ---\n";
    //! [naive]
    const Tensor scores = tensor({{1, 2, 3}, {1000, 1001, 1002}});
    Tensor naive = exp(scores) / exp(scores).sum({1}, /*keepdim=*/true);
    std::cout << "naive:\n" << naive << "\n";  // the second row is nan: exp(1000) = inf
    //! [naive]

    std::cout << "--- stable ---\n";
    //! [stable]
    Tensor probabilities = softmax(scores, 1);  // exp(x - max) / sum: both rows are fine
    Tensor log_probabilities = log_softmax(scores, 1);
    std::cout << "stable:\n" << probabilities << "\n";
    std::cout << "log:\n" << log_probabilities << "\n";
    //! [stable]

    std::cout << "--- gradient ---\n";
    //! [gradient]
    // The gradient of picking class 2's log-probability is one_hot - softmax.
    Tensor logits = tensor({{1, 2, 3}}).requires_grad_();
    log_softmax(logits, 1).select(1, 2).sum().backward();
    std::cout << "grad:\n" << logits.grad() << "\n";
    //! [gradient]
    const bool ok = std::isnan(naive.to_vector()[3]) && std::fabs(probabilities.to_vector()[5] - 0.66524f) < 1e-4f &&
                    std::fabs(logits.grad().to_vector()[2] - (1.0f - 0.66524f)) < 1e-4f;
    return ok ? 0 : 1;
}
