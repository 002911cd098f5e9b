#include "podmortem/controller/settings.h"

namespace podmortem::controller {

void CaptureSettings::bind(core::SectionBinder<CaptureSettings>& keys) {
  keys.integer("workers", &CaptureSettings::workers, 1, 256,
               "threads that run collectors and write bundles");
}

void ClusterSettings::bind(core::SectionBinder<ClusterSettings>& keys) {
  keys.flag("evidenceRecords", &ClusterSettings::evidenceRecords,
            "record every snapshot as an EvidenceSnapshot object");
  keys.duration("statusInterval", &ClusterSettings::statusInterval,
                "at most one ForensicPolicy status write per policy this often");
}

}  // namespace podmortem::controller
