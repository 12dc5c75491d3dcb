// Broadcasting, and how its gradient is summed back to each input's shape (chapter 2).
// The "--- name ---" lines start the parts that the site shows under each sample.
#include <stepgrad/tensor.hpp>

#include <iostream>

using namespace stepgrad;

int main() {
    std::cout << "--- shapes ---\n";
    //! [shapes]
    Tensor batch = arange(6).reshape({2, 3});  // shape (2, 3)
    Tensor bias = tensor({10, 20, 30});         // shape (3)
    Tensor column = tensor({{1}, {2}});         // shape (2, 1)
    std::cout << batch + bias << "\n";    // bias is added to every row
    std::cout << batch * column << "\n";  // row i is multiplied by column[i]
    std::cout << "broadcast (2, 1) with (3): "
              << shape_to_string(broadcast_shapes("example", {2, 1}, {3})) << "\n";
    //! [shapes]

    std::cout << "--- gradient ---\n";
    //! [gradient]
    Tensor w = tensor({1, 2, 3}).requires_grad_();  // (3), used for both rows
    Tensor x = tensor({{1, 1, 1}, {2, 2, 2}});      // (2, 3)
    Tensor loss = (x * w).sum();
    loss.backward();
    // Each w[j] met x[0][j] and x[1][j]: its gradient is their sum, 1 + 2 = 3.
    std::cout << "w.grad() = " << w.grad() << "\n";
    // The same sum, done by hand with sum_to:
    std::cout << "sum_to(x, {3}) = " << sum_to(x, {3}) << "\n";
    //! [gradient]

    std::cout << "--- error ---\n";
    //! [error]
    try {
        Tensor bad = batch + tensor({1, 2});  // (2, 3) and (2) do not broadcast
    } catch (const std::invalid_argument& error) {
        std::cout << "error: " << error.what() << "\n";
    }
    //! [error]
    return w.grad().to_vector() == std::vector<float>{3, 3, 3} ? 0 : 1;
}
