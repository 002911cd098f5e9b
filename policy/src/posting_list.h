#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace podmortem::policy {

// The event ids of one pod, user or source IP, kept in event-time order. Events arrive nearly in
// order, so an insert walks back a step or two from the end; the window evicts the globally
// oldest event, which is the front of every list it is in, so removal pops the front. A vector
// with a moving head (4 bytes an event) rather than a deque, whose first block alone is 512
// bytes: most pods and users have only a handful of events.
class PostingList {
 public:
  // `before(a, b)`: whether event a sorts before event b.
  template <class Before>
  void insert(uint32_t id, Before before) {
    auto position = ids_.end();
    while (position != ids_.begin() + head_ && before(id, *(position - 1)))
      --position;
    ids_.insert(position, id);
  }

  void remove(uint32_t id) {
    if (head_ < ids_.size() && ids_[head_] == id) {
      ++head_;
    } else {
      // Not reached while the window evicts oldest first; kept correct rather than trusted.
      auto found = std::find(ids_.begin() + head_, ids_.end(), id);
      if (found == ids_.end())
        return;
      ids_.erase(found);
    }
    compact();
  }

  // Ids from the first one at or after `sinceMicros`; `timeOf(id)` gives an event's time.
  template <class TimeOf>
  std::span<const uint32_t> since(int64_t sinceMicros, TimeOf timeOf) const {
    auto all = items();
    auto first = std::partition_point(all.begin(), all.end(),
                                      [&](uint32_t id) { return timeOf(id) < sinceMicros; });
    return all.subspan(static_cast<size_t>(first - all.begin()));
  }

  std::span<const uint32_t> items() const { return std::span<const uint32_t>(ids_).subspan(head_); }
  uint32_t front() const { return ids_[head_]; }
  size_t size() const { return ids_.size() - head_; }
  bool empty() const { return size() == 0; }

 private:
  void compact() {
    if (head_ == ids_.size()) {
      ids_.clear();
      head_ = 0;
    } else if (head_ >= 64 && head_ * 2 >= ids_.size()) {
      ids_.erase(ids_.begin(), ids_.begin() + head_);
      head_ = 0;
    } else {
      return;
    }
    // A burst must not pin its peak capacity for the rest of the process.
    if (ids_.capacity() >= 64 && ids_.size() * 4 < ids_.capacity())
      ids_.shrink_to_fit();
  }

  std::vector<uint32_t> ids_;
  size_t head_ = 0;
};

}  // namespace podmortem::policy
