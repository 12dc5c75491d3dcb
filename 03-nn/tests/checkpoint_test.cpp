// Checkpoints: the safetensors format against a file PyTorch wrote, round trips, every kind of
// malformed file refused with the file's name and the problem, and atomic saving.
#include <catch2/catch.hpp>

#include <stepgrad/nn/checkpoint.hpp>
#include <stepgrad/nn/safetensors.hpp>
#include <stepgrad/optim/sgd.hpp>
#include <stepgrad/tensor.hpp>

#include "../../02-tensor/tests/stand_in_device.hpp"
#include "../../02-tensor/tests/test_helpers.hpp"

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace stepgrad;
using Catch::Matchers::Contains;
using stepgrad::testing::random_input;

namespace {

const fs::path fixture_dir = STEPGRAD_FIXTURES_DIR;

// A fresh directory under the system's temporary directory, removed with everything in it.
struct TempDir {
    fs::path path;
    TempDir() {
        static std::atomic<int> counter{0};
        path = fs::temp_directory_path() /
               ("stepgrad_checkpoint_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ignored;
        fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ignored);
        fs::remove_all(path, ignored);
    }
};

std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

// A safetensors file from a header text and a data section, with no checks: for malformed files.
std::string raw_file(const std::string& header, const std::string& data) {
    std::string bytes(8, '\0');
    const std::uint64_t length = header.size();
    std::memcpy(bytes.data(), &length, 8);
    return bytes + header + data;
}

std::vector<std::string> temp_files_in(const fs::path& dir) {
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        if (name.find(".tmp.") != std::string::npos) found.push_back(name);
    }
    return found;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
    if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
    const Tensor x = a.cpu(), y = b.cpu();
    const std::size_t bytes = static_cast<std::size_t>(x.numel()) * element_size(x.dtype());
    return bytes == 0 || std::memcmp(x.data_ptr(), y.data_ptr(), bytes) == 0;
}

// One line of tiny_sequential.txt: `name dtype [shape] values...`, as PyTorch printed them.
struct Expected {
    std::string name, dtype;
    Shape shape;
    std::vector<double> values;
};

std::vector<Expected> read_expected(const fs::path& path) {
    std::vector<Expected> all;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        Expected e;
        std::string shape;
        words >> e.name >> e.dtype >> shape;
        std::istringstream sizes(shape.substr(1, shape.size() - 2));
        for (std::string size; std::getline(sizes, size, ',');) e.shape.push_back(std::stoll(size));
        for (double v; words >> v;) e.values.push_back(v);
        all.push_back(e);
    }
    return all;
}

Tensor make_tensor(const Expected& e) {
    if (e.dtype == "I64") return from_vector(std::vector<std::int64_t>(e.values.begin(), e.values.end()), e.shape);
    return from_vector(std::vector<float>(e.values.begin(), e.values.end()), e.shape);
}

// Names as PyTorch's Sequential(Linear(3, 2), BatchNorm1d(2)) has them, built from nn::Module alone.
class LinearLike : public nn::Module {
public:
    LinearLike() : Module("LinearLike") {
        weight = register_parameter("weight", zeros({2, 3}));
        bias = register_parameter("bias", zeros({2}));
    }
    Tensor weight, bias;
};
class BatchNormLike : public nn::Module {
public:
    BatchNormLike() : Module("BatchNormLike") {
        weight = register_parameter("weight", zeros({2}));
        bias = register_parameter("bias", zeros({2}));
        running_mean = register_buffer("running_mean", zeros({2}));
        running_var = register_buffer("running_var", zeros({2}));
        num_batches_tracked =
            register_buffer("num_batches_tracked", scalar_tensor(0, TensorOptions().dtype(Dtype::Int64)));
    }
    Tensor weight, bias, running_mean, running_var, num_batches_tracked;
};
class TinySequential : public nn::Module {
public:
    explicit TinySequential(std::uint64_t seed = 0) : Module("TinySequential") {
        first = register_module("0", std::make_shared<LinearLike>());
        second = register_module("1", std::make_shared<BatchNormLike>());
        NoGradGuard no_grad;
        const nn::StateDict state = state_dict();
        std::uint64_t s = seed;
        for (const auto& item : state) {
            if (item.second.is_floating_point()) Tensor(item.second).copy_(random_input(item.second.shape(), ++s));
        }
    }
    std::shared_ptr<LinearLike> first;
    std::shared_ptr<BatchNormLike> second;
};

std::vector<Tensor> snapshot(const nn::Module& module) {
    std::vector<Tensor> copies;
    for (const auto& item : module.state_dict()) copies.push_back(item.second.clone());
    return copies;
}

