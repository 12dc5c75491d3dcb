// MNIST-format datasets: a tiny four-file dataset loads as the right tensors in every spelling,
// files that do not fit together are refused naming them, a missing dataset says how to get
// one, and the classes get names. The [fashion] test loads the real Fashion-MNIST when the
// Debian package is installed.
#include "idx_test_helpers.hpp"

#include <chrono>
#include <cstdlib>
#include <optional>

using namespace idx_test;
using Catch::Matchers::Contains;

namespace {

// How the four files are named and stored.
enum class Spelling { Plain, Gzipped, Kaggle, KaggleFolders };

std::string file_name(const std::string& prefix, const std::string& kind, int rank, Spelling spelling) {
    const std::string idx = "idx" + std::to_string(rank) + "-ubyte";
    switch (spelling) {
        case Spelling::Plain: return prefix + "-" + kind + "-" + idx;
        case Spelling::Gzipped: return prefix + "-" + kind + "-" + idx + ".gz";
        case Spelling::Kaggle: return prefix + "-" + kind + "." + idx;
        case Spelling::KaggleFolders: {
            const std::string name = prefix + "-" + kind + "." + idx;
            return name + "/" + name;
        }
    }
    return {};
}

// Images whose pixels cover 0 to 255: pixel k of the split is (k * 37 + 11) % 256, with the
// very first 0 and the very last 255.
IdxArray tiny_images(std::int64_t count, std::int64_t height, std::int64_t width) {
    IdxArray images{{count, height, width}, std::vector<std::uint8_t>(count * height * width)};
    for (std::size_t k = 0; k < images.values.size(); ++k) {
        images.values[k] = static_cast<std::uint8_t>((k * 37 + 11) % 256);
    }
    images.values.front() = 0;
    images.values.back() = 255;
    return images;
}

// Labels 0, 1, 2, 0, 1, 2, ... (`num_classes` of them in turn).
IdxArray tiny_labels(std::int64_t count, int num_classes = 3) {
    IdxArray labels{{count}, std::vector<std::uint8_t>(count)};
    for (std::int64_t i = 0; i < count; ++i) labels.values[i] = static_cast<std::uint8_t>(i % num_classes);
    return labels;
}

struct TinyDataset {
    IdxArray train_images = tiny_images(20, 5, 7);
    IdxArray train_labels = tiny_labels(20);
    IdxArray test_images = tiny_images(10, 5, 7);
    IdxArray test_labels = tiny_labels(10);

    void write(const fs::path& directory, Spelling spelling = Spelling::Gzipped) const {
        const bool gzip = spelling == Spelling::Gzipped;
        const auto put = [&](const IdxArray& array, const std::string& prefix, const std::string& kind, int rank) {
            const fs::path path = directory / file_name(prefix, kind, rank, spelling);
            fs::create_directories(path.parent_path());
            write_idx(path, array, gzip);
        };
        put(train_images, "train", "images", 3);
        put(train_labels, "train", "labels", 1);
        put(test_images, "t10k", "images", 3);
        put(test_labels, "t10k", "labels", 1);
    }
};

// Checks a split's tensors against the IDX arrays it came from, exactly.
void check_split(const Split& split, const IdxArray& images, const IdxArray& labels) {
    REQUIRE(split.images.dtype() == stepgrad::Dtype::Float32);
    REQUIRE(split.labels.dtype() == stepgrad::Dtype::Int64);
    REQUIRE(split.images.shape() == stepgrad::Shape{images.dims[0], 1, images.dims[1], images.dims[2]});
    REQUIRE(split.labels.shape() == stepgrad::Shape{labels.dims[0]});
    std::vector<float> expected_pixels;
    for (const std::uint8_t byte : images.values) expected_pixels.push_back(static_cast<float>(byte) / 255.0f);
    CHECK(split.images.to_vector() == expected_pixels);
    const std::vector<std::int64_t> expected_labels(labels.values.begin(), labels.values.end());
    CHECK(split.labels.to_vector<std::int64_t>() == expected_labels);
}

template <class Exception, class Function>
std::string error_message(Function&& function) {
    try {
        function();
    } catch (const Exception& error) {
        return error.what();
    }
    FAIL("no exception of the expected type");
    return {};
}

// Sets an environment variable for one scope and puts the old value back.
struct ScopedEnvironment {
    std::string name;
    std::optional<std::string> old;
    ScopedEnvironment(std::string variable, const char* value) : name(std::move(variable)) {
        if (const char* current = std::getenv(name.c_str())) old = current;
        if (value) ::setenv(name.c_str(), value, 1); else ::unsetenv(name.c_str());
    }
    ~ScopedEnvironment() {
        if (old) ::setenv(name.c_str(), old->c_str(), 1); else ::unsetenv(name.c_str());
    }
};

}  // namespace

