// stepgrad-mnist's command line, parsed with CLI11: the flags of train, eval and predict, their
// values checked before anything runs (parse_command: also what the fuzzer runs), and the mapping
// of every error to one line and an exit code (run_cli = parse_command, then the command).
#include "stepgrad/mnist/cli.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "cli_commands.hpp"
#include "stepgrad/mnist/idx.hpp"

namespace stepgrad::mnist {

namespace {

// Flags of `train` given as text and turned into TrainOptions after parsing.
struct TrainText {
    std::string model = "mlp", hidden = "256,128", channels = "32,64";
    std::string optimizer = "adam", scheduler = "cosine", device = "cpu";
    double lr = 0.0;
};

Device parse_device(const std::string& name) { return name == "cuda" ? Device::CUDA : Device::CPU; }

void add_train_flags(CLI::App& train, cli::TrainRequest& request, TrainText& text) {
    TrainOptions& o = request.options;
    train.add_option("--model", text.model, "mlp or cnn")->check(CLI::IsMember({"mlp", "cnn"}))->capture_default_str();
    train.add_option("--hidden", text.hidden, "MLP hidden layer sizes")->capture_default_str();
    train.add_option("--channels", text.channels, "CNN conv block widths (3x3 conv, ReLU, 2x2 max-pool each)")
        ->capture_default_str();
    train.add_flag("--batchnorm", o.model.batchnorm, "batch norm after each Linear / Conv2d");
    train.add_option("--dropout", o.model.dropout, "dropout probability (0: none)")->capture_default_str();
    train.add_option("--epochs", o.epochs, "epochs in all")->capture_default_str();
    train.add_option("--batch-size", o.batch_size, "images per batch")->capture_default_str();
    train.add_option("--lr", text.lr, "learning rate (default: 0.001 for adam/adamw, 0.01 for sgd)");
    train.add_option("--optimizer", text.optimizer, "sgd, adam or adamw")
        ->check(CLI::IsMember({"sgd", "adam", "adamw"}))->capture_default_str();
    train.add_option("--momentum", o.momentum, "SGD momentum")->capture_default_str();
    train.add_option("--weight-decay", o.weight_decay, "weight decay (AdamW: decoupled)")->capture_default_str();
    train.add_option("--scheduler", text.scheduler, "none, step, cosine or onecycle")
        ->check(CLI::IsMember({"none", "step", "cosine", "onecycle"}))->capture_default_str();
    train.add_flag("--augment", o.augment, "shift training images by up to 2 pixels");
    train.add_option("--seed", o.seed, "seed of weights, shuffles, dropout and shifts")->capture_default_str();
    train.add_option("--device", text.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
    train.add_option("--threads", request.threads, "CPU threads (0: 2, or 1 for a CNN narrower than 16 channels)")->capture_default_str();
    train.add_option("--limit", o.train_limit, "train on the first N images only (0: all)")->capture_default_str();
    train.add_option("--data", request.data, "MNIST-format IDX directory (default: Debian's Fashion-MNIST)");
    train.add_option("--save", request.save, "write a checkpoint here after every epoch");
    train.add_option("--resume", request.resume, "continue the run saved in this checkpoint");
    train.add_option("--metrics", request.metrics, "write one CSV row per epoch here");
    train.add_option("--plot", request.plot, "draw the loss and accuracy curves here (SVG)");
}

// After parsing: the text flags become options, and the flags the user typed are noted.
void finish_train_request(const CLI::App& train, cli::TrainRequest& request, const TrainText& text) {
    TrainOptions& o = request.options;
    o.model.kind = text.model == "cnn" ? ModelKind::CNN : ModelKind::MLP;
    o.model.hidden = parse_sizes(text.hidden, "--hidden");
    o.model.channels = parse_sizes(text.channels, "--channels");
    o.optimizer = text.optimizer == "sgd" ? OptimizerKind::SGD
                  : text.optimizer == "adamw" ? OptimizerKind::AdamW : OptimizerKind::Adam;
    o.scheduler = text.scheduler == "none" ? SchedulerKind::None
                  : text.scheduler == "step" ? SchedulerKind::Step
                  : text.scheduler == "onecycle" ? SchedulerKind::OneCycle : SchedulerKind::Cosine;
    o.device = parse_device(text.device);
    for (const CLI::Option* option : train.get_options()) {
        if (option->count() > 0) request.given.insert(option->get_name());
    }
    if (request.given.contains("--lr")) o.lr = text.lr;
}

void add_use_flags(CLI::App& command, cli::UseRequest& request, std::string& device) {
    command.add_option("--checkpoint", request.checkpoint, "a checkpoint written by train --save")->required();
    command.add_option("--data", request.data, "MNIST-format IDX directory (default: Debian's Fashion-MNIST)");
    command.add_option("--device", device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
    command.add_option("--threads", request.threads, "CPU threads (0: the model's default)")->capture_default_str();
}

// One line, whatever the message holds.
std::string one_line(std::string message) {
    std::replace(message.begin(), message.end(), '\n', ' ');
    std::replace(message.begin(), message.end(), '\r', ' ');
    return message;
}

// Prints the one-line error of bad input and returns its exit code.
int bad_input(std::ostream& err, const std::string& message) {
    err << "stepgrad-mnist: error: " << one_line(message) << "\n";
    return kExitBadInput;
}

// Prints the one-line error of a failure that is not the input's (a full disk, say) and returns
// its exit code.
int failed(std::ostream& err, const std::string& message) {
    err << "stepgrad-mnist: failed: " << one_line(message) << "\n";
    return kExitFailure;
}

void require(bool ok, const std::string& message) {
    if (!ok) throw std::invalid_argument(message);
}

void check_threads(int threads) {
    require(threads >= 0, std::string("--threads must be >= 0 (0: the default), got ") + std::to_string(threads));
}

// A file the run will write: its folder must exist, so that a typo is refused before training,
// not after the first epoch. (Only looks; whether the disk then takes the bytes is a failure of
// the run, exit code 1.)
void check_output_path(const char* flag, const std::filesystem::path& path) {
    if (path.empty()) return;
    const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    std::error_code error;
    require(std::filesystem::is_directory(folder, error),
            std::string(flag) + ": the folder " + folder.string() + " does not exist");
    require(!std::filesystem::is_directory(path, error),
            std::string(flag) + ": " + path.string() + " is a folder, not a file");
}

// The values of train's flags, checked before anything runs. The Trainer checks its options
// again (for callers of the library); these words name the flags.
void check_train_request(const cli::TrainRequest& request) {
    const TrainOptions& o = request.options;
    require(o.epochs >= 1, std::string("--epochs must be at least 1, got ") + std::to_string(o.epochs));
    require(o.batch_size >= 1, std::string("--batch-size must be at least 1, got ") + std::to_string(o.batch_size));
    if (o.lr && !(*o.lr > 0.0 && std::isfinite(*o.lr))) {
        std::ostringstream message;
        message << "--lr must be a positive number, got " << *o.lr;
        throw std::invalid_argument(message.str());
    }
    require(o.momentum >= 0.0 && o.momentum < 1.0, "--momentum must be in [0, 1)");
    require(o.weight_decay >= 0.0 && std::isfinite(o.weight_decay), "--weight-decay must be >= 0");
    require(o.model.dropout >= 0.0 && o.model.dropout < 1.0, "--dropout must be in [0, 1)");
    require(o.train_limit >= 0, "--limit must be >= 0 (0: all training images)");
    check_threads(request.threads);
    check_device(o.device);
    check_output_path("--save", request.save);
    check_output_path("--metrics", request.metrics);
    check_output_path("--plot", request.plot);
}

// The values of eval's and predict's flags.
void check_use_request(const cli::UseRequest& request) {
    check_threads(request.threads);
    require(request.index >= 0, std::string("--index must be >= 0, got ") + std::to_string(request.index));
    check_device(request.device);
}

}  // namespace

namespace cli {

Command parse_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, bool interactive) {
    CLI::App app{"stepgrad-mnist: train, evaluate and use an MLP or a CNN on MNIST-format data", "stepgrad-mnist"};
    app.require_subcommand(1);
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // as argparse: the last wins
    app.set_help_all_flag("--help-all", "every command's flags");

    Command command;
    command.train.interactive = interactive;
    TrainText train_text;
    CLI::App* train = app.add_subcommand("train", "train a model (the bare command: the default MLP on Fashion-MNIST)");
    add_train_flags(*train, command.train, train_text);

    // eval and predict fill the same request: only one command runs.
    std::string device = "cpu";
    CLI::App* eval = app.add_subcommand("eval", "test accuracy and confusion matrix of a checkpoint");
    add_use_flags(*eval, command.use, device);
    CLI::App* predict = app.add_subcommand("predict", "show one image as text, with the model's top 3 classes");
    add_use_flags(*predict, command.use, device);
    predict->add_option("--index", command.use.index, "which image of the split")->capture_default_str();
    predict->add_option("--split", command.use.split, "test or train")
        ->check(CLI::IsMember({"test", "train"}))->capture_default_str();

    const bool known_command = !args.empty() && (args[0] == "train" || args[0] == "eval" || args[0] == "predict");
    if (!args.empty() && !args[0].starts_with("-") && !known_command) {
        command.exit_code = bad_input(
            err, "unknown command '" + args[0] + "': the commands are train, eval and predict");
        return command;
    }
    try {
        std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 parses from the back
        app.parse(reversed);
    } catch (const CLI::CallForHelp& help) {
        command.exit_code = app.exit(help, out, err);
        return command;
    } catch (const CLI::CallForAllHelp& help) {
        command.exit_code = app.exit(help, out, err);
        return command;
    } catch (const CLI::ParseError& error) {
        command.exit_code = bad_input(err, std::string(error.what()) + " (see stepgrad-mnist --help)");
        return command;
    }

    try {
        if (*train) {
            finish_train_request(*train, command.train, train_text);
            check_train_request(command.train);
            command.kind = Command::Kind::Train;
        } else {
            command.use.device = parse_device(device);
            check_use_request(command.use);
            command.kind = *eval ? Command::Kind::Eval : Command::Kind::Predict;
        }
    } catch (const std::invalid_argument& error) {  // a bad value
        command.kind = Command::Kind::Done;
        command.exit_code = bad_input(err, error.what());
    }
    return command;
}

}  // namespace cli

int check_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    const cli::Command command = cli::parse_command(args, out, err, false);
    return command.kind == cli::Command::Kind::Done ? command.exit_code : kExitOk;
}

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, bool interactive) {
    const cli::Command command = cli::parse_command(args, out, err, interactive);
    try {
        switch (command.kind) {
            case cli::Command::Kind::Done: return command.exit_code;
            case cli::Command::Kind::Train: return cli::train(command.train, out);
            case cli::Command::Kind::Eval: return cli::eval(command.use, out);
            case cli::Command::Kind::Predict: return cli::predict(command.use, out);
        }
        return kExitFailure;
    } catch (const std::invalid_argument& error) {  // a bad value
        return bad_input(err, error.what());
    } catch (const DataNotFound& error) {
        return bad_input(err, error.what());
    } catch (const IdxError& error) {
        return bad_input(err, error.what());
    } catch (const nn::CheckpointWriteError& error) {  // the disk refused: not the input
        return failed(err, error.what());
    } catch (const nn::CheckpointError& error) {
        return bad_input(err, error.what());
    } catch (const std::exception& error) {  // not the input: something broke
        return failed(err, error.what());
    }
}

}  // namespace stepgrad::mnist
