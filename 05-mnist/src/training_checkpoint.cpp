// Saving and resuming a training run. One safetensors file holds everything the next epoch
// depends on:
//   tensors  model.<name>      the model's parameters and buffers (its state_dict)
//            optimizer.<name>  the optimizer's per-parameter state (momenta, Adam's averages)
//   metadata format, epoch     what the file is, and how many epochs it has done
//            model.*           the architecture (model.hpp), to rebuild the same network
//            train.*           the options of the run (optimizer, schedule, seed, ...)
//            optimizer.*, scheduler.*, loader.*   their own state_dict metadata
//            rng.default       the default generator's state (dropout draws from it)
//            data.mean/std     the normalisation the model was trained with
//            history           the metrics CSV of the finished epochs
// nn::save_safetensors writes it atomically (a temporary file renamed over the old one), so an
// interrupted save leaves the previous checkpoint whole.
#include "stepgrad/mnist/metrics_csv.hpp"
#include "stepgrad/mnist/trainer.hpp"

#include <charconv>
#include <cstdio>
#include <stdexcept>

namespace stepgrad::mnist {

namespace {

constexpr const char* kFormat = "stepgrad-mnist-checkpoint/1";

// Doubles as text that reads back to the same bits.
std::string exact(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%a", value);
    return buffer;
}

// The items whose name starts with `prefix`, with the prefix taken off (tensors and metadata).
nn::StateDict with_prefix_removed(const nn::StateDict& state, const std::string& prefix) {
    nn::StateDict part;
    for (const auto& [name, tensor] : state) {
        if (name.starts_with(prefix)) part.insert(name.substr(prefix.size()), tensor);
    }
    for (const auto& [key, value] : state.metadata) {
        if (key.starts_with(prefix)) part.metadata[key.substr(prefix.size())] = value;
    }
    return part;
}

void add_with_prefix(nn::StateDict& state, const nn::StateDict& part, const std::string& prefix) {
    for (const auto& [name, tensor] : part) state.insert(prefix + name, tensor.cpu());
    for (const auto& [key, value] : part.metadata) state.metadata[prefix + key] = value;
}

// Reads a checkpoint and checks that Trainer::save wrote it.
nn::StateDict read_checkpoint(const std::filesystem::path& path) {
    nn::StateDict state = nn::load_safetensors(path);
    auto format = state.metadata.find("format");
    if (format == state.metadata.end() || format->second != kFormat) {
        throw nn::CheckpointError(path.string() + ": not a stepgrad-mnist checkpoint (no 'format: " + kFormat +
                                  "' in its metadata); it may be a plain model file from nn::save");
    }
    return state;
}

const std::string& entry(const nn::StateDict& state, const std::string& key, const std::filesystem::path& path) {
    auto found = state.metadata.find(key);
    if (found == state.metadata.end()) throw nn::CheckpointError(path.string() + ": the checkpoint has no '" + key + "'");
    return found->second;
}

double read_double(const nn::StateDict& state, const std::string& key, const std::filesystem::path& path) {
    const std::string& text = entry(state, key, path);
    try {
        std::size_t used = 0;
        const double value = std::stod(text, &used);
        if (used == text.size()) return value;
    } catch (const std::logic_error&) {
    }
    throw nn::CheckpointError(path.string() + ": '" + key + "' = '" + text + "' is not a number");
}

std::int64_t read_int(const nn::StateDict& state, const std::string& key, const std::filesystem::path& path) {
    const std::string& text = entry(state, key, path);
    std::int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) {
        throw nn::CheckpointError(path.string() + ": '" + key + "' = '" + text + "' is not an integer");
    }
    return value;
}

template <class Kind>
Kind read_kind(const nn::StateDict& state, const std::string& key, const std::filesystem::path& path,
               std::initializer_list<Kind> kinds) {
    const std::string& text = entry(state, key, path);
    for (Kind kind : kinds) {
        if (to_string(kind) == text) return kind;
    }
    throw nn::CheckpointError(path.string() + ": unknown " + key + " '" + text + "'");
}

ModelConfig read_model_config(const nn::StateDict& state, const std::filesystem::path& path) {
    try {
        return model_config_from_metadata(state.metadata);
    } catch (const std::invalid_argument& error) {
        throw nn::CheckpointError(path.string() + ": " + error.what());
    }
}

// The model must fit the data it is used on: same image size, same number of classes.
void check_fits(const ModelConfig& config, const MnistData& data, const std::filesystem::path& path) {
    const Shape& shape = data.test.images.shape();
    if (config.image_channels != shape[1] || config.image_height != shape[2] || config.image_width != shape[3] ||
        config.num_classes != data.num_classes) {
        throw std::invalid_argument(path.string() + ": the checkpoint's model takes " +
                                    std::to_string(config.image_channels) + "x" + std::to_string(config.image_height) +
                                    "x" + std::to_string(config.image_width) + " images of " +
                                    std::to_string(config.num_classes) + " classes, but " + data.name + " has " +
                                    std::to_string(shape[1]) + "x" + std::to_string(shape[2]) + "x" +
                                    std::to_string(shape[3]) + " images of " + std::to_string(data.num_classes));
    }
}

void load_model_state(nn::Module& model, const nn::StateDict& state, const std::filesystem::path& path) {
    try {
        model.load_state_dict(with_prefix_removed(state, "model."));
    } catch (const std::exception& error) {
        throw nn::CheckpointError(path.string() + ": the weights do not fit the model the checkpoint describes: " +
                                  error.what());
    }
}

}  // namespace

