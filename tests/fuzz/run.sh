#!/usr/bin/env bash
# Runs every fuzz target of a fuzz build for SECONDS each, on its growing corpus (seeded from the
# fixtures) with its dictionary, and prints executions, corpus size and crashes per target.
# Exits 1 when a target crashed; the input is under BUILD/crashes/<target>/ (add it to
# tests/fuzz/regressions/<target>/ once fixed: the ordinary test build replays it).
# Usage: run.sh BUILD SECONDS [RUNS]   (RUNS: stop each target after that many executions)
#        FUZZ_TARGETS="config http_request" run.sh ...   runs only those targets
set -euo pipefail
build=$1
seconds=$2
runs_limit=${3:-0}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source_dir="$(cd "$here/../.." && pwd)"
fixtures="${PODMORTEM_FIXTURES_DIR:-$source_dir/../shared/fixtures}"

bash "$here/seeds.sh" "$source_dir" "$fixtures" "$build/fuzz-seeds" >/dev/null
declare -A dict=([admission_review]=json [audit_payload]=json [evidence_readers]=json
                 [policy]=yaml [config]=yaml [kubeconfig]=yaml [http_request]=http
                 [bundle_report]=json)
status=0
printf '%-18s %12s %10s %8s %7s\n' target executions exec/s corpus crashes
for target in ${FUZZ_TARGETS:-admission_review audit_payload policy config kubeconfig evidence_readers http_request bundle_report}; do
  corpus="$build/corpus/$target"
  crashes="$build/crashes/$target"
  mkdir -p "$corpus" "$crashes"
  log="$build/fuzz-$target.log"
  # -rss_limit_mb: the HTTP target runs a server; leaks are checked by the ASan test build.
  if ! "$build/fuzz/fuzz_$target" "$corpus" "$build/fuzz-seeds/$target" \
      -dict="$here/dict/${dict[$target]}.dict" -max_total_time="$seconds" -timeout=25 \
      $( ((runs_limit > 0)) && echo "-runs=$runs_limit") \
      -rss_limit_mb=4096 -detect_leaks=0 -print_final_stats=1 \
      -artifact_prefix="$crashes/" >"$log" 2>&1; then
    status=1
  fi
  runs=$(grep -oP 'stat::number_of_executed_units:\s*\K[0-9]+' "$log" || echo 0)
  rate=$(grep -oP 'stat::average_exec_per_sec:\s*\K[0-9]+' "$log" || echo 0)
  size=$(find "$corpus" -type f | wc -l)
  found=$(find "$crashes" -type f | wc -l)
  printf '%-18s %12s %10s %8s %7s\n' "$target" "$runs" "$rate" "$size" "$found"
  if ((found > 0)); then
    status=1
    grep -m1 -A3 'ERROR\|SUMMARY\|deadly signal' "$log" >&2 || true
  fi
done
exit $status
