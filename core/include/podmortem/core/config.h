#pragma once

// Configuration, read the same way for every part: each part declares its own settings struct
// next to its code, with a static `bind` that names its keys through typed binders and a
// `validate` for checks across its keys. The program (cli/) puts the sections together under
// their prefixes into one ConfigSchema, which reads the YAML file and `--set KEY=VALUE`, and
// whose every error names the key (and the file).
//
//   struct LimitsSettings {
//     uint64_t maxBodyBytes = 12 << 20;
//     static void bind(core::SectionBinder<LimitsSettings>& keys) {
//       keys.integer("maxBodyBytes", &LimitsSettings::maxBodyBytes, 1024, 1ull << 32,
//                    "largest request body accepted, in bytes");
//     }
//     core::Status validate() const { return {}; }
//   };

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "podmortem/core/result.h"

namespace YAML {
class Node;
}

namespace podmortem::core {

// A bad configuration: the message names the key and, when there is one, the file.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Every key with its description and default, for help texts and the README check.
struct ConfigKey {
  std::string key;
  std::string description;  // ends with "(default ...)" where there is one
};

// Host and port of a "host:port" listen address; throws ConfigError naming `key`.
struct HostPort {
  std::string host;
  uint16_t port;
};
HostPort parseHostPort(const std::string& key, const std::string& value);

// The text parsers the binders use; each throws ConfigError("expected ..., got ...").
namespace configvalue {
uint64_t parseUnsigned(const std::string& value, uint64_t min, uint64_t max);
double parseNumber(const std::string& value, double min, double max);
std::chrono::milliseconds parsePositiveDuration(const std::string& value);
bool parseBool(const std::string& value);
// Relative to `base` (the config file's folder, or the working directory for --set).
std::string resolvePath(const std::string& value, const std::filesystem::path& base);
void checkAddress(const std::string& value);  // "host:port", port 0-65535
[[noreturn]] void badValue(const std::string& expected, const std::string& value);
std::string formatDuration(std::chrono::milliseconds duration);
std::string formatNumber(double value);
}  // namespace configvalue

// One key of a section: how it is set from text and how its value reads back.
template <class Section>
struct KeyBinding {
  std::string name;  // within the section: "maxBodyBytes"
  std::string description;
  bool list = false;  // a YAML list, each item set in turn
  std::function<void(Section&, const std::string& value, const std::filesystem::path& base)> set;
  std::function<std::string(const Section&)> show;
  std::string unsetMeans;  // for the help text when the default is empty
  // A list of maps (records): each item's field set by name; `index` may be one past the end,
  // which appends an item. The item's own keys, for help texts.
  std::function<void(Section&, size_t index, const std::string& field, const std::string& value,
                     const std::filesystem::path& base)>
      setField;
  std::function<bool(const std::string& field)> fieldIsList;
  std::vector<ConfigKey> fields;

  // What an empty default means ("$KUBECONFIG, then ~/.kube/config").
  KeyBinding& whenUnset(std::string meaning) {
    unsetMeans = std::move(meaning);
    return *this;
  }
};

// The typed binders a section's `bind` uses: the only way a key reaches a member.
template <class Section>
class SectionBinder {
 public:
  KeyBinding<Section>& text(std::string name, std::string Section::*member,
                            std::string description, bool required = false) {
    return add(std::move(name), std::move(description),
               [member, required](Section& s, const std::string& v, const auto&) {
                 if (required && v.empty()) configvalue::badValue("a non-empty value", v);
                 s.*member = v;
               },
               [member](const Section& s) { return s.*member; });
  }

  KeyBinding<Section>& path(std::string name, std::string Section::*member,
                            std::string description) {
    return add(std::move(name), std::move(description),
               [member](Section& s, const std::string& v, const std::filesystem::path& base) {
                 s.*member = configvalue::resolvePath(v, base);
               },
               [member](const Section& s) { return s.*member; });
  }

  // "host:port".
  KeyBinding<Section>& address(std::string name, std::string Section::*member,
                               std::string description) {
    return add(std::move(name), std::move(description),
               [member](Section& s, const std::string& v, const auto&) {
                 configvalue::checkAddress(v);
                 s.*member = v;
               },
               [member](const Section& s) { return s.*member; });
  }

  KeyBinding<Section>& duration(std::string name, std::chrono::milliseconds Section::*member,
                                std::string description) {
    return add(std::move(name), std::move(description),
               [member](Section& s, const std::string& v, const auto&) {
                 s.*member = configvalue::parsePositiveDuration(v);
               },
               [member](const Section& s) { return configvalue::formatDuration(s.*member); });
  }

