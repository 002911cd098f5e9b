#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace podmortem::policy {

// Maps repeated strings (user names, namespaces, pod names, verbs, IPs) to 32-bit ids so that an
// index entry holds a few integers instead of strings. Reference-counted: pod names churn with
// every rollout, so a string is forgotten once the last event that used it leaves the window.
// Not thread-safe; the owner locks.
class StringInterner {
 public:
  // The empty string: never stored, never counted.
  static constexpr uint32_t kEmpty = UINT32_MAX;

  // The id of `text`, adding it when new; each acquire needs one release.
  uint32_t acquire(std::string_view text);
  void release(uint32_t id);

  // The id of `text` without adding it; nullopt when no live entry uses it.
  std::optional<uint32_t> find(std::string_view text) const;

  std::string_view view(uint32_t id) const {
    return id == kEmpty ? std::string_view() : std::string_view(slots_[id].text);
  }

  size_t size() const { return ids_.size(); }

 private:
  struct Slot {
    std::string text;
    uint32_t refs = 0;
  };

  // A deque so that the string_view keys below stay valid as slots are added (a vector would
  // move short strings held in their inline buffer).
  std::deque<Slot> slots_;
  std::vector<uint32_t> free_;
  std::unordered_map<std::string_view, uint32_t> ids_;
};

}  // namespace podmortem::policy
