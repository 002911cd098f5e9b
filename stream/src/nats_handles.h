#pragma once

// Owning handles for the NATS C client's objects, and its status turned into ours.

#include <nats/nats.h>

#include <memory>
#include <string>

#include "podmortem/core/result.h"

namespace podmortem::stream {

template <class T, void (*Destroy)(T*)>
struct NatsDeleter {
  void operator()(T* object) const {
    if (object != nullptr) Destroy(object);
  }
};

using NatsOptionsPtr = std::unique_ptr<natsOptions, NatsDeleter<natsOptions, natsOptions_Destroy>>;
using NatsConnectionPtr =
    std::unique_ptr<natsConnection, NatsDeleter<natsConnection, natsConnection_Destroy>>;
using JsContextPtr = std::unique_ptr<jsCtx, NatsDeleter<jsCtx, jsCtx_Destroy>>;
using KvStorePtr = std::unique_ptr<kvStore, NatsDeleter<kvStore, kvStore_Destroy>>;
using KvEntryPtr = std::unique_ptr<kvEntry, NatsDeleter<kvEntry, kvEntry_Destroy>>;
using NatsMsgPtr = std::unique_ptr<natsMsg, NatsDeleter<natsMsg, natsMsg_Destroy>>;
using SubscriptionPtr =
    std::unique_ptr<natsSubscription, NatsDeleter<natsSubscription, natsSubscription_Destroy>>;
using StreamInfoPtr =
    std::unique_ptr<jsStreamInfo, NatsDeleter<jsStreamInfo, jsStreamInfo_Destroy>>;
using ConsumerInfoPtr =
    std::unique_ptr<jsConsumerInfo, NatsDeleter<jsConsumerInfo, jsConsumerInfo_Destroy>>;
using MetaDataPtr =
    std::unique_ptr<jsMsgMetaData, NatsDeleter<jsMsgMetaData, jsMsgMetaData_Destroy>>;

// The library's text for `status` and, when it has one, its last error on this thread.
inline std::string natsError(natsStatus status) {
  std::string text = natsStatus_GetText(status);
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  if (detail != nullptr && *detail != '\0') text += std::string(": ") + detail;
  return text;
}

inline core::Error natsFailure(const std::string& what, natsStatus status) {
  core::ErrorCode code = core::ErrorCode::kUnavailable;
  if (status == NATS_TIMEOUT) code = core::ErrorCode::kDeadlineExceeded;
  return core::makeError(code, what + ": " + natsError(status));
}

}  // namespace podmortem::stream
