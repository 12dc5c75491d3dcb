#pragma once
// Hyperparameters as state-dict metadata text (internal to the optimizers and schedulers):
// numbers with 17 significant digits, which read back to the same double; flags as true/false;
// lists comma-separated.
#include <stepgrad/optim/optimizer.hpp>
#include <stepgrad/shared/error.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace stepgrad::optim::detail {

inline std::string format_number(double value) {
    char text[40];
    std::snprintf(text, sizeof(text), "%.17g", value);
    return text;
}

inline std::string format_list(const std::vector<double>& values) {
    std::string text;
    for (std::size_t i = 0; i < values.size(); ++i) {
        text += (i ? "," : "");
        text += format_number(values[i]);
    }
    return text;
}

inline const std::string& find_key(const Metadata& metadata, const std::string& key) {
    const auto it = metadata.find(key);
    STEPGRAD_CHECK(it != metadata.end(), "load_state_dict: the state dict has no '" << key
                                             << "'; was it written by the same kind of optimizer or scheduler?");
    return it->second;
}

inline double parse_number(const std::string& text, const std::string& key) {
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    STEPGRAD_CHECK(!text.empty() && end == text.c_str() + text.size(),
                   "load_state_dict: '" << key << "' is '" << text << "', not a number");
    return value;
}

inline double read_number(const Metadata& metadata, const std::string& key) {
    return parse_number(find_key(metadata, key), key);
}

inline std::int64_t read_integer(const Metadata& metadata, const std::string& key) {
    const double value = read_number(metadata, key);
    STEPGRAD_CHECK(std::floor(value) == value && std::abs(value) < 9e15,
                   "load_state_dict: '" << key << "' is " << value << ", not an integer");
    return static_cast<std::int64_t>(value);
}

inline bool read_flag(const Metadata& metadata, const std::string& key) {
    const std::string& text = find_key(metadata, key);
    STEPGRAD_CHECK(text == "true" || text == "false", "load_state_dict: '" << key << "' is '" << text
                                                                           << "', not true or false");
    return text == "true";
}

inline std::vector<double> parse_list(const std::string& text, const std::string& key) {
    std::vector<double> values;
    if (text.empty()) return values;
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = text.find(',', start);
        values.push_back(parse_number(text.substr(start, comma - start), key));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return values;
}

inline std::vector<double> read_list(const Metadata& metadata, const std::string& key) {
    return parse_list(find_key(metadata, key), key);
}

}  // namespace stepgrad::optim::detail
