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
# Stream mode adds, in the same run, two replicas sharing a NATS JetStream stream (stream.url):
# first on one nats-server (R1), then on three clustered (R3). wrk posts to replica A; replica B
# reads the stream. Prints the events/s A accepted (each answered after JetStream stored it), the
# publish-to-acknowledgement p50/p99 on A, the stored-to-read-by-B p50/p99, how fast B indexed
# everything, and B's resident memory per million indexed events.
#
# Usage: bench/audit.sh [seconds per run, default 10] [events for the memory run, default 1000000]
#        bench/audit.sh stream [seconds per run, default 10]
#        PERF_DATA=FILE records podmortem with `perf record` during its local run.
set -euo pipefail

mode=local
connections=8
if [[ "${1:-}" == "stream" ]]; then
  mode=stream
  # The API server's audit webhook backend sends one batch at a time: 25 connections stand for
  # 25 API servers (the goal's load), and every run of this mode uses them, nginx's too.
  connections=25
  shift
fi
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

# A template of 400 events with AUDITID placeholders; the Lua script fills in fresh ids. Stamped
# now, so that the events stay in the correlation window and its memory is what is measured.
python3 "$root/bench/audit_batch.py" "$fixtures" "$root" "$work/template.json" now

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

run() {  # name url var [connections] -> sets ${3}_eps
  local out clients=${4:-$connections} perf_pid=
  if [[ -n "${PERF_DATA:-}" && "$3" == podmortem ]]; then
    perf record -q -F 2000 -g -o "$PERF_DATA" -p "$pm_pid" -- sleep "$((seconds > 2 ? seconds - 1 : 1))" &
    perf_pid=$!
  fi
  # wrk wants at least one connection per thread.
  out=$(TEMPLATE="$work/template.json" wrk -t$((clients < 2 ? clients : 2)) -c"$clients" -d"${seconds}s" -s "$work/post.lua" "$2" 2>&1 |
    grep '^RESULT') || { echo "wrk failed for $1" >&2; exit 1; }
  [[ -z "$perf_pid" ]] || wait "$perf_pid"
  read -r _ rps p50 p99 errors total <<<"$out"
  local eps
  eps=$(python3 -c "print(int($rps * 400))")
  printf '%-22s %9s events/s (%6s batches/s)   p50 %7s ms   p99 %7s ms per batch   errors %s of %s\n' \
    "$1" "$eps" "$rps" "$p50" "$p99" "$errors" "$total"
  eval "${3}_eps=$eps"
}

echo "wrk -t2 -c$connections -d${seconds}s, TLS keep-alive, $(nproc) cores shared by client and server"
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

# The value at quantile Q of a Prometheus histogram family in a /metrics text (linear inside
# the bucket, as histogram_quantile does).
quantile() {  # quantile Q FAMILY METRICS_TEXT
  python3 - "$1" "$2" "$3" <<'PY'
import re, sys
q, family, text = float(sys.argv[1]), sys.argv[2], sys.argv[3]
buckets = []
for line in text.splitlines():
    m = re.match(re.escape(family) + r'_bucket\{le="([^"]+)"\} (\S+)', line)
    if m:
        buckets.append((float("inf") if m.group(1) == "+Inf" else float(m.group(1)), float(m.group(2))))
buckets.sort()
total = buckets[-1][1] if buckets else 0
if total == 0:
    print("n/a"); sys.exit()
rank, lower, below = q * total, 0.0, 0.0
for bound, count in buckets:
    if count >= rank:
        if bound == float("inf"):
            print(f">{lower * 1000:g}"); sys.exit()
        share = (rank - below) / (count - below) if count > below else 1
        print(f"{(lower + (bound - lower) * share) * 1000:.2f}"); sys.exit()
    lower, below = bound, count
PY
}

metric_value() {  # metric_value SAMPLE METRICS_TEXT
  awk -v s="$1" '$1 == s {print $2}' <<<"$2"
}

rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }

