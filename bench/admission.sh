#!/usr/bin/env bash
# Admission webhook throughput against nginx, in the same run, on this machine.
#
# POSTs a 4 KB AdmissionReview over TLS keep-alive with wrk (2 threads, 64 connections) to:
#   1. nginx returning a static JSON body (the transport ceiling),
#   2. podmortem /validate with a request no policy matches (answered at once),
#   3. podmortem /validate with a protected pod DELETE, a new pod uid per request, so every
#      request writes an evidence snapshot before it is answered;
#   4. the same at a paced ~500 req/s (24 connections, each waiting 40 ms after an answer), for
#      the latency a steady stream of deletions sees rather than a saturated server's.
# Prints req/s, p50 and p99 of each, and podmortem's ratio to nginx.
#
# Usage: bench/admission.sh [seconds per run, default 10]   (run `make build` first)
#        PERF_DATA=FILE records podmortem with `perf record` during the no-match run (perf report -i FILE).
set -euo pipefail

seconds=${1:-10}
source "$(dirname "$0")/lib.sh"

cat > "$work/policies/bench.yaml" <<'YAML'
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: bench-protect}
spec:
  match: {namespaces: [bench-protected]}
  triggers:
    - {source: admission, operations: [DELETE], resources: [pods]}
  actions:
    snapshot: {collectors: [pod, auditTrail], holdDeletion: 10s}
YAML
start_podmortem
start_nginx '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"705ab4f5-6393-11e8-b7cc-42010a800002","allowed":true}}'

# --- the request: a 4 KB pod DELETE AdmissionReview --------------------------------------------
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
pod = {"kind": "Pod", "apiVersion": "v1",
       "metadata": {"name": "web-7c9d5f-abcde", "namespace": "NAMESPACE", "uid": "POD-UID",
                    "labels": {"app": "web", "pod-template-hash": "7c9d5f"},
                    "annotations": {"note": "x" * 3300}},
       "spec": {"nodeName": "worker-2", "containers": [{"name": "web", "image": "nginx:1.25"}]},
       "status": {"phase": "Running", "podIP": "10.244.2.17"}}
review = {"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1",
          "request": {"uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
                      "kind": {"group": "", "version": "v1", "kind": "Pod"},
                      "resource": {"group": "", "version": "v1", "resource": "pods"},
                      "name": "web-7c9d5f-abcde", "namespace": "NAMESPACE", "operation": "DELETE",
                      "userInfo": {"username": "eve", "groups": ["developers", "system:authenticated"]},
                      "object": None, "oldObject": pod, "dryRun": False,
                      "options": {"kind": "DeleteOptions", "apiVersion": "meta.k8s.io/v1"}}}
body = json.dumps(review, separators=(",", ":"))
open(f"{work}/review.json", "w").write(body)
print(f"request body: {len(body)} bytes", file=sys.stderr)
PY

# wrk script: a fixed body, or a fresh pod uid per request (every DELETE is a new snapshot).
cat > "$work/post.lua" <<'LUA'
local template = io.open(os.getenv("BODY_FILE")):read("*a")
local namespace = os.getenv("NAMESPACE")
local unique = os.getenv("UNIQUE") == "1"
local pause = tonumber(os.getenv("DELAY_MS") or "")
if pause then delay = function() return pause end end
local fixed = template:gsub("NAMESPACE", namespace):gsub("POD%-UID", "fixed-uid")
local counter = 0
local prefix = tostring({}):gsub("[^%x]", "")  -- differs per wrk thread (each has its own Lua state)
wrk.method = "POST"
wrk.path = "/validate?timeout=10s"
wrk.headers["Content-Type"] = "application/json"
request = function()
  if not unique then return wrk.format(nil, nil, nil, fixed) end
  counter = counter + 1
  local body = template:gsub("NAMESPACE", namespace):gsub("POD%-UID", prefix .. "-" .. counter)
  return wrk.format(nil, nil, nil, body)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.3f %.3f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests))
end
LUA

run() {  # name url namespace unique result-name [connections delay-ms]
  local out perf_pid= connections=${6:-64}
  if [[ -n "${PERF_DATA:-}" && "$5" == nomatch ]]; then
    perf record -q -F 2000 -g -o "$PERF_DATA" -p "$pm_pid" -- sleep "$((seconds > 2 ? seconds - 1 : 1))" &
    perf_pid=$!
  fi
  out=$(BODY_FILE="$work/review.json" NAMESPACE="$3" UNIQUE="$4" DELAY_MS="${7:-}" \
    wrk -t2 -c"$connections" -d"${seconds}s" -s "$work/post.lua" "$2" 2>&1 | grep '^RESULT') || {
    echo "wrk failed for $1" >&2; exit 1; }
  [[ -z "$perf_pid" ]] || wait "$perf_pid"
  read -r _ rps p50 p99 errors total <<<"$out"
  printf '%-28s %10s req/s   p50 %7s ms   p99 %7s ms   errors %s of %s\n' "$1" "$rps" "$p50" "$p99" "$errors" "$total"
  eval "${5}_rps=$rps"
}

echo "wrk -t2 -c64 (paced run: -c24) -d${seconds}s, TLS keep-alive, $(nproc) cores shared by client and server"
run "nginx static JSON" "https://127.0.0.1:$ng_port" "bench-other" 0 nginx
run "podmortem no policy match" "https://127.0.0.1:$pm_port" "bench-other" 0 nomatch
run "podmortem DELETE+snapshot" "https://127.0.0.1:$pm_port" "bench-protected" 1 snapshot
run "  paced, ~500 req/s" "https://127.0.0.1:$pm_port" "bench-protected" 1 paced 24 40
sleep 1  # captures answered at the hold deadline may still be writing
snapshots=$(find "$work/evidence" -name manifest.json 2>/dev/null | wc -l)
python3 - "$nginx_rps" "$nomatch_rps" "$snapshot_rps" "$snapshots" <<'PY'
import sys
nginx, nomatch, snap, count = map(float, sys.argv[1:])
print(f"ratio to nginx: no match {nomatch / nginx:.2f}x, DELETE with snapshot {snap / nginx:.2f}x "
      f"({int(count)} snapshots written)")
PY
