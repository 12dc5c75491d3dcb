// Claims checked: nn::Module names every parameter and buffer by its path as PyTorch does,
// refuses bad names, lists a shared parameter once, walks its tree in PyTorch's orders, switches
// train/eval everywhere, clears gradients, moves to a device behind the handles the layers hold,
// saves and loads state dicts (checking everything before copying anything) and prints as
// PyTorch prints.
#include "../../02-tensor/tests/stand_in_device.hpp"
#include "../../02-tensor/tests/test_helpers.hpp"

#include <stepgrad/nn/activation.hpp>
#include <stepgrad/nn/container.hpp>
#include <stepgrad/nn/dropout.hpp>
#include <stepgrad/nn/linear.hpp>
#include <stepgrad/nn/module.hpp>

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace stepgrad;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using stepgrad::testing::check_same;

// A module with a parameter, a buffer and a child, registered as a layer registers them.
class Block : public nn::Module {
public:
    Block() : Module("Block") {
        scale = register_parameter("scale", full({3}, 2.0));
        count = register_buffer("count", zeros({1}));
        fc = register_module("fc", std::make_shared<nn::Linear>(3, 2));
    }
    Tensor forward(const Tensor& input) override { return fc->forward(input * scale); }
    Tensor scale, count;
    std::shared_ptr<nn::Linear> fc;
};

// Two levels: "block.fc.weight" is three names deep.
class Outer : public nn::Module {
public:
    Outer() : Module("Outer") {
        block = register_module("block", std::make_shared<Block>());
        head = register_module("head", std::make_shared<nn::Linear>(2, 1));
    }
    Tensor forward(const Tensor& input) override { return head->forward(block->forward(input)); }
    std::shared_ptr<Block> block;
    std::shared_ptr<nn::Linear> head;
};

std::vector<std::string> names_of(const std::vector<std::pair<std::string, Tensor>>& named) {
    std::vector<std::string> names;
    for (const auto& item : named) names.push_back(item.first);
    return names;
}

std::vector<std::string> names_of(const nn::StateDict& state) {
    std::vector<std::string> names;
    for (const auto& item : state) names.push_back(item.first);
    return names;
}

std::string printed(const nn::Module& module) {
    std::ostringstream out;
    out << module;
    return out.str();
}

// Every parameter and buffer value, copied (to see whether a failed load changed anything).
std::vector<std::vector<float>> snapshot(const nn::Module& module) {
    std::vector<std::vector<float>> values;
    for (const auto& item : module.state_dict()) values.push_back(item.second.to_vector());
    return values;
}

}  // namespace

TEST_CASE("parameters and buffers are named by their path, in registration order", "[chapter03][module]") {
    auto model = std::make_shared<Outer>();
    CHECK(names_of(model->named_parameters()) ==
          std::vector<std::string>{"block.scale", "block.fc.weight", "block.fc.bias", "head.weight", "head.bias"});
    CHECK(names_of(model->named_buffers()) == std::vector<std::string>{"block.count"});
    CHECK(names_of(model->named_parameters(/*recurse=*/false)).empty());
    CHECK(names_of(model->block->named_parameters(/*recurse=*/false)) == std::vector<std::string>{"scale"});
    // The registered tensor and the member are one handle.
    CHECK(model->parameters()[1].impl() == model->block->fc->weight.impl());
    CHECK(model->buffers()[0].impl() == model->block->count.impl());
    for (const Tensor& p : model->parameters()) CHECK(p.requires_grad());
    CHECK_FALSE(model->block->count.requires_grad());
}

