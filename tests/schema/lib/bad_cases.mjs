// Mistakes the CRDs must refuse. Each bad object is a copy of a valid example with one change;
// the ForensicPolicy list follows what podmortem's policy parser refuses, so the two stay in step.

const policy = (what, change) => ({ kind: "ForensicPolicy", what, change });
const snapshotRecord = (what, change) => ({ kind: "EvidenceSnapshot", what, change });

const admission = (p) => p.spec.triggers.find((t) => t.source === "admission");
const snapshot = (p) => (p.spec.actions.snapshot ??= {});
const auditTrigger = (fields) => ({
  source: "audit",
  verbs: ["get"],
  resources: ["pods"],
  ...fields,
});
const condition = (status) => ({
  type: "Ready",
  status,
  reason: "Loaded",
  message: "",
  lastTransitionTime: "2026-01-01T00:00:00Z",
});

// ForensicPolicy cases start from the first example policy (admission triggers, a snapshot).
const policyCases = [
  policy("unknown trigger source", (p) => (p.spec.triggers[0].source = "webhook")),
  policy("unknown admission operation", (p) => (admission(p).operations = ["REMOVE"])),
  policy("exec as an audit verb", (p) => p.spec.triggers.push(auditTrigger({ verbs: ["exec"] }))),
  policy("holdDeletion without a unit", (p) => (snapshot(p).holdDeletion = "10")),
  policy("holdDeletion in words", (p) => (snapshot(p).holdDeletion = "10 seconds")),
  policy("correlation window in days", (p) => (p.spec.correlation = { window: "1d" })),
  policy("misspelt field in snapshot", (p) => (snapshot(p).colectors = ["pod"])),
  policy("unknown field in spec", (p) => (p.spec.trigger = p.spec.triggers)),
  policy("unknown field in logs caps", (p) => (snapshot(p).logs = { maxLines: 10 })),
  policy("no triggers", (p) => delete p.spec.triggers),
  policy("empty triggers", (p) => (p.spec.triggers = [])),
  policy("no actions", (p) => delete p.spec.actions),
  policy("only quarantine: false as action", (p) => (p.spec.actions = { quarantine: false })),
  policy("only empty labels as action", (p) => (p.spec.actions = { labels: {} })),
  policy("admission trigger without operations", (p) => delete admission(p).operations),
  policy("admission trigger with audit verbs", (p) => (admission(p).verbs = ["delete"])),
  policy("admission trigger with response codes", (p) => (admission(p).codes = [200])),
  policy("audit trigger with operations", (p) =>
    p.spec.triggers.push(auditTrigger({ operations: ["CONNECT"] })),
  ),
  policy("trigger without resources", (p) => delete p.spec.triggers[0].resources),
  policy("resource with a leading slash", (p) => (p.spec.triggers[0].resources = ["/pods"])),
  policy("trigger name not a DNS label", (p) => (p.spec.triggers[0].name = "OnDelete")),
  policy("response code 600", (p) => p.spec.triggers.push(auditTrigger({ codes: [600] }))),
  policy("unknown collector", (p) => (snapshot(p).collectors = ["pod", "memory"])),
  policy("collector listed twice", (p) => (snapshot(p).collectors = ["pod", "logs", "pod"])),
  policy("onTimeout neither allow nor deny", (p) => (snapshot(p).onTimeout = "wait")),
  policy("logs limitBytes 0", (p) => (snapshot(p).logs = { limitBytes: 0 })),
  policy("logs limitBytes over 256 MiB", (p) => (snapshot(p).logs = { limitBytes: 268435457 })),
  policy("logs tailLines as a string", (p) => (snapshot(p).logs = { tailLines: "100" })),
  policy("namespace glob with uppercase", (p) => (p.spec.match = { namespaces: ["Prod_*"] })),
  policy("label value that is not one", (p) => (p.spec.actions.labels = { suspect: "yes please" })),
  policy("empty user glob", (p) => (p.spec.triggers[0].users = { include: [""] })),
  policy("In selector without values", (p) => {
    p.spec.match = { podSelector: { matchExpressions: [{ key: "app", operator: "In" }] } };
  }),
  policy("Exists selector with values", (p) => {
    const expression = { key: "app", operator: "Exists", values: ["web"] };
    p.spec.match = { podSelector: { matchExpressions: [expression] } };
  }),
  policy("unknown selector operator", (p) => {
    const expression = { key: "env", operator: "Equals", values: ["prod"] };
    p.spec.match = { namespaceSelector: { matchExpressions: [expression] } };
  }),
  policy("quarantine as a string", (p) => (p.spec.actions.quarantine = "true")),
  policy("namespace on a cluster-scoped policy", (p) => (p.metadata.namespace = "default")),
  policy("condition status Yes", (p) => (p.status = { conditions: [condition("Yes")] })),
  policy("two Ready conditions", (p) => {
    p.status = { conditions: [condition("True"), condition("False")] };
  }),
  policy("negative match counter", (p) => (p.status = { matches: -1 })),
];

