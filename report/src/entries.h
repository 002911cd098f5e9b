#pragma once

// The timeline's entries, each from one artifact of the bundle. Internal to report/.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace podmortem::report::internal {

// One row of the timeline.
struct Entry {
  int64_t micros = 0;     // when, since the epoch
  std::string kind;       // admission, audit, event, log, pod, capture, action, addendum
  std::string actor;      // who: a user, a controller, a container ("" when nobody in particular)
  std::string summary;    // one line a person reads
  nlohmann::json detail = nlohmann::json::object();  // command, sourceIPs, status, stages, ...
  std::string artifact;   // bundle-relative path of its source
  size_t line = 0;        // 1-based line in that artifact, 0 when not line-based
};

// audit-trail.jsonl: one entry per request (auditID), at the time it was received, however many
// stages the API server sent; events podmortem wrote at admission are kind "admission".
// Unreadable lines are counted in `skipped`.
void auditEntries(std::string_view text, const std::string& artifact, std::vector<Entry>& out, size_t& skipped);

// events.json (an EventList): one entry per event, at its last occurrence.
void kubernetesEventEntries(std::string_view text, const std::string& artifact, std::vector<Entry>& out);

// logs/<container>.log as the API server sends it with timestamps=true: one entry per line,
// up to `maxLines`; lines without a timestamp take the one before. Returns the lines left out.
size_t logEntries(std::string_view text, const std::string& artifact, const std::string& container, size_t maxLines,
                  std::vector<Entry>& out);

// pod.json: created, scheduled, each container started or terminated, deletion requested.
void podEntries(const nlohmann::json& pod, const std::string& artifact, std::vector<Entry>& out);

// The query of a request URI, decoded (`+` is a space, as Go's url.Values writes it); a key may
// repeat (exec's command=sh&command=-c).
std::vector<std::pair<std::string, std::string>> queryOf(std::string_view requestUri);

}  // namespace podmortem::report::internal
