#include "kv_claims.h"

#include <nlohmann/json.hpp>
#include <thread>

#include "podmortem/core/log.h"
#include "podmortem/core/sha256.h"

namespace podmortem::stream {

namespace log = core::log;
using Clock = std::chrono::steady_clock;
using Verdict = policy::CaptureClaims::Verdict;

namespace {

// Between two tries of a claim the bucket did not answer.
constexpr std::chrono::milliseconds kClaimRetryPause{250};

// Capture keys hold names and a policy (any characters); bucket keys may not.
std::string bucketKey(const std::string& captureKey) { return "c." + core::sha256Hex(captureKey); }

// A compare-and-set lost to another writer, as opposed to the bucket being unreachable.
bool lostRace(natsStatus status) {
  if (status != NATS_ERR) return false;
  natsStatus last = NATS_OK;
  const char* text = nats_GetLastError(&last);
  return text != nullptr && std::string_view(text).find("wrong last sequence") != std::string_view::npos;
}

struct Stored {
  std::string owner;
  std::string snapshotId;
  bool done = false;
  policy::CaptureClaims::Outcome outcome;
};

std::optional<Stored> parseValue(kvEntry* entry) {
  auto* data = static_cast<const char*>(kvEntry_Value(entry));
  auto json = nlohmann::json::parse(data, data + kvEntry_ValueLen(entry), nullptr, false);
  if (!json.is_object()) return std::nullopt;
  Stored stored;
  stored.owner = json.value("owner", "");
  stored.snapshotId = json.value("snapshotId", "");
  stored.done = json.value("state", "") == "done";
  if (auto it = json.find("outcome"); it != json.end() && it->is_object()) {
    stored.outcome.snapshotId = it->value("snapshotId", stored.snapshotId);
    stored.outcome.phase = it->value("phase", "");
    stored.outcome.cutShort = it->value("cutShort", false);
    stored.outcome.warning = it->value("warning", "");
  }
  return stored;
}

}  // namespace

KvClaims::KvClaims(std::string replica, StreamMetrics& metrics, std::function<bool()> connected)
    : replica_(std::move(replica)),
      metrics_(metrics),
      connected_(std::move(connected)),
      worker_("capture claims", std::chrono::milliseconds(100), [this](std::stop_token) { tick(); }) {
  worker_.start();
}

KvClaims::~KvClaims() { stop(); }

void KvClaims::attach(KvStorePtr bucket) {
  std::lock_guard lock(mutex_);
  owner_ = std::move(bucket);
  bucket_ = owner_.get();
}

void KvClaims::stop() {
  worker_.stop();
  std::vector<Follower> abandoned;
  {
    std::lock_guard lock(mutex_);
    abandoned.swap(followers_);
  }
  for (auto& follower : abandoned) follower.onDeadline();
}

std::string KvClaims::valueFor(const std::string& snapshotId, const char* state, uint64_t beat,
                               const Outcome* outcome) const {
  nlohmann::json value = {
      {"owner", replica_}, {"snapshotId", snapshotId}, {"state", state}, {"beat", beat}};
  if (outcome != nullptr) {
    value["outcome"] = {{"snapshotId", outcome->snapshotId},
                        {"phase", outcome->phase},
                        {"cutShort", outcome->cutShort},
                        {"warning", outcome->warning}};
  }
  return value.dump();
}

policy::CaptureClaims::Claim KvClaims::claim(const std::string& captureKey,
                                             const std::string& snapshotId,
                                             Clock::time_point tryUntil) {
  kvStore* kv = bucket();
  if (kv == nullptr) {
    metrics_.claim("unavailable").Increment();
    return {Verdict::kUnavailable, snapshotId};
  }
  const std::string key = bucketKey(captureKey);
  const std::string value = valueFor(snapshotId, "capturing", 0, nullptr);
  int expiredBetween = 0;  // a claim that expired between our create and our read
  while (true) {
    uint64_t revision = 0;
    natsStatus s = kvStore_Create(&revision, kv, key.c_str(), value.data(),
                                  static_cast<int>(value.size()));
    if (s == NATS_OK) {
      std::lock_guard lock(mutex_);
      owned_[key] = Owned{revision, snapshotId, 0, Clock::now()};
      metrics_.claim("won").Increment();
      return {Verdict::kWon, snapshotId};
    }
    if (lostRace(s)) {
      kvEntry* raw = nullptr;
      natsStatus got = kvStore_Get(&raw, kv, key.c_str());
      KvEntryPtr entry(raw);
      if (got == NATS_OK) {
        auto stored = parseValue(raw);
        if (stored && stored->owner == replica_ && stored->snapshotId == snapshotId) {
          // Our own earlier try was stored, but its answer never came back: the claim is ours.
          std::lock_guard lock(mutex_);
          owned_[key] = Owned{kvEntry_Revision(raw), snapshotId, 0, Clock::now()};
          metrics_.claim("won").Increment();
          return {Verdict::kWon, snapshotId};
        }
        if (stored) {
          metrics_.claim("lost").Increment();
          return {Verdict::kLost, stored->snapshotId};
        }
        break;  // not a claim of ours: the bucket is not ours to decide with
      }
      if (got == NATS_NOT_FOUND && ++expiredBetween < 2) continue;
    }
    // No answer (a timeout, no responders while the bucket elects a leader): again while the
    // servers are reachable and time remains.
    if (!connected_() || Clock::now() + kClaimRetryPause >= tryUntil) break;
    std::this_thread::sleep_for(kClaimRetryPause);
  }
  metrics_.claim("unavailable").Increment();
  log::warn("could not claim a capture in the NATS bucket; capturing here",
            {{"snapshot", snapshotId}});
  return {Verdict::kUnavailable, snapshotId};
}

void KvClaims::release(const std::string& captureKey, const Outcome& outcome) {
  const std::string key = bucketKey(captureKey);
  Owned owned;
  {
    std::lock_guard lock(mutex_);
    auto it = owned_.find(key);
    if (it == owned_.end()) return;  // never won, or taken over by another replica
    owned = it->second;
    owned_.erase(it);
  }
  kvStore* kv = bucket();
  if (kv == nullptr) return;
  const std::string value = valueFor(owned.snapshotId, "done", owned.beat + 1, &outcome);
  uint64_t revision = 0;
  natsStatus s = kvStore_Update(&revision, kv, key.c_str(), value.data(),
                                static_cast<int>(value.size()), owned.revision);
  if (s != NATS_OK) {
    log::warn("could not record a capture's outcome in the NATS bucket; replicas following it "
              "answer when their hold runs out",
              {{"snapshot", owned.snapshotId}, {"error", natsError(s)}});
  }
}

void KvClaims::follow(const std::string& captureKey, const std::string& takeOverSnapshotId,
                      Clock::time_point deadline, OnOutcome onOutcome, OnTakeOver onTakeOver,
                      OnDeadline onDeadline) {
  Follower follower{bucketKey(captureKey), takeOverSnapshotId, deadline, std::move(onOutcome),
                    std::move(onTakeOver), std::move(onDeadline), 0, Clock::now()};
  std::lock_guard lock(mutex_);
  followers_.push_back(std::move(follower));
}

void KvClaims::tick() {
  renew();
  std::vector<Follower> following;
  {
    std::lock_guard lock(mutex_);
    following.swap(followers_);
  }
  std::vector<Follower> still;
  for (auto& follower : following) {
    if (!poll(follower)) still.push_back(std::move(follower));
  }
  std::lock_guard lock(mutex_);
  for (auto& follower : followers_) still.push_back(std::move(follower));  // added meanwhile
  followers_.swap(still);
}

void KvClaims::renew() {
  std::vector<std::pair<std::string, Owned>> due;
  auto now = Clock::now();
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, owned] : owned_) {
      if (now - owned.written >= kHeartbeat) due.emplace_back(key, owned);
    }
  }
  kvStore* kv = bucket();
  if (kv == nullptr) return;
  for (auto& [key, owned] : due) {
    const std::string value = valueFor(owned.snapshotId, "capturing", owned.beat + 1, nullptr);
    uint64_t revision = 0;
    natsStatus s = kvStore_Update(&revision, kv, key.c_str(), value.data(),
                                  static_cast<int>(value.size()), owned.revision);
    std::lock_guard lock(mutex_);
    auto it = owned_.find(key);
    if (it == owned_.end() || it->second.revision != owned.revision) continue;  // released
    if (s == NATS_OK) {
      it->second.revision = revision;
      it->second.beat = owned.beat + 1;
      it->second.written = Clock::now();
    } else if (lostRace(s)) {
      log::warn("another replica took over a capture this one was slow to renew",
                {{"snapshot", owned.snapshotId}});
      owned_.erase(it);
    }
  }
}

