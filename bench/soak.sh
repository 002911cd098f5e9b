#!/usr/bin/env bash
# Soak: one podmortem under a steady mixed load for a number of minutes, sampled every 10 s.
#
# Three wrk load generators run side by side over TLS keep-alive, each paced with wrk's delay():
#   - audit: one 400-event EventList (fresh auditIDs) every 200 ms on one connection, ~2,000
#     events/s, into a correlation window of 2 minutes (so that it fills early in the run and
#     evicts from then on: what the RSS slope is about; sealed captures are remembered for 10
#     minutes, so the slope is taken from 10.5 minutes on);
#   - admission that matches no policy: 2 connections, a request every 10 ms each (~200 req/s);
#   - DELETEs of fresh pods a policy protects: one connection, one every 100 ms (~10 req/s),
#     each written as an evidence snapshot (fsync'd bundle and ledger line) before its answer.
# Every 10 s the sampler records podmortem's resident memory, open file descriptors, threads,
# audit queue depth, indexed events and snapshots into soak.csv; at the end gnuplot draws
# soak.png, and the script prints the RSS slope after the window filled (MiB per 10 minutes, a
# least-squares fit), the fd range, and the error count of each load.
# Goal (not a test): 0 errors, RSS slope < 1 MiB per 10 minutes after the window fills, fds flat.
#
# Usage: bench/soak.sh [minutes, default 10]   (run `make build` first)
#        Results go to bench/out/soak-<time>/ (SOAK_OUT overrides).
set -euo pipefail

minutes=${1:-10}
window_seconds=120
# Sealed captures are remembered this long for deduplication (SnapshotManager::Options): the
# memory fills when both this and the audit window have.
capture_memory_seconds=600
fill_seconds=$(( window_seconds > capture_memory_seconds ? window_seconds : capture_memory_seconds ))
source "$(dirname "$0")/lib.sh"
command -v gnuplot >/dev/null || { echo "missing gnuplot: run scripts/install-deps.sh" >&2; exit 2; }
out=${SOAK_OUT:-$root/bench/out/soak-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
fixtures=${PODMORTEM_FIXTURES:-$root/../shared/fixtures}

cat > "$work/config.yaml" <<YAML
audit:
  auth: none
  window: ${window_seconds}s
YAML
cat > "$work/policies/soak.yaml" <<'YAML'
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: soak-protect}
spec:
  match: {namespaces: [soak-protected]}
  triggers:
    - {source: admission, operations: [DELETE], resources: [pods]}
  actions:
    snapshot: {collectors: [pod, auditTrail], holdDeletion: 10s}
YAML
start_podmortem --config "$work/config.yaml"

# The bodies: an audit batch template (AUDITID placeholders; the Lua script stamps each request
# with its time at STAMP, so every batch enters the window) and a pod DELETE AdmissionReview
# (NAMESPACE and POD-UID placeholders).
python3 "$root/bench/audit_batch.py" "$fixtures" "$root" "$work/audit.json" STAMP
python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
pod = {"kind": "Pod", "apiVersion": "v1",
       "metadata": {"name": "POD-UID", "namespace": "NAMESPACE", "uid": "POD-UID",
                    "labels": {"app": "web"}},
       "spec": {"nodeName": "worker-2", "containers": [{"name": "web", "image": "nginx:1.25"}]},
       "status": {"phase": "Running"}}
review = {"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1",
          "request": {"uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
                      "kind": {"group": "", "version": "v1", "kind": "Pod"},
                      "resource": {"group": "", "version": "v1", "resource": "pods"},
                      "name": "POD-UID", "namespace": "NAMESPACE", "operation": "DELETE",
                      "userInfo": {"username": "eve", "groups": ["system:authenticated"]},
                      "object": None, "oldObject": pod, "dryRun": False}}
open(os.path.join(work, "review.json"), "w").write(json.dumps(review, separators=(",", ":")))
PY