// PyTorch's fixture with the tensor `name` replaced by `tensor` under `new_name` (a mismatch).
std::string pytorch_state_changed(const std::string& name, const std::string& new_name, const Tensor& tensor) {
    nn::StateDict state;
    for (const auto& item : nn::load_safetensors(fixture_dir / "tiny_sequential.safetensors")) {
        if (item.first == name) {
            state.insert(new_name, tensor);
        } else {
            state.insert(item.first, item.second);
        }
    }
    return nn::serialize_safetensors(state);
}

// An SGD optimizer's state, as a file.
std::string optimizer_file() {
    Tensor w = ones({2}).requires_grad_();
    optim::SGD sgd(std::vector<Tensor>{w}, optim::SGDOptions(0.1).momentum(0.9));
    return nn::serialize_safetensors(sgd.state_dict());
}

bool unchanged(const nn::Module& module, const std::vector<Tensor>& before) {
    const nn::StateDict now = module.state_dict();
    for (std::size_t i = 0; i < before.size(); ++i) {
        if (!same_bytes(now.items()[i].second, before[i])) return false;
    }
    return true;
}

}  // namespace

TEST_CASE("a safetensors file written by PyTorch loads with its names, shapes, dtypes and values",
          "[chapter03][checkpoint]") {
    const nn::StateDict state = nn::load_safetensors(fixture_dir / "tiny_sequential.safetensors");
    const std::vector<Expected> expected = read_expected(fixture_dir / "tiny_sequential.txt");
    REQUIRE(expected.size() == 7);
    REQUIRE(state.size() == expected.size());
    CHECK(state.metadata == std::map<std::string, std::string>{{"format", "pt"}});
    // File order is by offset: the int64 tensor first, then the float32 ones by name.
    std::vector<std::string> names;
    for (const auto& item : state) names.push_back(item.first);
    CHECK(names == std::vector<std::string>{"1.num_batches_tracked", "0.bias", "0.weight", "1.bias", "1.running_mean",
                                            "1.running_var", "1.weight"});
    for (const Expected& e : expected) {
        INFO(e.name);
        const Tensor* t = state.find(e.name);
        REQUIRE(t != nullptr);
        CHECK(t->device() == Device::CPU);
        CHECK(t->shape() == e.shape);
        if (e.dtype == "I64") {
            CHECK(t->dtype() == Dtype::Int64);
            CHECK(t->to_vector<std::int64_t>() == std::vector<std::int64_t>(e.values.begin(), e.values.end()));
        } else {
            CHECK(t->dtype() == Dtype::Float32);
            CHECK(t->to_vector<float>() == std::vector<float>(e.values.begin(), e.values.end()));
        }
    }
}

TEST_CASE("writing PyTorch's tensors and metadata reproduces its file byte for byte", "[chapter03][checkpoint]") {
    nn::StateDict state;  // in state_dict order, not file order: the writer sorts
    for (const Expected& e : read_expected(fixture_dir / "tiny_sequential.txt")) state.insert(e.name, make_tensor(e));
    state.metadata["format"] = "pt";
    const std::string pytorch_bytes = read_bytes(fixture_dir / "tiny_sequential.safetensors");
    REQUIRE(pytorch_bytes.size() == 568);
    CHECK(nn::serialize_safetensors(state) == pytorch_bytes);

    TempDir dir;
    nn::save_safetensors(state, dir.path / "again.safetensors");
    CHECK(read_bytes(dir.path / "again.safetensors") == pytorch_bytes);
}

TEST_CASE("the header: compact JSON, __metadata__ first, I64 before F32, names sorted, padded to 8",
          "[chapter03][checkpoint]") {
    nn::StateDict state;
    state.insert("b", from_vector(std::vector<float>{1.0f, 2.0f}, {2}));
    state.insert("a", from_vector(std::vector<float>{3.0f}, {1}));
    state.insert("z", from_vector(std::vector<std::int64_t>{7}, {}));
    const std::string header = R"({"z":{"dtype":"I64","shape":[],"data_offsets":[0,8]},)"
                               R"("a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},)"
                               R"("b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})";
    REQUIRE(header.size() == 162);  // 6 spaces of padding make 168
    const std::string data(
        "\x07\0\0\0\0\0\0\0"
        "\x00\x00\x40\x40"
        "\x00\x00\x80\x3f"
        "\x00\x00\x00\x40",
        20);
    CHECK(nn::serialize_safetensors(state) == raw_file(header + "      ", data));

    state.metadata["format"] = "pt";
    const std::string with_metadata = nn::serialize_safetensors(state);
    CHECK(with_metadata.substr(8, 32) == R"({"__metadata__":{"format":"pt"},)");

    // Names are escaped as serde_json escapes them: control characters as \u00XX, quote and
    // backslash with a backslash, everything else (UTF-8 included) as it is.
    nn::StateDict odd;
    odd.insert("a\x01\"\\/\xc3\xa9", ones({1}));
    const std::string odd_header =
        std::string(R"({"a\u0001\"\\/)") + "\xc3\xa9" + R"(":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
    CHECK(nn::serialize_safetensors(odd).substr(8, odd_header.size()) == odd_header);

    // No tensors, no metadata: "{}" and six spaces (the reference implementation's own test).
    CHECK(nn::serialize_safetensors(nn::StateDict{}) == raw_file("{}      ", ""));
}

