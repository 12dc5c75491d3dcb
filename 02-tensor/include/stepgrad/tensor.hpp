#pragma once
/// @file tensor.hpp
/// @brief Chapter 2 in one include: float32 tensors with broadcasting and reverse-mode autodiff.
///
/// Example:
/// @code
/// #include <stepgrad/tensor.hpp>
/// using namespace stepgrad;
/// Tensor x = randn({64, 784});
/// Tensor w = (randn({784, 128}) * 0.01).requires_grad_();
/// Tensor b = zeros({128}, TensorOptions().requires_grad(true));
/// Tensor loss = relu(matmul(x, w) + b).mean();
/// loss.backward();  // w.grad() is (784, 128), b.grad() is (128)
/// @endcode

#include <stepgrad/tensor/autograd.hpp>
#include <stepgrad/tensor/backend.hpp>
#include <stepgrad/tensor/device.hpp>
#include <stepgrad/tensor/elementwise.hpp>
#include <stepgrad/tensor/factories.hpp>
#include <stepgrad/tensor/gradcheck.hpp>
#include <stepgrad/tensor/indexing.hpp>
#include <stepgrad/tensor/matmul.hpp>
#include <stepgrad/tensor/print.hpp>
#include <stepgrad/tensor/reduce.hpp>
#include <stepgrad/tensor/shape_ops.hpp>
#include <stepgrad/tensor/softmax.hpp>
#include <stepgrad/tensor/tensor.hpp>
#include <stepgrad/tensor/threads.hpp>
