// Chapter 5, resuming after faults: a training checkpoint whose save fails at any system call
// (injected through shared/atomic_file's seam), a disk that really fills up (a tiny tmpfs, where
// the system allows one), and `train --save` killed at random moments. Each time the previous
// checkpoint stays whole, the run resumes from it, and it ends bit for bit where an
// uninterrupted run ends: weights, optimizer state, schedule, generator and metrics.
#include <catch2/catch.hpp>

#include <stepgrad/mnist/cli.hpp>
#include <stepgrad/mnist/metrics_csv.hpp>
#include <stepgrad/mnist/trainer.hpp>
#include <stepgrad/shared/atomic_file.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../03-nn/tests/fault_test_helpers.hpp"
#include "cli_run.hpp"
#include "synthetic_dataset.hpp"

using namespace stepgrad;
using namespace stepgrad::mnist;
using namespace stepgrad::testing;
using namespace fault_test;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> temp_files_in(const fs::path& dir) {
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().filename().string().find(".tmp.") != std::string::npos) found.push_back(entry.path().string());
    }
    return found;
}

// What differs between two training checkpoints: every tensor bitwise, every metadata entry
// exactly, and the history's numbers except the timings and the memory. Empty when they match.
std::string differences(const fs::path& a_path, const fs::path& b_path) {
    const nn::StateDict a = nn::load_safetensors(a_path);
    const nn::StateDict b = nn::load_safetensors(b_path);
    std::string found;
    if (a.size() != b.size()) found += "tensor counts differ\n";
    for (const auto& [name, x] : a) {
        const Tensor* y = b.find(name);
        const std::size_t bytes = static_cast<std::size_t>(x.numel()) * element_size(x.dtype());
        if (y == nullptr || y->shape() != x.shape() || y->dtype() != x.dtype() ||
            (bytes > 0 && std::memcmp(x.data_ptr(), y->data_ptr(), bytes) != 0)) {
            found += "tensor " + name + " differs\n";
        }
    }
    for (const auto& [key, value] : a.metadata) {
        if (key != "history" && (!b.metadata.contains(key) || b.metadata.at(key) != value)) found += "metadata " + key + " differs\n";
    }
    const std::vector<EpochMetrics> x = parse_metrics_csv(a.metadata.at("history"));
    const std::vector<EpochMetrics> y = parse_metrics_csv(b.metadata.at("history"));
    if (x.size() != y.size()) return found + "history lengths differ\n";
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (x[i].epoch != y[i].epoch || x[i].train_loss != y[i].train_loss || x[i].train_accuracy != y[i].train_accuracy ||
            x[i].test_loss != y[i].test_loss || x[i].test_accuracy != y[i].test_accuracy || x[i].lr != y[i].lr) {
            found += "history row " + std::to_string(i + 1) + " differs\n";
        }
    }
    return found;
}

using Run = stepgrad::mnist::testing::CliRun;

Run run(const std::vector<std::string>& args) { return stepgrad::mnist::testing::run_captured(args); }