TEST_CASE("a state dict survives a round trip bit for bit: float32, int64, empty and scalar tensors",
          "[chapter03][checkpoint]") {
    const float inf = std::numeric_limits<float>::infinity();
    nn::StateDict state;
    state.insert("weights", from_vector(std::vector<float>{1.5f, -0.0f, inf, -inf, std::nanf(""), 1e-40f}, {2, 3}));
    state.insert("labels", from_vector(std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::min(), -1,
                                                                 std::numeric_limits<std::int64_t>::max()},
                                       {3}));
    state.insert("nothing", Tensor::empty({0}));
    state.insert("nothing.3d", Tensor::empty({2, 0, 3}, Device::CPU, Dtype::Int64));
    state.insert("scalar", scalar_tensor(2.5));
    state.insert("step", scalar_tensor(41, TensorOptions().dtype(Dtype::Int64)));
    state.insert("blöck.ünicode", ones({1}));
    state.metadata = {{"epoch", "3"}, {"note", "two\nlines, \"quoted\", ü"}, {"format", "pt"}};

    TempDir dir;
    nn::save_safetensors(state, dir.path / "state.safetensors");
    const nn::StateDict back = nn::load_safetensors(dir.path / "state.safetensors");
    CHECK(back.metadata == state.metadata);
    REQUIRE(back.size() == state.size());
    for (const auto& [name, tensor] : state) {
        INFO(name);
        REQUIRE(back.find(name) != nullptr);
        CHECK(same_bytes(*back.find(name), tensor));
    }
    CHECK(temp_files_in(dir.path).empty());
}

TEST_CASE("a header may list tensors in any order; they come back in file (offset) order", "[chapter03][checkpoint]") {
    const std::string file = raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
                                      R"("z":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                                      std::string("\x00\x00\x80\x3f\x00\x00\x00\x40", 8));
    const nn::StateDict state = nn::deserialize_safetensors(file, "hand-made");
    REQUIRE(state.size() == 2);
    CHECK(state.items()[0].first == "z");
    CHECK(state.items()[0].second.item() == 1.0f);
    CHECK(state.items()[1].second.item() == 2.0f);
}

TEST_CASE("nn::save and nn::load restore a model exactly, and PyTorch's file loads into the same names",
          "[chapter03][checkpoint]") {
    TempDir dir;
    const fs::path path = dir.path / "model.safetensors";
    TinySequential trained(100);
    {
        NoGradGuard no_grad;
        trained.second->num_batches_tracked.fill_(12);
    }
    nn::save(trained, path);
    CHECK(nn::load_safetensors(path).metadata.at("format") == "pt");

    TinySequential fresh(200);
    nn::load(fresh, path);
    const nn::StateDict a = trained.state_dict(), b = fresh.state_dict();
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO(a.items()[i].first);
        CHECK(same_bytes(a.items()[i].second, b.items()[i].second));
    }
    CHECK(fresh.second->num_batches_tracked.item<std::int64_t>() == 12);

    // The PyTorch fixture has exactly these names, shapes and dtypes.
    nn::load(fresh, fixture_dir / "tiny_sequential.safetensors");
    CHECK(fresh.first->bias.to_vector<float>() == std::vector<float>{-0.011439144611358643f, 0.45777493715286255f});
    CHECK(fresh.second->num_batches_tracked.item<std::int64_t>() == 1);
}

TEST_CASE("a model on another device saves the same bytes and loads back onto that device",
          "[chapter03][checkpoint][device]") {
    // The stand-in device faults on any host access to device memory outside the backend's copies.
    testing::StandInDevice device;
    TempDir dir;
    TinySequential on_cpu(5), on_device(5), restored(6);
    on_device.to(Device::CUDA);
    restored.to(Device::CUDA);
    nn::save(on_cpu, dir.path / "cpu.safetensors");
    nn::save(on_device, dir.path / "device.safetensors");
    CHECK(read_bytes(dir.path / "device.safetensors") == read_bytes(dir.path / "cpu.safetensors"));

    nn::load(restored, dir.path / "device.safetensors");
    CHECK(restored.first->weight.device() == Device::CUDA);
    CHECK(same_bytes(restored.first->weight, on_cpu.first->weight));
    CHECK(same_bytes(restored.second->num_batches_tracked, on_cpu.second->num_batches_tracked));
}

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