  template <class Integer>
  KeyBinding<Section>& integer(std::string name, Integer Section::*member, uint64_t min,
                               uint64_t max, std::string description) {
    static_assert(std::is_unsigned_v<Integer>);
    return add(std::move(name), std::move(description),
               [member, min, max](Section& s, const std::string& v, const auto&) {
                 s.*member = static_cast<Integer>(configvalue::parseUnsigned(v, min, max));
               },
               [member](const Section& s) { return std::to_string(s.*member); });
  }

  KeyBinding<Section>& number(std::string name, double Section::*member, double min, double max,
                              std::string description) {
    return add(std::move(name), std::move(description),
               [member, min, max](Section& s, const std::string& v, const auto&) {
                 s.*member = configvalue::parseNumber(v, min, max);
               },
               [member](const Section& s) { return configvalue::formatNumber(s.*member); });
  }

  KeyBinding<Section>& flag(std::string name, bool Section::*member, std::string description) {
    return add(std::move(name), std::move(description),
               [member](Section& s, const std::string& v, const auto&) {
                 s.*member = configvalue::parseBool(v);
               },
               [member](const Section& s) { return std::string(s.*member ? "true" : "false"); });
  }

  // One of a fixed set of words, each standing for a value of `Enum`.
  template <class Enum>
  KeyBinding<Section>& choice(std::string name, Enum Section::*member,
                              std::vector<std::pair<std::string, Enum>> words,
                              std::string description) {
    std::string expected = "one of ";
    for (size_t i = 0; i < words.size(); ++i) expected += (i ? ", " : "") + words[i].first;
    return add(std::move(name), std::move(description),
               [member, words, expected](Section& s, const std::string& v, const auto&) {
                 for (const auto& [word, value] : words) {
                   if (word == v) {
                     s.*member = value;
                     return;
                   }
                 }
                 configvalue::badValue(expected, v);
               },
               [member, words](const Section& s) {
                 for (const auto& [word, value] : words) {
                   if (value == s.*member) return word;
                 }
                 return std::string();
               });
  }

  // A YAML list of strings; on the command line each --set adds one.
  KeyBinding<Section>& list(std::string name, std::vector<std::string> Section::*member,
                            std::string description) {
    auto& binding = add(std::move(name), std::move(description),
                        [member](Section& s, const std::string& v, const auto&) {
                          (s.*member).push_back(v);
                        },
                        [member](const Section& s) {
                          std::string joined;
                          for (const auto& item : s.*member) joined += (joined.empty() ? "" : ",") + item;
                          return joined;
                        });
    binding.list = true;
    return binding;
  }

  // A YAML list of maps, each item read through Item::bind's keys ("export.sinks" is a list of
  // sinks, each with name, type, url, ...). On the command line an item's key is set with its
  // index: --set export.sinks[0].url=...; index N may be one past the last item, adding one.
  // Each item's own validate() is the section's job (it knows what the items mean together).
  template <class Item>
  KeyBinding<Section>& records(std::string name, std::vector<Item> Section::*member,
                               std::string description) {
    auto itemKeys = std::make_shared<SectionBinder<Item>>();
    Item::bind(*itemKeys);
    auto& binding = add(
        std::move(name), std::move(description),
        [](Section&, const std::string& v, const auto&) {
          configvalue::badValue("a list of maps (set an item's key as NAME[INDEX].KEY)", v);
        },
        [member](const Section& s) {
          return (s.*member).empty() ? std::string()
                                     : std::to_string((s.*member).size()) + " items";
        });
    binding.list = true;
    binding.setField = [member, itemKeys](Section& s, size_t index, const std::string& field,
                                          const std::string& value,
                                          const std::filesystem::path& base) {
      auto& items = s.*member;
      if (index > items.size()) {
        throw ConfigError("item " + std::to_string(index) + " is past the end of the list (" +
                          std::to_string(items.size()) + " items)");
      }
      if (index == items.size()) items.emplace_back();
      if (field.empty()) return;  // only makes sure the item is there
      for (auto& key : itemKeys->keys()) {
        if (key.name == field) {
          key.set(items[index], value, base);
          return;
        }
      }
      throw ConfigError("unknown key \"" + field + "\"");
    };
    binding.fieldIsList = [itemKeys](const std::string& field) {
      for (auto& key : itemKeys->keys()) {
        if (key.name == field) return key.list;
      }
      return false;
    };
    Item defaults;
    for (auto& key : itemKeys->keys()) {
      std::string shown = key.show(defaults);
      binding.fields.push_back(
          {key.name, key.description + (shown.empty() ? std::string() : " (default " + shown + ")")});
    }
    return binding;
  }

