#include "podmortem/policy/pod_record.h"

#include <simdjson.h>

#if defined(PODMORTEM_JSON_NEEDS_AVX2)
// Built for x86-64-v3 + PCLMUL (see podmortem_simdjson_sources): simdjson must pick its AVX2
// kernel. Without PCLMUL it silently falls back to the scalar one, an order of magnitude slower.
static_assert(SIMDJSON_CAN_ALWAYS_RUN_HASWELL, "simdjson would use its fallback kernel");
#endif

namespace podmortem::policy {

namespace od = simdjson::ondemand;

namespace {

core::Error invalid(std::string message) {
  return core::makeError(core::ErrorCode::kInvalidArgument, std::move(message));
}

bool readString(od::value value, std::string& out) {
  std::string_view view;
  if (value.get_string().get(view)) return false;
  out = std::string(view);
  return true;
}

core::Status readLabels(od::value value, Labels& out) {
  od::object labels;
  if (value.get_object().get(labels)) return invalid("metadata.labels is not an object");
  for (auto label : labels) {
    std::string_view key;
    std::string text;
    if (label.unescaped_key().get(key) || !readString(label.value(), text)) {
      return invalid("metadata.labels must map strings to strings");
    }
    out.emplace(std::string(key), std::move(text));
  }
  return {};
}

core::Status readMetadata(od::value value, PodRecord& out) {
  od::object metadata;
  if (value.get_object().get(metadata)) return invalid("metadata is not an object");
  for (auto member : metadata) {
    std::string_view name;
    if (member.unescaped_key().get(name)) return invalid("metadata is not valid JSON");
    bool ok = true;
    if (name == "name") {
      ok = readString(member.value(), out.identity.name);
    } else if (name == "namespace") {
      ok = readString(member.value(), out.identity.namespaceName);
    } else if (name == "uid") {
      ok = readString(member.value(), out.identity.uid);
    } else if (name == "deletionTimestamp") {
      od::json_type type;
      if (member.value().type().get(type)) return invalid("metadata is not valid JSON");
      out.terminating = type != od::json_type::null;
    } else if (name == "labels") {
      if (auto read = readLabels(member.value(), out.labels); !read.ok()) return read;
    }
    if (!ok) return invalid("metadata." + std::string(name) + " is not a string");
  }
  return {};
}

core::Status readSpec(od::value value, PodRecord& out) {
  od::object spec;
  if (value.get_object().get(spec)) return invalid("spec is not an object");
  for (auto member : spec) {
    std::string_view name;
    if (member.unescaped_key().get(name)) return invalid("spec is not valid JSON");
    if (name == "nodeName" && !readString(member.value(), out.identity.node)) {
      return invalid("spec.nodeName is not a string");
    }
  }
  return {};
}

}  // namespace

core::Result<PodRecord> parsePod(std::string_view podJson) {
  // The object usually lies inside a padded request body, but its own end may not: copy to be
  // safe. Only pods a policy may care about get here.
  simdjson::padded_string copy(podJson);
  thread_local od::parser parser;
  od::document doc;
  if (parser.iterate(copy).get(doc)) return invalid("is not valid JSON");
  od::object root;
  if (doc.get_object().get(root)) return invalid("is not an object");
  PodRecord pod;
  std::string kind;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return invalid("is not valid JSON");
    core::Status read;
    if (key == "kind") {
      if (!readString(field.value(), kind)) return invalid("kind is not a string");
    } else if (key == "metadata") {
      read = readMetadata(field.value(), pod);
    } else if (key == "spec") {
      read = readSpec(field.value(), pod);
    }
    if (!read.ok()) return read.error();
  }
  if (kind != "Pod") return invalid("is not a Pod (kind \"" + kind + "\")");
  return pod;
}

}  // namespace podmortem::policy
