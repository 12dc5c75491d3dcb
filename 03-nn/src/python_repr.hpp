#pragma once
// How the layers print floats in their repr: as Python does, so a printed stepgrad model reads
// like the same model printed by PyTorch. Private to the library.
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <sstream>
#include <string>

namespace stepgrad::nn::repr {

/// A float as Python's repr writes it (the shortest text that reads back exactly: 1e-05, 0.1,
/// 1.0), so that the layers print their options as PyTorch prints a model.
inline std::string python_float(double value) {
    char buffer[40];
    int precision = 1;
    for (; precision < 17; ++precision) {  // the fewest significant digits that read back exactly
        std::snprintf(buffer, sizeof buffer, "%.*e", precision - 1, value);
        if (std::strtod(buffer, nullptr) == value) break;
    }
    std::snprintf(buffer, sizeof buffer, "%.*e", precision - 1, value);
    const std::string text(buffer);  // "[-]d.ddde±XX"
    const bool negative = text[0] == '-';
    const std::size_t first = negative ? 1 : 0, e = text.find('e');
    const int exponent = std::atoi(text.c_str() + e + 1);
    std::string digits(1, text[first]);  // the significant digits, without the point
    if (e > first + 2) digits += text.substr(first + 2, e - first - 2);
    std::ostringstream out;
    if (negative) out << '-';
    if (exponent < -4 || exponent >= 16) {  // Python switches to scientific notation here
        out << digits[0];
        if (digits.size() > 1) out << '.' << digits.substr(1);
        out << 'e' << (exponent < 0 ? '-' : '+') << std::setw(2) << std::setfill('0') << std::abs(exponent);
    } else if (exponent < 0) {
        out << "0." << std::string(static_cast<std::size_t>(-exponent - 1), '0') << digits;
    } else {
        const auto whole = static_cast<std::size_t>(exponent) + 1;
        if (digits.size() < whole) digits.append(whole - digits.size(), '0');
        out << digits.substr(0, whole) << '.' << (digits.size() > whole ? digits.substr(whole) : std::string("0"));
    }
    return out.str();
}

}  // namespace stepgrad::nn::repr