  std::vector<KeyBinding<Section>>& keys() { return keys_; }

 private:
  KeyBinding<Section>& add(std::string name, std::string description,
                           std::function<void(Section&, const std::string&,
                                              const std::filesystem::path&)>
                               set,
                           std::function<std::string(const Section&)> show) {
    keys_.push_back({std::move(name), std::move(description), false, std::move(set),
                     std::move(show), {}, {}, {}, {}});
    return keys_.back();
  }

  std::vector<KeyBinding<Section>> keys_;
};

namespace detail {

// The part of a schema that does not depend on the configuration type: the key table, the YAML
// walk and the errors. Roots are passed as void*; ConfigSchema<Root> is the typed face.
class KeyTable {
 public:
  struct Entry {
    std::string description;
    bool list = false;
    std::function<void(void* root, const std::string& value, const std::filesystem::path& base)>
        set;
    std::function<std::string(const void* root)> show;
    std::string unsetMeans;
    // Records (a list of maps): see SectionBinder::records.
    std::function<void(void* root, size_t index, const std::string& field,
                       const std::string& value, const std::filesystem::path& base)>
        setField;
    std::function<bool(const std::string& field)> fieldIsList;
    std::vector<ConfigKey> fields;
  };

 protected:
  void addEntry(std::string key, Entry entry);
  void loadInto(void* root, const std::string& file) const;
  void parseInto(void* root, std::string_view yaml, const std::string& name,
                 const std::filesystem::path& base) const;
  void setInto(void* root, const std::string& key, const std::string& value) const;
  std::vector<ConfigKey> describe(const void* defaults) const;

 private:
  void apply(void* root, const std::string& key, const std::string& value,
             const std::filesystem::path& base) const;
  void applyField(void* root, const std::string& key, size_t index, const std::string& field,
                  const std::string& value, const std::filesystem::path& base) const;
  void walkDocument(void* root, const YAML::Node& document, const std::string& name,
                    const std::filesystem::path& base) const;
  std::map<std::string, Entry> entries_;
  friend class YamlWalk;
};

}  // namespace detail

// The whole configuration of a program: sections bound under prefixes ("" for top-level keys).
// Several sections may share a prefix as long as their keys differ.
template <class Root>
class ConfigSchema : public detail::KeyTable {
 public:
  template <class Section>
  ConfigSchema& section(const std::string& prefix, Section Root::*member) {
    SectionBinder<Section> binder;
    Section::bind(binder);
    for (auto& key : binder.keys()) {
      Entry entry;
      entry.description = key.description;
      entry.list = key.list;
      entry.unsetMeans = key.unsetMeans;
      entry.fields = key.fields;
      entry.fieldIsList = key.fieldIsList;
      if (key.setField) {
        entry.setField = [member, setField = key.setField](
                             void* root, size_t index, const std::string& field,
                             const std::string& value, const std::filesystem::path& base) {
          setField(static_cast<Root*>(root)->*member, index, field, value, base);
        };
      }
      entry.set = [member, set = key.set](void* root, const std::string& value,
                                          const std::filesystem::path& base) {
        set(static_cast<Root*>(root)->*member, value, base);
      };
      entry.show = [member, show = key.show](const void* root) {
        return show(static_cast<const Root*>(root)->*member);
      };
      addEntry(prefix.empty() ? key.name : prefix + "." + key.name, std::move(entry));
    }
    return *this;
  }

  // Reads a YAML file over the defaults. Relative paths are taken against the file's own
  // folder, so a config works whatever the working directory is. Throws ConfigError.
  Root load(const std::string& file) const {
    Root root;
    loadInto(&root, file);
    return root;
  }

  // The same from YAML text; `name` stands for the file in errors, relative paths are taken
  // against `base`.
  Root parse(std::string_view yaml, const std::string& name,
             const std::filesystem::path& base) const {
    Root root;
    parseInto(&root, yaml, name, base);
    return root;
  }

  // Sets one dotted key ("limits.maxBodyBytes") from its text form (a command-line override);
  // relative paths are taken against the working directory. Throws ConfigError.
  void set(Root& root, const std::string& key, const std::string& value) const {
    setInto(&root, key, value);
  }

  // Every key, its description and its default, generated from a default-constructed Root.
  std::vector<ConfigKey> keys() const {
    Root defaults;
    return describe(&defaults);
  }
};

// A section's validate() turned into the ConfigError the program exits 2 with.
void throwIfInvalid(const Status& status);

}  // namespace podmortem::core