# One Lua script for the three loads: KIND picks the body, PACE_MS the delay between requests.
cat > "$work/load.lua" <<'LUA'
local kind = os.getenv("KIND")
local pace = tonumber(os.getenv("PACE_MS"))
local template = io.open(os.getenv("BODY_FILE")):read("*a")
local tag = tostring({}):gsub("[^%x]", "")  -- differs per wrk thread
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.path = kind == "audit" and "/audit?timeout=30s" or "/validate?timeout=10s"
local parts = {}
if kind == "audit" then
  for piece in (template .. "AUDITID"):gmatch("(.-)AUDITID") do parts[#parts + 1] = piece end
end
request = function()
  counter = counter + 1
  local body
  if kind == "audit" then
    local stamp = os.date("!%Y-%m-%dT%H:%M:%S.000000Z")
    local out = {}
    for i = 1, #parts - 1 do
      out[#out + 1] = parts[i]
      out[#out + 1] = string.format("%s-%08x-%04x", tag, counter, i)
    end
    out[#out + 1] = parts[#parts]
    body = table.concat(out):gsub("STAMP", stamp)
  elseif kind == "match" then
    body = template:gsub("NAMESPACE", "soak-protected"):gsub("POD%-UID", "p-" .. tag .. "-" .. counter)
  else
    body = template:gsub("NAMESPACE", "soak-other"):gsub("POD%-UID", "fixed")
  end
  return wrk.format(nil, nil, nil, body)
end
delay = function() return pace end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.3f %.3f\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
LUA

load() {  # load NAME KIND BODY CONNECTIONS PACE_MS
  KIND=$2 BODY_FILE=$3 PACE_MS=$5 wrk -t1 -c"$4" -d"${minutes}m" --timeout 30s \
    -s "$work/load.lua" "https://127.0.0.1:$pm_port" >"$work/$1.out" 2>&1 &
  load_pids+=($!)
}
load_pids=()
echo "soak: $minutes minutes; audit ~2,000 events/s (window ${window_seconds}s), admission ~200 req/s without a match, ~10 protected DELETEs/s; podmortem pid $pm_pid"
load audit audit "$work/audit.json" 1 200
load nomatch nomatch "$work/review.json" 2 10
load match match "$work/review.json" 1 100

metric() {  # metric NAME: the sum of a metric's samples on podmortem's /metrics
  awk -v name="$1" '$1 == name || index($1, name "{") == 1 { sum += $NF } END { printf "%d", sum }' \
    "$work/metrics.txt"
}
echo "seconds,rss_kib,fds,threads,audit_queue_batches,indexed_events,snapshots" > "$out/soak.csv"
started=$(date +%s)
while true; do
  now=$(($(date +%s) - started))
  curl -s "$pm_metrics" > "$work/metrics.txt" || true
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pm_pid/status")
  threads=$(awk '/^Threads:/ { print $2 }' "/proc/$pm_pid/status")
  fds=$(ls "/proc/$pm_pid/fd" | wc -l)
  echo "$now,$rss,$fds,$threads,$(metric podmortem_audit_queue_depth),$(metric podmortem_audit_index_events),$(metric podmortem_snapshots_total)" >> "$out/soak.csv"
  ((now >= minutes * 60)) && break
  sleep 10  # the sampling period: a pace, not a synchronisation
done
wait "${load_pids[@]}" || true

gnuplot <<GNUPLOT
set terminal pngcairo size 1100,700 noenhanced
set output "$out/soak.png"
set datafile separator ","
set multiplot layout 2,1 title "podmortem soak: $minutes minutes, audit window ${window_seconds}s"
set xlabel "minutes"
set ylabel "resident MiB"
set y2label "threads, fds"
set y2tics
set key top left
plot "$out/soak.csv" every ::1 using (\$1/60):(\$2/1024) with lines lw 2 title "RSS", \
     "" every ::1 using (\$1/60):3 axes x1y2 with lines title "open fds", \
     "" every ::1 using (\$1/60):4 axes x1y2 with lines title "threads"
set ylabel "events in the window"
set y2label "queued batches"
set y2range [0:1<*]
plot "$out/soak.csv" every ::1 using (\$1/60):6 with lines lw 2 title "indexed events", \
     "" every ::1 using (\$1/60):5 axes x1y2 with lines title "audit queue depth"
unset multiplot
GNUPLOT

python3 - "$out/soak.csv" "$fill_seconds" "$work" <<'PY'
import csv, sys
path, window, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = [{k: int(v) for k, v in row.items()} for row in csv.DictReader(open(path))]
settled = [r for r in rows if r["seconds"] >= window + 30]
if not settled:
    print(f"the run was shorter than the windows ({window} s) plus 30 s: the slope covers the filling")
    settled = rows
xs = [r["seconds"] for r in settled]
ys = [r["rss_kib"] / 1024 for r in settled]
n = len(xs)
mean_x, mean_y = sum(xs) / n, sum(ys) / n
var = sum((x - mean_x) ** 2 for x in xs)
slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / var if var else 0.0
fds = [r["fds"] for r in settled]
errors, lines = 0, []
for name in ("audit", "nomatch", "match"):
    result = [l for l in open(f"{work}/{name}.out") if l.startswith("RESULT")]
    if not result:
        lines.append(f"  {name:8s} wrk printed no result"); errors += 1; continue
    _, requests, failed, p50, p99 = result[0].split()
    errors += int(failed)
    lines.append(f"  {name:8s} {int(requests):8d} requests  {int(failed)} errors  p50 {p50} ms  p99 {p99} ms")
print("\n".join(lines))
print(f"samples {len(rows)}; after the window filled ({settled[0]['seconds']} s on): "
      f"RSS {ys[0]:.1f} -> {ys[-1]:.1f} MiB, slope {slope * 600:+.2f} MiB per 10 minutes; "
      f"fds {min(fds)}-{max(fds)}; threads {settled[-1]['threads']}; "
      f"snapshots {rows[-1]['snapshots']}; errors {errors}")
PY
echo "csv: $out/soak.csv  plot: $out/soak.png"
