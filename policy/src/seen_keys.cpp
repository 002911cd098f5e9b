#include "seen_keys.h"

namespace podmortem::policy {
namespace {

constexpr uint32_t kFree = SeenKeys::kNotFound;

uint64_t mix(uint64_t x) {
  // splitmix64's finaliser: cheap, and spreads UUIDs that differ in a few bits.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t hashOf(const DedupKey& key) {
  uint64_t h = mix(static_cast<uint64_t>(key.kind) << 32 | key.stage);
  if (key.kind == IdKind::kUuid) {
    uint64_t high = 0;
    uint64_t low = 0;
    for (size_t i = 0; i < 8; ++i) {
      high = high << 8 | key.uuid[i];
      low = low << 8 | key.uuid[i + 8];
    }
    return mix(h ^ high) ^ mix(low + 0x9e3779b97f4a7c15ull);
  }
  return mix(h ^ key.text);
}

}  // namespace

SeenKeys::SeenKeys(const std::vector<Entry>& entries) : entries_(entries), buckets_(1024, kFree) {}

size_t SeenKeys::home(uint32_t slot) const {
  return hashOf(keyOf(entries_[slot])) & mask();
}

uint32_t SeenKeys::find(const DedupKey& key) const {
  for (size_t i = hashOf(key) & mask();; i = (i + 1) & mask()) {
    uint32_t slot = buckets_[i];
    if (slot == kFree || keyOf(entries_[slot]) == key)
      return slot;
  }
}

void SeenKeys::insert(uint32_t slot) {
  if ((count_ + 1) * 2 > buckets_.size()) {
    std::vector<uint32_t> old(buckets_.size() * 2, kFree);
    old.swap(buckets_);
    for (uint32_t moved : old) {
      if (moved != kFree)
        place(moved);
    }
  }
  place(slot);
  ++count_;
}

void SeenKeys::place(uint32_t slot) {
  size_t i = home(slot);
  while (buckets_[i] != kFree)
    i = (i + 1) & mask();
  buckets_[i] = slot;
}

// Backward-shift deletion: no tombstones, so probes stay short however long the window runs.
void SeenKeys::erase(uint32_t slot) {
  size_t i = home(slot);
  while (buckets_[i] != slot) {
    if (buckets_[i] == kFree)
      return;
    i = (i + 1) & mask();
  }
  buckets_[i] = kFree;
  --count_;
  for (size_t j = (i + 1) & mask(); buckets_[j] != kFree; j = (j + 1) & mask()) {
    size_t h = home(buckets_[j]);
    // The key at j stays unless the hole at i lies between its home and j, cyclically.
    bool staysPut = i <= j ? (i < h && h <= j) : (i < h || h <= j);
    if (staysPut)
      continue;
    buckets_[i] = buckets_[j];
    buckets_[j] = kFree;
    i = j;
  }
}

}  // namespace podmortem::policy
