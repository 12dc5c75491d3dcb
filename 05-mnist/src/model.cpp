// The MLP and the CNN of chapter 5, and their configuration as checkpoint metadata.
#include "stepgrad/mnist/model.hpp"

#include <charconv>
#include <sstream>
#include <stdexcept>

namespace stepgrad::mnist {

namespace {

void check_config(const ModelConfig& config) {
    if (config.dropout < 0.0 || config.dropout >= 1.0) {
        throw std::invalid_argument("dropout must be in [0, 1), got " + std::to_string(config.dropout));
    }
    if (config.image_channels <= 0 || config.image_height <= 0 || config.image_width <= 0 || config.num_classes < 2) {
        throw std::invalid_argument("the images must have a positive size and there must be at least 2 classes");
    }
    const auto& widths = config.kind == ModelKind::MLP ? config.hidden : config.channels;
    for (std::int64_t width : widths) {
        if (width <= 0) throw std::invalid_argument("layer widths must be positive, got " + join_sizes(widths));
    }
    if (config.kind == ModelKind::CNN) {
        if (config.channels.empty()) throw std::invalid_argument("a CNN needs at least one conv block (--channels)");
        const std::int64_t shrink = std::int64_t{1} << config.channels.size();
        if (config.image_height / shrink == 0 || config.image_width / shrink == 0) {
            throw std::invalid_argument(std::to_string(config.channels.size()) + " conv blocks halve a " +
                                        std::to_string(config.image_height) + "x" + std::to_string(config.image_width) +
                                        " image to nothing: use fewer --channels");
        }
    }
}

// Flatten, then Linear → [BatchNorm1d] → ReLU → [Dropout] per hidden size, then the classifier.
//! [mlp]
std::shared_ptr<nn::Sequential> make_mlp(const ModelConfig& config) {
    auto model = std::make_shared<nn::Sequential>();
    model->push_back(std::make_shared<nn::Flatten>());
    std::int64_t features = config.image_channels * config.image_height * config.image_width;
    for (std::int64_t width : config.hidden) {
        model->push_back(std::make_shared<nn::Linear>(features, width));
        if (config.batchnorm) model->push_back(std::make_shared<nn::BatchNorm1d>(width));
        model->push_back(std::make_shared<nn::ReLU>());
        if (config.dropout > 0.0) model->push_back(std::make_shared<nn::Dropout>(config.dropout));
        features = width;
    }
    model->push_back(std::make_shared<nn::Linear>(features, config.num_classes));
    return model;
}
//! [mlp]

// Conv 3x3 pad 1 → [BatchNorm2d] → ReLU → MaxPool 2 per block, then Flatten → [Dropout] → Linear.
// A conv followed by batch norm has no bias: the norm's shift would cancel it.
//! [cnn]
std::shared_ptr<nn::Sequential> make_cnn(const ModelConfig& config) {
    auto model = std::make_shared<nn::Sequential>();
    std::int64_t in_channels = config.image_channels;
    std::int64_t height = config.image_height;
    std::int64_t width = config.image_width;
    for (std::int64_t out_channels : config.channels) {
        model->push_back(std::make_shared<nn::Conv2d>(
            nn::Conv2dOptions(in_channels, out_channels, 3).padding(1).bias(!config.batchnorm)));
        if (config.batchnorm) model->push_back(std::make_shared<nn::BatchNorm2d>(out_channels));
        model->push_back(std::make_shared<nn::ReLU>());
        model->push_back(std::make_shared<nn::MaxPool2d>(2));
        in_channels = out_channels;
        height /= 2;
        width /= 2;
    }
    model->push_back(std::make_shared<nn::Flatten>());
    if (config.dropout > 0.0) model->push_back(std::make_shared<nn::Dropout>(config.dropout));
    model->push_back(std::make_shared<nn::Linear>(in_channels * height * width, config.num_classes));
    return model;
}
//! [cnn]

const std::string& require(const std::map<std::string, std::string>& metadata, const std::string& key) {
    auto found = metadata.find(key);
    if (found == metadata.end()) throw std::invalid_argument("the checkpoint has no '" + key + "' entry");
    return found->second;
}

std::int64_t parse_int(const std::string& text, const std::string& what) {
    std::int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) {
        throw std::invalid_argument(what + ": '" + text + "' is not an integer");
    }
    return value;
}

}  // namespace

