#!/usr/bin/env bash
# ManifestsRenderAndValidate: every kustomization under manifests/ renders with kubectl's
# kustomize, and every object it renders validates against its Kubernetes schema
# (tests/schema/validate-manifests.mjs). Also the base with all optional Components at once, as
# an operator's overlay would combine them.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=${PODMORTEM_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
manifests=$source_dir/manifests
validator=$source_dir/tests/schema/validate-manifests.mjs

need() {  # need NAME [ENV]: the tool's path from $ENV (set by CTest) or PATH; skip when absent
  local path=${!2:-}
  [[ -n "$path" && "$path" != *NOTFOUND ]] || path=$(command -v "$1" || true)
  if [[ -z "$path" ]]; then echo "SKIPPED: $1 is not installed"; exit 77; fi
  printf '%s' "$path"
}
kubectl=$(need kubectl KUBECTL)
node=$(need node NODE)
[[ -f "$validator" ]] || { echo "FAIL: $validator is missing"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# cert-manager's kinds are CRDs the validator does not ship: our minimal schemas go in front.
cert_manager_schemas() {
  local f
  for f in "$here"/schemas/*.yaml; do cat "$f"; printf '\n---\n'; done
}

# The base with every optional Component, from outside the repository as an operator would
# (kustomize takes relative paths only).
mkdir -p "$work/everything"
rel=$(realpath --relative-to="$work/everything" "$manifests")
cat > "$work/everything/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $rel/base
components:
  - $rel/monitoring
  - $rel/network-policy
  - $rel/rbac/quarantine
  - $rel/components/nats
YAML

failures=0
check() {  # check NAME KUSTOMIZATION [PREFIX-FUNCTION]
  local name=$1 dir=$2 prefix=${3:-}
  echo "== $name"
  if ! "$kubectl" kustomize "$dir" > "$work/rendered.yaml" 2> "$work/kustomize.err"; then
    cat "$work/kustomize.err"; echo "FAIL: kubectl kustomize $name"; failures=$((failures + 1)); return
  fi
  { [[ -n "$prefix" ]] && "$prefix"; cat "$work/rendered.yaml"; } > "$work/input.yaml"
  if "$node" "$validator" < "$work/input.yaml" > "$work/validate.out" 2>&1; then
    tail -n 1 "$work/validate.out"
  else
    grep -v '^ok ' "$work/validate.out" || true
    echo "FAIL: objects of $name do not validate"; failures=$((failures + 1))
  fi
}

check "manifests (base)" "$manifests"
check "manifests/overlays/cert-manager" "$manifests/overlays/cert-manager" cert_manager_schemas
check "manifests/overlays/kind" "$manifests/overlays/kind"
check "manifests/monitoring" "$manifests/monitoring"
check "manifests/network-policy" "$manifests/network-policy"
check "manifests/rbac/quarantine" "$manifests/rbac/quarantine"
check "base + monitoring + network-policy + quarantine + nats" "$work/everything"

# Plain files applied by hand.
for file in "$manifests"/tools/*.yaml; do
  if "$node" "$validator" < "$file" > "$work/validate.out" 2>&1; then
    echo "$(basename "$file"): $(tail -n 1 "$work/validate.out")"
  else
    cat "$work/validate.out"; echo "FAIL: $file does not validate"; failures=$((failures + 1))
  fi
done

if ((failures > 0)); then echo "FAIL: $failures renders failed"; exit 1; fi
echo PASS
