#pragma once
/// @file error_of.hpp
/// @brief For tests of bad input: the message of the error a call throws.

#include <exception>
#include <string>

namespace stepgrad::testing {

/// @brief The message of what `call` throws, of type `Exception` (or derived from it), or ""
/// when it throws nothing. An exception of another type goes through to the caller.
///
/// Example: `CHECK_THAT(error_of<std::invalid_argument>([&] { Linear(-1, 2); }), Contains("-1"));`
template <class Exception = std::exception, class Call>
std::string error_of(Call&& call) {
    try {
        call();
    } catch (const Exception& error) {
        return error.what();
    }
    return "";
}

}  // namespace stepgrad::testing
