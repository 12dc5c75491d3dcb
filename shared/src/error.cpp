#include "stepgrad/shared/error.hpp"

#include <string_view>

namespace stepgrad {

NotImplemented::NotImplemented(const std::string& exercise_id)
    : std::logic_error("exercise " + exercise_id +
                       " is not implemented yet: replace the stub with your solution "
                       "(its tests: ctest -L ex-" + exercise_id + ")"),
      exercise_id_(exercise_id) {}

namespace detail {

std::string with_location(const std::string& message, const char* file, int line) {
    std::string_view path(file);
    if (auto slash = path.find_last_of('/'); slash != std::string_view::npos) {
        path.remove_prefix(slash + 1);
    }
    return "stepgrad: " + message + " [" + std::string(path) + ":" + std::to_string(line) + "]";
}

}  // namespace detail
}  // namespace stepgrad
