// CustomResourceDefinitions: checking one, and validating custom objects against it the way the
// API server would (as far as that can be done without one).
import { basename } from "node:path";

import { Ajv, addFormats, importModel } from "./deps.mjs";
import { isObject } from "./documents.mjs";
import { checkStructural } from "./structural.mjs";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const COLUMN_TYPES = {
  integer: ["integer"],
  number: ["number", "integer"],
  string: ["string"],
  boolean: ["boolean"],
  date: ["string"],
};

// `project`: one of podmortem's own CRDs, held to the conventions in STYLE.md on top of what
// Kubernetes requires (file name, short name, category, status subresource, no preserved fields).
export function checkCrd(crd, { project = false, file } = {}) {
  const problems = [];
  let nodes = 0;
  const report = (where, message) => problems.push(`${where}: ${message}`);
  if (crd.apiVersion !== "apiextensions.k8s.io/v1")
    report("apiVersion", "must be apiextensions.k8s.io/v1");
  const spec = isObject(crd.spec) ? crd.spec : {};
  const names = isObject(spec.names) ? spec.names : {};
  const group = spec.group;
  if (typeof group !== "string" || !DNS_SUBDOMAIN.test(group) || !group.includes(".")) {
    report("spec.group", "must be a DNS subdomain with at least one dot");
  }
  if (typeof names.plural !== "string" || !DNS_LABEL.test(names.plural))
    report("spec.names.plural", "must be a lowercase DNS label");
  if (typeof names.kind !== "string" || !/^[A-Z][A-Za-z0-9]*$/.test(names.kind))
    report("spec.names.kind", "must be CamelCase");
  if (crd.metadata?.name !== `${names.plural}.${group}`)
    report("metadata.name", `must be ${names.plural}.${group}`);
  if (!["Cluster", "Namespaced"].includes(spec.scope))
    report("spec.scope", "must be Cluster or Namespaced");

  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  if (versions.length === 0) report("spec.versions", "must list at least one version");
  if (versions.filter((v) => v.storage === true).length !== 1)
    report("spec.versions", "exactly one version must be the storage version");
  versions.forEach((version, i) => {
    const where = `spec.versions[${i}]`;
    const schema = version.schema?.openAPIV3Schema;
    if (!isObject(schema)) {
      report(`${where}.schema.openAPIV3Schema`, "is required");
      return;
    }
    const result = checkStructural(schema, `${where}.schema.openAPIV3Schema`, {
      forbidPreserveUnknownFields: project,
    });
    problems.push(...result.problems);
    nodes += result.nodes;
    (version.additionalPrinterColumns ?? []).forEach((column, c) => {
      for (const problem of checkColumn(schema, column))
        report(`${where}.additionalPrinterColumns[${c}]`, problem);
    });
    if (project && !isObject(version.subresources?.status))
      report(`${where}.subresources.status`, "is required (the controller writes status)");
    if (project && version.served !== true) report(`${where}.served`, "must be true");
  });

  if (project) {
    if (file && basename(file) !== `${group}_${names.plural}.yaml`)
      report("file", `must be named ${group}_${names.plural}.yaml`);
    if (!Array.isArray(names.shortNames) || names.shortNames.length === 0)
      report("spec.names.shortNames", "must have a short name");
    if (!Array.isArray(names.categories) || !names.categories.includes("podmortem"))
      report("spec.names.categories", "must include podmortem");
    if (names.singular !== names.kind?.toLowerCase())
      report("spec.names.singular", "must be the kind in lowercase");
    if (names.listKind !== `${names.kind}List`)
      report("spec.names.listKind", `must be ${names.kind}List`);
  }
  return { problems, nodes };
}

