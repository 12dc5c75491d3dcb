#pragma once
/// @file error.hpp
/// @brief Error checks that throw with a clear message and the place they fired.

#include <sstream>
#include <stdexcept>
#include <string>

namespace stepgrad {

/// @brief Thrown by the stub of an exercise that a student has not written yet.
///
/// `scripts/make-exercises` replaces each exercise region in the sources with
/// `throw stepgrad::NotImplemented("02.3");`, so the program still builds and the exercise's
/// tests (`ctest -L ex-02.3`) fail with a message that says what to write.
class NotImplemented : public std::logic_error {
public:
    /// @brief Builds the message "exercise <id> is not implemented yet".
    /// @param exercise_id The exercise id, e.g. "02.3".
    explicit NotImplemented(const std::string& exercise_id);

    /// @brief The exercise id this stub stands for.
    [[nodiscard]] const std::string& exercise_id() const noexcept { return exercise_id_; }

private:
    std::string exercise_id_;
};

namespace detail {

/// @brief Formats "message (file:line)" from a file path (only its last part is kept).
std::string with_location(const std::string& message, const char* file, int line);

/// @brief Throws `Exception` carrying `message` and where the check fired.
template <class Exception>
[[noreturn]] void throw_error(const std::string& message, const char* file, int line) {
    throw Exception(with_location(message, file, line));
}

}  // namespace detail
}  // namespace stepgrad

/// @brief Throws `ExceptionType` when `condition` is false; `message` may use `<<`.
///
/// Example: `STEPGRAD_CHECK_AS(std::domain_error, x > 0, "log: needs x > 0, got " << x);`
#define STEPGRAD_CHECK_AS(ExceptionType, condition, message)                               \
    do {                                                                                   \
        if (!(condition)) {                                                                \
            std::ostringstream stepgrad_check_stream_;                                     \
            stepgrad_check_stream_ << message;                                             \
            ::stepgrad::detail::throw_error<ExceptionType>(stepgrad_check_stream_.str(),   \
                                                           __FILE__, __LINE__);            \
        }                                                                                  \
    } while (false)

/// @brief Throws `std::invalid_argument` when `condition` is false; `message` may use `<<`.
///
/// The message should name the operation, the shapes or devices involved, and what to do.
/// Example: `STEPGRAD_CHECK(a.ndim() == 2, "matmul: expected a matrix, got shape " << a.shape());`
#define STEPGRAD_CHECK(condition, message) \
    STEPGRAD_CHECK_AS(std::invalid_argument, condition, message)
