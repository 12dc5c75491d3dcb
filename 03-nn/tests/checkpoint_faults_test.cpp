// Checkpoints under faults: every system call of a save fails in turn (injected), the disk
// really fills up (a tiny tmpfs in a private mount namespace, where the system allows one), and
// a process is killed at random moments of a save loop. Each time the previous checkpoint must
// stay whole and load, and training resumed from it must end bit for bit where an uninterrupted
// run ends.
#include "checkpoint_test_helpers.hpp"
#include "fault_test_helpers.hpp"

#include <stepgrad/optim/adam.hpp>
#include <stepgrad/shared/atomic_file.hpp>

#include <chrono>
#include <cstdlib>
#include <random>
#include <signal.h>
#include <thread>

using namespace checkpoint_test;
using namespace fault_test;
using namespace stepgrad::testing;
using Catch::Matchers::Contains;

namespace {

constexpr std::int64_t kSteps = 4;

// A small training run: TinySequential's parameters, Adam, and gradients that depend only on the
// step number, so the run is a pure function of where it starts.
struct Run {
    explicit Run(std::uint64_t seed = 7) : model(seed) {}

    TinySequential model;
    optim::Adam adam{model.parameters(), optim::AdamOptions(0.01).weight_decay(0.001)};
    std::int64_t steps = 0;

    void step() {
        std::uint64_t seed = 1000 + 10 * static_cast<std::uint64_t>(steps);
        for (const Tensor& p : model.parameters()) Tensor(p).set_grad(random_input(p.shape(), seed++));
        adam.step();
        ++steps;
    }

    nn::StateDict checkpoint() const {
        nn::StateDict state;
        for (const auto& [name, tensor] : model.state_dict()) state.insert("model." + name, tensor);
        const nn::StateDict optimizer = adam.state_dict();
        for (const auto& [name, tensor] : optimizer) state.insert("optimizer." + name, tensor);
        for (const auto& [key, value] : optimizer.metadata) state.metadata["optimizer." + key] = value;
        state.metadata["steps"] = std::to_string(steps);
        return state;
    }

    void restore(const fs::path& path) {
        const nn::StateDict state = nn::load_safetensors(path);
        nn::StateDict weights, optimizer;
        for (const auto& [name, tensor] : state) {
            if (name.starts_with("model.")) weights.insert(name.substr(6), tensor);
            if (name.starts_with("optimizer.")) optimizer.insert(name.substr(10), tensor);
        }
        for (const auto& [key, value] : state.metadata) {
            if (key.starts_with("optimizer.")) optimizer.metadata[key.substr(10)] = value;
        }
        model.load_state_dict(weights);
        adam.load_state_dict(optimizer);
        steps = std::stoll(state.metadata.at("steps"));
    }
};

// The whole state after kSteps uninterrupted steps, as the bytes of its checkpoint.
std::string uninterrupted_bytes() {
    Run run;
    while (run.steps < kSteps) run.step();
    return nn::serialize_safetensors(run.checkpoint());
}

// One tensor "w" of `floats` copies of `value`, and a "version" in the metadata.
nn::StateDict filled(std::int64_t floats, float value, const std::string& version) {
    nn::StateDict state;
    state.insert("w", full({floats}, value));
    state.metadata["version"] = version;
    return state;
}

// Whether the file at `path` loads and its "w" is `floats` copies of `value`.
bool holds(const fs::path& path, std::int64_t floats, float value) {
    const nn::StateDict state = nn::load_safetensors(path);
    return state.find("w") != nullptr && state.find("w")->to_vector<float>() == std::vector<float>(floats, value);
}

}  // namespace

TEST_CASE("a checkpoint save failing at any system call keeps the previous checkpoint, and the run resumes exactly",
          "[chapter03][checkpoint][faults]") {
    const std::string expected = uninterrupted_bytes();
    int injected = 0;
    for (const FileCall call : kAllFileCalls) {
        for (const FaultMode& mode : kFaultModes) {
            if (mode.short_write && call != FileCall::write) continue;
            for (int nth = 1;; ++nth) {
                INFO(to_string(call) << " number " << nth << " fails: " << mode.name);
                TempDir dir;
                const fs::path path = dir.path / "run.safetensors";
                Run run;
                run.step();
                run.step();
                nn::save_safetensors(run.checkpoint(), path);
                const std::string old_bytes = read_bytes(path);
                run.step();
                const std::string new_bytes = nn::serialize_safetensors(run.checkpoint());

                std::string message;
                int fired = 0;
                {
                    FileFaultInjector faults({{call, nth, mode.error, mode.short_write}});
                    try {
                        nn::save_safetensors(run.checkpoint(), path);
                    } catch (const nn::CheckpointError& error) {
                        message = error.what();
                    }
                    fired = faults.fired();
                }
                if (fired == 0) {  // a save makes fewer calls of this kind: all were tried
                    CHECK(message.empty());
                    break;
                }
                ++injected;
                CHECK(temp_files_in(dir.path).empty());
                const bool renamed = read_bytes(path) == new_bytes;
                if (call == FileCall::close && nth == 2) {
                    CHECK(message.empty());  // the directory's descriptor: read-only, already synced
                } else {
                    CHECK_THAT(message, Contains(path.string() + ": " + failing_step(call, nth)) &&
                                            Contains(std::strerror(mode.error)));
                    CHECK(renamed == message.starts_with(path.string() + ": saved, but"));
                    if (!renamed) CHECK(read_bytes(path) == old_bytes);  // byte for byte
                }

                Run resumed(99);  // other weights: everything must come from the file
                resumed.restore(path);
                CHECK(resumed.steps == (renamed ? 3 : 2));
                while (resumed.steps < kSteps) resumed.step();
                CHECK(nn::serialize_safetensors(resumed.checkpoint()) == expected);
            }
        }
    }
    // open x2, write, fsync x2, close x2, rename: each with EIO and ENOSPC, and the short write.
    CHECK(injected == 2 * 8 + 1);
}