// A printer column's jsonPath must lead to a field of the schema of a matching type: a typo
// there does not fail anything in Kubernetes, the column just stays empty forever.
function checkColumn(schema, column) {
  const problems = [];
  if (!isObject(column) || typeof column.name !== "string" || typeof column.jsonPath !== "string") {
    return ["needs a name and a jsonPath"];
  }
  if (!(column.type in COLUMN_TYPES))
    problems.push(`type must be one of ${Object.keys(COLUMN_TYPES).join(", ")}`);
  const tokens = column.jsonPath.match(/\.[A-Za-z0-9_-]+|\[[^\]]*\]/g) ?? [];
  if (tokens.join("") !== column.jsonPath)
    return [...problems, `jsonPath ${column.jsonPath} is not a simple path`];
  let node = schema;
  for (const token of tokens) {
    if (token === ".metadata" && node === schema) return problems; // ObjectMeta: the API server's own
    if (token.startsWith("[")) {
      if (node.type !== "array")
        return [...problems, `jsonPath ${column.jsonPath}: ${token} on a non-list`];
      node = node.items;
    } else {
      const name = token.slice(1);
      const next =
        node.properties?.[name] ??
        (isObject(node.additionalProperties) ? node.additionalProperties : undefined);
      if (next === undefined)
        return [...problems, `jsonPath ${column.jsonPath}: no field ${name} in the schema`];
      node = next;
    }
  }
  const allowed = COLUMN_TYPES[column.type] ?? [];
  if (!allowed.includes(node.type))
    problems.push(`type ${column.type} does not fit field type ${node.type}`);
  if (column.type === "date" && node.format !== "date-time")
    problems.push("type date needs a date-time field");
  return problems;
}

// --- Validating custom objects ---------------------------------------------------------------

function newAjv() {
  // strict: false because CRD schemas are OpenAPI with Kubernetes extensions, not plain JSON
  // Schema; the extensions that change what is valid are implemented below, the others are
  // annotations. CEL rules (x-kubernetes-validations) are not evaluated here.
  // verbose: errors carry the schema they failed, which makes "not" errors explainable.
  const ajv = new Ajv({ strict: false, allErrors: true, verbose: true });
  addFormats(ajv);
  ajv.addKeyword({
    keyword: "x-kubernetes-list-type",
    type: "array",
    schemaType: "string",
    errors: true,
    validate: function listType(kind, data, parentSchema) {
      const keys = parentSchema["x-kubernetes-list-map-keys"] ?? [];
      const identity = (item) =>
        kind === "map" ? JSON.stringify(keys.map((key) => item?.[key])) : JSON.stringify(item);
      if (kind !== "set" && kind !== "map") return true;
      const seen = new Set();
      for (const item of data) {
        const id = identity(item);
        if (seen.has(id)) {
          listType.errors = [
            {
              keyword: "x-kubernetes-list-type",
              message:
                kind === "map"
                  ? `duplicate entry for key ${keys.join(", ")} = ${id}`
                  : `duplicate value ${id}`,
              params: {},
            },
          ];
          return false;
        }
        seen.add(id);
      }
      return true;
    },
  });
  for (const keyword of [
    "x-kubernetes-list-map-keys",
    "x-kubernetes-validations",
    "x-kubernetes-map-type",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-int-or-string",
    "x-kubernetes-embedded-resource",
    "example",
    "externalDocs",
  ]) {
    ajv.addKeyword({ keyword });
  }
  return ajv;
}

const ajv = newAjv();

// kubectl validates with strict field validation, so an unknown field is an error rather than
// silently pruned. Emulate that: every object without additionalProperties and without
// x-kubernetes-preserve-unknown-fields gets additionalProperties: false. Root metadata is
// ObjectMeta, which the API server validates itself.
function withStrictFields(node, isRoot = true) {
  if (!isObject(node)) return node;
  const out = { ...node };
  if (isObject(node.properties)) {
    out.properties = Object.fromEntries(
      Object.entries(node.properties).map(([name, child]) => [
        name,
        isRoot && name === "metadata" ? child : withStrictFields(child, false),
      ]),
    );
  }
  if (isRoot) {
    // Every object has these, whether or not the CRD's schema mentions them.
    out.properties = {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { type: "object" },
      ...out.properties,
    };
  }
  if (isObject(node.items)) out.items = withStrictFields(node.items, false);
  if (isObject(node.additionalProperties))
    out.additionalProperties = withStrictFields(node.additionalProperties, false);
  if (
    out.type === "object" &&
    out.additionalProperties === undefined &&
    out["x-kubernetes-preserve-unknown-fields"] !== true &&
    out["x-kubernetes-embedded-resource"] !== true
  ) {
    out.additionalProperties = false;
  }
  return out;
}

