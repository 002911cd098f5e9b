#include "podmortem/policy/correlation_window.h"

#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <utility>

#include "posting_list.h"
#include "raw_spool.h"
#include "seen_keys.h"
#include "string_interner.h"
#include "window_entry.h"

namespace podmortem::policy {
namespace {

using Clock = std::chrono::system_clock;

struct TimeOf {
  const std::vector<Entry>& entries;
  int64_t operator()(uint32_t slot) const { return entries[slot].timeMicros; }
};

int64_t ceilMicros(Clock::time_point time) {
  return std::chrono::ceil<std::chrono::microseconds>(time.time_since_epoch()).count();
}

int64_t floorMicros(Clock::time_point time) {
  return std::chrono::floor<std::chrono::microseconds>(time.time_since_epoch()).count();
}

uint64_t podKey(uint32_t namespaceName, uint32_t podName) {
  return static_cast<uint64_t>(namespaceName) << 32 | podName;
}

// Where one event's bytes are, taken under the lock and read after it is released so that disk
// reads never hold up ingest.
struct RawRef {
  std::shared_ptr<const SpoolSegment> segment;
  uint32_t offset = 0;
  uint32_t length = 0;
  std::string bytes;  // when kept in memory
  bool podEvent = false;
};

}  // namespace

class CorrelationWindow::Impl {
 public:
  explicit Impl(Options options) : options_(std::move(options)) {
    if (!options_.spoolDir.empty())
      spool_ = std::make_unique<RawSpool>(options_.spoolDir, options_.segmentBytes);
  }

  AddResult add(const AuditEvent& event, std::string_view raw, Clock::time_point now) {
    std::unique_lock lock(mutex_);
    evictOlderThan(floorMicros(now - options_.window));

    DedupKey key;
    bool knownKey = probeKey(event, key);
    if (knownKey && seen_.find(key) != SeenKeys::kNotFound)
      return AddResult::kDuplicate;

    uint32_t slot = allocateSlot();
    Entry& entry = entries_[slot];
    entry.timeMicros = event.timeMicros;
    entry.seq = nextSeq_++;
    entry.idKind = key.kind;
    entry.uuid = key.uuid;
    entry.auditIdText = key.kind == IdKind::kText ? strings_.acquire(event.auditId) : kNoString;
    entry.stage = strings_.acquire(event.stage);
    entry.verb = strings_.acquire(event.verb);
    entry.resource = strings_.acquire(event.resource);
    entry.subResource = strings_.acquire(event.subResource);
    if (event.isPodEvent()) {
      entry.namespaceName = strings_.acquire(event.namespaceName);
      entry.podName = strings_.acquire(event.name);
    }
    entry.user = strings_.acquire(event.userName);
    // Acting as oneself is not impersonation; one list entry is enough.
    entry.impersonatedUser = event.impersonatedUserName == event.userName
                                 ? kNoString
                                 : strings_.acquire(event.impersonatedUserName);
    entry.sourceIp = strings_.acquire(event.sourceIp);
    storeRaw(slot, raw);

    auto before = [this](uint32_t a, uint32_t b) { return sortsBefore(a, b); };
    order_.insert(slot, before);
    if (entry.isPodEvent())
      pods_[podKey(entry.namespaceName, entry.podName)].insert(slot, before);
    if (entry.user != kNoString)
      users_[entry.user].insert(slot, before);
    if (entry.impersonatedUser != kNoString)
      users_[entry.impersonatedUser].insert(slot, before);
    if (entry.sourceIp != kNoString)
      ips_[entry.sourceIp].insert(slot, before);
    if (entry.idKind != IdKind::kMissing)
      seen_.insert(slot);

    while (order_.size() > options_.maxEvents)
      evict(order_.front());
    // An event that arrived already older than the window goes at once, like any other.
    evictOlderThan(floorMicros(now - options_.window));
    return AddResult::kIndexed;
  }

  void expire(Clock::time_point now) {
    std::unique_lock lock(mutex_);
    evictOlderThan(floorMicros(now - options_.window));
  }

  size_t size() const {
    std::shared_lock lock(mutex_);
    return order_.size();
  }

  uint64_t evictions() const {
    std::shared_lock lock(mutex_);
    return evictions_;
  }

  uint64_t indexedTotal() const {
    std::shared_lock lock(mutex_);
    return nextSeq_;
  }

  std::vector<std::string> eventsFor(const std::unordered_map<uint32_t, PostingList>& index,
                                     std::string_view name, Clock::time_point since) const {
    std::vector<RawRef> refs;
    {
      std::shared_lock lock(mutex_);
      auto id = strings_.find(name);
      if (!id || *id == kNoString)
        return {};
      auto list = index.find(*id);
      if (list == index.end())
        return {};
      for (uint32_t slot : list->second.since(ceilMicros(since), timeOf()))
        refs.push_back(rawRef(slot));
    }
    return readAll(refs);
  }

  const std::unordered_map<uint32_t, PostingList>& users() const { return users_; }
  const std::unordered_map<uint32_t, PostingList>& ips() const { return ips_; }