TEST_CASE("a real full disk: a tiny tmpfs refuses the new checkpoint and the old one stays whole",
          "[chapter03][checkpoint][faults][full-disk]") {
    TempDir dir;
    const fs::path mount_point = dir.path / "tiny";
    fs::create_directory(mount_point);
    const fs::path report = dir.path / "report.txt";
    const int code = in_child([&] {
        if (!mount_tiny_tmpfs(mount_point, 64 * 1024)) return kCannotMount;
        std::string problems;
        const auto expect = [&](bool ok, const std::string& what) {
            if (!ok) problems += what + "\n";
        };
        const fs::path path = mount_point / "run.safetensors";
        nn::save_safetensors(filled(4096, 1.0f, "old"), path);  // 16 KiB: fits
        const std::string old_bytes = read_bytes(path);
        // 1 MiB alone; 48 KiB beside the old 16 KiB (pages: 13 + 5 > 16)
        for (const std::int64_t floats : {std::int64_t{1} << 18, std::int64_t{12} << 10}) {
            std::string message;
            try {
                nn::save_safetensors(filled(floats, 2.0f, "new"), path);
            } catch (const nn::CheckpointError& error) {
                message = error.what();
            }
            expect(message.find(path.string() + ": cannot save: writing the temporary file") == 0 &&
                       message.find("No space left on device") != std::string::npos,
                   "message for " + std::to_string(floats) + " floats: '" + message + "'");
            expect(read_bytes(path) == old_bytes, "the old file changed");
            expect(holds(path, 4096, 1.0f), "the old file does not load");
            expect(temp_files_in(mount_point).empty(), "a temporary file was left");
        }
        nn::save_safetensors(filled(8192, 3.0f, "smaller"), path);  // 32 KiB beside 16 KiB (9 + 5 pages): fits
        expect(holds(path, 8192, 3.0f), "a save that fits did not replace the file");
        write_bytes(report, problems);
        return problems.empty() ? 0 : 1;
    });
    if (code == kCannotMount) {
        WARN("skipped: this system does not let the test mount a tmpfs in a private namespace "
             "(unshare(CLONE_NEWUSER | CLONE_NEWNS) or mount failed); the injected ENOSPC tests still ran");
        return;
    }
    INFO(read_bytes(report));
    CHECK(code == 0);
}

TEST_CASE("a process killed at random moments of a save loop leaves the old checkpoint or the new one, whole",
          "[chapter03][checkpoint][faults][kill]") {
    TempDir dir;
    const fs::path path = dir.path / "run.safetensors";
    constexpr std::int64_t kFloats = std::int64_t{1} << 18;  // 1 MiB a file: a write takes a while
    const auto started = std::chrono::steady_clock::now();
    nn::save_safetensors(filled(kFloats, 0.0f, "0"), path);
    const auto one_save = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    // Kills land anywhere in the first three saves of the child (its start included).
    std::mt19937 random(2026);
    std::uniform_int_distribution<std::int64_t> delay_us(0, 3 * one_save.count() + 1000);
    int version = 0, advanced = 0, inside_a_save = 0;
    for (int round = 0; round < 25; ++round) {
        const int first = version + 1;
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {  // the child saves new versions until it is killed
            try {
                for (int v = first;; ++v) nn::save_safetensors(filled(kFloats, static_cast<float>(v), std::to_string(v)), path);
            } catch (...) {
            }
            std::_Exit(1);
        }
        std::this_thread::sleep_for(std::chrono::microseconds(delay_us(random)));
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);

        INFO("round " << round);
        nn::StateDict state;
        REQUIRE_NOTHROW(state = nn::load_safetensors(path));
        const int saved = std::stoi(state.metadata.at("version"));
        CHECK((saved == version || saved >= first));  // never older than the last good one
        const bool whole = state.find("w")->to_vector<float>() == std::vector<float>(kFloats, static_cast<float>(saved));
        CHECK(whole);
        advanced += saved != version;
        version = saved;
        const std::vector<std::string> left = temp_files_in(dir.path);  // a kill cannot clean up
        inside_a_save += !left.empty();
        for (const std::string& temp : left) fs::remove(dir.path / temp);
    }
    SUCCEED("the file advanced in " << advanced << " of 25 rounds; " << inside_a_save
                                    << " kills landed between creating a temporary file and renaming it");
    CHECK(advanced > 0);
}