let ObjectMeta;
async function validateObjectMeta(metadata) {
  ObjectMeta ??= (await importModel("@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta"))
    .ObjectMeta;
  try {
    new ObjectMeta(metadata).validate();
    return [];
  } catch (error) {
    return (error.errors ?? [{ instancePath: "", message: error.message }]).map(
      (e) => `metadata${dotted(e.instancePath)}: ${e.message}`,
    );
  }
}

// The kinds a CRD defines, keyed "apiVersion kind", each with a validate(object) -> [problems].
export function crdKinds(crd) {
  const kinds = new Map();
  const spec = crd.spec ?? {};
  for (const version of spec.versions ?? []) {
    const schema = version.schema?.openAPIV3Schema;
    if (!isObject(schema) || version.served !== true) continue;
    const apiVersion = `${spec.group}/${version.name}`;
    const validateSchema = ajv.compile(withStrictFields(schema));
    const namespaced = spec.scope === "Namespaced";
    const kind = spec.names?.kind;
    kinds.set(`${apiVersion} ${kind}`, {
      kind,
      apiVersion,
      namespaced,
      async validate(object) {
        const problems = checkIdentity(object, namespaced);
        if (isObject(object.metadata))
          problems.push(...(await validateObjectMeta(object.metadata)));
        if (!validateSchema(object)) problems.push(...formatErrors(validateSchema.errors));
        return problems;
      },
    });
  }
  return kinds;
}

function checkIdentity(object, namespaced) {
  const problems = [];
  const meta = object.metadata;
  if (!isObject(meta)) return ["metadata: is required"];
  if (typeof meta.name !== "string" && typeof meta.generateName !== "string")
    problems.push("metadata.name: is required");
  if (typeof meta.name === "string" && (meta.name.length > 253 || !DNS_SUBDOMAIN.test(meta.name))) {
    problems.push("metadata.name: must be a DNS-1123 subdomain");
  }
  if (!namespaced && meta.namespace !== undefined)
    problems.push("metadata.namespace: must not be set on a cluster-scoped kind");
  if (namespaced && meta.namespace !== undefined && !DNS_LABEL.test(String(meta.namespace))) {
    problems.push("metadata.namespace: must be a DNS-1123 label");
  }
  return problems;
}

// "/spec/triggers/0/source" -> ".spec.triggers[0].source"; map keys that are not plain names
// in brackets, as podmortem's parser prints them: ".spec.actions.labels[podmortem.io/suspect]".
export function dotted(instancePath) {
  return instancePath
    .split("/")
    .slice(1)
    .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))
    .map((part) => (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(part) ? `.${part}` : `[${part}]`))
    .join("");
}

// ajv's errors in Kubernetes' style: a field path and what is wrong with it. The errors of each
// anyOf branch are folded into the one anyOf error they explain.
export function formatErrors(errors) {
  const anyOfPaths = errors.filter((e) => e.keyword === "anyOf").map((e) => e.schemaPath);
  const lines = [];
  for (const error of errors) {
    const where = dotted(error.instancePath).slice(1) || "(root)";
    if (anyOfPaths.some((p) => error.schemaPath.startsWith(`${p}/`))) continue;
    if (error.keyword === "anyOf") {
      const branches = errors
        .filter((e) => e.schemaPath.startsWith(`${error.schemaPath}/`))
        .map((e) => `${dotted(e.instancePath).slice(1) || "(root)"} ${describeError(e)}`);
      lines.push(
        `${where}: matches none of the allowed combinations (${[...new Set(branches)].join("; ")})`,
      );
    } else {
      lines.push(`${where}: ${describeError(error)}`);
    }
  }
  return [...new Set(lines)];
}

function describeError(error) {
  switch (error.keyword) {
    case "additionalProperties":
      return `unknown field "${error.params.additionalProperty}"`;
    case "enum":
      return `must be one of ${error.params.allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
    case "required":
      return `${error.params.missingProperty} is required`;
    case "not":
      return describeNot(error.schema);
    default:
      return error.message;
  }
}

function describeNot(schema) {
  const fields = [schema?.required, ...(schema?.anyOf ?? []).map((s) => s.required)]
    .flat()
    .filter(Boolean);
  if (fields.length > 0) return `must not have ${fields.join(" or ")} here`;
  if (schema?.pattern) return `must not match ${schema.pattern}`;
  return "must not match the schema under not";
}
