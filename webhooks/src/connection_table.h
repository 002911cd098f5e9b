#pragma once

#include <boost/intrusive/list.hpp>
#include <cstddef>
#include <string>
#include <unordered_map>

namespace podmortem::webhooks {

// The connections of one event loop, and which may be closed to make room for a new one.
// Touched only on the loop's own thread.
//
// A server that refuses new connections once full is blinded by anyone who opens enough and
// sends nothing (measured: 1,100 connections that sent 3 bytes of a ClientHello made every new
// client fail until they timed out). So a full table sheds instead: first the oldest connection
// that has not yet sent a whole request (handshaking, slow headers, slow body), then the oldest
// idle keep-alive one; a connection whose request is being handled is never shed. One address
// may hold at most `perAddress` connections, so a single client cannot even crowd out the rest.
class ConnectionTable {
 public:
  enum class Phase {
    kUnproven,  // handshake, or a request not yet read whole
    kIdle,      // keep-alive, between requests
    kBusy,      // a request being handled or answered: never shed
  };

  class Member {
   public:
    virtual ~Member() = default;
    // Closes the connection at once; the table has already forgotten it.
    virtual void shed() = 0;

   private:
    friend class ConnectionTable;
    std::string address_;
    Phase phase_ = Phase::kBusy;
    bool listed_ = false;  // in unproven_ or idle_
    bool present_ = false;
    // Links it into unproven_ or idle_: moving between them, once or twice a request, allocates
    // nothing.
    boost::intrusive::list_member_hook<> hook_;
  };

  enum class Admission { kAdmitted, kAdmittedByShedding, kRefused };
  struct AdmitResult {
    Admission admission;
    const char* reason = "";  // why one was shed: "capacity" or "per_address"
  };

  ConnectionTable(size_t capacity, size_t perAddress)
      : capacity_(capacity == 0 ? 1 : capacity), perAddress_(perAddress) {}

  // Makes room for a connection from `address`, shedding another when needed. On kRefused
  // every connection that could make room is busy.
  AdmitResult admit(const std::string& address);
  // Enters a connection admitted above, as unproven.
  void add(Member& member, const std::string& address);
  void setPhase(Member& member, Phase phase);
  void remove(Member& member);

  size_t size() const { return size_; }

 private:
  using List = boost::intrusive::list<
      Member, boost::intrusive::member_hook<Member, boost::intrusive::list_member_hook<>,
                                            &Member::hook_>>;

  Member* oldestSheddable(const std::string* address);
  void unlist(Member& member);
  void shed(Member& member);

  size_t capacity_;
  size_t perAddress_;  // 0: no per-address cap
  size_t size_ = 0;
  List unproven_;  // oldest first
  List idle_;      // oldest first
  std::unordered_map<std::string, size_t> byAddress_;
};

}  // namespace podmortem::webhooks
