// Checkpoints that must fail: every kind of malformed or mismatched file refused with the
// file's name and the problem (the model unchanged), atomic saving, and the optimizer's state.
#include "checkpoint_test_helpers.hpp"

using namespace checkpoint_test;
using Catch::Matchers::Contains;

TEST_CASE("malformed files are refused with the file's name and the problem, and the model is unchanged",
          "[chapter03][checkpoint]") {
    struct Case {
        const char* what;
        std::string bytes;
        std::string message;
    };
    const std::string zeros8(8, '\0');
    const auto f32 = [](const std::string& name, const std::string& shape, const std::string& offsets) {
        return "\"" + name + R"(":{"dtype":"F32","shape":)" + shape + R"(,"data_offsets":)" + offsets + "}";
    };
    const std::string good = read_bytes(fixture_dir / "tiny_sequential.safetensors");
    std::string huge_length = good;
    huge_length[5] = '\x01';  // 2^40 + 488
    const std::vector<Case> cases{
        {"shorter than the length field", std::string("\x10\0\0", 3), "truncated: the file has 3 bytes"},
        {"header length beyond the file", raw_file("{}", "").substr(0, 8).replace(0, 2, "\x00\x10", 2),
         "truncated: header says 4096 bytes but the file has 8"},
        {"absurd header length", huge_length, "over the 100 MB limit"},
        {"truncated data", good.substr(0, good.size() - 4), "truncated: tensor \"1.weight\" has data_offsets [64, 72]"},
        {"invalid JSON", raw_file(R"({"w":{"dtype":"F32",)", ""), "the header is not valid JSON"},
        {"not an object", raw_file("[1,2]", ""), "the header is JSON but not an object"},
        {"entry not an object", raw_file(R"({"w":3})", ""), "tensor \"w\": entry is not an object"},
        {"missing dtype", raw_file(R"({"w":{"shape":[2],"data_offsets":[0,8]}})", zeros8),
         "tensor \"w\": missing \"dtype\""},
        {"missing shape", raw_file(R"({"w":{"dtype":"F32","data_offsets":[0,8]}})", zeros8),
         "tensor \"w\": missing \"shape\""},
        {"missing offsets", raw_file(R"({"w":{"dtype":"F32","shape":[2]}})", zeros8),
         "tensor \"w\": missing \"data_offsets\""},
        {"unsupported dtype", raw_file(R"({"w":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}})", zeros8),
         "tensor \"w\": dtype F16 is not supported"},
        {"unknown dtype", raw_file(R"({"w":{"dtype":"float32","shape":[2],"data_offsets":[0,8]}})", zeros8),
         "tensor \"w\": unknown dtype \"float32\""},
        {"offsets past the data", raw_file("{" + f32("w", "[100]", "[0,400]") + "}", zeros8),
         "truncated: tensor \"w\" has data_offsets [0, 400] but the data section has only 8 bytes"},
        {"offsets backwards", raw_file("{" + f32("w", "[0]", "[8,0]") + "}", zeros8),
         "data_offsets [8, 0] end before they begin"},
        {"offsets not a pair", raw_file("{" + f32("w", "[2]", "[0,8,8]") + "}", zeros8), "is not a [begin, end] pair"},
        {"fractional offset", raw_file("{" + f32("w", "[2]", "[0,8.5]") + "}", zeros8),
         "is not a non-negative integer: 8.5"},
        {"overlap", raw_file("{" + f32("a", "[2]", "[0,8]") + "," + f32("b", "[2]", "[4,12]") + "}", zeros8 + "1234"),
         "tensors \"a\" (bytes [0, 8)) and \"b\" (bytes [4, 12)) overlap"},
        {"gap", raw_file("{" + f32("a", "[1]", "[0,4]") + "," + f32("b", "[1]", "[8,12]") + "}", zeros8 + "1234"),
         "gap: bytes [4, 8) of the data section belong to no tensor (before \"b\")"},
        {"bytes after the last tensor", raw_file("{" + f32("a", "[1]", "[0,4]") + "}", zeros8),
         "the data section has 8 bytes but the tensors end at byte 4"},
        {"shape and size disagree", raw_file("{" + f32("w", "[3]", "[0,8]") + "}", zeros8),
         "tensor \"w\": dtype F32 and shape [3] need 12 bytes but data_offsets [0, 8] span 8"},
        {"negative size", raw_file("{" + f32("w", "[-2]", "[0,8]") + "}", zeros8),
         "a size in \"shape\" is negative: -2"},
        {"shape overflows", raw_file("{" + f32("w", "[4611686018427387904,8]", "[0,8]") + "}", zeros8),
         "shape [4611686018427387904,8] is too large"},
        {"duplicate names", raw_file("{" + f32("w", "[2]", "[0,8]") + "," + f32("w", "[2]", "[0,8]") + "}", zeros8),
         "the header names \"w\" twice"},
        {"metadata not strings", raw_file(R"({"__metadata__":{"epoch":3}})", ""),
         "\"__metadata__\" value \"epoch\" is not a string"},
        {"wrong name", pytorch_state_changed("0.weight", "0.weights", zeros({2, 3})),
         "missing from the checkpoint: '0.weight'"},
        {"wrong name", pytorch_state_changed("0.weight", "0.weights", zeros({2, 3})),
         "unexpected in the checkpoint (not in the model): '0.weights'"},
        {"wrong shape", pytorch_state_changed("0.weight", "0.weight", zeros({3, 2})),
         "'0.weight' has shape [3, 2] in the checkpoint but [2, 3] in the model"},
        {"wrong dtype", pytorch_state_changed("1.num_batches_tracked", "1.num_batches_tracked", scalar_tensor(1.0)),
         "'1.num_batches_tracked' has dtype torch.float32 in the checkpoint but torch.int64 in the model"},
        {"an optimizer's file", optimizer_file(), "this is an optimizer checkpoint (SGD), not a model's"},
    };
    TempDir dir;
    TinySequential model(7);
    const std::vector<Tensor> before = snapshot(model);
    for (const Case& c : cases) {
        INFO(c.what);
        const fs::path path = dir.path / "broken.safetensors";
        write_bytes(path, c.bytes);
        CHECK_THROWS_AS(nn::load(model, path), nn::CheckpointError);
        CHECK_THROWS_WITH(nn::load(model, path), Contains(path.string() + ": ") && Contains(c.message));
        CHECK(unchanged(model, before));
    }
    CHECK_THROWS_WITH(nn::load(model, dir.path / "absent.safetensors"),
                      Contains("absent.safetensors: cannot open: No such file or directory"));
}

