#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace podmortem::webhooks {

// An audit batch cut into EventLists of at most `limit` bytes each, for a journal that takes
// records no larger (a NATS message). Events keep their exact bytes; an event too large for
// any part is dropped, as the indexer would drop it. `error` is set, and no part made, when the
// body is not an audit payload at all.
struct SplitBatch {
  std::vector<std::string> parts;
  size_t dropped = 0;  // events larger than limit (or maxEventBytes), or not audit Events
  std::string error;
};

SplitBatch splitAuditBatch(std::string& body, size_t limit, size_t maxEventBytes);

}  // namespace podmortem::webhooks