bool KvClaims::poll(Follower& follower) {
  auto now = Clock::now();
  if (now >= follower.deadline) {
    follower.onDeadline();
    return true;
  }
  kvStore* kv = bucket();
  if (kv == nullptr) return false;  // NATS away: wait (until the deadline) for it
  kvEntry* raw = nullptr;
  natsStatus s = kvStore_Get(&raw, kv, follower.key.c_str());
  KvEntryPtr entry(raw);
  if (s == NATS_NOT_FOUND) return takeOver(kv, follower, 0, false);  // expired: nobody holds it
  if (s != NATS_OK) return false;                                   // try again next tick
  auto stored = parseValue(raw);
  if (stored && stored->done) {
    follower.onOutcome(stored->outcome);
    return true;
  }
  uint64_t revision = kvEntry_Revision(raw);
  if (revision != follower.revision) {
    follower.revision = revision;
    follower.changed = now;
    return false;
  }
  if (now - follower.changed < kStaleAfter) return false;
  return takeOver(kv, follower, revision, true);
}

bool KvClaims::takeOver(kvStore* kv, Follower& follower, uint64_t revision, bool exists) {
  const std::string value = valueFor(follower.takeOverSnapshotId, "capturing", 0, nullptr);
  uint64_t written = 0;
  natsStatus s =
      exists ? kvStore_Update(&written, kv, follower.key.c_str(), value.data(),
                              static_cast<int>(value.size()), revision)
             : kvStore_Create(&written, kv, follower.key.c_str(), value.data(),
                              static_cast<int>(value.size()));
  if (s != NATS_OK) return false;  // another follower was first, or the bucket is away
  {
    std::lock_guard lock(mutex_);
    owned_[follower.key] = Owned{written, follower.takeOverSnapshotId, 0, Clock::now()};
  }
  metrics_.claim("taken_over").Increment();
  log::warn("took over a capture from a replica that stopped renewing its claim",
            {{"snapshot", follower.takeOverSnapshotId}});
  follower.onTakeOver();
  return true;
}

}  // namespace podmortem::stream
