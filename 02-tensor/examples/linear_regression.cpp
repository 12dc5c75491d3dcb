// Linear regression with plain gradient descent on Tensors (chapter 2).
//
// The data follow y = x W_true + b_true + noise; starting from zero weights, each step computes
// the mean squared error, back-propagates, and moves W and b against their gradients.
#include <stepgrad/shared/random.hpp>
#include <stepgrad/tensor.hpp>

#include <cstdio>

using namespace stepgrad;

int main() {
    //! [data]
    Generator generator(0);
    const Tensor w_true = tensor({{2.0}, {-3.0}, {0.5}});  // (3, 1)
    const double b_true = 1.0;
    const Tensor x = randn({200, 3}, generator);                                 // (200, 3)
    const Tensor y = matmul(x, w_true) + b_true + randn({200, 1}, generator) * 0.1;  // (200, 1)
    //! [data]

    //! [training]
    Tensor w = zeros({3, 1}, TensorOptions().requires_grad(true));
    Tensor b = zeros({1}, TensorOptions().requires_grad(true));
    const double learning_rate = 0.1;
    double first_loss = 0.0, loss_value = 0.0;
    for (int step = 0; step <= 100; ++step) {
        Tensor prediction = matmul(x, w) + b;              // (200, 1)
        Tensor loss = ((prediction - y) * (prediction - y)).mean();  // a scalar
        w.set_grad(Tensor());                              // forget the last step's gradients
        b.set_grad(Tensor());
        loss.backward();
        {
            NoGradGuard no_grad;  // the update itself is not part of the model
            w.sub_(w.grad() * learning_rate);
            b.sub_(b.grad() * learning_rate);
        }
        loss_value = loss.item();
        if (step == 0) first_loss = loss_value;
        if (step % 20 == 0) std::printf("step %3d  loss %.5f\n", step, loss_value);
    }
    //! [training]
    std::printf("learned W = [%.3f, %.3f, %.3f], b = %.3f\n", w.data()(0, 0), w.data()(1, 0), w.data()(2, 0),
                b.item());
    // The noise has variance 0.01, so a fitted model's loss is close to that.
    return (loss_value < 0.02 && loss_value < first_loss / 100.0) ? 0 : 1;
}
