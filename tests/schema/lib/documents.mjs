// Reading YAML the way kubectl does: a stream of documents, empty ones skipped.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

import { YAML } from "./deps.mjs";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

export function repoPath(...parts) {
  return join(repoRoot, ...parts);
}

// A path as it is printed: relative to the repository.
export function shown(path) {
  return relative(repoRoot, path) || ".";
}

export function yamlFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith(".yaml") || name.endsWith(".yml"))
    .sort()
    .map((name) => join(dir, name));
}

// Every non-empty document of a YAML stream, each named "<source>" or, when the stream holds
// several, "<source>#<n>" counted from 1 (as podmortem's own policy loader names them).
// A syntax error becomes a document with `error` set rather than an exception.
export function parseStream(text, source) {
  // YAML 1.1, as kubectl reads manifests: yes/no/on/off are booleans and << merges.
  const parsed = YAML.parseAllDocuments(text, { version: "1.1", prettyErrors: true });
  const documents = Array.isArray(parsed) ? parsed : [parsed];
  const nonEmpty = documents.filter((doc) => doc.errors.length > 0 || doc.contents !== null);
  return nonEmpty.map((doc, index) => {
    const name = nonEmpty.length > 1 ? `${source}#${index + 1}` : source;
    if (doc.errors.length > 0) {
      return { name, error: `not valid YAML: ${doc.errors[0].message.split("\n")[0]}` };
    }
    return { name, object: doc.toJS({ maxAliasCount: 100 }) };
  });
}

export function readStream(path) {
  return parseStream(readFileSync(path, "utf8"), shown(path));
}

export function describe(object) {
  if (!isObject(object)) return "(not an object)";
  const meta = isObject(object.metadata) ? object.metadata : {};
  const name = meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
  return `${object.apiVersion ?? "?"} ${object.kind ?? "?"} ${name ?? "(no name)"}`;
}

export function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