TEST_CASE("a tiny dataset loads as (N, 1, H, W) floats of byte / 255 and Int64 labels", "[chapter05][dataset]") {
    TempDir dir;
    const TinyDataset tiny;
    tiny.write(dir.path);
    const MnistData data = load_mnist(dir.path);
    check_split(data.train, tiny.train_images, tiny.train_labels);
    check_split(data.test, tiny.test_images, tiny.test_labels);
    CHECK(data.train.images.data()(0, 0, 0, 0) == 0.0f);
    CHECK(data.train.images.data()(19, 0, 4, 6) == 1.0f);
    CHECK(data.num_classes == 3);
    CHECK(data.class_names == std::vector<std::string>{"class 0", "class 1", "class 2"});
    CHECK(data.directory == dir.path);
}

TEST_CASE("plain, gzipped and Kaggle's file names all load the same", "[chapter05][dataset]") {
    const Spelling spelling = GENERATE(Spelling::Plain, Spelling::Gzipped, Spelling::Kaggle, Spelling::KaggleFolders);
    INFO("spelling " << static_cast<int>(spelling));
    TempDir dir;
    const TinyDataset tiny;
    tiny.write(dir.path, spelling);
    const Split train = load_split(dir.path, "train");
    check_split(train, tiny.train_images, tiny.train_labels);
    const Split test = load_split(dir.path, "t10k");
    check_split(test, tiny.test_images, tiny.test_labels);
}

TEST_CASE("the uncompressed file is preferred when both spellings are there", "[chapter05][dataset]") {
    TempDir dir;
    TinyDataset tiny;
    tiny.write(dir.path, Spelling::Plain);
    write_bytes(dir.path / "train-images-idx3-ubyte.gz", "not even gzip");
    check_split(load_split(dir.path, "train"), tiny.train_images, tiny.train_labels);
}

TEST_CASE("images and labels of different counts are refused naming both files", "[chapter05][dataset]") {
    TempDir dir;
    TinyDataset tiny;
    tiny.train_labels = tiny_labels(19);
    tiny.write(dir.path);
    const std::string message = error_message<IdxError>([&] { (void)load_mnist(dir.path); });
    CHECK_THAT(message, Contains("images and labels disagree: 20 images in " +
                                 (dir.path / "train-images-idx3-ubyte.gz").string() + " but 19 labels in " +
                                 (dir.path / "train-labels-idx1-ubyte.gz").string()));
}

TEST_CASE("images that are not 3-D and labels that are not 1-D are refused", "[chapter05][dataset]") {
    TempDir dir;
    TinyDataset tiny;
    SECTION("images") {
        tiny.test_images = IdxArray{{10}, std::vector<std::uint8_t>(10)};
        tiny.write(dir.path);
        check_message(error_message<IdxError>([&] { (void)load_split(dir.path, "t10k"); }),
                      dir.path / "t10k-images-idx3-ubyte.gz", "expected 3 dimensions (images), found 1");
    }
    SECTION("labels") {
        tiny.test_labels = tiny_images(10, 1, 1);
        tiny.write(dir.path);
        check_message(error_message<IdxError>([&] { (void)load_split(dir.path, "t10k"); }),
                      dir.path / "t10k-labels-idx1-ubyte.gz", "expected 1 dimension (labels), found 3");
    }
}

TEST_CASE("train and test images of different sizes are refused", "[chapter05][dataset]") {
    TempDir dir;
    TinyDataset tiny;
    tiny.test_images = tiny_images(10, 7, 5);
    tiny.write(dir.path);
    CHECK_THAT(error_message<IdxError>([&] { (void)load_mnist(dir.path); }),
               Contains("the train images are 5x7 but the test images are 7x5"));
}

