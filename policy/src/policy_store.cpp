#include "podmortem/policy/policy_store.h"

#include <utility>

#include "podmortem/policy/parser.h"

namespace podmortem::policy {

PolicyStore::PolicyStore() {
  auto initial = std::make_shared<State>();
  initial->set = std::make_shared<const PolicySet>();
  state_ = std::move(initial);
}

std::shared_ptr<const PolicyStore::State> PolicyStore::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

std::shared_ptr<const PolicySet> PolicyStore::current() const {
  std::lock_guard lock(mutex_);
  return state_->set;
}

void PolicyStore::replace(LoadResult result) { replaceSource("files", std::move(result)); }

void PolicyStore::replaceSource(const std::string& source, LoadResult result) {
  std::lock_guard publishing(sourcesMutex_);
  sources_[source] = std::move(result);
  LoadResult merged;
  for (const auto& [name, loaded] : sources_) appendLoadResult(merged, loaded);
  publish(std::move(merged));
}

void PolicyStore::publish(LoadResult result) {
  auto next = std::make_shared<State>();
  next->set = std::make_shared<const PolicySet>(std::move(result.policies));
  next->problems = std::move(result.problems);
  next->rejected = result.rejected;
  std::shared_ptr<const State> previous;
  {
    std::lock_guard lock(mutex_);
    next->generation = state_->generation + 1;
    previous = std::exchange(state_, std::move(next));
  }
  // `previous` dies here, outside the lock: freeing a large set must not stall readers.
}

std::vector<PolicyProblem> PolicyStore::problems() const {
  return state()->problems;
}

size_t PolicyStore::validCount() const {
  return state()->set->size();
}

size_t PolicyStore::invalidCount() const {
  return state()->rejected;
}

uint64_t PolicyStore::generation() const {
  return state()->generation;
}

}  // namespace podmortem::policy
