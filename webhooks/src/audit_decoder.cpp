#include "podmortem/webhooks/audit_decoder.h"

#include "podmortem/core/timestamp.h"

#include <simdjson.h>

#if defined(PODMORTEM_JSON_NEEDS_AVX2)
// Built for x86-64-v3 + PCLMUL (webhooks/CMakeLists.txt): simdjson must pick its AVX2 kernel.
// Without PCLMUL it silently falls back to the scalar one, an order of magnitude slower.
static_assert(SIMDJSON_CAN_ALWAYS_RUN_HASWELL, "simdjson would use its fallback kernel");
#endif

#include <chrono>
#include <cstring>
#include <limits>

namespace podmortem::webhooks {

namespace od = simdjson::ondemand;
using policy::AuditEvent;

namespace {

// simdjson parsers are not thread-safe and are costly to create: one per decoding thread. It
// keeps the capacity of the largest body it has seen, so steady state allocates nothing.
od::parser& threadParser() {
  thread_local od::parser parser;
  return parser;
}

// JSON bytes that simdjson may read past: `allocated` counts from `data` to the end of the
// owning buffer and must exceed `size` by SIMDJSON_PADDING. What lies after `size` does not
// matter, so a line or an item inside a padded body is padded too.
struct PaddedJson {
  const char* data;
  size_t size;
  size_t allocated;
};

constexpr std::string_view kJsonSpace = " \t\r\n";

std::string_view trimJson(std::string_view text) {
  size_t first = text.find_first_not_of(kJsonSpace);
  if (first == std::string_view::npos)
    return {};
  return text.substr(first, text.find_last_not_of(kJsonSpace) - first + 1);
}

std::string notJson(simdjson::error_code error) {
  return std::string("is not valid JSON (") + simdjson::error_message(error) + ")";
}

// The API server's Go decoder takes null for any field as "not set"; other writers of audit
// events (log shippers, replays) do send it, so null is absent here, never malformed.
enum class Member { kPresent, kAbsent, kWrongType };

Member member(od::value& value, od::json_type expected) {
  od::json_type type;
  if (value.type().get(type))
    return Member::kWrongType;
  if (type == od::json_type::null)
    return Member::kAbsent;
  return type == expected ? Member::kPresent : Member::kWrongType;
}

// An optional object field: kPresent with `object` ready to iterate, kAbsent (null or missing),
// or kWrongType.
Member openObject(od::value& value, od::object& object) {
  Member found = member(value, od::json_type::object);
  if (found == Member::kPresent && value.get_object().get(object))
    return Member::kWrongType;
  return found;
}

bool readString(od::value& value, std::string& out) {
  std::string_view view;
  if (!value.get_string().get(view)) {
    out.assign(view);
    return true;
  }
  return member(value, od::json_type::string) == Member::kAbsent;
}

std::string readTime(od::value& value, std::optional<int64_t>& out) {
  std::string_view text;
  if (value.get_string().get(text)) {
    return member(value, od::json_type::string) == Member::kAbsent ? "" : " is not a string";
  }
  out = parseAuditTimestamp(text);
  return out ? "" : " is not an RFC 3339 time";
}

// user and impersonatedUser (authentication.k8s.io UserInfo); groups only where wanted.
std::string decodeUser(od::value& value, std::string& name, std::vector<std::string>* groups) {
  od::object object;
  if (Member found = openObject(value, object); found != Member::kPresent)
    return found == Member::kAbsent ? "" : " is not an object";
  for (auto field : object) {
    std::string_view key;
    od::value child;
    if (field.unescaped_key().get(key) || field.value().get(child))
      return " is not valid JSON";
    if (key == "username") {
      if (!readString(child, name))
        return ".username is not a string";
    } else if (groups != nullptr && key == "groups") {
      od::array list;
      switch (member(child, od::json_type::array)) {
        case Member::kAbsent:
          continue;
        case Member::kWrongType:
          return ".groups is not a list";
        case Member::kPresent:
          if (child.get_array().get(list))
            return ".groups is not a list";
      }
      for (auto item : list) {
        std::string_view group;
        if (item.get_string().get(group))
          return ".groups holds a non-string";
        groups->emplace_back(group);
      }
    }
  }
  return "";
}

std::string decodeSourceIps(od::value& value, std::string& first) {
  od::array list;
  switch (member(value, od::json_type::array)) {
    case Member::kAbsent:
      return "";
    case Member::kWrongType:
      return " is not a list";
    case Member::kPresent:
      if (value.get_array().get(list))
        return " is not a list";
  }
  for (auto result : list) {
    od::value item;
    if (result.get(item) || !readString(item, first))
      return " holds a non-string";
    break;  // the client's own address; the rest are proxies
  }
  return "";
}

std::string decodeObjectRef(od::value& value, AuditEvent& out) {
  od::object object;
  if (Member found = openObject(value, object); found != Member::kPresent)
    return found == Member::kAbsent ? "" : " is not an object";
  for (auto field : object) {
    std::string_view key;
    od::value child;
    if (field.unescaped_key().get(key) || field.value().get(child))
      return " is not valid JSON";
    std::string* target = nullptr;
    if (key == "resource") {
      target = &out.resource;
    } else if (key == "namespace") {
      target = &out.namespaceName;
    } else if (key == "name") {
      target = &out.name;
    } else if (key == "apiGroup") {
      target = &out.apiGroup;
    } else if (key == "subresource") {
      target = &out.subResource;
    }
    if (target != nullptr && !readString(child, *target)) {
      return "." + std::string(key) + " is not a string";
    }
  }
  return "";
}

std::string decodeResponseStatus(od::value& value, int& code) {
  od::object object;
  if (Member found = openObject(value, object); found != Member::kPresent)
    return found == Member::kAbsent ? "" : " is not an object";
  for (auto field : object) {
    std::string_view key;
    od::value child;
    if (field.unescaped_key().get(key) || field.value().get(child))
      return " is not valid JSON";
    if (key != "code")
      continue;
    int64_t number = 0;
    if (child.get_int64().get(number)) {
      if (member(child, od::json_type::number) == Member::kAbsent)
        continue;
      return ".code is not an integer";
    }
    if (number < 0 || number > std::numeric_limits<int>::max())
      return ".code is out of range";
    code = static_cast<int>(number);
  }
  return "";
}

// metadata.name of requestObject or responseObject. These hold whatever the client sent or the
// server answered (a Pod, DeleteOptions, a Status), so an unexpected shape only means "no name",
// never a malformed event. The view lives in the parser's string buffer until the next parse.
// `dryRun`: set when the object is request options with a non-empty dryRun list (DeleteOptions
// of `kubectl delete --dry-run=server`), the request the API server did not carry out.
std::string_view embeddedName(od::value& value, bool* dryRun = nullptr) {
  od::object object;
  if (member(value, od::json_type::object) != Member::kPresent || value.get_object().get(object)) {
    return {};
  }
  std::string_view found;
  for (auto field : object) {
    std::string_view key;
    od::value child;
    if (field.unescaped_key().get(key) || field.value().get(child))
      return found;
    if (key == "dryRun" && dryRun != nullptr) {
      od::array list;
      if (member(child, od::json_type::array) == Member::kPresent && !child.get_array().get(list)) {
        for (auto item : list) {
          (void)item;
          *dryRun = true;
          break;
        }
      }
      continue;
    }
    if (key != "metadata")
      continue;
    od::object metadata;
    if (member(child, od::json_type::object) != Member::kPresent ||
        child.get_object().get(metadata)) {
      return {};
    }
    for (auto entry : metadata) {
      std::string_view name;
      if (entry.unescaped_key().get(key))
        return {};
      if (key != "name")
        continue;
      if (entry.value().get_string().get(name))
        return {};
      found = name;
      break;
    }
    if (dryRun == nullptr) return found;  // nothing more to look for
  }
  return found;
}

// Pods created with generateName have no objectRef.name; the name is only in the objects.
bool nameFromEmbeddedObject(const AuditEvent& event) {
  return event.verb == "create" && event.resource == "pods" && event.apiGroup.empty();
}

// What decoding one Event learns before it can settle the event's time and name.
struct EventScratch {
  std::optional<int64_t> stageTime;
  std::optional<int64_t> legacyTime;
  std::optional<int64_t> receivedTime;
  std::string_view requestName;
  std::string_view responseName;
  bool sawObjectRef = false;
};

// kind and apiVersion: absent is fine, a wrong value is not.
std::string checkTypeField(std::string_view key, od::value value) {
  std::string_view text;
  if (value.get_string().get(text)) {
    return member(value, od::json_type::string) != Member::kAbsent ? " is not a string" : "";
  }
  if (key == "kind") return text == "Event" ? "" : " is \"" + std::string(text) + "\", not Event";
  if (text == "audit.k8s.io/v1" || text == "audit.k8s.io/v1beta1") return "";
  return " \"" + std::string(text) + "\" is not audit.k8s.io/v1 or v1beta1";
}

// requestObject / responseObject, read only when they can tell what objectRef does not: the name
// of a pod created with generateName, or whether a pod delete was a dry run.
void readEmbeddedObject(std::string_view key, od::value value, AuditEvent& out,
                        EventScratch& scratch) {
  // The API server writes objectRef and verb first; then most events skip this object.
  bool refNamesIt = scratch.sawObjectRef &&
                    (!out.name.empty() || out.resource != "pods" || !out.apiGroup.empty());
  bool needed = !refNamesIt && (out.verb.empty() || out.verb == "create");
  // A pod delete's DeleteOptions say whether it was a dry run. Fields may come in any order
  // (a log rewritten by a tool sorts them): look while the verb or resource is not known.
  bool request = key == "requestObject";
  bool options = request && (out.resource.empty() || out.resource == "pods") &&
                 (out.verb.empty() || out.verb == "delete");
  if (needed || options) {
    (request ? scratch.requestName : scratch.responseName) =
        embeddedName(value, request ? &out.dryRun : nullptr);
  }
}

// One field of an Event; returns why it is wrong (after the key), or "".
std::string decodeEventField(std::string_view key, od::value value, AuditEvent& out,
                             EventScratch& scratch) {
  auto text = [&value](std::string& into) { return readString(value, into) ? "" : " is not a string"; };
  if (key == "auditID") return text(out.auditId);
  if (key == "stage") return text(out.stage);
  if (key == "verb") return text(out.verb);
  if (key == "user") return decodeUser(value, out.userName, &out.groups);
  if (key == "impersonatedUser") return decodeUser(value, out.impersonatedUserName, nullptr);
  if (key == "sourceIPs") return decodeSourceIps(value, out.sourceIp);
  if (key == "objectRef") {
    scratch.sawObjectRef = true;
    return decodeObjectRef(value, out);
  }
  if (key == "responseStatus") return decodeResponseStatus(value, out.responseCode);
  if (key == "stageTimestamp") return readTime(value, scratch.stageTime);
  if (key == "timestamp") return readTime(value, scratch.legacyTime);
  if (key == "requestReceivedTimestamp") return readTime(value, scratch.receivedTime);
  if (key == "requestObject" || key == "responseObject") {
    readEmbeddedObject(key, value, out, scratch);
    return "";
  }
  if (key == "kind" || key == "apiVersion") return checkTypeField(key, value);
  return "";
}

// Walks one Event object once, in whatever order its fields come. Returns "" with `out` filled,
// or why the object is not an Event. On error, `out` holds partial data for the caller to drop.
std::string decodeEvent(od::object& object, AuditEvent& out) {
  EventScratch scratch;
  for (auto field : object) {
    std::string_view key;
    od::value value;
    if (field.unescaped_key().get(key) || field.value().get(value))
      return "is not valid JSON";
    std::string problem = decodeEventField(key, value, out, scratch);
    if (!problem.empty())
      return std::string(key) + problem;
  }
  if (out.auditId.empty())
    return "auditID is missing";
  if (out.stage.empty())
    return "stage is missing";
  if (out.verb.empty())
    return "verb is missing";
  // v1 events carry stageTimestamp; v1beta1 ones written before it existed only timestamp.
  const auto& time = scratch.stageTime    ? scratch.stageTime
                     : scratch.legacyTime ? scratch.legacyTime
                                          : scratch.receivedTime;
  if (!time)
    return "has no stageTimestamp, timestamp or requestReceivedTimestamp";
  out.timeMicros = *time;
  if (out.name.empty() && nameFromEmbeddedObject(out)) {
    out.name.assign(!scratch.requestName.empty() ? scratch.requestName : scratch.responseName);
  }
  return "";
}

// On-demand reports a structural error (a missing comma, a key that is not a string) once, where
// it meets it; a loop further out may then just stop early. So after a value the iterator must
// stand exactly where that value ends: at the next token, or past the end for the root.
constexpr std::string_view kNotOneValue = "is not one well-formed JSON value";

bool atEnd(od::document& doc) {
  const char* position = nullptr;
  return doc.current_location().get(position) == simdjson::OUT_OF_BOUNDS;
}

bool standsAt(od::document& doc, const char* token) {
  const char* position = nullptr;
  return !doc.current_location().get(position) && position == token;
}

// What decodeAuditPayload was asked for, passed down to every level.
struct DecodeOptions {
  size_t maxEventBytes = 0;
  RawBytes raw = RawBytes::kCopy;
};

void keepRaw(const DecodeOptions& options, DecodedAudit& out, AuditEvent& event,
             std::string_view raw) {
  if (options.raw == RawBytes::kCopy) {
    event.raw.assign(raw);
  } else {
    out.rawViews.push_back(raw);
  }
}

// The items of an EventList or a bare array. Returns false with `error` set when the document
// turns out not to be JSON; a bad item is counted and skipped.
bool decodeItems(od::document& doc, od::array& items, const DecodeOptions& options, DecodedAudit& out,
                 simdjson::error_code& error) {
  for (auto result : items) {
    od::value item;
    // An error here is the iterator's own: the document is broken, not just this item.
    if ((error = result.get(item)))
      return false;
    if (member(item, od::json_type::object) != Member::kPresent) {
      ++out.malformed;
      continue;
    }
    od::object object;
    std::string_view raw;
    if ((error = item.get_object().get(object)) || (error = object.raw_json().get(raw))) {
      return false;
    }
    // raw_json() runs to the next token, so whitespace after the closing brace is not ours.
    const char* nextToken = raw.data() + raw.size();
    raw = trimJson(raw);
    if (options.maxEventBytes != 0 && raw.size() > options.maxEventBytes) {
      ++out.oversized;
      continue;
    }
    // raw_json() only skipped over the item; decode it from its first field. Nothing in it was
    // unescaped yet, so the parser's string buffer still holds room for it.
    bool hasFields = false;
    if ((error = object.reset().get(hasFields)))
      return false;
    AuditEvent& event = out.events.emplace_back();
    if (!decodeEvent(object, event).empty()) {
      // If the item is broken as JSON, the check after the loop finds the iterator stuck in it.
      out.events.pop_back();
      ++out.malformed;
      continue;
    }
    if (!standsAt(doc, nextToken)) {
      error = simdjson::TAPE_ERROR;
      return false;
    }
    keepRaw(options, out, event, raw);
  }
  return true;
}

// An EventList or one Event: only "items" and "kind" tell them apart, and they may come in
// either order. Keys are compared raw here so that nothing is unescaped twice (the parser's
// string buffer has room for each string once).
std::string decodeObjectDocument(od::document& doc, od::object& root, PaddedJson json,
                                 const DecodeOptions& options, DecodedAudit& out) {
  simdjson::error_code error = simdjson::SUCCESS;
  bool sawItems = false;
  bool sawKind = false;
  bool kindIsEventList = false;
  for (auto field : root) {
    od::raw_json_string key;
    od::value value;
    if ((error = field.key().get(key)) || (error = field.value().get(value)))
      return notJson(error);
    if (key == "kind") {
      od::raw_json_string kind;
      sawKind = true;
      kindIsEventList = !value.get_raw_json_string().get(kind) && kind == "EventList";
    } else if (key == "items") {
      sawItems = true;
      od::array items;
      switch (member(value, od::json_type::array)) {
        case Member::kAbsent:
          continue;
        case Member::kWrongType:
          return "has items that are not a list";
        case Member::kPresent:
          if ((error = value.get_array().get(items)))
            return notJson(error);
      }
      if (!decodeItems(doc, items, options, out, error))
        return notJson(error);
    }
  }
  if (!atEnd(doc))
    return std::string(kNotOneValue);
  if (sawItems || kindIsEventList) {
    if (sawKind && !kindIsEventList)
      return "has items but its kind is not EventList";
    return "";
  }

  std::string_view raw = trimJson({json.data, json.size});
  if (options.maxEventBytes != 0 && raw.size() > options.maxEventBytes) {
    ++out.oversized;
    return "";
  }
  bool hasFields = false;
  if ((error = root.reset().get(hasFields)))
    return notJson(error);
  AuditEvent& event = out.events.emplace_back();
  if (!decodeEvent(root, event).empty()) {
    out.events.pop_back();
    ++out.malformed;
    return "";
  }
  if (!atEnd(doc)) {
    out.events.pop_back();
    return std::string(kNotOneValue);
  }
  keepRaw(options, out, event, raw);
  return "";
}

// One JSON document: a whole body, or one line of a JSON-lines body. Returns why it is unusable
// as a whole, or "" with its events and counts added to `out`.
std::string decodeDocument(PaddedJson json, const DecodeOptions& options, DecodedAudit& out) {
  od::document doc;
  auto error = threadParser().iterate(json.data, json.size, json.allocated).get(doc);
  if (error)
    return notJson(error);
  od::json_type type;
  if ((error = doc.type().get(type)))
    return notJson(error);
  if (type == od::json_type::array) {
    od::array items;
    if ((error = doc.get_array().get(items)))
      return notJson(error);
    if (!decodeItems(doc, items, options, out, error))
      return notJson(error);
    return atEnd(doc) ? "" : std::string(kNotOneValue);
  }
  if (type != od::json_type::object)
    return "is not an audit EventList, Event or list of Events";

  od::object root;
  if ((error = doc.get_object().get(root)))
    return notJson(error);
  return decodeObjectDocument(doc, root, json, options, out);
}

// A JSON-lines body has a complete JSON value on its first line and more lines after it. The
// cheap test: pretty-printed JSON starts with a lone "{", a compact body has no second line.
bool looksLikeJsonLines(std::string_view body) {
  size_t newline = body.find('\n');
  if (newline == std::string_view::npos)
    return false;
  if (body.find_first_not_of(kJsonSpace, newline) == std::string_view::npos)
    return false;
  std::string_view first = trimJson(body.substr(0, newline));
  return first.size() >= 2 && ((first.front() == '{' && first.back() == '}') ||
                               (first.front() == '[' && first.back() == ']'));
}

// Each non-blank line is a document of its own, and a line that is not JSON counts as one
// malformed item. Returns false when the first line is not JSON by itself after all: the body
// is then one document written over several lines.
bool decodeLines(PaddedJson body, const DecodeOptions& options, DecodedAudit& out) {
  bool first = true;
  size_t start = 0;
  while (start < body.size) {
    const char* begin = body.data + start;
    const void* newline = std::memchr(begin, '\n', body.size - start);
    size_t length =
        newline != nullptr ? static_cast<const char*>(newline) - begin : body.size - start;
    start += length + 1;
    std::string_view line = trimJson({begin, length});
    if (line.empty())
      continue;
    size_t events = out.events.size();
    size_t malformed = out.malformed;
    size_t oversized = out.oversized;
    size_t offset = static_cast<size_t>(line.data() - body.data);
    PaddedJson json{line.data(), line.size(), body.allocated - offset};
    if (!decodeDocument(json, options, out).empty()) {
      if (first)
        return false;
      out.events.erase(out.events.begin() + static_cast<std::ptrdiff_t>(events), out.events.end());
      if (out.rawViews.size() > events) out.rawViews.resize(events);
      out.malformed = malformed + 1;
      out.oversized = oversized;
    }
    first = false;
  }
  return true;
}

}  // namespace

DecodedAudit decodeAuditPayload(std::string& body, size_t maxEventBytes, RawBytes raw) {
  const DecodeOptions options{maxEventBytes, raw};
  if (body.capacity() - body.size() < simdjson::SIMDJSON_PADDING) {
    body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  }
  PaddedJson json{body.data(), body.size(), body.capacity()};
  DecodedAudit out;
  if (looksLikeJsonLines(body)) {
    if (decodeLines(json, options, out))
      return out;
    out = DecodedAudit{};
  }
  std::string error = decodeDocument(json, options, out);
  if (!error.empty()) {
    out = DecodedAudit{};
    out.error = "body " + error;
  }
  return out;
}

std::string decodeAuditLine(std::string_view line, AuditEvent& out) {
  out = AuditEvent{};
  line = trimJson(line);
  if (line.empty())
    return "is empty";
  // A log line has no padding after it: copy it into a buffer that does, kept per thread so
  // that replaying a long log allocates only for the events themselves.
  thread_local std::string padded;
  padded.reserve(line.size() + simdjson::SIMDJSON_PADDING);
  padded.assign(line);
  od::document doc;
  auto error = threadParser().iterate(padded.data(), padded.size(), padded.capacity()).get(doc);
  if (error)
    return notJson(error);
  od::json_type type;
  if ((error = doc.type().get(type)))
    return notJson(error);
  if (type != od::json_type::object)
    return "is not a JSON object";
  od::object root;
  if ((error = doc.get_object().get(root)))
    return notJson(error);
  std::string problem = decodeEvent(root, out);
  if (problem.empty() && !atEnd(doc))
    problem = kNotOneValue;
  if (!problem.empty()) {
    out = AuditEvent{};
    return problem;
  }
  out.raw.assign(line);
  return "";
}

std::optional<int64_t> parseAuditTimestamp(std::string_view text) {
  return core::parseTimestampMicros(text);
}

}  // namespace podmortem::webhooks
