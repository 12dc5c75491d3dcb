#pragma once
// What the checkpoint tests share: temporary directories, raw file bytes, the PyTorch fixture's
// expected values, and snapshots of a model to prove a failed load changed nothing.
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

namespace checkpoint_test {

namespace fs = std::filesystem;
using namespace stepgrad;
using stepgrad::testing::random_input;

inline const fs::path fixture_dir = STEPGRAD_FIXTURES_DIR;

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

inline std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const fs::path& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

// A safetensors file from a header text and a data section, with no checks: for malformed files.
inline std::string raw_file(const std::string& header, const std::string& data) {
    std::string bytes(8, '\0');
    const std::uint64_t length = header.size();
    std::memcpy(bytes.data(), &length, 8);
    return bytes + header + data;
}

inline std::vector<std::string> temp_files_in(const fs::path& dir) {
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        if (name.find(".tmp.") != std::string::npos) found.push_back(name);
    }
    return found;
}

inline bool same_bytes(const Tensor& a, const Tensor& b) {
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

inline std::vector<Expected> read_expected(const fs::path& path) {
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

inline Tensor make_tensor(const Expected& e) {
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

inline std::vector<Tensor> snapshot(const nn::Module& module) {
    std::vector<Tensor> copies;
    for (const auto& item : module.state_dict()) copies.push_back(item.second.clone());
    return copies;
}

// PyTorch's fixture with the tensor `name` replaced by `tensor` under `new_name` (a mismatch).
inline std::string pytorch_state_changed(const std::string& name, const std::string& new_name, const Tensor& tensor) {
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
inline std::string optimizer_file() {
    Tensor w = ones({2}).requires_grad_();
    optim::SGD sgd(std::vector<Tensor>{w}, optim::SGDOptions(0.1).momentum(0.9));
    return nn::serialize_safetensors(sgd.state_dict());
}

inline bool unchanged(const nn::Module& module, const std::vector<Tensor>& before) {
    const nn::StateDict now = module.state_dict();
    for (std::size_t i = 0; i < before.size(); ++i) {
        if (!same_bytes(now.items()[i].second, before[i])) return false;
    }
    return true;
}

}  // namespace checkpoint_test
