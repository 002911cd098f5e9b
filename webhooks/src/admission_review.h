#pragma once

#include <string>

#include "podmortem/core/result.h"
#include "podmortem/policy/admission_request.h"

namespace podmortem::webhooks {

// Decodes an admission.k8s.io/v1 AdmissionReview with simdjson's on-demand API (the body must
// have SIMDJSON_PADDING spare capacity, or it is copied once). The request's object views point
// into `body`. An error (kInvalidArgument) says what is wrong, for the 400 answer.
core::Status decodeAdmissionReview(std::string& body, policy::AdmissionRequest& out);

}  // namespace podmortem::webhooks