TEST_CASE("register_* refuse empty, dotted and repeated names, null and cyclic children", "[chapter03][module]") {
    nn::Module m("M");
    m.register_parameter("weight", ones({2}));
    REQUIRE_THROWS_AS(m.register_parameter("", ones({1})), std::invalid_argument);
    REQUIRE_THROWS_WITH(m.register_parameter("fc.weight", ones({1})), Contains("'fc.weight' contains '.'"));
    REQUIRE_THROWS_WITH(m.register_parameter("weight", ones({1})), Contains("'weight' is already registered"));
    REQUIRE_THROWS_WITH(m.register_buffer("weight", ones({1})), Contains("already registered"));
    REQUIRE_THROWS_WITH(m.register_module("weight", std::make_shared<nn::ReLU>()), Contains("already registered"));
    REQUIRE_THROWS_AS(m.register_buffer("a.b", ones({1})), std::invalid_argument);
    REQUIRE_THROWS_AS(m.register_module("act", std::shared_ptr<nn::ReLU>()), std::invalid_argument);
    // A tensor computed by a recorded operation is not a parameter (it has a history).
    const Tensor leaf = ones({2}).requires_grad_();
    REQUIRE_THROWS_WITH(m.register_parameter("derived", leaf * 2.0), Contains("register a leaf"));

    auto parent = std::make_shared<nn::Module>("Parent");
    auto child = std::make_shared<nn::Module>("Child");
    parent->register_module("child", child);
    REQUIRE_THROWS_WITH(child->register_module("parent", parent), Contains("cycle"));
    REQUIRE_THROWS_AS(parent->register_module("itself", parent), std::invalid_argument);
    CHECK(m.named_parameters().size() == 1);  // nothing of the refused calls was registered
}

TEST_CASE("an undefined parameter is registered but skipped; requires_grad is set by registration",
          "[chapter03][module]") {
    nn::Module m("M");
    const Tensor& first = m.register_parameter("weight", ones({2, 3}));
    m.register_parameter("bias", Tensor());  // e.g. bias=false
    const Tensor frozen = m.register_parameter("frozen", ones({4}), /*requires_grad=*/false);
    for (int i = 0; i < 50; ++i) m.register_buffer(std::string("b").append(std::to_string(i)), zeros({1}));
    CHECK(names_of(m.named_parameters()) == std::vector<std::string>{"weight", "frozen"});
    CHECK_THROWS_AS(m.register_buffer("bias", ones({1})), std::invalid_argument);  // the name is taken
    CHECK_FALSE(frozen.requires_grad());
    CHECK(m.parameter_count() == 6);  // frozen parameters are not trainable
    // The returned reference still refers to the registered handle after many registrations.
    CHECK(first.impl() == m.parameters()[0].impl());
}

TEST_CASE("a parameter shared by two submodules is listed and counted once", "[chapter03][module]") {
    auto tied = std::make_shared<nn::Module>("Tied");
    auto encoder = tied->register_module("encoder", std::make_shared<nn::Linear>(4, 4));
    auto decoder = tied->register_module("decoder", std::make_shared<nn::Module>("Decoder"));
    decoder->register_parameter("weight", encoder->weight);
    CHECK(names_of(tied->named_parameters()) == std::vector<std::string>{"encoder.weight", "encoder.bias"});
    CHECK(tied->parameters().size() == 2);
    CHECK(tied->parameter_count() == 20);
    // The state dict keeps every name, as PyTorch's does.
    CHECK(names_of(tied->state_dict()) == std::vector<std::string>{"encoder.weight", "encoder.bias", "decoder.weight"});
}

TEST_CASE("children, modules and apply walk the tree in PyTorch's orders", "[chapter03][module]") {
    auto root = std::make_shared<nn::Module>("root");
    auto a = root->register_module("a", std::make_shared<nn::Module>("a"));
    auto a1 = a->register_module("a1", std::make_shared<nn::Module>("a1"));
    a->register_module("a2", std::make_shared<nn::Module>("a2"));
    auto b = root->register_module("b", std::make_shared<nn::Module>("b"));
    b->register_module("again", a1);  // a shared module

    std::vector<std::string> child_names;
    for (const auto& [name, child] : root->named_children()) child_names.push_back(name + "=" + child->name());
    CHECK(child_names == std::vector<std::string>{"a=a", "b=b"});
    CHECK(root->children().size() == 2);

    std::vector<std::string> pre_order;
    for (const auto& module : root->modules()) pre_order.push_back(module->name());
    CHECK(pre_order == std::vector<std::string>{"root", "a", "a1", "a2", "b"});  // a1 once

    std::vector<std::string> visited;
    root->apply([&](nn::Module& module) { visited.push_back(module.name()); });
    CHECK(visited == std::vector<std::string>{"a1", "a2", "a", "a1", "b", "root"});  // descendants first

    nn::Module on_stack("Stack");
    CHECK_THROWS_AS(on_stack.modules(), std::logic_error);  // needs a shared_ptr
}