void Trainer::save(const std::filesystem::path& checkpoint) const {
    nn::StateDict state;
    add_with_prefix(state, model_->state_dict(), "model.");
    add_with_prefix(state, optimizer_->state_dict(), "optimizer.");
    if (scheduler_) add_with_prefix(state, scheduler_->state_dict(), "scheduler.");
    add_with_prefix(state, loader_->state_dict(), "loader.");
    for (const auto& [key, value] : to_metadata(options_.model)) state.metadata[key] = value;
    state.metadata["format"] = kFormat;
    state.metadata["epoch"] = std::to_string(epochs_done());
    state.metadata["dataset"] = data_->name;
    state.metadata["train.epochs"] = std::to_string(options_.epochs);
    state.metadata["train.batch_size"] = std::to_string(options_.batch_size);
    state.metadata["train.lr"] = exact(*options_.lr);
    state.metadata["train.optimizer"] = to_string(options_.optimizer);
    state.metadata["train.momentum"] = exact(options_.momentum);
    state.metadata["train.weight_decay"] = exact(options_.weight_decay);
    state.metadata["train.scheduler"] = to_string(options_.scheduler);
    state.metadata["train.augment"] = options_.augment ? "true" : "false";
    state.metadata["train.seed"] = std::to_string(options_.seed);
    state.metadata["train.limit"] = std::to_string(options_.train_limit);
    state.metadata["data.mean"] = exact(pixel_mean_);
    state.metadata["data.std"] = exact(pixel_std_);
    state.metadata["rng.default"] = default_generator().state();
    state.metadata["history"] = metrics_csv(history_);
    nn::save_safetensors(state, checkpoint);
}

Trainer Trainer::resume(const MnistData& data, const std::filesystem::path& checkpoint,
                        std::optional<std::int64_t> epochs, Device device) {
    const nn::StateDict state = read_checkpoint(checkpoint);
    TrainOptions options;
    options.model = read_model_config(state, checkpoint);
    check_fits(options.model, data, checkpoint);
    options.epochs = read_int(state, "train.epochs", checkpoint);
    options.batch_size = read_int(state, "train.batch_size", checkpoint);
    options.lr = read_double(state, "train.lr", checkpoint);
    options.optimizer = read_kind(state, "train.optimizer", checkpoint,
                                  {OptimizerKind::SGD, OptimizerKind::Adam, OptimizerKind::AdamW});
    options.momentum = read_double(state, "train.momentum", checkpoint);
    options.weight_decay = read_double(state, "train.weight_decay", checkpoint);
    options.scheduler = read_kind(state, "train.scheduler", checkpoint,
                                  {SchedulerKind::None, SchedulerKind::Step, SchedulerKind::Cosine, SchedulerKind::OneCycle});
    options.augment = entry(state, "train.augment", checkpoint) == "true";
    options.seed = static_cast<std::uint64_t>(read_int(state, "train.seed", checkpoint));
    options.train_limit = read_int(state, "train.limit", checkpoint);
    options.device = device;
    if (epochs && *epochs != options.epochs) {
        if (options.scheduler != SchedulerKind::None) {
            throw std::invalid_argument("the " + to_string(options.scheduler) + " schedule of " + checkpoint.string() +
                                        " was planned for " + std::to_string(options.epochs) +
                                        " epochs: resume with --epochs " + std::to_string(options.epochs) +
                                        " (a schedule cannot stretch)");
        }
        options.epochs = *epochs;
    }

    Trainer trainer(data, options, FromCheckpoint{});
    trainer.pixel_mean_ = read_double(state, "data.mean", checkpoint);  // before build(): the loader
    trainer.pixel_std_ = read_double(state, "data.std", checkpoint);    // normalises with them
    trainer.build();
    load_model_state(*trainer.model_, state, checkpoint);
    trainer.optimizer_->load_state_dict(with_prefix_removed(state, "optimizer."));
    if (trainer.scheduler_) trainer.scheduler_->load_state_dict(with_prefix_removed(state, "scheduler."));
    trainer.loader_->load_state_dict(with_prefix_removed(state, "loader."));
    try {
        trainer.history_ = parse_metrics_csv(entry(state, "history", checkpoint));
        default_generator().set_state(entry(state, "rng.default", checkpoint));
    } catch (const std::exception& error) {
        throw nn::CheckpointError(checkpoint.string() + ": " + error.what());
    }
    if (trainer.epochs_done() != read_int(state, "epoch", checkpoint)) {
        throw nn::CheckpointError(checkpoint.string() + ": its history and its epoch disagree");
    }
    return trainer;
}

Classifier load_classifier(const std::filesystem::path& checkpoint, const MnistData& data, Device device) {
    const nn::StateDict state = read_checkpoint(checkpoint);
    const ModelConfig config = read_model_config(state, checkpoint);
    check_fits(config, data, checkpoint);
    Classifier classifier{.model = make_model(config),
                          .mean = read_double(state, "data.mean", checkpoint),
                          .stddev = read_double(state, "data.std", checkpoint),
                          .device = device,
                          .description = describe(config) + ", " + entry(state, "epoch", checkpoint) +
                                         " epochs on " + entry(state, "dataset", checkpoint)};
    load_model_state(*classifier.model, state, checkpoint);
    classifier.model->to(device);
    classifier.model->eval();
    return classifier;
}

}  // namespace stepgrad::mnist
