#include "podmortem/core/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

#include "podmortem/core/timestamp.h"

namespace podmortem::core::log {

namespace {
std::atomic<Level> gLevel{Level::kInfo};
std::atomic<Format> gFormat{Format::kJson};
std::mutex gWriteMutex;

const char* levelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

nlohmann::json toJson(const Value& value) {
  return std::visit(
      [](const auto& v) -> nlohmann::json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string_view>) {
          return std::string(v);
        } else if constexpr (std::is_same_v<T, const char*>) {
          return v == nullptr ? std::string() : std::string(v);
        } else {
          return v;
        }
      },
      value);
}
}  // namespace

void configure(Level level, Format format) {
  gLevel = level;
  gFormat = format;
}

bool enabled(Level level) { return level >= gLevel.load(std::memory_order_relaxed); }

void write(Level level, std::string_view message, Fields fields) {
  if (!enabled(level)) return;
  std::string line;
  if (gFormat.load(std::memory_order_relaxed) == Format::kJson) {
    nlohmann::json object = {{"time", formatTimestamp(std::chrono::system_clock::now())}, {"level", levelName(level)},
                             {"msg", std::string(message)}};
    for (const auto& [key, value] : fields) object[std::string(key)] = toJson(value);
    line = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line.append(formatTimestamp(std::chrono::system_clock::now())).append(" ").append(levelName(level)).append(" ").append(message);
    for (const auto& [key, value] : fields) {
      nlohmann::json rendered = toJson(value);
      line.append(" ").append(key).append("=");
      line.append(rendered.is_string()
                      ? rendered.get<std::string>()
                      : rendered.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
  }
  line += '\n';
  std::lock_guard lock(gWriteMutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace podmortem::core::log