TEST_CASE("train() and eval() reach every descendant", "[chapter03][module]") {
    auto model = std::make_shared<Outer>();
    auto all_training = [&](bool expected) {
        for (const auto& module : model->modules()) {
            if (module->is_training() != expected) return false;
        }
        return true;
    };
    CHECK(all_training(true));
    model->eval();
    CHECK(all_training(false));
    model->train();
    CHECK(all_training(true));
    model->block->train(false);
    CHECK_FALSE(model->block->fc->is_training());
    CHECK(model->head->is_training());
    CHECK(model->is_training());
}

TEST_CASE("the base forward says it must be overridden", "[chapter03][module]") {
    nn::Module bare("Bare");
    CHECK_THROWS_AS(bare.forward(ones({1})), std::logic_error);
}

TEST_CASE("zero_grad clears gradients to none or to zeros", "[chapter03][module]") {
    auto model = std::make_shared<Outer>();
    model->forward(randn({5, 3})).sum().backward();
    for (const Tensor& p : model->parameters()) REQUIRE(p.grad().defined());
    CHECK(model->head->weight.grad().abs().sum().item() > 0.0f);

    model->zero_grad(/*set_to_none=*/false);
    for (const Tensor& p : model->parameters()) {
        REQUIRE(p.grad().defined());
        CHECK(p.grad().abs().sum().item() == 0.0f);
    }
    model->zero_grad();
    for (const Tensor& p : model->parameters()) CHECK_FALSE(p.grad().defined());
}

TEST_CASE("replace_module swaps a child by name", "[chapter03][module]") {
    auto model = std::make_shared<nn::Sequential>(
        std::initializer_list<std::shared_ptr<nn::Module>>{std::make_shared<nn::ReLU>(), std::make_shared<nn::Tanh>()});
    model->replace_module("0", std::make_shared<nn::Sigmoid>());
    CHECK((*model)[0]->name() == "Sigmoid");
    const Tensor x = randn({3, 2});
    check_same(model->forward(x), tanh(sigmoid(x)), 0.0);
    REQUIRE_THROWS_WITH(model->replace_module("7", std::make_shared<nn::ReLU>()),
                        Contains("no submodule named '7'") && Contains("'0', '1'"));
}

TEST_CASE("to(device) moves parameters, buffers and gradients behind the same handles", "[chapter03][module][device]") {
    testing::StandInDevice stand_in;
    auto model = std::make_shared<Outer>();
    const Tensor x = randn({4, 3});
    const Tensor expected = model->forward(x);
    expected.sum().backward();
    const Tensor head_grad = model->head->weight.grad().clone();
    const std::vector<Tensor> held = model->parameters();  // as an optimizer holds them
    const Tensor member = model->block->fc->weight;

    model->to(Device::CUDA);
    for (const Tensor& p : held) CHECK(p.device() == Device::CUDA);
    CHECK(member.device() == Device::CUDA);
    CHECK(member.impl() == model->block->fc->weight.impl());  // the member is still the same handle
    CHECK(model->block->count.device() == Device::CUDA);      // buffers move too
    REQUIRE(model->head->weight.grad().defined());
    CHECK(model->head->weight.grad().device() == Device::CUDA);
    check_same(model->head->weight.grad(), head_grad, 0.0);
    // The moved model computes the same numbers on the device, and trains there.
    model->zero_grad();
    const Tensor on_device = model->forward(x.to(Device::CUDA));
    CHECK(on_device.device() == Device::CUDA);
    check_same(on_device, expected.detach(), 1e-6);
    on_device.sum().backward();
    CHECK(model->head->weight.grad().device() == Device::CUDA);
    check_same(model->head->weight.grad(), head_grad, 1e-6);

    model->to(Device::CPU);
    CHECK(member.device() == Device::CPU);
    check_same(model->forward(x), expected.detach(), 1e-6);
    // Moving to the device a tensor is already on keeps its storage.
    const void* before = member.data_ptr();
    model->to(Device::CPU);
    CHECK(member.data_ptr() == before);
}