  Trail trailForPod(std::string_view namespaceName, std::string_view podName,
                    Clock::time_point since) const {
    Trail trail;
    const int64_t sinceMicros = ceilMicros(since);
    trail.windowStartMicros = sinceMicros;
    std::vector<RawRef> refs;
    int64_t latest = 0;
    {
      std::shared_lock lock(mutex_);
      trail.indexedThrough = nextSeq_;
      const PostingList* pod = findPod(namespaceName, podName);
      if (pod != nullptr) {
        auto podEvents = pod->since(sinceMicros, timeOf());
        std::vector<uint32_t> slots(podEvents.begin(), podEvents.end());
        std::vector<uint32_t> actors;
        for (uint32_t slot : podEvents) {
          for (uint32_t user : {entries_[slot].user, entries_[slot].impersonatedUser}) {
            if (user != kNoString && std::find(actors.begin(), actors.end(), user) == actors.end())
              actors.push_back(user);
          }
        }
        for (uint32_t user : actors) {
          auto list = users_.find(user);
          if (list == users_.end())
            continue;
          auto userEvents = list->second.since(sinceMicros, timeOf());
          slots.insert(slots.end(), userEvents.begin(), userEvents.end());
        }
        std::sort(slots.begin(), slots.end(),
                  [this](uint32_t a, uint32_t b) { return sortsBefore(a, b); });
        slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
        const uint64_t key = podKeyOf(pod);
        refs.reserve(slots.size());
        for (uint32_t slot : slots) {
          const Entry& entry = entries_[slot];
          refs.push_back(rawRef(slot));
          refs.back().podEvent =
              entry.isPodEvent() && podKey(entry.namespaceName, entry.podName) == key;
          latest = std::max(latest, entry.timeMicros);
        }
      }
    }
    trail.rawEvents.reserve(refs.size());
    for (auto& ref : refs) {
      auto bytes = read(ref);
      if (!bytes)
        continue;
      trail.rawEvents.push_back(std::move(*bytes));
      ++(ref.podEvent ? trail.podEvents : trail.userEvents);
    }
    trail.windowEndMicros = refs.empty() ? floorMicros(Clock::now()) : latest;
    return trail;
  }

  bool hasActivity(std::string_view namespaceName, std::string_view podName,
                   const AuditRequirement& requirement, Clock::time_point since) const {
    std::shared_lock lock(mutex_);
    const PostingList* pod = findPod(namespaceName, podName);
    if (pod == nullptr)
      return false;
    for (uint32_t slot : pod->since(ceilMicros(since), timeOf())) {
      const Entry& entry = entries_[slot];
      if (requirement.matches(strings_.view(entry.verb), strings_.view(entry.resource),
                              strings_.view(entry.subResource)))
        return true;
    }
    return false;
  }

 private:
  TimeOf timeOf() const { return TimeOf{entries_}; }

  bool sortsBefore(uint32_t a, uint32_t b) const {
    const Entry& x = entries_[a];
    const Entry& y = entries_[b];
    return x.timeMicros != y.timeMicros ? x.timeMicros < y.timeMicros : x.seq < y.seq;
  }

  // The event's dedup key from strings already interned; false when some part was never seen,
  // in which case the event cannot be a duplicate.
  bool probeKey(const AuditEvent& event, DedupKey& key) const {
    if (event.auditId.empty()) {
      key.kind = IdKind::kMissing;  // nothing to deduplicate on; every such event is kept
      return false;
    }
    bool known = true;
    if (parseUuid(event.auditId, key.uuid)) {
      key.kind = IdKind::kUuid;
    } else {
      key.kind = IdKind::kText;
      auto text = strings_.find(event.auditId);
      known = text.has_value();
      key.text = text.value_or(kNoString);
    }
    auto stage = strings_.find(event.stage);
    key.stage = stage.value_or(kNoString);
    return known && stage.has_value();
  }

  const PostingList* findPod(std::string_view namespaceName, std::string_view podName) const {
    auto ns = strings_.find(namespaceName);
    auto name = strings_.find(podName);
    if (!ns || !name || *ns == kNoString || *name == kNoString)
      return nullptr;
    auto list = pods_.find(podKey(*ns, *name));
    return list == pods_.end() ? nullptr : &list->second;
  }

  uint64_t podKeyOf(const PostingList* pod) const {
    const Entry& any = entries_[pod->front()];
    return podKey(any.namespaceName, any.podName);
  }

  uint32_t allocateSlot() {
    if (!freeSlots_.empty()) {
      uint32_t slot = freeSlots_.back();
      freeSlots_.pop_back();
      entries_[slot] = Entry{};
      return slot;
    }
    entries_.emplace_back();
    return static_cast<uint32_t>(entries_.size() - 1);
  }

  void storeRaw(uint32_t slot, std::string_view raw) {
    Entry& entry = entries_[slot];
    if (spool_) {
      if (auto location = spool_->append(raw)) {
        entry.segment = location->segment;
        entry.offset = location->offset;
        entry.length = location->length;
        return;
      }
      // The disk failed (full, I/O error): memory is the better place than nowhere.
    }
    entry.segment = kRawInMemory;
    rawInMemory_[slot] = std::string(raw);
  }