std::string to_string(ModelKind kind) { return kind == ModelKind::MLP ? "mlp" : "cnn"; }

std::shared_ptr<nn::Sequential> make_model(const ModelConfig& config) {
    check_config(config);
    return config.kind == ModelKind::MLP ? make_mlp(config) : make_cnn(config);
}

std::string describe(const ModelConfig& config) {
    std::ostringstream text;
    const std::int64_t pixels = config.image_channels * config.image_height * config.image_width;
    if (config.kind == ModelKind::MLP) {
        text << "mlp " << pixels;
        for (std::int64_t width : config.hidden) text << '-' << width;
        text << '-' << config.num_classes;
    } else {
        text << "cnn " << config.image_channels << 'x' << config.image_height << 'x' << config.image_width << ' ';
        std::int64_t height = config.image_height;
        std::int64_t width = config.image_width;
        for (std::size_t i = 0; i < config.channels.size(); ++i) {
            text << (i == 0 ? "" : "-") << "conv" << config.channels[i];
            height /= 2;
            width /= 2;
        }
        text << " linear " << config.channels.back() * height * width << '-' << config.num_classes;
    }
    if (config.batchnorm) text << ", batch norm";
    if (config.dropout > 0.0) text << ", dropout " << config.dropout;
    return text.str();
}

std::map<std::string, std::string> to_metadata(const ModelConfig& config) {
    std::ostringstream dropout;
    dropout.precision(17);
    dropout << config.dropout;
    return {{"model.kind", to_string(config.kind)},
            {"model.hidden", join_sizes(config.hidden)},
            {"model.channels", join_sizes(config.channels)},
            {"model.batchnorm", config.batchnorm ? "true" : "false"},
            {"model.dropout", dropout.str()},
            {"model.image_shape", std::to_string(config.image_channels) + "," + std::to_string(config.image_height) +
                                      "," + std::to_string(config.image_width)},
            {"model.num_classes", std::to_string(config.num_classes)}};
}

ModelConfig model_config_from_metadata(const std::map<std::string, std::string>& metadata) {
    ModelConfig config;
    const std::string& kind = require(metadata, "model.kind");
    if (kind != "mlp" && kind != "cnn") throw std::invalid_argument("unknown model kind '" + kind + "'");
    config.kind = kind == "mlp" ? ModelKind::MLP : ModelKind::CNN;
    const std::string& hidden = require(metadata, "model.hidden");
    config.hidden = hidden.empty() ? std::vector<std::int64_t>{} : parse_sizes(hidden, "model.hidden");
    config.channels = parse_sizes(require(metadata, "model.channels"), "model.channels");
    config.batchnorm = require(metadata, "model.batchnorm") == "true";
    try {
        config.dropout = std::stod(require(metadata, "model.dropout"));
    } catch (const std::logic_error&) {
        throw std::invalid_argument("model.dropout is not a number");
    }
    const std::vector<std::int64_t> shape = parse_sizes(require(metadata, "model.image_shape"), "model.image_shape");
    if (shape.size() != 3) throw std::invalid_argument("model.image_shape must hold 3 sizes");
    config.image_channels = shape[0];
    config.image_height = shape[1];
    config.image_width = shape[2];
    config.num_classes = parse_int(require(metadata, "model.num_classes"), "model.num_classes");
    check_config(config);
    return config;
}

std::string join_sizes(const std::vector<std::int64_t>& sizes) {
    std::string text;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        if (i > 0) text += ',';
        text += std::to_string(sizes[i]);
    }
    return text;
}

std::vector<std::int64_t> parse_sizes(const std::string& text, const std::string& what) {
    std::vector<std::int64_t> sizes;
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = text.find(',', start);
        const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        const std::int64_t size = parse_int(item, what);
        if (size <= 0) throw std::invalid_argument(what + ": sizes must be positive, got " + item);
        sizes.push_back(size);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return sizes;
}

}  // namespace stepgrad::mnist