TEST_CASE("what cannot be written is refused before the disk is touched", "[chapter03][checkpoint]") {
    TempDir dir;
    nn::StateDict undefined;
    undefined.insert("w", Tensor());
    CHECK_THROWS_WITH(nn::save_safetensors(undefined, dir.path / "u.safetensors"),
                      Contains("u.safetensors: tensor \"w\" is undefined"));
    nn::StateDict reserved;
    reserved.insert("__metadata__", ones({1}));
    CHECK_THROWS_WITH(nn::serialize_safetensors(reserved), Contains("\"__metadata__\" is reserved"));
    CHECK(fs::is_empty(dir.path));
}

namespace {

// Lowers this process's file size limit (as a full disk would stop a write) for its lifetime.
struct FileSizeLimit {
    rlimit previous{};
    void (*previous_handler)(int) = nullptr;
    explicit FileSizeLimit(rlim_t bytes) {
        getrlimit(RLIMIT_FSIZE, &previous);
        previous_handler = std::signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG
        rlimit limited = previous;
        limited.rlim_cur = bytes;
        setrlimit(RLIMIT_FSIZE, &limited);
    }
    ~FileSizeLimit() {
        setrlimit(RLIMIT_FSIZE, &previous);
        std::signal(SIGXFSZ, previous_handler);
    }
};

}  // namespace