TEST_CASE("the number of classes is the largest label of both splits plus one, at least 2", "[chapter05][dataset]") {
    TempDir dir;
    TinyDataset tiny;
    tiny.test_labels.values[3] = 11;
    tiny.write(dir.path);
    const MnistData data = load_mnist(dir.path);
    CHECK(data.num_classes == 12);
    CHECK(data.class_names.size() == 12);
    CHECK(data.class_names[11] == "class 11");

    tiny.train_labels = tiny_labels(20, 1);
    tiny.test_labels = tiny_labels(10, 1);
    tiny.write(dir.path);
    check_message(error_message<IdxError>([&] { (void)load_mnist(dir.path); }), dir.path,
                  "every label is 0: a classifier needs at least 2 classes");
}

TEST_CASE("a missing dataset is DataNotFound saying where it looked and what it expected", "[chapter05][dataset]") {
    TempDir dir;
    SECTION("the directory does not exist") {
        const fs::path nowhere = dir.path / "nowhere";
        const std::string message = error_message<DataNotFound>([&] { (void)load_mnist(nowhere); });
        CHECK_THAT(message,
                   Contains("no MNIST-format dataset in " + nowhere.string() + " (the directory does not exist)"));
        CHECK_THAT(message, Contains("expected train-images-idx3-ubyte[.gz]"));
        CHECK_THAT(message, Contains("scripts/get-mnist DIR"));
    }
    SECTION("the directory holds none of the files") {
        write_bytes(dir.path / "README", "nothing here");
        const std::string message = error_message<DataNotFound>([&] { (void)load_mnist(dir.path); });
        CHECK(message == missing_data_message(dir.path));
        CHECK_THAT(message, Contains("no MNIST-format dataset in " + dir.path.string() + ": expected"));
        CHECK_THAT(message, Contains("t10k-labels-idx1-ubyte[.gz]"));
    }
    SECTION("one file is missing: the names tried are listed") {
        TinyDataset().write(dir.path);
        fs::remove(dir.path / "t10k-labels-idx1-ubyte.gz");
        const std::string message = error_message<DataNotFound>([&] { (void)load_mnist(dir.path); });
        CHECK_THAT(message, Contains(dir.path.string() + ": no t10k labels file: looked for t10k-labels-idx1-ubyte, "
                                                         "t10k-labels-idx1-ubyte.gz, t10k-labels.idx1-ubyte, "
                                                         "t10k-labels.idx1-ubyte.gz"));
    }
}

TEST_CASE("a damaged file in the dataset is an IdxError naming it, not DataNotFound", "[chapter05][dataset]") {
    TempDir dir;
    TinyDataset().write(dir.path);
    const fs::path damaged = dir.path / "train-labels-idx1-ubyte.gz";
    write_bytes(damaged, read_bytes(damaged).substr(0, 20));
    const std::string message = error_message<IdxError>([&] { (void)load_mnist(dir.path); });
    CHECK(message.rfind(damaged.string() + ": ", 0) == 0);
}

TEST_CASE("without Fashion-MNIST, the message names the Debian package and the other ways", "[chapter05][dataset]") {
    for (const std::string directory : {"/usr/share/datasets/fashion-mnist", "/usr/share/datasets/fashion-mnist/"}) {
        const std::string message = missing_data_message(directory);
        INFO(message);
        CHECK(message.rfind("Fashion-MNIST not found in /usr/share/datasets/fashion-mnist", 0) == 0);
        CHECK_THAT(message,
                   Contains("install it with `sudo apt-get install dataset-fashion-mnist` (or run scripts/setup)"));
        CHECK_THAT(message, Contains("or pass --data DIR with an MNIST-format dataset"));
        CHECK_THAT(message, Contains("scripts/get-mnist DIR fetches the MNIST digits"));
    }
    CHECK_THAT(missing_data_message("/tmp/fashion-mnist"), !Contains("apt-get"));
}

TEST_CASE("the default data directory is Debian's Fashion-MNIST unless STEPGRAD_DATA says otherwise",
          "[chapter05][dataset]") {
    {
        const ScopedEnvironment unset("STEPGRAD_DATA", nullptr);
        CHECK(default_data_directory() == fs::path("/usr/share/datasets/fashion-mnist"));
    }
    {
        const ScopedEnvironment empty("STEPGRAD_DATA", "");
        CHECK(default_data_directory() == fs::path("/usr/share/datasets/fashion-mnist"));
    }
    const ScopedEnvironment set("STEPGRAD_DATA", "/data/kmnist");
    CHECK(default_data_directory() == fs::path("/data/kmnist"));
}

