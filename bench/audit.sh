#!/usr/bin/env bash
# Audit ingest throughput against the transport ceiling, in the same run, on this machine.
#
# POSTs audit.k8s.io/v1 EventLists of 400 real-shaped events (the shapes of a real
# kube-apiserver's batches, ../shared/fixtures/kube-apiserver-1.21, else the project's own) over
# TLS keep-alive with wrk (2 threads, 8 connections), with fresh auditIDs in every request so
# nothing is deduplicated away, to:
#   1. nginx receiving the same bodies and answering 200 (the transport ceiling),
#   2. podmortem /audit (auth none for the benchmark), which decodes and indexes every event.
# Prints events/s and p99 per batch for both, the ratio, what podmortem actually indexed, and
# the correlation window's resident bytes per indexed event at 1,000,000 events.
#
# Usage: bench/audit.sh [seconds per run, default 10] [events for the memory run, default 1000000]
set -euo pipefail

seconds=${1:-10}
memory_events=${2:-1000000}
source "$(dirname "$0")/lib.sh"
fixtures=${PODMORTEM_FIXTURES:-$root/../shared/fixtures}

cat > "$work/config.yaml" <<YAML
audit:
  auth: none
  queueBatches: 256
YAML
start_podmortem --config "$work/config.yaml"
start_nginx '{"status":"accepted"}'

# A template of 400 events with AUDITID placeholders; the Lua script fills in fresh ids.
python3 - "$fixtures" "$root" "$work" <<'PY'
import glob, json, os, sys
fixtures, root, work = sys.argv[1:]
items = []
for path in sorted(glob.glob(os.path.join(fixtures, "kube-apiserver-1.21/audit-webhook/batch-*.json"))):
    items += json.load(open(path))["items"]
if not items:
    items = json.load(open(os.path.join(root, "tests/fixtures/audit/exec-eventlist.json")))["items"]
events = [dict(items[i % len(items)]) for i in range(400)]
for event in events:
    event["auditID"] = "AUDITID"
body = json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "metadata": {},
                   "items": events}, separators=(",", ":"))
open(os.path.join(work, "template.json"), "w").write(body)
print(f"batch: 400 events, {len(body)} bytes ({len(body) // 400} bytes per event)", file=sys.stderr)
PY

cat > "$work/post.lua" <<'LUA'
local template = io.open(os.getenv("TEMPLATE")):read("*a")
local parts = {}
for piece in (template .. "AUDITID"):gmatch("(.-)AUDITID") do parts[#parts + 1] = piece end
local slots = #parts - 1
local counter = 0
-- Differs per wrk thread: each has its own Lua state, so its own table addresses.
local thread_tag = tonumber(tostring({}):sub(-8), 16)
wrk.method = "POST"
wrk.path = "/audit?timeout=30s"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local out = {}
  for i = 1, slots do
    out[#out + 1] = parts[i]
    out[#out + 1] = string.format("%08x-%04x-4%03x-8000-%012x", counter, thread_tag % 0x10000,
                                  math.floor(thread_tag / 0x10000) % 0x1000, i)
  end
  out[#out + 1] = parts[#parts]
  return wrk.format(nil, nil, nil, table.concat(out))
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.3f %.3f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests))
end
LUA

run() {  # name url -> sets ${3}_eps
  local out
  out=$(TEMPLATE="$work/template.json" wrk -t2 -c8 -d"${seconds}s" -s "$work/post.lua" "$2" 2>&1 |
    grep '^RESULT') || { echo "wrk failed for $1" >&2; exit 1; }
  read -r _ rps p50 p99 errors total <<<"$out"
  local eps
  eps=$(python3 -c "print(int($rps * 400))")
  printf '%-22s %9s events/s (%6s batches/s)   p50 %7s ms   p99 %7s ms per batch   errors %s of %s\n' \
    "$1" "$eps" "$rps" "$p50" "$p99" "$errors" "$total"
  eval "${3}_eps=$eps"
}

echo "wrk -t2 -c8 -d${seconds}s, TLS keep-alive, $(nproc) cores shared by client and server"
run "nginx (ceiling)" "https://127.0.0.1:$ng_port" nginx
started=$(date +%s.%N)
run "podmortem /audit" "https://127.0.0.1:$pm_port" podmortem
for _ in $(seq 1 600); do  # let the queue drain: sustained means decoded and indexed
  depth=$(curl -s "$pm_metrics" | awk '/^podmortem_audit_queue_depth /{print $2}')
  [[ "$depth" == "0" ]] && break
  sleep 0.1
done
finished=$(date +%s.%N)
metrics=$(curl -s "$pm_metrics")
echo "$metrics" | grep -E '^podmortem_audit_(events_total|batches_total)\{|^podmortem_audit_index_events ' || true
accepted=$(echo "$metrics" | awk -F' ' '/^podmortem_audit_events_total\{result="accepted"\}/{print $2}')
python3 - "$accepted" "$started" "$finished" "$nginx_eps" <<'PY'
import sys
accepted, started, finished, nginx = map(float, sys.argv[1:])
sustained = accepted / (finished - started)
print(f"podmortem indexed {int(accepted)} events in {finished - started:.1f} s (queue drained): "
      f"{sustained:,.0f} events/s sustained = {sustained / nginx:.2f}x the nginx ceiling")
PY

memory_bench="$root/build/bench/bench_correlation_memory"
if [[ -x "$memory_bench" ]]; then
  echo
  echo "correlation window memory at $memory_events events:"
  "$memory_bench" "$memory_events"
fi
