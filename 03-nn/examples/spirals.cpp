// Three interleaved spirals, classified by an MLP and by a small residual MLP (chapter 3).
//
// The data are seeded: 3 classes of 300 points each, split 80/20 into training and validation
// sets. Each model trains with Adam and a cosine learning-rate schedule, printing the training
// and validation losses as it goes; the program fails (exit 1) unless both models reach 95% on
// the validation set.
#include <stepgrad/nn.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

using namespace stepgrad;
namespace F = stepgrad::nn::functional;

namespace {

//! [data]
// Class c's arm: radius r from 0 to 1, angle 4c + 4r (plus noise), as in CS231n's spirals.
std::shared_ptr<data::TensorDataset> make_spirals(std::int64_t per_class, Generator& generator) {
    const std::int64_t classes = 3;
    std::vector<float> points;
    std::vector<std::int64_t> labels;
    for (std::int64_t c = 0; c < classes; ++c) {
        for (std::int64_t i = 0; i < per_class; ++i) {
            const double r = static_cast<double>(i) / static_cast<double>(per_class - 1);
            const double angle = 4.0 * static_cast<double>(c) + 4.0 * r + generator.normal(0.0, 0.25);
            points.push_back(static_cast<float>(r * std::sin(angle)));
            points.push_back(static_cast<float>(r * std::cos(angle)));
            labels.push_back(c);
        }
    }
    const std::int64_t count = classes * per_class;
    return std::make_shared<data::TensorDataset>(from_vector(points, {count, 2}), from_vector(labels, {count}));
}
//! [data]

//! [models]
std::shared_ptr<nn::Module> make_mlp() {
    return std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
        std::make_shared<nn::Linear>(2, 64), std::make_shared<nn::ReLU>(),
        std::make_shared<nn::Linear>(64, 64), std::make_shared<nn::ReLU>(),
        std::make_shared<nn::Linear>(64, 3)});
}

// x -> relu(x + Linear(relu(Linear(x)))): the block learns a correction to its input.
std::shared_ptr<nn::Module> make_residual_mlp() {
    auto block = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
        std::make_shared<nn::Linear>(64, 64), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(64, 64)});
    return std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
        std::make_shared<nn::Linear>(2, 64), std::make_shared<nn::ReLU>(),
        std::make_shared<nn::Residual>(block), std::make_shared<nn::ReLU>(),
        std::make_shared<nn::Linear>(64, 3)});
}
//! [models]

// Mean loss and accuracy of `model` over a whole dataset, without recording a graph.
std::pair<double, double> evaluate(nn::Module& model, data::Dataset& dataset) {
    NoGradGuard no_grad;
    model.eval();
    const data::Batch all = dataset.get_batch(arange(0, static_cast<double>(dataset.size()), 1,
                                                     TensorOptions().dtype(Dtype::Int64)));
    const Tensor logits = model.forward(all.data);
    model.train();
    return {F::cross_entropy(logits, all.target).item<double>(), metrics::accuracy(logits, all.target)};
}

double train(const std::string& title, const std::shared_ptr<nn::Module>& model,
             const std::shared_ptr<data::Dataset>& train_set, const std::shared_ptr<data::Dataset>& validation_set) {
    std::printf("%s\n", title.c_str());
    //! [training]
    const std::int64_t epochs = 60;
    data::DataLoader loader(train_set, data::DataLoaderOptions(32).shuffle(true).seed(1));
    optim::Adam optimizer(model->parameters(), optim::AdamOptions(0.01));
    optim::CosineAnnealingLR schedule(optimizer, epochs);
    for (std::int64_t epoch = 1; epoch <= epochs; ++epoch) {
        double total = 0.0;
        std::int64_t batches = 0;
        for (data::Batch& batch : loader) {
            optimizer.zero_grad();
            Tensor loss = F::cross_entropy(model->forward(batch.data), batch.target);
            loss.backward();
            optimizer.step();
            total += loss.item<double>();
            ++batches;
        }
        schedule.step();
        if (epoch % 10 == 0) {
            const auto [validation_loss, validation_accuracy] = evaluate(*model, *validation_set);
            std::printf("  epoch %3lld  train loss %.4f  validation loss %.4f  accuracy %5.1f%%\n",
                        static_cast<long long>(epoch), total / static_cast<double>(batches), validation_loss,
                        100.0 * validation_accuracy);
        }
    }
    //! [training]
    return evaluate(*model, *validation_set).second;
}

}  // namespace

int main() {
    manual_seed(0);  // the weights' initialisation
    Generator generator(0);
    const auto spirals = make_spirals(300, generator);
    const auto parts = data::random_split(spirals, {0.8, 0.2}, generator);
    std::printf("spirals: %lld training and %lld validation points, 3 classes\n",
                static_cast<long long>(parts[0]->size()), static_cast<long long>(parts[1]->size()));

    const auto mlp = make_mlp();
    const auto residual = make_residual_mlp();
    std::cout << *residual << "\n";
    const double mlp_accuracy = train("MLP 2-64-64-3", mlp, parts[0], parts[1]);
    const double residual_accuracy = train("residual MLP", residual, parts[0], parts[1]);
    std::printf("validation accuracy: MLP %.1f%%, residual MLP %.1f%%\n", 100.0 * mlp_accuracy,
                100.0 * residual_accuracy);
    return mlp_accuracy >= 0.95 && residual_accuracy >= 0.95 ? 0 : 1;
}
