#!/usr/bin/env bash
# PrometheusRulesPassPromtool: the alert rules of manifests/monitoring are valid Prometheus rules
# (`promtool check rules`) and fire on synthetic series exactly as rules_test.yaml expects
# (`promtool test rules`), so their expressions mean what their names say.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=${PODMORTEM_SOURCE_DIR:-$(cd "$here/../.." && pwd)}

need() {  # need NAME [ENV]: the tool's path from $ENV (set by CTest) or PATH; skip when absent
  local path=${!2:-}
  [[ -n "$path" && "$path" != *NOTFOUND ]] || path=$(command -v "$1" || true)
  if [[ -z "$path" ]]; then echo "SKIPPED: $1 is not installed"; exit 77; fi
  printf '%s' "$path"
}
kubectl=$(need kubectl KUBECTL)
yq=$(need yq YQ)
promtool=$(need promtool PROMTOOL)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$kubectl" kustomize "$source_dir/manifests/monitoring" > "$work/monitoring.yaml"
"$yq" -s -y '[.[] | select(.kind == "PrometheusRule")] | if length == 1 then {groups: .[0].spec.groups}
             else error("expected one PrometheusRule, found \(length)") end' \
  "$work/monitoring.yaml" > "$work/podmortem-rules.yaml"
cp "$here/rules_test.yaml" "$work/rules_test.yaml"

echo "== promtool check rules"
check=$("$promtool" check rules "$work/podmortem-rules.yaml" 2>&1) || { echo "$check"; echo "FAIL: promtool check rules"; exit 1; }
echo "$check"
grep -q SUCCESS <<<"$check" || { echo "FAIL: promtool check rules did not report SUCCESS"; exit 1; }

echo "== promtool test rules"
(cd "$work" && "$promtool" test rules rules_test.yaml) || { echo "FAIL: promtool test rules"; exit 1; }
echo PASS
