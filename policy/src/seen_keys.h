#pragma once

#include <cstdint>
#include <vector>

#include "window_entry.h"

namespace podmortem::policy {

// The (auditID, stage) keys of the events in the window, for deduplication. Open addressing
// over entry slots, 8 bytes a bucket at most half full, instead of a node-based set at ~40
// bytes an event; the keys themselves are read from the entries. Each bucket keeps 32 bits of
// its key's hash beside the slot, so that probing, deleting and growing compare and place by
// hash without reading entries: in a window of a million events each such read is a cache
// miss, and profiling of the audit path found them at a fifth of its time. A key lives exactly
// as long as its entry. Not thread-safe; the owner locks.
class SeenKeys {
 public:
  static constexpr uint32_t kNotFound = UINT32_MAX;

  explicit SeenKeys(const std::vector<Entry>& entries);

  // The slot of the entry with `key`, or kNotFound.
  uint32_t find(const DedupKey& key) const;
  // The entry at `slot` must be filled in, and stay unchanged until erase(slot).
  void insert(uint32_t slot);
  void erase(uint32_t slot);

 private:
  struct Bucket {
    uint32_t slot;
    uint32_t hash;  // the low 32 bits of the key's hash
  };

  size_t mask() const { return buckets_.size() - 1; }
  void place(Bucket bucket);

  const std::vector<Entry>& entries_;
  std::vector<Bucket> buckets_;  // a power of two in size
  size_t count_ = 0;
};

}  // namespace podmortem::policy
