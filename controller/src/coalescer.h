#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace podmortem::controller {

// One piece of work per key, whoever asks: the first caller of a key starts it, callers while it
// runs wait for its outcome, and callers after it finished get the outcome it had, for
// `rememberFor` (at most `rememberAtMost` keys). The API server calls the webhook several times
// for one deletion (and replicas are asked for the same one); they must all get one snapshot.
//
// Remembered outcomes stay in memory for the whole horizon, so keep `Outcome` small: what a late
// caller is answered with, not everything the work produced.
template <typename Outcome>
class Coalescer {
 public:
  using Callback = std::function<void(const Outcome&)>;
  using Clock = std::chrono::steady_clock;

  struct Joined {
    std::string id;           // the id of the work for this key (the one just given, or earlier)
    bool started = false;     // this caller starts the work, and must call finish(key, ...) once
    bool finished = false;    // the work had finished: `outcome` holds what it gave
    Outcome outcome;          // when `finished`; the caller answers `done` with it itself
  };

  Coalescer(Clock::duration rememberFor, size_t rememberAtMost)
      : rememberFor_(rememberFor), rememberAtMost_(rememberAtMost) {}

  // Joins the work for `key`, or starts it under `newId()`. Unless the result says `finished`,
  // `done` is kept and called by finish(). `newId` runs only when the work starts.
  Joined join(const std::string& key, const std::function<std::string()>& newId, Callback done) {
    std::lock_guard lock(mutex_);
    forgetOld();
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      Entry entry;
      entry.id = newId();
      entry.waiters.push_back(std::move(done));
      auto& added = entries_.emplace(key, std::move(entry)).first->second;
      return {added.id, true, false, {}};
    }
    Entry& entry = it->second;
    if (entry.done) return {entry.id, false, true, entry.outcome};
    entry.waiters.push_back(std::move(done));
    return {entry.id, false, false, {}};
  }

  // Ends the work for `key`: every waiter gets `outcome`, on this thread, and the key remembers
  // `remembered` for later callers. A second finish of one key does nothing.
  void finish(const std::string& key, const Outcome& outcome, Outcome remembered) {
    std::vector<Callback> waiters;
    {
      std::lock_guard lock(mutex_);
      auto it = entries_.find(key);
      if (it == entries_.end() || it->second.done) return;
      it->second.done = true;
      it->second.outcome = std::move(remembered);
      waiters.swap(it->second.waiters);
      finished_.emplace_back(Clock::now(), key);
    }
    for (auto& waiter : waiters) waiter(outcome);
  }

  void finish(const std::string& key, const Outcome& outcome) { finish(key, outcome, outcome); }

  // Ends work that could not even start: its waiters get `outcome`, and the key is forgotten,
  // so that the next caller starts afresh instead of being told the same failure.
  void abandon(const std::string& key, const Outcome& outcome) {
    std::vector<Callback> waiters;
    {
      std::lock_guard lock(mutex_);
      auto it = entries_.find(key);
      if (it == entries_.end() || it->second.done) return;
      waiters.swap(it->second.waiters);
      entries_.erase(it);
    }
    for (auto& waiter : waiters) waiter(outcome);
  }

  size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  struct Entry {
    std::string id;
    bool done = false;
    Outcome outcome;
    std::vector<Callback> waiters;
  };

  // Drops finished keys past the horizon, oldest first; with mutex_ held. Running keys stay.
  void forgetOld() {
    auto horizon = Clock::now() - rememberFor_;
    while (!finished_.empty() &&
           (finished_.front().first < horizon || entries_.size() > rememberAtMost_)) {
      entries_.erase(finished_.front().second);
      finished_.pop_front();
    }
  }

  const Clock::duration rememberFor_;
  const size_t rememberAtMost_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  std::deque<std::pair<Clock::time_point, std::string>> finished_;
};

}  // namespace podmortem::controller
