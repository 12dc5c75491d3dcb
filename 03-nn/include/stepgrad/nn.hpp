#pragma once
/// @file nn.hpp
/// @brief Chapter 3 in one include: modules, layers, losses, initialisation, optimizers and
/// schedulers, the data pipeline, metrics and checkpoints (and chapter 2's tensors).
///
/// Example (one training step of an MLP):
/// @code
/// #include <stepgrad/nn.hpp>
/// namespace nn = stepgrad::nn;
/// auto model = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
///     std::make_shared<nn::Linear>(784, 128), std::make_shared<nn::ReLU>(),
///     std::make_shared<nn::Linear>(128, 10)});
/// stepgrad::optim::SGD optimizer(model->parameters(), stepgrad::optim::SGDOptions(0.1).momentum(0.9));
/// optimizer.zero_grad();
/// stepgrad::Tensor loss = nn::functional::cross_entropy(model->forward(images), labels);
/// loss.backward();
/// optimizer.step();
/// @endcode

#include <stepgrad/data/dataloader.hpp>
#include <stepgrad/data/dataset.hpp>
#include <stepgrad/data/transforms.hpp>
#include <stepgrad/metrics.hpp>
#include <stepgrad/nn/activation.hpp>
#include <stepgrad/nn/batchnorm.hpp>
#include <stepgrad/nn/checkpoint.hpp>
#include <stepgrad/nn/clip_grad.hpp>
#include <stepgrad/nn/container.hpp>
#include <stepgrad/nn/conv.hpp>
#include <stepgrad/nn/dropout.hpp>
#include <stepgrad/nn/init.hpp>
#include <stepgrad/nn/linear.hpp>
#include <stepgrad/nn/loss.hpp>
#include <stepgrad/nn/module.hpp>
#include <stepgrad/nn/pooling.hpp>
#include <stepgrad/nn/safetensors.hpp>
#include <stepgrad/nn/state_dict.hpp>
#include <stepgrad/optim/adam.hpp>
#include <stepgrad/optim/lr_scheduler.hpp>
#include <stepgrad/optim/optimizer.hpp>
#include <stepgrad/optim/rmsprop.hpp>
#include <stepgrad/optim/sgd.hpp>
#include <stepgrad/tensor.hpp>