  RawRef rawRef(uint32_t slot) const {
    const Entry& entry = entries_[slot];
    RawRef ref;
    if (entry.segment == kRawInMemory) {
      auto found = rawInMemory_.find(slot);
      if (found != rawInMemory_.end())
        ref.bytes = found->second;
    } else if (auto bytes = spool_->buffered({entry.segment, entry.offset, entry.length})) {
      ref.bytes = std::move(*bytes);  // not written to the file yet
    } else {
      ref.segment = spool_->segment(entry.segment);
      ref.offset = entry.offset;
      ref.length = entry.length;
    }
    return ref;
  }

  static std::optional<std::string> read(RawRef& ref) {
    if (!ref.segment)
      return std::move(ref.bytes);
    return ref.segment->read(ref.offset, ref.length);
  }

  static std::vector<std::string> readAll(std::vector<RawRef>& refs) {
    std::vector<std::string> events;
    events.reserve(refs.size());
    for (auto& ref : refs) {
      if (auto bytes = read(ref))
        events.push_back(std::move(*bytes));
    }
    return events;
  }

  void evictOlderThan(int64_t cutoffMicros) {
    while (!order_.empty() && entries_[order_.front()].timeMicros < cutoffMicros)
      evict(order_.front());
  }

  void evict(uint32_t slot) {
    Entry& entry = entries_[slot];
    if (entry.idKind != IdKind::kMissing)
      seen_.erase(slot);
    order_.remove(slot);
    if (entry.isPodEvent())
      removeFrom(pods_, podKey(entry.namespaceName, entry.podName), slot);
    if (entry.user != kNoString)
      removeFrom(users_, entry.user, slot);
    if (entry.impersonatedUser != kNoString)
      removeFrom(users_, entry.impersonatedUser, slot);
    if (entry.sourceIp != kNoString)
      removeFrom(ips_, entry.sourceIp, slot);
    if (entry.segment == kRawInMemory)
      rawInMemory_.erase(slot);
    else
      spool_->release({entry.segment, entry.offset, entry.length});
    for (uint32_t id :
         {entry.auditIdText, entry.stage, entry.verb, entry.resource, entry.subResource,
          entry.namespaceName, entry.podName, entry.user, entry.impersonatedUser, entry.sourceIp})
      strings_.release(id);
    entry = Entry{};
    freeSlots_.push_back(slot);
    ++evictions_;
  }

  template <class Key>
  static void removeFrom(std::unordered_map<Key, PostingList>& index, Key key, uint32_t slot) {
    auto list = index.find(key);
    if (list == index.end())
      return;
    list->second.remove(slot);
    if (list->second.empty())
      index.erase(list);
  }

  const Options options_;
  mutable std::shared_mutex mutex_;
  StringInterner strings_;
  std::vector<Entry> entries_;  // by slot; freed slots are reused
  std::vector<uint32_t> freeSlots_;
  PostingList order_;  // every live event, oldest first: the eviction order
  std::unordered_map<uint64_t, PostingList> pods_;
  std::unordered_map<uint32_t, PostingList> users_;
  std::unordered_map<uint32_t, PostingList> ips_;
  SeenKeys seen_{entries_};
  std::unique_ptr<RawSpool> spool_;
  std::unordered_map<uint32_t, std::string> rawInMemory_;
  uint64_t nextSeq_ = 0;
  uint64_t evictions_ = 0;
};

CorrelationWindow::CorrelationWindow(Options options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

CorrelationWindow::~CorrelationWindow() = default;

CorrelationWindow::AddResult CorrelationWindow::add(AuditEvent event, Clock::time_point now) {
  return impl_->add(event, event.raw, now);
}

CorrelationWindow::AddResult CorrelationWindow::add(const AuditEvent& event, std::string_view raw,
                                                    Clock::time_point now) {
  return impl_->add(event, raw, now);
}

void CorrelationWindow::expire(Clock::time_point now) {
  impl_->expire(now);
}

size_t CorrelationWindow::size() const {
  return impl_->size();
}

uint64_t CorrelationWindow::evictions() const {
  return impl_->evictions();
}

uint64_t CorrelationWindow::indexedTotal() const { return impl_->indexedTotal(); }

std::vector<std::string> CorrelationWindow::eventsForUser(std::string_view userName,
                                                          Clock::time_point since) const {
  return impl_->eventsFor(impl_->users(), userName, since);
}

std::vector<std::string> CorrelationWindow::eventsForSourceIp(std::string_view sourceIp,
                                                              Clock::time_point since) const {
  return impl_->eventsFor(impl_->ips(), sourceIp, since);
}

CorrelationQuery::Trail CorrelationWindow::trailForPod(std::string_view namespaceName,
                                                       std::string_view podName,
                                                       Clock::time_point since) const {
  return impl_->trailForPod(namespaceName, podName, since);
}

bool CorrelationWindow::hasActivity(std::string_view namespaceName, std::string_view podName,
                                    const AuditRequirement& requirement,
                                    Clock::time_point since) const {
  return impl_->hasActivity(namespaceName, podName, requirement, since);
}

}  // namespace podmortem::policy
