#!/usr/bin/env node
// Checks podmortem's CustomResourceDefinitions without a cluster:
//   1. each CRD in crds/ is one the API server accepts (structural schema, consistent names,
//      printer columns that point at real fields);
//   2. every example policy (examples/policies/, examples/replay/) and sample (crds/samples/)
//      validates against its CRD, with unknown fields rejected as kubectl's strict field
//      validation does;
//   3. deliberately broken objects and schemas are rejected, so that this check can fail.
// Prints one line per file or case and "N documents valid, M errors"; exits 1 on any error.
import { basename } from "node:path";

import { checkCrd, crdKinds } from "./lib/crd.mjs";
import { describe, isObject, readStream, repoPath, shown, yamlFiles } from "./lib/documents.mjs";
import { checkStructural } from "./lib/structural.mjs";
import { badObjects, nonStructuralSchemas } from "./lib/bad_cases.mjs";

let valid = 0;
let errors = 0;

function fail(label, problems) {
  errors += problems.length;
  console.log(`FAIL ${label}`);
  for (const problem of problems) console.log(`       ${problem}`);
}

function pass(label) {
  valid++;
  console.log(`ok   ${label}`);
}

// 1. The CRDs.
const kinds = new Map();
const crdFiles = yamlFiles(repoPath("crds")).filter(
  (file) => basename(file) !== "kustomization.yaml",
);
if (crdFiles.length === 0) fail("crds/", ["no CustomResourceDefinition found"]);
for (const file of crdFiles) {
  for (const { name, object, error } of readStream(file)) {
    if (error) {
      fail(name, [error]);
      continue;
    }
    if (object?.kind !== "CustomResourceDefinition") {
      fail(name, [`expected a CustomResourceDefinition, found ${describe(object)}`]);
      continue;
    }
    const { problems, nodes } = checkCrd(object, { project: true, file });
    // Even a CRD with problems validates the examples, if ajv can compile it: one mistake in
    // a CRD should not hide behind a wall of "no CRD for this kind".
    try {
      for (const [key, entry] of crdKinds(object)) kinds.set(key, entry);
    } catch (compileError) {
      problems.push(`schema does not compile: ${compileError.message}`);
    }
    if (problems.length > 0) {
      fail(name, problems);
      continue;
    }
    const spec = object.spec;
    const versions = spec.versions.map((v) => v.name).join(", ");
    pass(
      `${name}: ${spec.names.kind} (${spec.group} ${versions}, ${spec.scope}), structural, ${nodes} schema nodes`,
    );
  }
}

// 2. The examples and samples.
const documents = [];
for (const dir of [repoPath("examples", "policies"), repoPath("examples", "replay"), repoPath("crds", "samples")]) {
  const files = yamlFiles(dir);
  if (files.length === 0) fail(`${shown(dir)}/`, ["no YAML files found"]);
  for (const file of files) documents.push(...readStream(file));
}
for (const { name, object, error } of documents) {
  if (error) {
    fail(name, [error]);
    continue;
  }
  const entry = isObject(object) ? kinds.get(`${object.apiVersion} ${object.kind}`) : undefined;
  if (!entry) {
    fail(name, [`${describe(object)}: no CRD in crds/ defines this apiVersion and kind`]);
    continue;
  }
  const problems = await entry.validate(object);
  if (problems.length > 0) fail(`${name}: ${describe(object)}`, problems);
  else pass(`${name}: ${describe(object)}`);
}

// 3. What must be refused. Each bad object is a valid document with one mistake in it.
const byKind = (kind) => documents.find((d) => d.object?.kind === kind)?.object;
let rejected = 0;
const missingBase = new Set();
for (const { kind, what, change } of badObjects) {
  const entry = [...kinds.values()].find((k) => k.kind === kind);
  const base = byKind(kind);
  if (!entry || !base) {
    if (!missingBase.has(kind))
      fail(`bad ${kind} objects`, [`no ${kind} CRD or document to start from`]);
    missingBase.add(kind);
    continue;
  }
  const object = structuredClone(base);
  change(object);
  const problems = await entry.validate(object);
  if (problems.length === 0) {
    fail(`bad ${kind}: ${what}`, ["was accepted, must be rejected"]);
    continue;
  }
  rejected++;
  console.log(`ok   bad ${kind} rejected: ${what} (${problems[0]})`);
}
let flagged = 0;
for (const { what, schema } of nonStructuralSchemas) {
  const { problems } = checkStructural(schema, "openAPIV3Schema", {
    forbidPreserveUnknownFields: true,
  });
  if (problems.length === 0) {
    fail(`non-structural schema: ${what}`, ["was accepted, must be flagged"]);
    continue;
  }
  flagged++;
  console.log(`ok   non-structural schema flagged: ${what} (${problems[0]})`);
}

console.log(`${rejected} bad objects rejected, ${flagged} bad schemas flagged`);
console.log(`${valid} documents valid, ${errors} errors`);
process.exitCode = errors > 0 ? 1 : 0;
