#!/usr/bin/env bash
# Gathers the seed corpus of each fuzz target into OUT/<target>/: the project's own fixtures and
# examples, and the recorded payloads of ../shared/fixtures where they are present. Copies go to
# the build tree only. Files over 256 KB are left out (libFuzzer would make them its max_len).
# Usage: seeds.sh SOURCE_DIR FIXTURES_DIR OUT
set -euo pipefail
source_dir=$1
fixtures=$2
out=$3
rm -rf "$out"

add() {  # target file...
  local target=$1
  shift
  mkdir -p "$out/$target"
  local file
  for file in "$@"; do
    [[ -f "$file" ]] || continue
    (($(stat -c %s "$file") <= 262144)) || continue
    cp "$file" "$out/$target/$(echo "${file#"$source_dir"/}" | tr '/' '_')"
  done
}

shopt -s nullglob globstar
add admission_review "$source_dir"/tests/fixtures/admission/*.json \
  "$fixtures"/kube-apiserver-1.21/admission/*.json "$fixtures"/kubewarden_pod_privileged/*.json
add audit_payload "$source_dir"/tests/fixtures/audit/* \
  "$fixtures"/kube-apiserver-1.21/audit-webhook/*.json "$fixtures"/falco_k8s_audit/*.json \
  "$fixtures"/audit2rbac/*.log
add policy "$source_dir"/examples/policies/*.yaml "$source_dir"/examples/replay/*.yaml \
  "$source_dir"/tests/fuzz/seeds/policy/* "$fixtures"/kube-apiserver-1.21/api/create-forensicpolicy.response.json
add config "$source_dir"/examples/local.yaml "$source_dir"/manifests/manager/config.yaml \
  "$source_dir"/manifests/overlays/cert-manager/config.yaml
add kubeconfig "$source_dir"/manifests/audit/audit-webhook-kubeconfig.yaml \
  "$source_dir"/tests/fuzz/seeds/kubeconfig/*
add evidence_readers "$source_dir"/tests/fuzz/seeds/evidence_readers/*
add http_request "$source_dir"/tests/fuzz/seeds/http_request/*
add bundle_report "$source_dir"/tests/fuzz/seeds/bundle_report/* "$source_dir"/tests/fixtures/audit/*
for target in "$out"/*; do
  echo "seeds: $(basename "$target"): $(find "$target" -type f | wc -l) files"
done