TEST_CASE("saving is atomic: when the write fails the previous checkpoint stays and no temporary file is left",
          "[chapter03][checkpoint]") {
    TempDir dir;
    const fs::path path = dir.path / "model.safetensors";
    nn::StateDict old_state, new_state;
    old_state.insert("w", full({1000}, 1.0));
    new_state.insert("w", full({1000}, 2.0));
    nn::save_safetensors(old_state, path);
    const std::string old_bytes = read_bytes(path);

    SECTION("the disk fills up half-way through the new file") {
        {
            FileSizeLimit limit(1024);
            CHECK_THROWS_WITH(
                nn::save_safetensors(new_state, path),
                Contains(path.string() + ": cannot save: writing the temporary file " + path.string() + ".tmp.") &&
                    Contains("File too large") && Contains("the previous file, if any, is unchanged"));
        }
        CHECK(read_bytes(path) == old_bytes);
        CHECK(nn::load_safetensors(path).find("w")->to_vector<float>() == std::vector<float>(1000, 1.0f));
    }
    SECTION("the target is a directory, so the rename fails after the data was written") {
        const fs::path taken = dir.path / "taken.safetensors";
        fs::create_directory(taken);
        CHECK_THROWS_WITH(nn::save_safetensors(new_state, taken),
                          Contains(taken.string() + ": cannot save: renaming the temporary file") &&
                              Contains("over the target failed") && Contains("Is a directory"));
        CHECK(fs::is_directory(taken));
    }
    SECTION("the directory does not exist") {
        const fs::path nowhere = dir.path / "missing" / "model.safetensors";
        CHECK_THROWS_WITH(nn::save_safetensors(new_state, nowhere),
                          Contains(nowhere.string() + ": cannot save: cannot create the temporary file") &&
                              Contains("No such file or directory"));
        CHECK_FALSE(fs::exists(dir.path / "missing"));
    }
    SECTION("the directory is read-only") {
        if (::geteuid() == 0) {
            WARN("running as root, which may write into read-only directories: this section checks nothing");
        } else {
            fs::permissions(dir.path, fs::perms::owner_write, fs::perm_options::remove);
            CHECK_THROWS_WITH(nn::save_safetensors(new_state, path), Contains("Permission denied"));
            fs::permissions(dir.path, fs::perms::owner_write, fs::perm_options::add);
            CHECK(read_bytes(path) == old_bytes);
        }
    }
    SECTION("a save that succeeds replaces the file") {
        nn::save_safetensors(new_state, path);
        CHECK(nn::load_safetensors(path).find("w")->to_vector<float>() == std::vector<float>(1000, 2.0f));
    }
    CHECK(temp_files_in(dir.path).empty());
}

TEST_CASE("an optimizer's state survives a checkpoint: both copies then take identical steps",
          "[chapter03][checkpoint]") {
    TempDir dir;
    const fs::path path = dir.path / "optimizer.safetensors";
    const auto set_grads = [](const std::vector<Tensor>& params, std::uint64_t seed) {
        for (const Tensor& p : params) Tensor(p).set_grad(random_input(p.shape(), seed++));
    };
    std::vector<Tensor> params{random_input({3, 2}, 1).requires_grad_(), random_input({2}, 2).requires_grad_()};
    optim::SGD sgd(params, optim::SGDOptions(0.1).momentum(0.9));
    set_grads(params, 10);
    sgd.step();
    set_grads(params, 20);
    sgd.step();  // the momentum buffers now hold two steps of history
    nn::save(sgd, path);

    std::vector<Tensor> copies;
    for (const Tensor& p : params) copies.push_back(p.detach().clone().requires_grad_());
    optim::SGD restored(copies, optim::SGDOptions(0.5));  // its hyperparameters come from the file
    nn::load(restored, path);
    CHECK(restored.param_groups()[0].options().get_lr() == 0.1);

    set_grads(params, 30);
    set_grads(copies, 30);
    sgd.step();
    restored.step();
    for (std::size_t i = 0; i < params.size(); ++i) CHECK(same_bytes(params[i], copies[i]));

    // Without the momentum the step differs: the check above can fail.
    std::vector<Tensor> plain{params[0].detach().clone().requires_grad_(), params[1].detach().clone().requires_grad_()};
    optim::SGD fresh(plain, optim::SGDOptions(0.1).momentum(0.9));
    set_grads(plain, 40);
    set_grads(params, 40);
    fresh.step();
    sgd.step();
    CHECK_FALSE(same_bytes(params[0], plain[0]));

    CHECK_THROWS_WITH(nn::load(restored, fixture_dir / "tiny_sequential.safetensors"),
                      Contains("tiny_sequential.safetensors: "));
}
