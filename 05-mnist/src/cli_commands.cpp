// The three commands of stepgrad-mnist: train (with progress, checkpoints, CSV and plot), eval
// and predict.
#include "cli_commands.hpp"

#include <chrono>
#include <cstdio>
#include <iomanip>
#include <optional>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "stepgrad/mnist/cli.hpp"
#include "stepgrad/mnist/metrics_csv.hpp"
#include "stepgrad/mnist/svg_plot.hpp"
#include "stepgrad/mnist/text_art.hpp"
#include "stepgrad/shared/progress.hpp"

namespace stepgrad::mnist::cli {

namespace {

std::string number(double value) {
    std::ostringstream text;
    text << value;
    return text.str();
}

// A resumed run continues as it was saved: a flag that says otherwise is refused, not ignored.
void check_resume_flags(const TrainRequest& request, const TrainOptions& saved) {
    const TrainOptions& asked = request.options;
    auto same = [&](const char* flag, const std::string& asked_value, const std::string& saved_value) {
        if (request.given.contains(flag) && asked_value != saved_value) {
            throw std::invalid_argument(std::string(flag) + " " + asked_value + " disagrees with " +
                                        request.resume.string() + ", which was saved with " + saved_value +
                                        ": drop the flag to continue that run, or start a new one without --resume");
        }
    };
    same("--model", to_string(asked.model.kind), to_string(saved.model.kind));
    same("--hidden", join_sizes(asked.model.hidden), join_sizes(saved.model.hidden));
    same("--channels", join_sizes(asked.model.channels), join_sizes(saved.model.channels));
    same("--batchnorm", asked.model.batchnorm ? "on" : "off", saved.model.batchnorm ? "on" : "off");
    same("--dropout", number(asked.model.dropout), number(saved.model.dropout));
    same("--batch-size", std::to_string(asked.batch_size), std::to_string(saved.batch_size));
    same("--lr", number(asked.lr.value_or(0.0)), number(saved.lr.value_or(0.0)));
    same("--optimizer", to_string(asked.optimizer), to_string(saved.optimizer));
    same("--momentum", number(asked.momentum), number(saved.momentum));
    same("--weight-decay", number(asked.weight_decay), number(saved.weight_decay));
    same("--scheduler", to_string(asked.scheduler), to_string(saved.scheduler));
    same("--augment", asked.augment ? "on" : "off", saved.augment ? "on" : "off");
    same("--seed", std::to_string(asked.seed), std::to_string(saved.seed));
    same("--limit", std::to_string(asked.train_limit), std::to_string(saved.train_limit));
}

void print_run_header(std::ostream& out, const MnistData& data, const Trainer& trainer, int threads) {
    const TrainOptions& o = trainer.options();
    out << data.name << " (" << data.directory.string() << "): " << with_commas(trainer.train_size())
        << " training and " << with_commas(data.test.images.size(0)) << " test images, " << o.model.image_height << "x"
        << o.model.image_width << ", " << data.num_classes << " classes\n";
    out << "model: " << describe(o.model) << " (" << with_commas(trainer.model().parameter_count()) << " parameters)\n";
    out << "training: " << o.epochs << (o.epochs == 1 ? " epoch" : " epochs") << ", batch " << o.batch_size << ", "
        << to_string(o.optimizer) << " lr "
        << number(*o.lr);
    if (o.optimizer == OptimizerKind::SGD) out << " momentum " << number(o.momentum);
    if (o.weight_decay > 0.0) out << " weight decay " << number(o.weight_decay);
    out << ", " << to_string(o.scheduler) << " schedule" << (o.augment ? ", shifted images" : "") << ", seed " << o.seed
        << ", " << (o.device == Device::CUDA ? "cuda" : "cpu") << ", " << threads << (threads == 1 ? " thread" : " threads")
        << "\n";
}

void print_epoch(std::ostream& out, const EpochMetrics& m, std::int64_t epochs) {
    char line[200];
    std::snprintf(line, sizeof line,
                  "epoch %2lld/%lld  train loss %.4f acc %6.2f%%  test loss %.4f acc %6.2f%%  %s img/s  %.1f s  lr %.3g\n",
                  static_cast<long long>(m.epoch), static_cast<long long>(epochs), m.train_loss, 100.0 * m.train_accuracy,
                  m.test_loss, 100.0 * m.test_accuracy, with_commas(std::llround(m.images_per_second)).c_str(),
                  m.train_seconds, m.lr);
    out << line << std::flush;
}

LaunchCounter launch_counter = nullptr;  // set by main when chapter 4's GPU backend is linked

// One epoch, with a progress bar (or plain lines) of batches, loss, accuracy and images/s.
// On a device with a launch counter, it also prints the kernels launched per training step.
EpochMetrics train_one_epoch(Trainer& trainer, std::ostream& out, bool interactive) {
    const TrainOptions& o = trainer.options();
    const std::string label = "epoch " + std::to_string(trainer.epochs_done() + 1) + "/" + std::to_string(o.epochs);
    ProgressBar bar(out, trainer.batches_per_epoch(), label, interactive);
    const auto start = std::chrono::steady_clock::now();
    const bool count_launches = launch_counter != nullptr && o.device != Device::CPU;
    long long launches_after_first = 0, launches_after_last = 0;
    std::int64_t steps = 0;
    EpochMetrics metrics = trainer.train_epoch([&](std::int64_t done, std::int64_t, double loss, double accuracy) {
        if (count_launches) {
            (done == 1 ? launches_after_first : launches_after_last) = launch_counter();
            steps = done;
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double images = static_cast<double>(done * o.batch_size);
        char status[96];
        std::snprintf(status, sizeof status, "loss %.4f  acc %5.2f%%  %s img/s", loss, 100.0 * accuracy,
                      with_commas(seconds > 0.0 ? std::llround(images / seconds) : 0).c_str());
        bar.update(done, status);
    });
    bar.finish();
    if (count_launches && steps > 1) {
        char line[96];
        std::snprintf(line, sizeof line, "kernel launches per training step: %.1f\n",
                      static_cast<double>(launches_after_last - launches_after_first) / static_cast<double>(steps - 1));
        out << line;
    }
    return metrics;
}

}  // namespace

int train(const TrainRequest& request, std::ostream& out) {
    const MnistData data = load_data(request.data);
    std::optional<Trainer> trainer;
    if (!request.resume.empty()) {
        const std::optional<std::int64_t> epochs =
            request.given.contains("--epochs") ? std::optional(request.options.epochs) : std::nullopt;
        trainer.emplace(Trainer::resume(data, request.resume, epochs, request.options.device));
        check_resume_flags(request, trainer->options());
    } else {
        trainer.emplace(data, request.options);
    }
    const TrainOptions& options = trainer->options();
    const int threads = use_threads(request.threads, default_threads(options.model));
    print_run_header(out, data, *trainer, threads);
    if (!request.resume.empty()) {
        out << "resumed from " << request.resume.string() << " after epoch " << trainer->epochs_done() << "\n";
    }

    while (trainer->epochs_done() < options.epochs) {
        const EpochMetrics metrics = train_one_epoch(*trainer, out, request.interactive);
        print_epoch(out, metrics, options.epochs);
        if (!request.save.empty()) trainer->save(request.save);
        if (!request.metrics.empty()) write_metrics_csv(request.metrics, trainer->history());
        if (!request.plot.empty()) {
            write_training_curves_svg(request.plot, trainer->history(),
                                      describe(options.model) + " on " + data.name);
        }
    }

    const Evaluation test = evaluate(trainer->classifier(), data.test, data.num_classes);
    out << "\ntest accuracy " << percent(test.accuracy) << " ("
        << with_commas(std::llround(test.accuracy * static_cast<double>(test.confusion.total()))) << " of "
        << with_commas(test.confusion.total()) << "), loss " << std::fixed << std::setprecision(4) << test.loss
        << std::defaultfloat << "\n\n";
    print_confusion_report(out, test.confusion, data.class_names);
    if (!request.save.empty()) out << "checkpoint: " << request.save.string() << "\n";
    if (!request.metrics.empty()) out << "metrics:    " << request.metrics.string() << "\n";
    if (!request.plot.empty()) out << "plot:       " << request.plot.string() << "\n";
    return 0;
}

int eval(const UseRequest& request, std::ostream& out) {
    check_device(request.device);
    const MnistData data = load_data(request.data);
    const Classifier classifier = load_classifier(request.checkpoint, data, request.device);
    use_threads(request.threads, 1);  // one pass, no backward: one thread is plenty
    const Evaluation test = evaluate(classifier, data.test, data.num_classes);
    out << request.checkpoint.string() << ": " << classifier.description << "\n";
    out << "test accuracy " << percent(test.accuracy) << " on " << with_commas(test.confusion.total()) << " "
        << data.name << " test images, loss " << std::fixed << std::setprecision(4) << test.loss << std::defaultfloat
        << "\n\n";
    print_confusion_report(out, test.confusion, data.class_names);
    return 0;
}

int predict(const UseRequest& request, std::ostream& out) {
    check_device(request.device);
    const MnistData data = load_data(request.data);
    const Split& split = request.split == "train" ? data.train : data.test;
    const std::int64_t count = split.images.size(0);
    if (request.index < 0 || request.index >= count) {
        throw std::invalid_argument("--index " + std::to_string(request.index) + " is out of range: the " +
                                    request.split + " split has " + with_commas(count) + " images (0.." +
                                    std::to_string(count - 1) + ")");
    }
    const Classifier classifier = load_classifier(request.checkpoint, data, request.device);
    use_threads(request.threads, 1);
    const Tensor image = narrow(split.images, 0, request.index, 1);  // (1, C, H, W)
    const Tensor probabilities = softmax(classifier.logits(image), 1).cpu();
    const std::vector<float> p = probabilities.to_vector();
    const auto label = split.labels.cpu().to_vector<std::int64_t>()[static_cast<std::size_t>(request.index)];

    std::vector<std::int64_t> ranked(p.size());
    for (std::size_t c = 0; c < ranked.size(); ++c) ranked[c] = static_cast<std::int64_t>(c);
    std::stable_sort(ranked.begin(), ranked.end(), [&](std::int64_t a, std::int64_t b) {
        return p[static_cast<std::size_t>(a)] > p[static_cast<std::size_t>(b)];
    });
    auto name = [&](std::int64_t c) { return data.class_names[static_cast<std::size_t>(c)] + " (" + std::to_string(c) + ")"; };

    out << data.name << " " << request.split << " image " << request.index << " of " << with_commas(count) << ":\n";
    out << image_as_text(select(image, 0, 0));
    out << "true label: " << name(label) << "\n";
    out << "predicted:  " << name(ranked[0]) << (ranked[0] == label ? "  (right)" : "  (wrong)") << "\n";
    out << "top 3:\n";
    for (std::size_t k = 0; k < std::min<std::size_t>(3, ranked.size()); ++k) {
        const double probability = p[static_cast<std::size_t>(ranked[k])];
        char line[160];
        std::snprintf(line, sizeof line, "  %-18s %6.2f%%  ", name(ranked[k]).c_str(), 100.0 * probability);
        out << line << probability_bar(probability, 20) << "\n";
    }
    return 0;
}

}  // namespace stepgrad::mnist::cli

namespace stepgrad::mnist {

void set_launch_counter(LaunchCounter counter) { cli::launch_counter = counter; }

}  // namespace stepgrad::mnist
