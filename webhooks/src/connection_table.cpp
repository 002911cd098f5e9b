#include "connection_table.h"

namespace podmortem::webhooks {

ConnectionTable::Member* ConnectionTable::oldestSheddable(const std::string* address) {
  for (auto* list : {&unproven_, &idle_}) {
    for (Member& member : *list) {
      if (address == nullptr || member.address_ == *address) return &member;
    }
  }
  return nullptr;
}

ConnectionTable::AdmitResult ConnectionTable::admit(const std::string& address) {
  bool shedAny = false;
  const char* reason = "";
  if (perAddress_ != 0) {
    auto it = byAddress_.find(address);
    if (it != byAddress_.end() && it->second >= perAddress_) {
      Member* victim = oldestSheddable(&address);
      if (victim == nullptr) return {Admission::kRefused, "per_address"};
      shed(*victim);
      shedAny = true;
      reason = "per_address";
    }
  }
  if (size_ >= capacity_) {
    Member* victim = oldestSheddable(nullptr);
    if (victim == nullptr) return {Admission::kRefused, "capacity"};
    shed(*victim);
    shedAny = true;
    reason = "capacity";
  }
  return {shedAny ? Admission::kAdmittedByShedding : Admission::kAdmitted, reason};
}

void ConnectionTable::add(Member& member, const std::string& address) {
  member.address_ = address;
  member.present_ = true;
  ++size_;
  ++byAddress_[address];
  member.phase_ = Phase::kBusy;
  setPhase(member, Phase::kUnproven);
}

void ConnectionTable::unlist(Member& member) {
  if (!member.listed_) return;
  auto& list = member.phase_ == Phase::kUnproven ? unproven_ : idle_;
  list.erase(list.iterator_to(member));
  member.listed_ = false;
}

void ConnectionTable::setPhase(Member& member, Phase phase) {
  if (!member.present_) return;
  if (member.phase_ == phase && phase != Phase::kBusy) return;  // keeps its age
  unlist(member);
  member.phase_ = phase;
  if (phase == Phase::kBusy) return;
  auto& list = phase == Phase::kUnproven ? unproven_ : idle_;
  list.push_back(member);
  member.listed_ = true;
}

void ConnectionTable::remove(Member& member) {
  if (!member.present_) return;
  unlist(member);
  member.present_ = false;
  --size_;
  auto it = byAddress_.find(member.address_);
  if (it != byAddress_.end() && --it->second == 0) byAddress_.erase(it);
}

void ConnectionTable::shed(Member& member) {
  remove(member);
  member.shed();
}

}  // namespace podmortem::webhooks