stream_run() {  # stream_run SERVERS
  local servers=$1 first=${#pids[@]} a_port a_metrics b_metrics b_pid
  start_nats "$servers"
  for name in a b; do
    cat > "$work/stream-$servers-$name.yaml" <<YAML
audit: {auth: none, queueBatches: 256}
kubernetes: {mode: none, podName: bench-$name}
stream: {url: "$nats_url", replicas: $servers, maxBytes: 4294967296}
YAML
    start_replica "stream-$servers-$name" --config "$work/stream-$servers-$name.yaml"
    if [[ $name == a ]]; then a_port=$pm_port; a_metrics=$pm_metrics; else b_metrics=$pm_metrics; b_pid=$pm_pid; fi
  done
  for m in "$a_metrics" "$b_metrics"; do
    for _ in $(seq 1 600); do
      [[ "$(curl -s -o /dev/null -w '%{http_code}' "${m%/metrics}/readyz")" == 200 ]] && break
      sleep 0.1
    done
  done
  local rss_before started finished
  rss_before=$(rss_kb "$b_pid")
  started=$(date +%s.%N)
  run "R$servers stream, to A" "https://127.0.0.1:$a_port" stream
  local a_text stored
  a_text=$(curl -s "$a_metrics")
  stored=$(python3 -c "print(int(float('$(metric_value 'podmortem_audit_batches_total{code="200"}' "$a_text")' or 0) * 400))")
  for _ in $(seq 1 1200); do  # until B indexed every stored event
    accepted=$(metric_value 'podmortem_audit_events_total{result="accepted"}' "$(curl -s "$b_metrics")")
    [[ "${accepted%.*}" -ge "$stored" ]] && break
    sleep 0.1
  done
  finished=$(date +%s.%N)
  local b_text
  b_text=$(curl -s "$b_metrics")
  python3 - "$servers" "$stored" "$seconds" "$started" "$finished" "$nginx_eps" "$rss_before" "$(rss_kb "$b_pid")" \
    "$(metric_value 'podmortem_audit_events_total{result="accepted"}' "$b_text")" \
    "$(quantile 0.5 podmortem_stream_publish_duration_seconds "$a_text")" \
    "$(quantile 0.99 podmortem_stream_publish_duration_seconds "$a_text")" \
    "$(quantile 0.5 podmortem_stream_delivery_delay_seconds "$b_text")" \
    "$(quantile 0.99 podmortem_stream_delivery_delay_seconds "$b_text")" <<'PY'
import sys
(servers, stored, seconds, started, finished, nginx, rss_before, rss_after, indexed,
 ack50, ack99, read50, read99) = sys.argv[1:]
stored, seconds, nginx, indexed = int(stored), float(seconds), float(nginx), float(indexed or 0)
elapsed = float(finished) - float(started)
accepted = stored / seconds
per_million = (int(rss_after) - int(rss_before)) / 1024 / max(indexed, 1) * 1e6
print(f"  R{servers}: A stored {stored} events = {accepted:,.0f} events/s ({accepted / nginx:.2f}x nginx); "
      f"publish->ack p50 {ack50} ms p99 {ack99} ms")
print(f"  R{servers}: B indexed {int(indexed)} events, all of them {elapsed:.1f} s after the run began "
      f"({indexed / elapsed:,.0f} events/s); stored->read by B p50 {read50} ms p99 {read99} ms")
print(f"  R{servers}: B resident memory grew {(int(rss_after) - int(rss_before)) / 1024:.0f} MiB: "
      f"{per_million:.0f} MiB per million indexed events")
PY
  # At light load (one connection, one batch at a time), the acknowledgement without queueing.
  curl -s -o /dev/null "$a_metrics"
  local light_before light_text
  light_before=$(curl -s "$a_metrics")
  run "R$servers, 1 connection" "https://127.0.0.1:$a_port" light 1
  light_text=$(curl -s "$a_metrics")
  python3 - "$light_before" "$light_text" <<'PY'
import re, sys
def buckets(text):
    out = {}
    for line in text.splitlines():
        m = re.match(r'podmortem_stream_publish_duration_seconds_bucket\{le="([^"]+)"\} (\S+)', line)
        if m:
            out[float("inf") if m.group(1) == "+Inf" else float(m.group(1))] = float(m.group(2))
    return out
before, after = buckets(sys.argv[1]), buckets(sys.argv[2])
delta = sorted((b, after[b] - before.get(b, 0)) for b in after)
total = delta[-1][1]
def q(p):
    rank, lower, below = p * total, 0.0, 0.0
    for bound, count in delta:
        if count >= rank:
            if bound == float("inf"):
                return f">{lower * 1000:g}"
            share = (rank - below) / (count - below) if count > below else 1
            return f"{(lower + (bound - lower) * share) * 1000:.2f}"
        lower, below = bound, count
print(f"  at light load: publish->ack p50 {q(0.5)} ms p99 {q(0.99)} ms over {int(total)} batches")
PY
  # Stop this run's servers before the next one, so they do not share the CPU.
  local i
  for ((i = first; i < ${#pids[@]}; i++)); do kill "${pids[i]}" 2>/dev/null || true; done
  for ((i = first; i < ${#pids[@]}; i++)); do wait "${pids[i]}" 2>/dev/null || true; done
}

if [[ $mode == stream ]]; then
  echo
  echo "two replicas sharing a NATS JetStream stream; wrk posts to A, B reads the stream:"
  stream_run 1
  stream_run 3
  exit 0
fi

memory_bench="$root/build/bench/bench_correlation_memory"
if [[ -x "$memory_bench" ]]; then
  echo
  echo "correlation window memory at $memory_events events:"
  "$memory_bench" "$memory_events"
fi
