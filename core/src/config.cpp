#include "podmortem/core/config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "podmortem/core/duration.h"
#include "podmortem/core/yaml.h"

namespace podmortem::core {

namespace fs = std::filesystem;

namespace configvalue {

void badValue(const std::string& expected, const std::string& value) {
  throw ConfigError("expected " + expected + ", got \"" + value + "\"");
}

uint64_t parseUnsigned(const std::string& value, uint64_t min, uint64_t max) {
  uint64_t number = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (ec != std::errc() || end != value.data() + value.size() || number < min || number > max) {
    badValue("an integer from " + std::to_string(min) + " to " + std::to_string(max), value);
  }
  return number;
}

double parseNumber(const std::string& value, double min, double max) {
  double number = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (ec != std::errc() || end != value.data() + value.size() || !std::isfinite(number) ||
      number < min || number > max) {
    badValue("a number from " + formatNumber(min) + " to " + formatNumber(max), value);
  }
  return number;
}

std::chrono::milliseconds parsePositiveDuration(const std::string& value) {
  auto duration = parseDuration(value);
  if (!duration || duration->count() <= 0) badValue("a positive duration such as 10s or 2m", value);
  return *duration;
}

bool parseBool(const std::string& value) {
  if (value == "true") return true;
  if (value == "false") return false;
  badValue("true or false", value);
}

std::string resolvePath(const std::string& value, const fs::path& base) {
  if (value.empty()) return value;
  fs::path path(value);
  if (path.is_absolute() || base.empty()) return path.lexically_normal().string();
  return (base / path).lexically_normal().string();
}

void checkAddress(const std::string& value) {
  try {
    parseHostPort("", value);
  } catch (const ConfigError&) {
    badValue("host:port with a port from 0 to 65535", value);
  }
}

std::string formatDuration(std::chrono::milliseconds duration) {
  auto ms = duration.count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string formatNumber(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

}  // namespace configvalue

namespace detail {

// Walks a YAML document into a KeyTable: maps are sections, scalars are values, sequences are
// values of list keys.
class YamlWalk {
 public:
  YamlWalk(const KeyTable& table, void* root, const fs::path& base)
      : table_(table), root_(root), base_(base) {}

  void walk(const YAML::Node& node, const std::string& prefix) {
    for (const auto& entry : node) {
      std::string name = entry.first.as<std::string>();
      std::string key = prefix.empty() ? name : prefix + "." + name;
      const YAML::Node& value = entry.second;
      auto known = table_.entries_.find(key);
      bool isKey = known != table_.entries_.end();
      if (value.IsMap()) {
        if (isKey) throw ConfigError("key \"" + key + "\": expected a value, got a map");
        walk(value, key);
      } else if (value.IsSequence()) {
        if (!isKey) throw ConfigError("unknown key \"" + key + "\"");
        if (!known->second.list) {
          throw ConfigError("key \"" + key + "\": expected a single value, got a list");
        }
        if (known->second.setField) {
          walkRecords(value, key);
          continue;
        }
        for (const auto& item : value) {
          if (!item.IsScalar()) throw ConfigError("key \"" + key + "\": expected a list of values");
          table_.apply(root_, key, item.as<std::string>(), base_);
        }
      } else if (value.IsScalar()) {
        if (isKey && known->second.list) {
          throw ConfigError("key \"" + key + "\": expected a list");
        }
        table_.apply(root_, key, value.as<std::string>(), base_);
      } else if (value.IsNull() && !isKey) {
        throw ConfigError("unknown key \"" + key + "\"");
      }
      // An explicit null keeps the default.
    }
  }

 private:
  // A list of maps: each item's keys set in turn, errors naming "KEY[INDEX].FIELD".
  void walkRecords(const YAML::Node& items, const std::string& key) {
    const auto& entry = table_.entries_.at(key);
    auto known = [&entry](const std::string& field) { return entry.fieldIsList && entry.fieldIsList(field); };
    size_t index = 0;
    for (const auto& item : items) {
      std::string itemKey = key + "[" + std::to_string(index) + "]";
      if (!item.IsMap()) throw ConfigError("key \"" + itemKey + "\": expected a map");
      for (const auto& field : item) {
        std::string name = field.first.as<std::string>();
        const YAML::Node& value = field.second;
        if (value.IsSequence()) {
          if (!known(name)) {
            throw ConfigError("key \"" + itemKey + "." + name + "\": expected a single value, got a list");
          }
          for (const auto& element : value) {
            if (!element.IsScalar()) {
              throw ConfigError("key \"" + itemKey + "." + name + "\": expected a list of values");
            }
            table_.applyField(root_, key, index, name, element.as<std::string>(), base_);
          }
        } else if (value.IsScalar()) {
          table_.applyField(root_, key, index, name, value.as<std::string>(), base_);
        } else if (value.IsMap()) {
          throw ConfigError("key \"" + itemKey + "." + name + "\": expected a value, got a map");
        }
      }
      // An item with only null fields still counts: it is there to be completed by --set.
      table_.applyField(root_, key, index, "", "", base_);
      ++index;
    }
  }

  const KeyTable& table_;
  void* root_;
  const fs::path& base_;
};

void KeyTable::addEntry(std::string key, Entry entry) {
  if (!entries_.emplace(key, std::move(entry)).second) {
    throw std::logic_error("configuration key " + key + " is bound twice");
  }
}

void KeyTable::applyField(void* root, const std::string& key, size_t index,
                          const std::string& field, const std::string& value,
                          const fs::path& base) const {
  const Entry& entry = entries_.at(key);
  std::string itemKey = key + "[" + std::to_string(index) + "]";
  try {
    if (field.empty()) {
      // Makes sure the item exists (a map of nulls): setField appends it when it is new.
      entry.setField(root, index, "", "", base);
      return;
    }
    entry.setField(root, index, field, value, base);
  } catch (const ConfigError& error) {
    throw ConfigError("key \"" + itemKey + (field.empty() ? "" : "." + field) + "\": " +
                      error.what());
  }
}

void KeyTable::apply(void* root, const std::string& key, const std::string& value,
                     const fs::path& base) const {
  // NAME[INDEX].FIELD: one key of a list of maps.
  if (auto open = key.find('['); open != std::string::npos) {
    auto close = key.find("].", open);
    auto records = entries_.find(key.substr(0, open));
    if (close == std::string::npos || records == entries_.end() || !records->second.setField) {
      throw ConfigError("unknown key \"" + key + "\"");
    }
    std::string indexText = key.substr(open + 1, close - open - 1);
    size_t index = 0;
    try {
      index = configvalue::parseUnsigned(indexText, 0, 1023);
    } catch (const ConfigError&) {
      throw ConfigError("key \"" + key + "\": expected an index from 0 to 1023");
    }
    applyField(root, records->first, index, key.substr(close + 2), value, base);
    return;
  }
  auto it = entries_.find(key);
  if (it == entries_.end()) throw ConfigError("unknown key \"" + key + "\"");
  try {
    it->second.set(root, value, base);
  } catch (const ConfigError& error) {
    throw ConfigError("key \"" + key + "\": " + error.what());
  }
}

void KeyTable::loadInto(void* root, const std::string& file) const {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(file + ": cannot read the file");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  parseInto(root, text, file, fs::absolute(fs::path(file)).parent_path());
}

void KeyTable::parseInto(void* root, std::string_view yaml, const std::string& name,
                         const fs::path& base) const {
  auto document = loadYamlDocument(yaml);
  if (!document.ok()) throw ConfigError(name + ": " + document.error().message);
  walkDocument(root, *document, name, base);
}

// Errors of the walk carry the file's (or text's) name in front.
void KeyTable::walkDocument(void* root, const YAML::Node& document, const std::string& name,
                            const fs::path& base) const {
  if (document.IsNull()) return;
  if (!document.IsMap()) throw ConfigError(name + ": expected a map of settings at the top level");
  try {
    YamlWalk(*this, root, base).walk(document, "");
  } catch (const ConfigError& error) {
    throw ConfigError(name + ": " + error.what());
  } catch (const YAML::Exception& error) {
    throw ConfigError(name + ": " + error.what());
  }
}

void KeyTable::setInto(void* root, const std::string& key, const std::string& value) const {
  apply(root, key, value, fs::current_path());
}

std::vector<ConfigKey> KeyTable::describe(const void* defaults) const {
  std::vector<ConfigKey> keys;
  for (const auto& [key, entry] : entries_) {
    std::string shown = entry.show(defaults);
    std::string description = entry.description;
    if (!shown.empty()) {
      description += " (default " + shown + ")";
    } else if (!entry.unsetMeans.empty()) {
      description += " (unset: " + entry.unsetMeans + ")";
    }
    keys.push_back({key, std::move(description)});
    for (const auto& field : entry.fields) keys.push_back({key + "[]." + field.key, field.description});
  }
  return keys;
}

}  // namespace detail

void throwIfInvalid(const Status& status) {
  if (!status.ok()) throw ConfigError(status.error().message);
}

HostPort parseHostPort(const std::string& key, const std::string& value) {
  auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw ConfigError("key \"" + key + "\": expected host:port, got \"" + value + "\"");
  }
  std::string host = value.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string portText = value.substr(colon + 1);
  uint32_t port = 0;
  auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (ec != std::errc() || end != portText.data() + portText.size() || port > 65535) {
    throw ConfigError("key \"" + key + "\": port must be 0-65535, got \"" + portText + "\"");
  }
  return {host, static_cast<uint16_t>(port)};
}

}  // namespace podmortem::core
