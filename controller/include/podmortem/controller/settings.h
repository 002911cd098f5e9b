#pragma once

#include <chrono>
#include <cstdint>

#include "podmortem/core/config.h"

namespace podmortem::controller {

// evidence.workers: how many captures run at once.
struct CaptureSettings {
  uint32_t workers = 4;

  static void bind(core::SectionBinder<CaptureSettings>& keys);
  core::Status validate() const { return {}; }
};

// kubernetes.* of what the controller writes to the cluster.
struct ClusterSettings {
  bool evidenceRecords = true;  // create EvidenceSnapshot objects
  std::chrono::milliseconds statusInterval{std::chrono::seconds(10)};  // policy status writes

  static void bind(core::SectionBinder<ClusterSettings>& keys);
  core::Status validate() const { return {}; }
};

}  // namespace podmortem::controller
