#!/usr/bin/env python3
"""Writes the audit batch the benchmarks post: an audit.k8s.io/v1 EventList of 400 events of the
shapes a real kube-apiserver sent (../shared/fixtures/kube-apiserver-1.21, else the project's
own fixture), each auditID replaced by the placeholder AUDITID for the wrk scripts to fill in.

Usage: audit_batch.py FIXTURES ROOT OUT TIMESTAMPS
  TIMESTAMPS "now": the events are stamped with the current time (they stay in the window);
  any other text: written in place of both timestamps, for the wrk script to stamp per request.
"""
import datetime
import glob
import json
import os
import sys

fixtures, root, out, timestamps = sys.argv[1:]
items = []
for path in sorted(glob.glob(os.path.join(fixtures, "kube-apiserver-1.21/audit-webhook/batch-*.json"))):
    items += json.load(open(path))["items"]
if not items:
    items = json.load(open(os.path.join(root, "tests/fixtures/audit/exec-eventlist.json")))["items"]
if timestamps == "now":
    timestamps = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
events = [dict(items[i % len(items)]) for i in range(400)]
for event in events:
    event["auditID"] = "AUDITID"
    event["requestReceivedTimestamp"] = event["stageTimestamp"] = timestamps
body = json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "metadata": {},
                   "items": events}, separators=(",", ":"))
with open(out, "w") as file:
    file.write(body)
print(f"batch: 400 events, {len(body)} bytes ({len(body) // 400} bytes per event)", file=sys.stderr)