// `train` on the synthetic data with a tiny model: dropout, shifted images, Adam, a cosine
// schedule over `epochs`: every kind of state a checkpoint carries. One BLAS thread (children
// are forked).
std::vector<std::string> train_args(const fs::path& data, const std::string& epochs, std::vector<std::string> more) {
    std::vector<std::string> args{"train", "--data", data.string(), "--hidden", "16", "--dropout", "0.2", "--augment",
                                  "--batch-size", "32", "--seed", "4", "--epochs", epochs, "--threads", "1"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

}  // namespace

TEST_CASE("Trainer::save failing at any system call keeps the last checkpoint, and the resumed run is exact",
          "[chapter05][resume][faults]") {
    synthetic::Dataset files(200, 50);
    const MnistData data = load_mnist(files.directory.path);
    synthetic::TempDir outputs;
    TrainOptions options;
    options.model.hidden = {16};
    options.model.dropout = 0.2;
    options.augment = true;
    options.epochs = 3;
    options.batch_size = 32;
    options.seed = 4;
    const fs::path straight = outputs.path / "straight.safetensors";
    {
        Trainer trainer(data, options);
        while (trainer.epochs_done() < 3) (void)trainer.train_epoch();
        trainer.save(straight);
    }
    int injected = 0;
    for (const FileCall call : kAllFileCalls) {
        for (const FaultMode& mode : kFaultModes) {
            if (mode.short_write && call != FileCall::write) continue;
            for (int nth = 1;; ++nth) {
                INFO(to_string(call) << " number " << nth << " of the second save fails: " << mode.name);
                synthetic::TempDir dir;
                const fs::path path = dir.path / "run.safetensors";
                std::string message, old_bytes;
                int fired = 0;
                {
                    Trainer trainer(data, options);
                    (void)trainer.train_epoch();
                    trainer.save(path);
                    old_bytes = read_bytes(path);
                    (void)trainer.train_epoch();
                    FileFaultInjector faults({{call, nth, mode.error, mode.short_write}});
                    try {
                        trainer.save(path);
                    } catch (const nn::CheckpointError& error) {
                        message = error.what();
                    }
                    fired = faults.fired();
                }
                if (fired == 0) break;  // a save makes fewer calls of this kind: all were tried
                ++injected;
                CHECK(temp_files_in(dir.path).empty());
                const bool renamed = read_bytes(path) != old_bytes;
                if (call == FileCall::close && nth == 2) {
                    CHECK(message.empty());  // the directory's read-only descriptor, already synced
                } else {
                    CHECK_THAT(message, Contains(path.string() + ": " + failing_step(call, nth)) &&
                                            Contains(std::strerror(mode.error)));
                    CHECK(renamed == message.starts_with(path.string() + ": saved, but"));
                }

                manual_seed(12345);  // what the generator did meanwhile must not matter
                Trainer resumed = Trainer::resume(data, path);
                CHECK(resumed.epochs_done() == (renamed ? 2 : 1));
                while (resumed.epochs_done() < 3) (void)resumed.train_epoch();
                resumed.save(dir.path / "resumed.safetensors");
                CHECK(differences(dir.path / "resumed.safetensors", straight).empty());
            }
        }
    }
    CHECK(injected == 2 * 8 + 1);  // open x2, write, fsync x2, close x2, rename; EIO, ENOSPC; a short write
}

TEST_CASE("train --save with a fault at epoch 2 of 3: one line, the epoch-1 checkpoint, and --resume ends exactly",
          "[chapter05][cli][resume][faults]") {
    synthetic::Dataset files(200, 50);
    synthetic::TempDir outputs;
    const fs::path data = files.directory.path;
    const fs::path straight = outputs.path / "straight.safetensors";
    REQUIRE(run(train_args(data, "3", {"--save", straight.string()})).code == 0);

    int per_save[std::size(kAllFileCalls)] = {};  // the calls of one epoch's save, by kind
    {
        FileFaultInjector counter;
        REQUIRE(run(train_args(data, "1", {"--save", (outputs.path / "count.safetensors").string()})).code == 0);
        for (const FileCall call : kAllFileCalls) per_save[static_cast<int>(call)] = counter.calls(call);
    }
    CHECK(per_save[static_cast<int>(FileCall::open)] == 2);

    struct Case {
        FileCall call;
        int nth;  // within the second save
        int error;
        bool short_write;
    };
    std::vector<Case> cases;
    for (const FileCall call : kAllFileCalls) {
        for (int nth = 1; nth <= per_save[static_cast<int>(call)]; ++nth) cases.push_back({call, nth, EIO, false});
    }
    cases.push_back({FileCall::write, 1, ENOSPC, true});
    for (const Case& c : cases) {
        INFO(to_string(c.call) << " number " << c.nth << " of the epoch-2 save fails with " << std::strerror(c.error));
        synthetic::TempDir dir;
        const fs::path path = dir.path / "run.safetensors";
        Run failed;
        {
            FileFaultInjector faults({{c.call, per_save[static_cast<int>(c.call)] + c.nth, c.error, c.short_write}});
            failed = run(train_args(data, "3", {"--save", path.string()}));
            CHECK(faults.fired() == 1);
        }
        INFO("stderr: " << failed.err);
        CHECK(temp_files_in(dir.path).empty());
        const bool silent = c.call == FileCall::close && c.nth == 2;  // closing the directory
        if (silent) {  // the run went on to the end
            CHECK(failed.code == 0);
            CHECK(differences(path, straight).empty());
            continue;
        }
        CHECK(failed.code == kExitFailure);  // the disk refused (CheckpointWriteError): not the input
        CHECK(std::count(failed.err.begin(), failed.err.end(), '\n') == 1);
        CHECK_THAT(failed.err, Contains("stepgrad-mnist: failed: " + path.string() + ": " + failing_step(c.call, c.nth)) &&
                                   Contains(std::strerror(c.error)));
        CHECK_THAT(failed.out, Contains("epoch  2/3") && !Contains("epoch  3/3"));
        const fs::path resumed = dir.path / "resumed.safetensors";
        const Run continued = run(train_args(data, "3", {"--resume", path.string(), "--save", resumed.string()}));
        INFO("resume stderr: " << continued.err);
        REQUIRE(continued.code == 0);
        const bool renamed = failed.err.find(": saved, but") != std::string::npos;
        CHECK_THAT(continued.out, Contains(renamed ? "after epoch 2" : "after epoch 1"));
        CHECK(differences(resumed, straight).empty());
    }

    // The metrics CSV goes through the same writer: its failure is a run-time failure, exit 1.
    synthetic::TempDir dir;
    const fs::path path = dir.path / "run.safetensors";
    const fs::path csv = dir.path / "metrics.csv";
    Run failed;
    {
        // Per epoch: the checkpoint's two opens, then the CSV's: the 7th open is epoch 2's CSV.
        FileFaultInjector faults({{FileCall::open, 7, ENOSPC}});
        failed = run(train_args(data, "3", {"--save", path.string(), "--metrics", csv.string()}));
    }
    CHECK(failed.code == 1);
    CHECK_THAT(failed.err, Contains("stepgrad-mnist: failed: " + csv.string() + ": cannot save: cannot create") &&
                               Contains("No space left on device"));
    CHECK(parse_metrics_csv(read_bytes(csv)).size() == 1);
    CHECK(temp_files_in(dir.path).empty());
    REQUIRE(run(train_args(data, "3", {"--resume", path.string(), "--save", path.string()})).code == 0);
    CHECK(differences(path, straight).empty());
}

TEST_CASE("train --save on a really full disk (a tiny tmpfs): a clear error, the last checkpoint whole",
          "[chapter05][cli][faults][full-disk]") {
    synthetic::Dataset files(200, 50);
    synthetic::TempDir outputs;
    const fs::path data = files.directory.path;
    const fs::path straight = outputs.path / "straight.safetensors";
    REQUIRE(run(train_args(data, "3", {"--save", straight.string()})).code == 0);
    const fs::path one_epoch = outputs.path / "one.safetensors";
    REQUIRE(run(train_args(data, "1", {"--save", one_epoch.string()})).code == 0);
    const std::size_t checkpoint_bytes = fs::file_size(one_epoch);

    // Room for one checkpoint and a half: the first save fits, the second (beside it) cannot.
    const fs::path mount_point = outputs.path / "tiny";
    fs::create_directory(mount_point);
    const fs::path report = outputs.path / "report.txt";
    const fs::path rescued = outputs.path / "rescued.safetensors";
    const int code = in_child([&] {
        if (!mount_tiny_tmpfs(mount_point, (checkpoint_bytes * 3 / 2 + 4095) / 4096 * 4096)) return kCannotMount;
        const fs::path path = mount_point / "run.safetensors";
        const Run failed = run(train_args(data, "3", {"--save", path.string()}));
        std::ofstream(report) << failed.code << "\n" << temp_files_in(mount_point).size() << "\n" << failed.err;
        fs::copy_file(path, rescued);  // out of the private mount, for the parent to resume from
        return 0;
    });
    if (code == kCannotMount) {
        WARN("skipped: this system does not let the test mount a tmpfs in a private namespace; "
             "the injected ENOSPC cases still ran");
        return;
    }
    REQUIRE(code == 0);
    std::istringstream lines(read_bytes(report));
    int exit_code = -1;
    std::size_t temp_files = 99;
    lines >> exit_code >> temp_files;
    lines.ignore();
    const std::string err(std::istreambuf_iterator<char>(lines), {});
    INFO("stderr: " << err);
    CHECK(exit_code == kExitFailure);  // a full disk is not the user's input
    CHECK(temp_files == 0);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
    CHECK_THAT(err, Contains("run.safetensors: cannot save: writing the temporary file") &&
                        Contains("No space left on device") && Contains("the previous file, if any, is unchanged"));

    const fs::path resumed = outputs.path / "resumed.safetensors";
    const Run continued = run(train_args(data, "3", {"--resume", rescued.string(), "--save", resumed.string()}));
    REQUIRE(continued.code == 0);
    CHECK_THAT(continued.out, Contains("after epoch 1"));
    CHECK(differences(resumed, straight).empty());
}

TEST_CASE("train --save killed at random moments and resumed each time ends exactly as one uninterrupted run",
          "[chapter05][cli][resume][faults][kill]") {
    synthetic::Dataset files(150, 40);
    synthetic::TempDir outputs;
    const fs::path data = files.directory.path;
    constexpr std::int64_t kEpochs = 10;
    const std::string epochs = std::to_string(kEpochs);
    const fs::path straight = outputs.path / "straight.safetensors";
    const auto started = std::chrono::steady_clock::now();
    REQUIRE(run(train_args(data, epochs, {"--save", straight.string()})).code == 0);
    const auto whole_run = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    const MnistData dataset = load_mnist(data);

    // Each round starts `train --save` (resuming from the checkpoint when there is one) in a
    // child and kills it after a random part of an eighth of a whole run's time (longer after a
    // round that made no progress): a kill lands anywhere, inside a save included, and the run
    // still moves on.
    const fs::path path = outputs.path / "run.safetensors";
    std::mt19937 random(12);
    std::int64_t longest_delay_us = std::max<std::int64_t>(whole_run.count() / 8, 1000);
    std::int64_t done = 0;
    int rounds = 0, kills = 0, inside_a_save = 0;
    while (done < kEpochs && rounds < 200) {
        ++rounds;
        std::vector<std::string> more{"--save", path.string()};
        if (fs::exists(path)) more.insert(more.end(), {"--resume", path.string()});
        const std::vector<std::string> args = train_args(data, epochs, more);
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            int code = 3;
            try {
                code = run(args).code;
            } catch (...) {
            }
            std::_Exit(code);
        }
        std::this_thread::sleep_for(
            std::chrono::microseconds(std::uniform_int_distribution<std::int64_t>(0, longest_delay_us)(random)));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        kills += WIFSIGNALED(status);
        if (WIFEXITED(status)) CHECK(WEXITSTATUS(status) == 0);
        const std::vector<std::string> left = temp_files_in(outputs.path);  // a kill cannot clean up
        inside_a_save += !left.empty();
        for (const std::string& temp : left) fs::remove(temp);
        if (!fs::exists(path)) {  // killed before its first save
            longest_delay_us += longest_delay_us / 2;
            continue;
        }
        INFO("round " << rounds);
        std::int64_t now = -1;
        REQUIRE_NOTHROW(now = Trainer::resume(dataset, path).epochs_done());
        CHECK(now >= done);  // never behind the last good checkpoint
        if (now == done) longest_delay_us += longest_delay_us / 2;  // no progress: wait longer next time
        done = now;
    }
    SUCCEED(rounds << " rounds, " << kills << " killed, " << inside_a_save
                   << " of them between creating a temporary file and renaming it");
    CHECK(kills > 0);
    if (done < kEpochs) REQUIRE(run(train_args(data, epochs, {"--save", path.string(), "--resume", path.string()})).code == 0);
    CHECK(differences(path, straight).empty());
}
