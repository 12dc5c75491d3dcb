// What the commands of stepgrad-mnist share: number formats, the confusion report, the data and
// the thread count.
#include <algorithm>
#include <cstdio>
#include <ostream>

#include "cli_commands.hpp"

namespace stepgrad::mnist::cli {

std::string with_commas(std::int64_t value) {
    std::string digits = std::to_string(value < 0 ? -value : value);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<std::size_t>(i), 1, ',');
    if (value < 0) digits.insert(0, 1, '-');
    return digits;
}

std::string percent(double fraction) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f%%", 100.0 * fraction);
    return text;
}

void print_confusion_report(std::ostream& out, const metrics::ConfusionMatrix& confusion,
                            const std::vector<std::string>& class_names) {
    const std::int64_t classes = confusion.num_classes();
    auto label = [&](std::int64_t c) {
        const auto index = static_cast<std::size_t>(c);
        return std::to_string(c) + " " + (index < class_names.size() ? class_names[index] : "");
    };
    std::size_t label_width = 0;
    for (std::int64_t c = 0; c < classes; ++c) label_width = std::max(label_width, label(c).size());
    std::size_t cell = 4;  // the widest count, at least 4
    for (std::int64_t i = 0; i < classes; ++i) {
        for (std::int64_t j = 0; j < classes; ++j) cell = std::max(cell, std::to_string(confusion.count(i, j)).size());
    }
    const int w = static_cast<int>(cell);
    const int l = static_cast<int>(label_width);

    out << "confusion matrix (rows: true class, columns: predicted class)\n";
    std::string line(label_width, ' ');
    char text[64];
    for (std::int64_t j = 0; j < classes; ++j) {
        std::snprintf(text, sizeof text, " %*lld", w, static_cast<long long>(j));
        line += text;
    }
    out << line << "  accuracy\n";
    const std::vector<double> accuracy = confusion.per_class_accuracy();
    for (std::int64_t i = 0; i < classes; ++i) {
        std::snprintf(text, sizeof text, "%-*s", l, label(i).c_str());
        line = text;
        for (std::int64_t j = 0; j < classes; ++j) {
            std::snprintf(text, sizeof text, " %*lld", w, static_cast<long long>(confusion.count(i, j)));
            line += text;
        }
        std::snprintf(text, sizeof text, "  %7.1f%%", 100.0 * accuracy[static_cast<std::size_t>(i)]);
        out << line << text << "\n";
    }
    const std::vector<metrics::Confusion> pairs = confusion.most_confused(5);
    if (!pairs.empty()) out << "most confused (true -> predicted):\n";
    for (const metrics::Confusion& pair : pairs) {
        out << "  " << label(pair.true_class) << " -> " << label(pair.predicted_class) << ": " << pair.count
            << (pair.count == 1 ? " time\n" : " times\n");
    }
}

MnistData load_data(const std::filesystem::path& directory) {
    return load_mnist(directory.empty() ? default_data_directory() : directory);
}

int default_threads(const ModelConfig& model) {
    // Measured on two cores (bench/run-mnist): two OpenBLAS threads speed up the MLP's products
    // (64x784 by 784x128) by a fifth and the 32,64 CNN's by a third, but slow down a CNN of 8
    // and 16 channels, whose products are too thin to split.
    const bool thin_cnn = model.kind == ModelKind::CNN && !model.channels.empty() && model.channels.front() < 16;
    return thin_cnn ? 1 : 2;
}

int use_threads(int requested, int fallback) {
    if (requested < 0) throw std::invalid_argument("--threads must be >= 0 (0: the default), got " + std::to_string(requested));
    set_num_threads(requested > 0 ? requested : fallback);
    return get_num_threads();
}

}  // namespace stepgrad::mnist::cli
