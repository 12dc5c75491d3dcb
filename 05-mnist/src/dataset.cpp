// MNIST-format datasets: finding the four IDX files, checking they fit together, turning their
// bytes into tensors, and naming the dataset and its classes.
#include <stepgrad/mnist/dataset.hpp>
#include <stepgrad/mnist/idx.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <system_error>

namespace stepgrad::mnist {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> fashion_mnist_class_names{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                         "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

/// The names a file may have, e.g. for ("train", "images", 3): train-images-idx3-ubyte,
/// train-images-idx3-ubyte.gz, then Kaggle's train-images.idx3-ubyte and .gz.
std::vector<std::string> candidate_names(const std::string& prefix, const std::string& kind, int rank) {
    const std::string idx = "idx" + std::to_string(rank) + "-ubyte";
    const std::string usual = prefix + "-" + kind + "-" + idx;
    const std::string kaggle = prefix + "-" + kind + "." + idx;
    return {usual, usual + ".gz", kaggle, kaggle + ".gz"};
}

/// The first candidate that is a file, or a folder holding a file of its own name (Kaggle).
std::optional<fs::path> find_file(const fs::path& directory, const std::vector<std::string>& names) {
    std::error_code ignored;
    for (const std::string& name : names) {
        const fs::path candidate = directory / name;
        if (fs::is_regular_file(candidate, ignored)) return candidate;
        if (fs::is_regular_file(candidate / name, ignored)) return candidate / name;
    }
    return std::nullopt;
}

std::string join(const std::vector<std::string>& names, const std::string& separator) {
    std::string text;
    for (std::size_t i = 0; i < names.size(); ++i) text += (i ? separator : "") + names[i];
    return text;
}

fs::path find_split_file(const fs::path& directory, const std::string& prefix, const std::string& kind, int rank) {
    const std::vector<std::string> names = candidate_names(prefix, kind, rank);
    if (auto found = find_file(directory, names)) return *found;
    throw DataNotFound(directory.string() + ": no " + prefix + " " + kind + " file: looked for " + join(names, ", "));
}

bool holds_any_dataset_file(const fs::path& directory) {
    for (const char* prefix : {"train", "t10k"}) {
        if (find_file(directory, candidate_names(prefix, "images", 3)) ||
            find_file(directory, candidate_names(prefix, "labels", 1))) {
            return true;
        }
    }
    return false;
}

void check_rank(const IdxArray& array, std::size_t rank, const char* what, const fs::path& path) {
    if (array.dims.size() != rank) {
        throw IdxError(path.string() + ": expected " + std::to_string(rank) + " dimension" + (rank > 1 ? "s" : "") +
                       " (" + what + "), found " + std::to_string(array.dims.size()));
    }
}

/// (N, H, W) bytes to an (N, 1, H, W) Float32 tensor of byte / 255, in one pass.
Tensor images_to_tensor(const IdxArray& images) {
    const Shape shape{images.dims[0], 1, images.dims[1], images.dims[2]};
    Tensor tensor = Tensor::empty(shape, Device::CPU, Dtype::Float32);
    float* out = tensor.data_ptr<float>();
    const std::uint8_t* in = images.values.data();
    const std::size_t count = images.values.size();
    for (std::size_t i = 0; i < count; ++i) out[i] = static_cast<float>(in[i]) / 255.0f;
    return tensor;
}

Tensor labels_to_tensor(const IdxArray& labels) {
    Tensor tensor = Tensor::empty({labels.dims[0]}, Device::CPU, Dtype::Int64);
    std::copy(labels.values.begin(), labels.values.end(), tensor.data_ptr<std::int64_t>());
    return tensor;
}

std::int64_t largest_label(const Tensor& labels) {
    const std::int64_t* values = labels.data_ptr<std::int64_t>();
    return labels.numel() == 0 ? -1 : *std::max_element(values, values + labels.numel());
}

std::string lowercase(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

/// The directory's own name, also for ".", "data/" or a relative path.
std::string directory_name(const fs::path& directory) {
    std::error_code error;
    fs::path resolved = fs::weakly_canonical(fs::absolute(directory, error), error);
    if (error) resolved = directory.lexically_normal();
    if (!resolved.has_filename()) resolved = resolved.parent_path();
    const std::string name = resolved.filename().string();
    return name.empty() ? directory.string() : name;
}

bool is_debian_fashion_mnist(const fs::path& directory) {
    std::error_code error;
    const fs::path debian = debian_fashion_mnist_directory;
    const fs::path resolved = fs::weakly_canonical(fs::absolute(directory, error), error);
    if (!error && resolved == fs::weakly_canonical(debian, error) && !error) return true;
    const fs::path normal = directory.lexically_normal();
    return normal == debian || normal == debian / "";
}

std::vector<std::string> read_class_names(const fs::path& file, std::int64_t num_classes) {
    std::ifstream in(file);
    if (!in) throw IdxError(file.string() + ": cannot read the class names");
    std::vector<std::string> names;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) {
            throw IdxError(file.string() + ": line " + std::to_string(names.size() + 1) +
                           " is empty (write one class name per line)");
        }
        names.push_back(line);
    }
    if (static_cast<std::int64_t>(names.size()) != num_classes) {
        throw IdxError(file.string() + ": " + std::to_string(names.size()) + " class names but the labels make " +
                       std::to_string(num_classes) + " classes (write one name per line)");
    }
    return names;
}

}  // namespace

