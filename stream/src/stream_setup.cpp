#include "stream_setup.h"

#include <algorithm>

#include "podmortem/core/log.h"

namespace podmortem::stream {

namespace log = core::log;

namespace {

constexpr jsErrCode kStreamNotFound = static_cast<jsErrCode>(10059);

int64_t nanos(std::chrono::milliseconds duration) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
}

core::Error incompatible(const std::string& message) {
  return core::makeError(core::ErrorCode::kInvalidArgument, message);
}

// The API server retries a refused batch for minutes; a retry inside this window is stored once.
std::chrono::milliseconds duplicateWindow(std::chrono::milliseconds window) {
  return std::min<std::chrono::milliseconds>(window, std::chrono::minutes(10));
}

core::Status checkExisting(const jsStreamConfig& config, const std::string& name,
                           const std::string& subjects) {
  bool hasSubjects = false;
  for (int i = 0; i < config.SubjectsLen; ++i) {
    if (config.Subjects[i] != nullptr && subjects == config.Subjects[i]) hasSubjects = true;
  }
  if (!hasSubjects) {
    return incompatible("the NATS stream " + name + " exists without the subjects " + subjects +
                        ": delete it or choose another stream.name");
  }
  if (config.Retention != js_LimitsPolicy) {
    return incompatible("the NATS stream " + name +
                        " exists with work-queue or interest retention, which would delete "
                        "audit events once one replica read them: delete it or choose another "
                        "stream.name");
  }
  return {};
}

}  // namespace

std::string batchSubject(const std::string& streamName) { return streamName + ".batch"; }
std::string admissionSubject(const std::string& streamName) { return streamName + ".admission"; }
std::string streamSubjects(const std::string& streamName) { return streamName + ".>"; }

core::Status ensureAuditStream(jsCtx* js, const StreamSettings& settings,
                               std::chrono::milliseconds window) {
  const std::string subjects = streamSubjects(settings.name);
  jsStreamInfo* rawInfo = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&rawInfo, js, settings.name.c_str(), nullptr, &error);
  StreamInfoPtr info(rawInfo);

  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  const char* subjectList[] = {subjects.c_str()};
  config.Name = settings.name.c_str();
  config.Description = "podmortem audit events, shared by its replicas";
  config.Subjects = subjectList;
  config.SubjectsLen = 1;
  config.Retention = js_LimitsPolicy;
  config.Storage = js_FileStorage;
  config.Replicas = settings.replicas;
  config.MaxAge = nanos(window);
  config.MaxBytes = static_cast<int64_t>(settings.maxBytes);
  config.Duplicates = nanos(duplicateWindow(window));
  config.Discard = js_DiscardOld;
  config.DenyDelete = true;
  config.DenyPurge = true;

  if (s == NATS_NOT_FOUND || error == kStreamNotFound) {
    jsStreamInfo* created = nullptr;
    s = js_AddStream(&created, js, &config, nullptr, &error);
    StreamInfoPtr createdInfo(created);
    if (s != NATS_OK) return natsFailure("creating the NATS stream " + settings.name, s);
    log::info("created the NATS audit stream",
              {{"stream", settings.name}, {"replicas", uint64_t{settings.replicas}}});
    return {};
  }
  if (s != NATS_OK) return natsFailure("reading the NATS stream " + settings.name, s);
  if (auto fit = checkExisting(*info->Config, settings.name, subjects); !fit.ok()) return fit;
  if (info->Config->Replicas != static_cast<int64_t>(settings.replicas)) {
    log::warn("the NATS audit stream has another replica count than stream.replicas; kept",
              {{"stream", settings.name},
               {"replicas", static_cast<int64_t>(info->Config->Replicas)},
               {"configured", uint64_t{settings.replicas}}});
  }
  if (info->Config->MaxAge == config.MaxAge && info->Config->MaxBytes == config.MaxBytes &&
      info->Config->Duplicates == config.Duplicates) {
    return {};
  }
  config.Replicas = info->Config->Replicas;
  jsStreamInfo* updated = nullptr;
  s = js_UpdateStream(&updated, js, &config, nullptr, &error);
  StreamInfoPtr updatedInfo(updated);
  if (s != NATS_OK) return natsFailure("updating the NATS stream " + settings.name, s);
  log::info("updated the NATS audit stream's limits", {{"stream", settings.name}});
  return {};
}

core::Result<KvStorePtr> openClaimsBucket(jsCtx* js, const StreamSettings& settings,
                                          std::chrono::milliseconds ttl) {
  kvStore* raw = nullptr;
  natsStatus s = js_KeyValue(&raw, js, settings.claimsBucket.c_str());
  if (s == NATS_OK) {
    KvStorePtr bucket(raw);
    jsStreamInfo* rawInfo = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    std::string backing = "KV_" + settings.claimsBucket;
    if (js_GetStreamInfo(&rawInfo, js, backing.c_str(), nullptr, &error) == NATS_OK) {
      StreamInfoPtr info(rawInfo);
      if (info->Config->MaxMsgsPerSubject != 1) {
        return incompatible("the NATS key-value bucket " + settings.claimsBucket +
                            " keeps history; capture claims need one value per key: delete "
                            "it or choose another stream.claimsBucket");
      }
    }
    return bucket;
  }
  if (s != NATS_NOT_FOUND) {
    return natsFailure("opening the NATS key-value bucket " + settings.claimsBucket, s);
  }
  kvConfig config;
  kvConfig_Init(&config);
  config.Bucket = settings.claimsBucket.c_str();
  config.Description = "podmortem capture claims: one capture per deletion across replicas";
  config.History = 1;
  config.TTL = nanos(ttl);  // nats.c 3.4 passes TTL to the stream's MaxAge, in nanoseconds
  config.StorageType = js_FileStorage;
  config.Replicas = static_cast<int>(settings.replicas);
  s = js_CreateKeyValue(&raw, js, &config);
  if (s != NATS_OK) {
    return natsFailure("creating the NATS key-value bucket " + settings.claimsBucket, s);
  }
  log::info("created the NATS capture claims bucket", {{"bucket", settings.claimsBucket}});
  return KvStorePtr(raw);
}

}  // namespace podmortem::stream
