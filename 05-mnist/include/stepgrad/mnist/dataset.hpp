#pragma once
/// @file dataset.hpp
/// @brief MNIST-format datasets: four IDX files in a directory, loaded as tensors.
///
/// A dataset in MNIST's format is a directory holding
///
///     train-images-idx3-ubyte[.gz]   training images, (N, H, W) unsigned bytes
///     train-labels-idx1-ubyte[.gz]   their classes, (N) unsigned bytes
///     t10k-images-idx3-ubyte[.gz]    test images, (M, H, W)
///     t10k-labels-idx1-ubyte[.gz]    their classes, (M)
///
/// MNIST (handwritten digits) and Fashion-MNIST (photos of clothes, the Debian package
/// `dataset-fashion-mnist`) both come this way, as do KMNIST and others. Kaggle's copies name
/// the files `train-images.idx3-ubyte` (a dot before `idx`), sometimes each inside a folder
/// of the same name; those are found too. An optional `classes.txt` in the directory names the
/// classes, one per line (see class_names_for()).

#include <stepgrad/tensor/tensor.hpp>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace stepgrad::mnist {

/// @brief Thrown when a dataset's files are not there: the directory does not exist, holds
/// none of the four files, or lacks one of them.
///
/// The message says where stepgrad looked, which names it tried and how to get the data
/// (see missing_data_message()). A file that is there but damaged gives IdxError instead.
class DataNotFound : public std::runtime_error {
public:
    /// @brief An error with the full message `what`.
    explicit DataNotFound(const std::string& what) : std::runtime_error(what) {}
};

/// @brief Where the Debian package `dataset-fashion-mnist` installs Fashion-MNIST.
inline constexpr const char* debian_fashion_mnist_directory = "/usr/share/datasets/fashion-mnist";

/// @brief One split of a dataset (training or test) as tensors.
struct Split {
    /// @brief Float32, shape (N, 1, H, W): one channel, each pixel's byte divided by 255, in [0, 1].
    Tensor images;
    /// @brief Int64, shape (N): the class of each image, 0 to num_classes - 1.
    Tensor labels;
};

/// @brief A whole dataset: both splits, how many classes it has and what they are called.
struct MnistData {
    /// @brief The training images and labels (60000 of each for MNIST and Fashion-MNIST).
    Split train;
    /// @brief The test images and labels (10000 of each for MNIST and Fashion-MNIST).
    Split test;
    /// @brief The largest label of either split plus one (10 for MNIST); at least 2.
    std::int64_t num_classes = 0;
    /// @brief A name for each class, `num_classes` of them (see class_names_for()).
    std::vector<std::string> class_names;
    /// @brief "Fashion-MNIST", "MNIST" or the directory's name (see dataset_name_for()).
    std::string name;
    /// @brief The directory it was loaded from.
    std::filesystem::path directory;
};

/// @brief Loads one split, `<prefix>-images-idx3-ubyte` and `<prefix>-labels-idx1-ubyte`.
///
/// For each of the two files the names tried are, in order, `<prefix>-images-idx3-ubyte`,
/// the same with `.gz`, then Kaggle's `<prefix>-images.idx3-ubyte` and its `.gz`; a folder
/// of that name holding a file of the same name counts too. The images must be 3-D
/// (N, H, W) and the labels 1-D with the same N.
///
/// The bytes become floats in one pass straight into the tensor's storage: 60000 images of
/// 28 x 28 take a few tens of milliseconds once decompressed.
///
/// Example:
/// @code
/// auto test = stepgrad::mnist::load_split("/usr/share/datasets/fashion-mnist", "t10k");
/// // test.images is (10000, 1, 28, 28) Float32, test.labels is (10000) Int64
/// @endcode
/// @param directory The dataset's directory.
/// @param prefix "train" or "t10k" (any prefix works the same way).
/// @return The images and labels.
/// @throws DataNotFound naming the directory and every name tried when a file is missing.
/// @throws IdxError when a file is damaged, not 3-D or 1-D, or the counts disagree (the
///         message names both files: "images and labels disagree: 60000 images in ... but
///         59999 labels in ...").
[[nodiscard]] Split load_split(const std::filesystem::path& directory, const std::string& prefix);

/// @brief Loads both splits of the dataset in `directory` and names its classes.
///
/// Example:
/// @code
/// auto data = stepgrad::mnist::load_mnist(stepgrad::mnist::default_data_directory());
/// // data.name == "Fashion-MNIST", data.num_classes == 10, data.class_names[9] == "Ankle boot"
/// @endcode
/// @param directory The dataset's directory, e.g. default_data_directory().
/// @return Both splits, the class count and names, the dataset's name.
/// @throws DataNotFound with missing_data_message() when the directory does not exist or holds
///         none of the files; DataNotFound naming the missing file when only some are there.
/// @throws IdxError when a file is damaged, the train and test images differ in size, there
///         are fewer than 2 classes, or `classes.txt` does not fit.
[[nodiscard]] MnistData load_mnist(const std::filesystem::path& directory);

/// @brief The dataset directory used when none is given: the environment variable
/// `STEPGRAD_DATA` when it is set and not empty, else debian_fashion_mnist_directory.
[[nodiscard]] std::filesystem::path default_data_directory();

/// @brief What load_mnist() says when `directory` holds no dataset: where it looked, which
/// file names it expected, and how to get data.
///
/// For the Debian Fashion-MNIST directory the message names the package to install:
/// "Fashion-MNIST not found in /usr/share/datasets/fashion-mnist: install it with `sudo apt-get
/// install dataset-fashion-mnist` (or run scripts/setup), or pass --data DIR ...". For any
/// other directory: "no MNIST-format dataset in DIR: expected train-images-idx3-ubyte[.gz], ...".
/// @param directory The directory that was searched.
/// @return The message (without a trailing newline).
[[nodiscard]] std::string missing_data_message(const std::filesystem::path& directory);

/// @brief Names for the classes of the dataset in `directory`.
///
/// In order of preference:
/// 1. the lines of `directory/classes.txt`, when that file exists: one name per line, exactly
///    `num_classes` lines (a final newline is optional, `\r\n` line ends are fine);
/// 2. Fashion-MNIST's ten names ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
///    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot") when `num_classes` is 10 and the
///    directory's name contains "fashion" (in any case);
/// 3. the digits "0" to "9" when `num_classes` is 10;
/// 4. otherwise "class 0", "class 1", ...
/// @param directory The dataset's directory.
/// @param num_classes How many classes the labels have.
/// @return `num_classes` names, the name of class i at index i.
/// @throws IdxError naming `classes.txt` when it cannot be read, has the wrong number of
///         lines or an empty line.
[[nodiscard]] std::vector<std::string> class_names_for(const std::filesystem::path& directory,
                                                       std::int64_t num_classes);

/// @brief A name for the dataset in `directory`: "Fashion-MNIST" when the directory's name
/// contains "fashion", "MNIST" when it starts with "mnist" (in any case), else the directory's
/// name (e.g. "kmnist").
/// @param directory The dataset's directory (relative paths and trailing slashes are fine).
/// @return The name to show, e.g. in the training report.
[[nodiscard]] std::string dataset_name_for(const std::filesystem::path& directory);

}  // namespace stepgrad::mnist
