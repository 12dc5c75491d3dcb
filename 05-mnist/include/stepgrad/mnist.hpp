#pragma once
/// @file mnist.hpp
/// @brief Chapter 5 in one include: the IDX reader, MNIST-format data sets, the MLP and the CNN,
/// the training loop with exact checkpoints, evaluation, the reports and the command line.
///
/// Example (train the default MLP on Debian's Fashion-MNIST for three epochs):
/// @code
/// #include <stepgrad/mnist.hpp>
/// namespace mnist = stepgrad::mnist;
/// const mnist::MnistData data = mnist::load_mnist(mnist::default_data_directory());
/// mnist::TrainOptions options;
/// options.epochs = 3;
/// mnist::Trainer trainer(data, options);
/// while (trainer.epochs_done() < options.epochs) {
///     const mnist::EpochMetrics epoch = trainer.train_epoch();
///     std::cout << "epoch " << epoch.epoch << ": test accuracy " << epoch.test_accuracy << "\n";
/// }
/// trainer.save("fashion.safetensors");
/// @endcode

#include <stepgrad/mnist/cli.hpp>
#include <stepgrad/mnist/dataset.hpp>
#include <stepgrad/mnist/epoch_metrics.hpp>
#include <stepgrad/mnist/evaluate.hpp>
#include <stepgrad/mnist/idx.hpp>
#include <stepgrad/mnist/metrics_csv.hpp>
#include <stepgrad/mnist/model.hpp>
#include <stepgrad/mnist/svg_plot.hpp>
#include <stepgrad/mnist/text_art.hpp>
#include <stepgrad/mnist/trainer.hpp>
