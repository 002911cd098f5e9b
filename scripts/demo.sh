#!/usr/bin/env bash
# A one-minute tour, against the server `make run` started (examples/local.yaml):
#   1. an attacker's exec into a pod, as the API server's audit webhook reports it
#      (a real recorded event),
#   2. a DELETE of the same pod, as the API server's admission webhook sends it,
#   3. the warning kubectl would print, the evidence bundle, and `podmortem verify`.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
state="$root/.state"
url=${PODMORTEM_URL:-https://127.0.0.1:8443}
ca="$state/tls/ca.crt"
token_file="$state/audit-token"
fixtures=${PODMORTEM_FIXTURES:-$root/../shared/fixtures}
exec_event="$fixtures/falco_k8s_audit/exec_pod.json"
[[ -f "$exec_event" ]] || exec_event="$root/tests/fixtures/audit/exec-default-nginx.json"

if ! curl -sf --cacert "$ca" "$url/healthz" >/dev/null 2>&1; then
  echo "No server at $url: start it with 'make run' in another terminal first." >&2
  exit 1
fi
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "1. The audit webhook reports: minikube-user execs into default/nginx-deployment-7998647bdf-phvq7"
# The recorded event is from 2018: move its timestamps to now (and give it a fresh auditID) so
# that it falls inside the 30-minute correlation window.
now=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
jq -c --arg now "$now" --arg id "$(cat /proc/sys/kernel/random/uuid)" \
  '.auditID = $id | .stageTimestamp = $now | .requestReceivedTimestamp = $now' \
  "$exec_event" > "$state/demo-exec.json"
jq -c '{verb, resource: .objectRef.resource, subresource: .objectRef.subresource,
        pod: .objectRef.name, user: .user.username, requestURI}' "$state/demo-exec.json"
curl -sS --cacert "$ca" -H "Authorization: Bearer $(cat "$token_file")" \
  -H 'Content-Type: application/json' --data-binary @"$state/demo-exec.json" "$url/audit?timeout=30s"
echo

say "2. Someone deletes that pod: the admission webhook is asked (answer held while evidence is captured)"
uid="demo-$(date +%s)-$RANDOM"
jq --arg uid "$uid" '
  .request.namespace = "default" | .request.name = "nginx-deployment-7998647bdf-phvq7"
  | .request.userInfo.username = "minikube-user"
  | .request.oldObject.metadata.namespace = "default"
  | .request.oldObject.metadata.name = "nginx-deployment-7998647bdf-phvq7"
  | .request.oldObject.metadata.uid = $uid' \
  "$root/tests/fixtures/admission/delete-pod-web.json" > "$state/demo-delete.json"
sleep 1  # the audit batch is indexed off the request thread; give it a moment
answer=$(curl -sS --cacert "$ca" -H 'Content-Type: application/json' \
  --data-binary @"$state/demo-delete.json" "$url/validate?timeout=10s")
echo "$answer" | jq .

say "3. What kubectl would print"
echo "$answer" | jq -r '.response.warnings[]? | "Warning: " + .'
echo 'pod "nginx-deployment-7998647bdf-phvq7" deleted'

bundle=$(find "$state/evidence/default/nginx-deployment-7998647bdf-phvq7" -name manifest.json \
  -newer "$state/demo-delete.json" -printf '%h\n' | head -1)
say "4. The evidence bundle: $bundle"
ls -l "$bundle"
echo "audit-trail.jsonl:"; jq -c '{verb, subresource: .objectRef.subresource, user: .user.username}' "$bundle/audit-trail.jsonl"
jq '{snapshotId, phase, policy, trigger: {operation: .trigger.operation, user: .trigger.user}, auditTrail, artifacts}' "$bundle/manifest.json"

say "5. podmortem verify: every hash, the manifest and the custody ledger chain"
"$root/build/podmortem" verify "$state/evidence"