TEST_CASE("classes are named by classes.txt, as Fashion-MNIST's, as digits, or by number", "[chapter05][dataset]") {
    TempDir dir;
    const fs::path fashion = dir.path / "My-FASHION-set";
    const fs::path digits = dir.path / "mnist";
    fs::create_directories(fashion);
    fs::create_directories(digits);
    const std::vector<std::string> fashion_names = class_names_for(fashion / "", 10);
    CHECK(fashion_names == std::vector<std::string>{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                                    "Shirt", "Sneaker", "Bag", "Ankle boot"});
    CHECK(class_names_for(digits, 10) == std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"});
    CHECK(class_names_for(fashion, 3) == std::vector<std::string>{"class 0", "class 1", "class 2"});

    write_bytes(digits / "classes.txt", "zero\r\none\nmany\n");
    CHECK(class_names_for(digits, 3) == std::vector<std::string>{"zero", "one", "many"});
    check_message(error_message<IdxError>([&] { (void)class_names_for(digits, 10); }), digits / "classes.txt",
                  "3 class names but the labels make 10 classes");
    write_bytes(digits / "classes.txt", "zero\n\nmany");
    check_message(error_message<IdxError>([&] { (void)class_names_for(digits, 3); }), digits / "classes.txt",
                  "line 2 is empty");
}

TEST_CASE("load_mnist names the dataset and uses classes.txt", "[chapter05][dataset]") {
    TempDir dir;
    const fs::path directory = dir.path / "shapes";
    fs::create_directories(directory);
    TinyDataset().write(directory);
    write_bytes(directory / "classes.txt", "circle\nsquare\ntriangle");
    const MnistData data = load_mnist(directory);
    CHECK(data.name == "shapes");
    CHECK(data.class_names == std::vector<std::string>{"circle", "square", "triangle"});
}

TEST_CASE("the dataset's name comes from its directory", "[chapter05][dataset]") {
    CHECK(dataset_name_for("/usr/share/datasets/fashion-mnist") == "Fashion-MNIST");
    CHECK(dataset_name_for("/data/MNIST/") == "MNIST");
    CHECK(dataset_name_for("data/mnist-digits") == "MNIST");
    CHECK(dataset_name_for("/data/kmnist") == "kmnist");
    TempDir dir;
    const fs::path inside = dir.path / "letters";
    fs::create_directories(inside);
    CHECK(dataset_name_for(inside / ".") == "letters");
}

TEST_CASE("Fashion-MNIST from the Debian package loads: 60000 + 10000 images, 6000 per class",
          "[chapter05][dataset][fashion]") {
    const fs::path directory = debian_fashion_mnist_directory;
    if (!fs::exists(directory / "train-images-idx3-ubyte.gz")) {
        WARN("skipped: " << missing_data_message(directory));
        SUCCEED();
        return;
    }
    const auto start = std::chrono::steady_clock::now();
    const MnistData data = load_mnist(directory);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO("loaded in " << seconds << " s");
    CHECK(seconds < 10.0);  // about 0.3 s in a release build; the bytes are converted in one pass
    CHECK(data.name == "Fashion-MNIST");
    CHECK(data.train.images.shape() == stepgrad::Shape{60000, 1, 28, 28});
    CHECK(data.test.images.shape() == stepgrad::Shape{10000, 1, 28, 28});
    CHECK(data.num_classes == 10);
    CHECK(data.class_names.front() == "T-shirt/top");
    std::vector<std::int64_t> per_class(10, 0);
    for (const std::int64_t label : data.train.labels.to_vector<std::int64_t>()) ++per_class.at(label);
    CHECK(per_class == std::vector<std::int64_t>(10, 6000));
    const std::vector<float> pixels = data.test.images.to_vector();
    const auto [darkest, brightest] = std::minmax_element(pixels.begin(), pixels.end());
    CHECK(*darkest == 0.0f);
    CHECK(*brightest == 1.0f);
}
