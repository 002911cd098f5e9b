#pragma once

#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "coalescer.h"

#include "podmortem/controller/capture.h"
#include "podmortem/policy/capture_claims.h"

namespace podmortem::controller {

// Captures when several replicas may be asked for the same deletion: this replica joins its
// own capture of a key (the API server calling twice), and across replicas the capture key is
// claimed first (policy::CaptureClaims). The winner captures and publishes the outcome; the
// others follow it and answer with the winner's snapshot and warning, or take over when the
// winner stops renewing its claim. When the claims cannot be reached, this replica captures: a
// duplicate beats a gap.
class SharedCaptures {
 public:
  // Captures here, under the given snapshot id.
  using CaptureHere = std::function<void(policy::CaptureRequest request,
                                         std::chrono::steady_clock::time_point deadline,
                                         std::string snapshotId, CaptureCallback done)>;

  SharedCaptures(policy::CaptureClaims& claims, CaptureHere captureHere);
  ~SharedCaptures();  // waits for claims in flight

  CaptureTicket capture(policy::CaptureRequest request,
                        std::chrono::steady_clock::time_point deadline, CaptureCallback done);
  void drain() { claimers_.join(); }

 private:
  void decide(const std::string& key, const std::string& snapshotId,
              policy::CaptureRequest request, std::chrono::steady_clock::time_point deadline);
  void captureHere(const std::string& key, policy::CaptureRequest request,
                   std::chrono::steady_clock::time_point deadline, std::string snapshotId,
                   bool publish);

  policy::CaptureClaims& claims_;
  CaptureHere captureHere_;
  Coalescer<CaptureOutcome> captures_;  // one decision per key on this replica
  // claim() waits for a round trip to NATS, and for a leader election when a server died.
  boost::asio::thread_pool claimers_{8};
};

}  // namespace podmortem::controller
