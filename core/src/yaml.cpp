#include "podmortem/core/yaml.h"

#include <yaml.h>

namespace podmortem::core {

namespace {

Error invalid(std::string message) { return makeError(ErrorCode::kInvalidArgument, std::move(message)); }

// libyaml's verdict on the text, event by event, with the nesting depth watched.
Status checkWithLibyaml(std::string_view text, int* errorLine) {
  yaml_parser_t parser;
  if (yaml_parser_initialize(&parser) == 0) return makeError(ErrorCode::kInternal, "libyaml: out of memory");
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  Status status;
  size_t depth = 0;
  while (true) {
    yaml_event_t event;
    if (yaml_parser_parse(&parser, &event) == 0) {
      if (errorLine != nullptr) *errorLine = static_cast<int>(parser.problem_mark.line) + 1;
      std::string where = "line " + std::to_string(parser.problem_mark.line + 1) + ", column " +
                          std::to_string(parser.problem_mark.column + 1);
      status = invalid("not valid YAML at " + where + ": " +
                       (parser.problem != nullptr ? parser.problem : "unreadable"));
      break;
    }
    yaml_event_type_t type = event.type;
    yaml_event_delete(&event);
    if (type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) {
      if (++depth > kMaxYamlDepth) {
        status = invalid("YAML nested deeper than " + std::to_string(kMaxYamlDepth) + " levels");
        break;
      }
    } else if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT) {
      --depth;
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
