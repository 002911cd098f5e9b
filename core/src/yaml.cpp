#include "podmortem/core/yaml.h"

#include <yaml.h>

#include <vector>

namespace podmortem::core {

namespace {

Error invalid(std::string message) { return makeError(ErrorCode::kInvalidArgument, std::move(message)); }

// What podmortem's YAML may hold: the plain YAML of Kubernetes objects, configuration files and
// kubeconfigs. Tags ("!x"), anchors and aliases ("&a", "*a") and complex keys ("? ") are refused:
// none is needed there, yaml-cpp 0.7 loops forever on some tag and complex-key inputs (fuzzing
// found "! o\n," and "! c\n? "), and an alias can make a small document walk like a huge one.
class EventCheck {
 public:
  explicit EventCheck(const yaml_event_t& event) : event_(event) {}

  // Why the event is refused, or nullptr.
  const char* refusal() const {
    switch (event_.type) {
      case YAML_ALIAS_EVENT:
        return "aliases (*name) are not supported";
      case YAML_SCALAR_EVENT:
        return refuseNode(event_.data.scalar.anchor, event_.data.scalar.tag);
      case YAML_SEQUENCE_START_EVENT:
        return refuseNode(event_.data.sequence_start.anchor, event_.data.sequence_start.tag);
      case YAML_MAPPING_START_EVENT:
        return refuseNode(event_.data.mapping_start.anchor, event_.data.mapping_start.tag);
      default:
        return nullptr;
    }
  }

 private:
  static const char* refuseNode(const yaml_char_t* anchor, const yaml_char_t* tag) {
    if (anchor != nullptr) return "anchors (&name) are not supported";
    if (tag != nullptr) return "tags (!tag) are not supported";
    return nullptr;
  }
  const yaml_event_t& event_;
};

// One open collection: in a mapping, whether the next node is a key.
struct Level {
  bool mapping = false;
  bool expectKey = false;
};

// libyaml's verdict on the text, event by event, with the nesting depth and the node kinds
// podmortem accepts watched.
Status checkWithLibyaml(std::string_view text, int* errorLine) {
  yaml_parser_t parser;
  if (yaml_parser_initialize(&parser) == 0) return makeError(ErrorCode::kInternal, "libyaml: out of memory");
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  Status status;
  std::vector<Level> levels;
  auto fail = [&](size_t line, const std::string& what) {
    if (errorLine != nullptr) *errorLine = static_cast<int>(line) + 1;
    status = invalid("not valid YAML at line " + std::to_string(line + 1) + ": " + what);
  };
  while (status.ok()) {
    yaml_event_t event;
    if (yaml_parser_parse(&parser, &event) == 0) {
      fail(parser.problem_mark.line, std::string(parser.problem != nullptr ? parser.problem
                                                                           : "unreadable") +
                                         " (column " +
                                         std::to_string(parser.problem_mark.column + 1) + ")");
      break;
    }
    yaml_event_type_t type = event.type;
    size_t line = event.start_mark.line;
    const char* refused = EventCheck(event).refusal();
    yaml_event_delete(&event);
    if (refused != nullptr) {
      fail(line, refused);
      break;
    }
    bool opens = type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT;
    bool node = opens || type == YAML_SCALAR_EVENT;
    if (node && !levels.empty() && levels.back().mapping) {
      if (levels.back().expectKey && opens) {
        fail(line, "complex keys (? key) are not supported");
        break;
      }
      levels.back().expectKey = !levels.back().expectKey;
    }
    if (opens) {
      if (levels.size() >= kMaxYamlDepth) {
        fail(line, "nested deeper than " + std::to_string(kMaxYamlDepth) + " levels");
        break;
      }
      levels.push_back({type == YAML_MAPPING_START_EVENT, true});
    } else if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT) {
      if (!levels.empty()) levels.pop_back();
    } else if (type == YAML_STREAM_END_EVENT) {
      break;
    }
  }
  yaml_parser_delete(&parser);
  return status;
}

}  // namespace

Result<std::vector<YAML::Node>> loadYamlDocuments(std::string_view text, int* errorLine) {
  if (errorLine != nullptr) *errorLine = 0;
  if (auto checked = checkWithLibyaml(text, errorLine); !checked.ok()) return checked.error();
  try {
    return YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& error) {
    if (errorLine != nullptr && !error.mark.is_null()) *errorLine = error.mark.line + 1;
    return invalid("not valid YAML: " + error.msg);
  }
}

Result<YAML::Node> loadYamlDocument(std::string_view text) {
  auto documents = loadYamlDocuments(text);
  if (!documents.ok()) return documents.error();
  if (documents->empty()) return YAML::Node();
  if (documents->size() > 1) return invalid("expected one YAML document, found " +
                                            std::to_string(documents->size()));
  return std::move(documents->front());
}

}  // namespace podmortem::core
