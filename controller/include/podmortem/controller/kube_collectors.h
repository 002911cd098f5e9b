#pragma once

#include "podmortem/controller/collector.h"
#include "podmortem/kube/client.h"
#include "podmortem/controller/cluster_metrics.h"

namespace podmortem::controller {

// The live collectors, reading the API server while the pod still exists, registered over the
// local ones of the same name:
//   pod            pod.json (the admission copy when the request carried one, else a fresh GET)
//                  and pod.live.json (the fresh GET)
//   owners         owners/<kind>-<name>.json up the controller chain (ReplicaSet → Deployment,
//                  Job → CronJob, StatefulSet, DaemonSet, ReplicationController)
//   events         events.json: the events whose involvedObject is the pod
//   logs           logs/<container>.log for every container (init and ephemeral too)
//   previousLogs   logs/<container>.previous.log for containers that restarted
//   node           node.json (kernel, runtime and kubelet versions are in status.nodeInfo)
//   serviceAccount serviceaccount.json
//   references     references.json, images images.json (from the pod object)
//   actions        labels and annotations (one merge patch) and quarantine (a NetworkPolicy
//                  denying all ingress and egress to the pod), recorded in the manifest
// Each failure becomes an artifact with its error, so the snapshot is Partial and says why.
void addKubeCollectors(CollectorRegistry& registry, kube::Client& client, ClusterMetrics* metrics);

}  // namespace podmortem::controller
