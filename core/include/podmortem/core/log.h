#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace podmortem::core::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class Format { kJson, kText };

// A field value. Request bodies, tokens and keys must never be passed here.
using Value = std::variant<std::string, std::string_view, const char*, int64_t, uint64_t, int,
                           double, bool>;
using Fields = std::initializer_list<std::pair<std::string_view, Value>>;

void configure(Level level, Format format);
bool enabled(Level level);

// One line on stderr per call: a JSON object (time, level, msg, fields) or, in text format,
// "time LEVEL msg key=value ...". Safe to call from any thread.
void write(Level level, std::string_view message, Fields fields = {});

inline void debug(std::string_view message, Fields fields = {}) {
  if (enabled(Level::kDebug)) write(Level::kDebug, message, fields);
}
inline void info(std::string_view message, Fields fields = {}) {
  write(Level::kInfo, message, fields);
}
inline void warn(std::string_view message, Fields fields = {}) {
  write(Level::kWarn, message, fields);
}
inline void error(std::string_view message, Fields fields = {}) {
  write(Level::kError, message, fields);
}

}  // namespace podmortem::core::log