TEST_CASE("state_dict lists parameters then buffers per module, sharing their data", "[chapter03][module][state]") {
    auto model = std::make_shared<Outer>();
    const nn::StateDict state = model->state_dict();
    CHECK(names_of(state) == std::vector<std::string>{"block.scale", "block.count", "block.fc.weight", "block.fc.bias",
                                                      "head.weight", "head.bias"});
    const Tensor* head_bias = state.find("head.bias");
    REQUIRE(head_bias != nullptr);
    CHECK_FALSE(head_bias->requires_grad());  // detached, as PyTorch's state_dict()
    Tensor(*head_bias).fill_(7.0);
    CHECK(model->head->bias.item() == 7.0f);  // same storage
}

TEST_CASE("load_state_dict copies values into the existing tensors", "[chapter03][module][state]") {
    auto source = std::make_shared<Outer>();
    auto target = std::make_shared<Outer>();
    NoGradGuard no_grad;
    source->block->count.fill_(3.0);
    const Tensor member = target->block->fc->weight;
    target->load_state_dict(source->state_dict());
    CHECK(member.impl() == target->block->fc->weight.impl());
    for (const auto& [name, tensor] : source->state_dict()) {
        INFO(name);
        check_same(*target->state_dict().find(name), tensor, 0.0);
    }
    // A copy, not an alias: changing the source afterwards leaves the target alone.
    source->head->weight.fill_(100.0);
    CHECK(target->head->weight.max().item() < 100.0f);
    // Loading a model's own state (same data) is a no-op.
    const auto before = snapshot(*target);
    target->load_state_dict(target->state_dict());
    CHECK(snapshot(*target) == before);
}

TEST_CASE("load_state_dict checks every name, shape and dtype first and changes nothing on error",
          "[chapter03][module][state]") {
    auto model = std::make_shared<Outer>();
    const auto before = snapshot(*model);
    // Each bad checkpoint is valid in its first entries, so a load that copied as it checked
    // would have changed them before failing.
    auto valid_start = [] {
        nn::StateDict state;
        for (const auto& item : std::make_shared<Outer>()->state_dict()) state.insert(item.first, item.second.clone());
        return state;
    };
    SECTION("a shape mismatch") {
        nn::StateDict state = valid_start();
        state.insert("head.weight", zeros({3, 2}));
        REQUIRE_THROWS_WITH(
            model->load_state_dict(state),
            StartsWith("stepgrad: load_state_dict: 'head.weight' has shape [3, 2] in the checkpoint but [1, 2] in "
                       "the model"));
        REQUIRE_THROWS_AS(model->load_state_dict(state, /*strict=*/false), std::invalid_argument);
    }
    SECTION("a dtype mismatch") {
        nn::StateDict state = valid_start();
        state.insert("head.bias", zeros({1}, TensorOptions().dtype(Dtype::Int64)));
        REQUIRE_THROWS_WITH(model->load_state_dict(state),
                            StartsWith("stepgrad: load_state_dict: 'head.bias' has dtype"));
    }
    SECTION("a missing name (strict)") {
        nn::StateDict full = valid_start(), state;
        for (const auto& item : full) {
            if (item.first != "head.bias") state.insert(item.first, item.second);
        }
        REQUIRE_THROWS_WITH(model->load_state_dict(state), Contains("missing from the checkpoint: 'head.bias'"));
    }
    SECTION("an unexpected name (strict)") {
        nn::StateDict state = valid_start();
        state.insert("tail.weight", zeros({1}));
        REQUIRE_THROWS_WITH(model->load_state_dict(state),
                            Contains("unexpected in the checkpoint (not in the model): 'tail.weight'"));
    }
    SECTION("an undefined tensor") {
        nn::StateDict state = valid_start();
        state.insert("head.bias", Tensor());
        REQUIRE_THROWS_WITH(model->load_state_dict(state), Contains("'head.bias' is an undefined tensor"));
    }
    CHECK(snapshot(*model) == before);
}

