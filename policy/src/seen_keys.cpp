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

SeenKeys::SeenKeys(const std::vector<Entry>& entries)
    : entries_(entries), buckets_(1024, Bucket{kFree, 0}) {}

uint32_t SeenKeys::find(const DedupKey& key) const {
  const auto hash = static_cast<uint32_t>(hashOf(key));
  for (size_t i = hash & mask();; i = (i + 1) & mask()) {
    const Bucket& bucket = buckets_[i];
    if (bucket.slot == kFree) return kFree;
    if (bucket.hash == hash && keyOf(entries_[bucket.slot]) == key) return bucket.slot;
  }
}

void SeenKeys::insert(uint32_t slot) {
  if ((count_ + 1) * 2 > buckets_.size()) {
    std::vector<Bucket> old(buckets_.size() * 2, Bucket{kFree, 0});
    old.swap(buckets_);
    for (const Bucket& moved : old) {
      if (moved.slot != kFree) place(moved);
    }
  }
  place({slot, static_cast<uint32_t>(hashOf(keyOf(entries_[slot])))});
  ++count_;
}

void SeenKeys::place(Bucket bucket) {
  size_t i = bucket.hash & mask();
  while (buckets_[i].slot != kFree) i = (i + 1) & mask();
  buckets_[i] = bucket;
}

// Backward-shift deletion: no tombstones, so probes stay short however long the window runs.
void SeenKeys::erase(uint32_t slot) {
  size_t i = static_cast<uint32_t>(hashOf(keyOf(entries_[slot]))) & mask();
  while (buckets_[i].slot != slot) {
    if (buckets_[i].slot == kFree) return;
    i = (i + 1) & mask();
  }
  buckets_[i].slot = kFree;
  --count_;
  for (size_t j = (i + 1) & mask(); buckets_[j].slot != kFree; j = (j + 1) & mask()) {
    size_t h = buckets_[j].hash & mask();
    // The key at j stays unless the hole at i lies between its home and j, cyclically.
    bool staysPut = i <= j ? (i < h && h <= j) : (i < h || h <= j);
    if (staysPut) continue;
    buckets_[i] = buckets_[j];
    buckets_[j].slot = kFree;
    i = j;
  }
}

}  // namespace podmortem::policy
