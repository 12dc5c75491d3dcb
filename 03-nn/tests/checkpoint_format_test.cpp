// Checkpoints: the safetensors format against a file PyTorch wrote, and round trips of state
// dicts and models (also from another device). checkpoint_errors_test.cpp has the failures.
#include "checkpoint_test_helpers.hpp"

using namespace checkpoint_test;
using Catch::Matchers::Contains;

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