TEST_CASE("load_state_dict names PyTorch's example mismatch exactly", "[chapter03][module][state]") {
    auto model = std::make_shared<nn::Module>("Mlp");
    model->register_module("fc1", std::make_shared<nn::Linear>(784, 64));
    nn::StateDict state;
    state.insert("fc1.weight", zeros({128, 784}));
    state.insert("fc1.bias", zeros({128}));
    REQUIRE_THROWS_WITH(
        model->load_state_dict(state),
        StartsWith("stepgrad: load_state_dict: 'fc1.weight' has shape [128, 784] in the checkpoint but [64, 784] "
                   "in the model; 'fc1.bias' has shape [128] in the checkpoint but [64] in the model"));
}

TEST_CASE("load_state_dict with strict=false loads the names both have", "[chapter03][module][state]") {
    auto model = std::make_shared<Outer>();
    const Tensor old_bias = model->head->bias.clone();
    nn::StateDict state;
    state.insert("head.weight", full({1, 2}, 0.5));
    state.insert("unrelated", zeros({9}));
    model->load_state_dict(state, /*strict=*/false);
    check_same(model->head->weight, full({1, 2}, 0.5), 0.0);
    check_same(model->head->bias, old_bias, 0.0);
}

TEST_CASE("load_state_dict copies across devices", "[chapter03][module][state][device]") {
    testing::StandInDevice stand_in;
    auto source = std::make_shared<Outer>();
    auto target = std::make_shared<Outer>();
    target->to(Device::CUDA);
    target->load_state_dict(source->state_dict());  // CPU tensors into device tensors
    CHECK(target->head->weight.device() == Device::CUDA);
    check_same(target->head->weight, source->head->weight.detach(), 0.0);
    source->load_state_dict(target->state_dict());  // and back
}

TEST_CASE("a model prints as PyTorch prints it, with its trainable parameter count", "[chapter03][module][print]") {
    SECTION("the MLP of the documentation") {
        auto mlp = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
            std::make_shared<nn::Linear>(784, 128), std::make_shared<nn::ReLU>(),
            std::make_shared<nn::Linear>(128, 10)});
        CHECK(printed(*mlp) ==
              "Sequential(\n"
              "  (0): Linear(in_features=784, out_features=128, bias=True)\n"
              "  (1): ReLU()\n"
              "  (2): Linear(in_features=128, out_features=10, bias=True)\n"
              ")\n"
              "Trainable parameters: 101,770");
        CHECK(mlp->parameter_count() == 101770);
    }
    SECTION("nested containers indent by two spaces per level") {
        auto block = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
            std::make_shared<nn::Linear>(nn::LinearOptions(4, 4).bias(false)),
            std::make_shared<nn::LeakyReLU>(nn::LeakyReLUOptions().negative_slope(0.2))});
        auto model = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
            std::make_shared<nn::Flatten>(), std::make_shared<nn::Residual>(block), std::make_shared<nn::Dropout>(),
            std::make_shared<nn::Softmax>(1)});
        CHECK(printed(*model) ==
              "Sequential(\n"
              "  (0): Flatten(start_dim=1, end_dim=-1)\n"
              "  (1): Residual(\n"
              "    (block): Sequential(\n"
              "      (0): Linear(in_features=4, out_features=4, bias=False)\n"
              "      (1): LeakyReLU(negative_slope=0.2)\n"
              "    )\n"
              "  )\n"
              "  (2): Dropout(p=0.5, inplace=False)\n"
              "  (3): Softmax(dim=1)\n"
              ")\n"
              "Trainable parameters: 16");
    }
    SECTION("a leaf with no description gets empty parentheses; thousands separators repeat") {
        CHECK(printed(nn::Module("Mlp")) == "Mlp()\nTrainable parameters: 0");
        CHECK(printed(nn::Linear(1000, 1234)) ==
              "Linear(in_features=1000, out_features=1234, bias=True)\nTrainable parameters: 1,235,234");
        CHECK(printed(nn::Sequential()) == "Sequential()\nTrainable parameters: 0");
    }
    SECTION("a module with arguments and children puts the arguments on their own line") {
        class Scaled : public nn::Module {
        public:
            Scaled() : Module("Scaled") { register_module("act", std::make_shared<nn::ReLU>()); }
            void pretty_print(std::ostream& stream) const override { stream << "Scaled(scale=2)"; }
        };
        CHECK(printed(Scaled()) == "Scaled(\n  scale=2\n  (act): ReLU()\n)\nTrainable parameters: 0");
    }
}