Split load_split(const fs::path& directory, const std::string& prefix) {
    const fs::path images_path = find_split_file(directory, prefix, "images", 3);
    const fs::path labels_path = find_split_file(directory, prefix, "labels", 1);
    const IdxArray images = read_idx(images_path);
    check_rank(images, 3, "images", images_path);
    const IdxArray labels = read_idx(labels_path);
    check_rank(labels, 1, "labels", labels_path);
    if (images.dims[0] != labels.dims[0]) {
        throw IdxError(directory.string() + ": images and labels disagree: " + std::to_string(images.dims[0]) +
                       " images in " + images_path.string() + " but " + std::to_string(labels.dims[0]) +
                       " labels in " + labels_path.string());
    }
    // Labels are unsigned bytes, so each is below 256 by construction.
    return Split{images_to_tensor(images), labels_to_tensor(labels)};
}

MnistData load_mnist(const fs::path& directory) {
    std::error_code ignored;
    if (!fs::is_directory(directory, ignored) || !holds_any_dataset_file(directory)) {
        throw DataNotFound(missing_data_message(directory));
    }
    MnistData data;
    data.train = load_split(directory, "train");
    data.test = load_split(directory, "t10k");
    const Shape& train_shape = data.train.images.shape();
    const Shape& test_shape = data.test.images.shape();
    if (train_shape[2] != test_shape[2] || train_shape[3] != test_shape[3]) {
        throw IdxError(directory.string() + ": the train images are " + std::to_string(train_shape[2]) + "x" +
                       std::to_string(train_shape[3]) + " but the test images are " + std::to_string(test_shape[2]) +
                       "x" + std::to_string(test_shape[3]) + ": both splits must have the same image size");
    }
    data.num_classes = std::max(largest_label(data.train.labels), largest_label(data.test.labels)) + 1;
    if (data.num_classes < 2) {
        throw IdxError(directory.string() + ": every label is 0: a classifier needs at least 2 classes");
    }
    data.class_names = class_names_for(directory, data.num_classes);
    data.name = dataset_name_for(directory);
    data.directory = directory;
    return data;
}

fs::path default_data_directory() {
    const char* from_environment = std::getenv("STEPGRAD_DATA");
    if (from_environment != nullptr && *from_environment != '\0') return from_environment;
    return debian_fashion_mnist_directory;
}

std::string missing_data_message(const fs::path& directory) {
    const std::string get_mnist = "scripts/get-mnist DIR fetches the MNIST digits";
    if (is_debian_fashion_mnist(directory)) {
        return "Fashion-MNIST not found in " + directory.string() +
               ": install it with `sudo apt-get install dataset-fashion-mnist` (or run scripts/setup), "
               "or pass --data DIR with an MNIST-format dataset (" + get_mnist + ")";
    }
    std::error_code ignored;
    std::string where = "no MNIST-format dataset in " + directory.string();
    if (!fs::is_directory(directory, ignored)) where += " (the directory does not exist)";
    return where + ": expected train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], " +
           "t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] (or Kaggle's train-images.idx3-ubyte "
           "spelling); " + get_mnist;
}

std::vector<std::string> class_names_for(const fs::path& directory, std::int64_t num_classes) {
    std::error_code ignored;
    const fs::path listed = directory / "classes.txt";
    if (fs::exists(listed, ignored)) return read_class_names(listed, num_classes);
    if (num_classes == 10 && lowercase(directory_name(directory)).find("fashion") != std::string::npos) {
        return fashion_mnist_class_names;
    }
    std::vector<std::string> names;
    for (std::int64_t index = 0; index < num_classes; ++index) {
        names.push_back(num_classes == 10 ? std::to_string(index) : "class " + std::to_string(index));
    }
    return names;
}

std::string dataset_name_for(const fs::path& directory) {
    const std::string name = directory_name(directory);
    const std::string lower = lowercase(name);
    if (lower.find("fashion") != std::string::npos) return "Fashion-MNIST";
    if (lower.rfind("mnist", 0) == 0) return "MNIST";  // "mnist", "MNIST-digits"; not "kmnist"
    return name;
}

}  // namespace stepgrad::mnist
