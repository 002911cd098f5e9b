#pragma once

#include <chrono>
#include <string>

#include "nats_handles.h"
#include "podmortem/core/result.h"
#include "podmortem/stream/settings.h"

namespace podmortem::stream {

// Subjects of one podmortem installation: "<stream>.batch" (POST /audit) and
// "<stream>.admission" (execs seen at admission); the stream holds "<stream>.>".
std::string batchSubject(const std::string& streamName);
std::string admissionSubject(const std::string& streamName);
std::string streamSubjects(const std::string& streamName);

// Creates the audit stream when missing (limits retention, max age = the window, file storage,
// deletes and purges refused so that history cannot be quietly removed through the NATS API);
// an existing one gets the configured age, size and duplicate window. kInvalidArgument when an
// existing stream cannot be used: it lacks the subjects or keeps messages by another retention.
core::Status ensureAuditStream(jsCtx* js, const StreamSettings& settings,
                               std::chrono::milliseconds window);

// Opens the claims bucket, creating it when missing with `ttl` as its entries' age limit.
// kInvalidArgument when an existing bucket keeps history (claims rely on one value per key).
core::Result<KvStorePtr> openClaimsBucket(jsCtx* js, const StreamSettings& settings,
                                          std::chrono::milliseconds ttl);

}  // namespace podmortem::stream
