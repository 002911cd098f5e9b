#include "string_interner.h"

namespace podmortem::policy {

uint32_t StringInterner::acquire(std::string_view text) {
  if (text.empty())
    return kEmpty;
  if (auto found = ids_.find(text); found != ids_.end()) {
    ++slots_[found->second].refs;
    return found->second;
  }
  uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    id = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& slot = slots_[id];
  slot.text.assign(text);
  slot.refs = 1;
  ids_.emplace(std::string_view(slot.text), id);
  return id;
}

void StringInterner::release(uint32_t id) {
  if (id == kEmpty)
    return;
  Slot& slot = slots_[id];
  if (--slot.refs > 0)
    return;
  ids_.erase(std::string_view(slot.text));
  // Swap rather than clear: a long name's heap buffer goes back now, not when the slot is reused.
  std::string().swap(slot.text);
  free_.push_back(id);
}

std::optional<uint32_t> StringInterner::find(std::string_view text) const {
  if (text.empty())
    return kEmpty;
  if (auto found = ids_.find(text); found != ids_.end())
    return found->second;
  return std::nullopt;
}

}  // namespace podmortem::policy