// EvidenceSnapshot cases start from crds/samples/.
const artifact = (s) => s.status.artifacts[0];
const snapshotCases = [
  snapshotRecord("name not a snapshot id", (s) => (s.metadata.name = "checkout-snapshot")),
  snapshotRecord("unknown phase", (s) => (s.status.phase = "Done")),
  snapshotRecord(
    "uppercase sha256",
    (s) => (artifact(s).sha256 = artifact(s).sha256.toUpperCase()),
  ),
  snapshotRecord("truncated manifest digest", (s) => (s.status.bundle.manifestSHA256 = "7c4a8d09")),
  snapshotRecord(
    "artifact path leaving the bundle",
    (s) => (artifact(s).path = "../../etc/shadow"),
  ),
  snapshotRecord("artifact path with a dot segment", (s) => (artifact(s).path = "logs/./app.log")),
  snapshotRecord("the same artifact twice", (s) => s.status.artifacts.push({ ...artifact(s) })),
  snapshotRecord("negative size", (s) => (artifact(s).size = -1)),
  snapshotRecord("unknown status field", (s) => (s.status.bytes = 10)),
  snapshotRecord("pod without a name", (s) => delete s.spec.pod.name),
  snapshotRecord("pod namespace not a DNS label", (s) => (s.spec.pod.namespace = "Shop")),
  snapshotRecord("no policy", (s) => delete s.spec.policy),
  snapshotRecord("trigger without a source", (s) => delete s.spec.trigger.source),
  snapshotRecord("trigger time not RFC 3339", (s) => (s.spec.trigger.time = "28/11/2026 04:54")),
  snapshotRecord("bundle location without a scheme", (s) => (s.status.bundle.location = "/x")),
  snapshotRecord("unknown action result", (s) => {
    s.status.actions = [{ action: "labels", result: "done" }];
  }),
];

export const badObjects = [...policyCases, ...snapshotCases];

// Schemas the structural check must flag: one Kubernetes rule broken in each.
const spec = (schema) => ({ type: "object", properties: { spec: schema } });
const string = { type: "string" };
const keyedList = (extensions, items) => spec({ type: "array", ...extensions, items });
const named = { type: "object", properties: { name: string } };

export const nonStructuralSchemas = [
  { what: "field without a type", schema: spec({ type: "object", properties: { a: {} } }) },
  { what: "root not an object", schema: { type: "array", items: string } },
  { what: "$ref", schema: spec({ $ref: "#/definitions/Spec" }) },
  { what: "definitions", schema: { ...spec({ type: "object" }), definitions: { x: string } } },
  {
    what: "patternProperties",
    schema: spec({ type: "object", patternProperties: { "^a": string } }),
  },
  { what: "uniqueItems: true", schema: spec({ type: "array", items: string, uniqueItems: true }) },
  { what: "array without items", schema: spec({ type: "array" }) },
  { what: "items as a list", schema: spec({ type: "array", items: [string] }) },
  {
    what: "properties and additionalProperties",
    schema: spec({ type: "object", properties: { a: string }, additionalProperties: string }),
  },
  {
    what: "additionalProperties at the root",
    schema: { type: "object", additionalProperties: string },
  },
  {
    what: "type inside anyOf",
    schema: spec({ type: "object", properties: { a: string }, anyOf: [{ type: "object" }] }),
  },
  { what: "description inside oneOf", schema: spec({ ...string, oneOf: [{ description: "x" }] }) },
  {
    what: "field declared only inside allOf",
    schema: spec({ type: "object", allOf: [{ properties: { a: { minLength: 1 } } }] }),
  },
  {
    what: "metadata restricted beyond name",
    schema: {
      type: "object",
      properties: { metadata: { type: "object", properties: { labels: string } } },
    },
  },
  {
    what: "list-type map with an optional key",
    schema: keyedList(
      { "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] },
      named,
    ),
  },
  {
    what: "list-map-keys without list-type map",
    schema: keyedList({ "x-kubernetes-list-map-keys": ["name"] }, { ...named, required: ["name"] }),
  },
  { what: "lookahead pattern (not RE2)", schema: spec({ ...string, pattern: "^(?!kube-).*$" }) },
  { what: "misspelt keyword", schema: spec({ ...string, minLenght: 1 }) },
  {
    what: "x-kubernetes-preserve-unknown-fields on spec",
    schema: spec({ type: "object", "x-kubernetes-preserve-unknown-fields": true }),
  },
  { what: "type: null", schema: spec({ type: "null" }) },
];
