#!/usr/bin/env node
// Validates a stream of Kubernetes objects without a cluster:
//
//   kubectl kustomize manifests | node tests/schema/validate-manifests.mjs
//
// Each object is checked against the schema of its apiVersion and kind:
//   - built-in kinds: the validators kubernetes-models generated from the Kubernetes OpenAPI
//     document (they ship inside the npm package, nothing is fetched);
//   - CustomResourceDefinitions: the same, plus the structural-schema check of check-crds.mjs;
//   - kinds defined by a CRD in the input or in crds/: that CRD's schema, with unknown fields
//     rejected as kubectl's strict field validation does;
//   - ServiceMonitor and PrometheusRule (monitoring.coreos.com): the prometheus-operator models
//     of the same project.
// A kind none of these knows is an error, so nothing gets through unvalidated.
// Note: the Kubernetes OpenAPI document does not close its objects, so for built-in kinds a
// misspelt optional field is not caught here (the API server's strict field validation would).
// Prints one line per object and "N objects valid, M errors"; exits 1 on any error.
import { basename } from "node:path";

import { checkCrd, crdKinds, formatErrors } from "./lib/crd.mjs";
import { importModel } from "./lib/deps.mjs";
import {
  describe,
  isObject,
  parseStream,
  readStream,
  repoPath,
  yamlFiles,
} from "./lib/documents.mjs";

if (process.stdin.isTTY) {
  console.error("usage: kubectl kustomize DIR | node tests/schema/validate-manifests.mjs");
  process.exit(2);
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const documents = parseStream(Buffer.concat(chunks).toString("utf8"), "stdin");

// A List (kubectl get -o yaml) holds its objects in items; validate those.
const objects = [];
for (const doc of documents) {
  if (
    !doc.error &&
    isObject(doc.object) &&
    doc.object.kind?.endsWith("List") &&
    Array.isArray(doc.object.items)
  ) {
    doc.object.items.forEach((item, i) =>
      objects.push({ name: `${doc.name} items[${i}]`, object: item }),
    );
  } else {
    objects.push(doc);
  }
}

const isCrd = (object) =>
  isObject(object) &&
  object.apiVersion === "apiextensions.k8s.io/v1" &&
  object.kind === "CustomResourceDefinition";

// Custom kinds: podmortem's own CRDs first, then those in the input, which win (they are what
// would be applied).
const customKinds = new Map();
for (const file of yamlFiles(repoPath("crds")).filter(
  (f) => basename(f) !== "kustomization.yaml",
)) {
  for (const { object } of readStream(file)) {
    if (isCrd(object)) for (const [key, entry] of crdKinds(object)) customKinds.set(key, entry);
  }
}
for (const { object } of objects) {
  if (!isCrd(object)) continue;
  try {
    for (const [key, entry] of crdKinds(object)) customKinds.set(key, entry);
  } catch {
    // A schema ajv cannot compile; the CRD's own check below says what is wrong with it.
  }
}

// The module of kubernetes-models (or of its prometheus-operator sibling) for a kind, if any.
function modelSpecifier(apiVersion, kind) {
  if (!/^[A-Za-z0-9.-]+(\/[A-Za-z0-9]+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind))
    return null;
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "monitoring.coreos.com")
    return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
  return group === ""
    ? `kubernetes-models/${version}/${kind}`
    : `kubernetes-models/${apiVersion}/${kind}`;
}

async function builtInModel(apiVersion, kind) {
  const specifier = modelSpecifier(apiVersion, kind);
  if (!specifier) return null;
  let module;
  try {
    module = await importModel(specifier);
  } catch (error) {
    if (error.code === "ERR_MODULE_NOT_FOUND" || error.code === "ERR_PACKAGE_PATH_NOT_EXPORTED")
      return null;
    throw error;
  }
  // The packages also export nested types (DeploymentSpec, ...); only a top-level kind carries
  // its own apiVersion and kind.
  const Model = module[kind];
  return Model?.apiVersion === apiVersion && Model?.kind === kind ? Model : null;
}

async function validateBuiltIn(Model, object) {
  const problems = [];
  if (
    typeof object.metadata?.name !== "string" &&
    typeof object.metadata?.generateName !== "string"
  ) {
    problems.push("metadata.name: is required");
  }
  try {
    new Model(object).validate();
  } catch (error) {
    if (!Array.isArray(error.errors)) throw error;
    problems.push(...formatErrors(error.errors));
  }
  return problems;
}

let valid = 0;
let errors = 0;
for (const { name, object, error } of objects) {
  const label = error ? name : `${name}: ${describe(object)}`;
  let problems;
  if (error) {
    problems = [error];
  } else if (
    !isObject(object) ||
    typeof object.apiVersion !== "string" ||
    typeof object.kind !== "string"
  ) {
    problems = ["not a Kubernetes object: apiVersion and kind are required"];
  } else {
    const custom = customKinds.get(`${object.apiVersion} ${object.kind}`);
    const Model = custom ? null : await builtInModel(object.apiVersion, object.kind);
    if (custom) {
      problems = await custom.validate(object);
    } else if (Model) {
      problems = await validateBuiltIn(Model, object);
      if (isCrd(object)) {
        const project = object.spec?.group === "podmortem.io";
        problems.push(...checkCrd(object, { project }).problems);
      }
    } else {
      problems = [
        `unknown kind: no schema for ${object.apiVersion} ${object.kind} (not built in, not defined by a CRD here or in crds/)`,
      ];
    }
  }
  if (problems.length > 0) {
    errors += problems.length;
    console.log(`FAIL ${label}`);
    for (const problem of problems) console.log(`       ${problem}`);
  } else {
    valid++;
    console.log(`ok   ${label}`);
  }
}

if (objects.length === 0) {
  errors++;
  console.log("FAIL stdin: no objects in the input");
}
console.log(`${valid} objects valid, ${errors} errors`);
process.exitCode = errors > 0 ? 1 : 0;
