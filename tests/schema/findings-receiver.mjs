#!/usr/bin/env node
// A findings receiver for podmortem's export tests: an HTTPS server that takes what the http
// and splunk-hec sinks send, checks every finding against the OCSF Detection Finding schema
// (ocsf/detection_finding.schema.json) with ajv, and appends one JSON line per finding to a log
// before it answers, so that a 2xx means "recorded".
//
//   node findings-receiver.mjs --cert C --key K --port-file F --log L
//        [--port N] [--bearer TOKEN] [--hec-token TOKEN]
//
// POST /findings                  the http sink: one finding per request, Authorization: Bearer
//                                 TOKEN when --bearer is given, Idempotency-Key recorded.
// POST /services/collector/event  the splunk-hec sink: Authorization: Splunk TOKEN, one or more
//                                 concatenated HEC events, each with the finding as `event`.
// Invalid findings get 400 and are logged with valid: false and ajv's errors.
import { appendFileSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer } from "node:https";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import Ajv from "ajv";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => {
    if (arg.startsWith("--")) pairs.push([arg.slice(2), all[i + 1]]);
    return pairs;
  }, []),
);
for (const required of ["cert", "key", "port-file", "log"]) {
  if (!args[required]) {
    console.error(`findings-receiver: --${required} is required`);
    process.exit(2);
  }
}

const here = dirname(fileURLToPath(import.meta.url));
const schema = JSON.parse(readFileSync(join(here, "ocsf", "detection_finding.schema.json"), "utf8"));
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

function record(entry) {
  appendFileSync(args.log, JSON.stringify(entry) + "\n");
}

function answer(response, status, body) {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

function checked(path, key, finding, extra = {}) {
  const valid = validate(finding);
  record({ path, key, valid, errors: valid ? [] : validate.errors, finding, ...extra });
  return valid;
}

// HEC takes several events in one body, one JSON object after another.
function hecEvents(text) {
  const events = [];
  let rest = text.trim();
  while (rest.length > 0) {
    let depth = 0;
    let inString = false;
    let end = -1;
    for (let i = 0; i < rest.length && end < 0; i++) {
      const c = rest[i];
      if (inString) {
        if (c === "\\") i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === "{") depth++;
      else if (c === "}" && --depth === 0) end = i;
    }
    if (end < 0) throw new Error("an event is cut short");
    events.push(JSON.parse(rest.slice(0, end + 1)));
    rest = rest.slice(end + 1).trim();
  }
  return events;
}

function onFindings(request, response, body) {
  if (args.bearer && request.headers.authorization !== `Bearer ${args.bearer}`) {
    record({ path: "/findings", unauthorized: true });
    return answer(response, 401, { error: "unauthorized" });
  }
  let finding;
  try {
    finding = JSON.parse(body);
  } catch (error) {
    record({ path: "/findings", valid: false, errors: [String(error)] });
    return answer(response, 400, { error: "not JSON" });
  }
  // A structured-field string (the IETF draft): "..." with \" and \\ escapes.
  const header = request.headers["idempotency-key"];
  const quoted = header?.match(/^"((?:[^"\\]|\\.)*)"$/);
  const key = quoted ? quoted[1].replace(/\\(.)/g, "$1") : null;
  if (!checked("/findings", key, finding)) return answer(response, 400, { error: "not an OCSF Detection Finding" });
  answer(response, 200, { ok: true });
}

function onHec(request, response, body) {
  if (request.headers.authorization !== `Splunk ${args["hec-token"]}`) {
    record({ path: "/services/collector/event", unauthorized: true });
    return answer(response, 401, { text: "Invalid authorization", code: 3 });
  }
  let events;
  try {
    events = hecEvents(body);
  } catch (error) {
    record({ path: "/services/collector/event", valid: false, errors: [String(error)] });
    return answer(response, 400, { text: "Invalid data format", code: 6 });
  }
  let allValid = events.length > 0;
  for (const event of events) {
    const extra = { sourcetype: event.sourcetype, host: event.host, source: event.source, time: event.time };
    const key = event.fields?.idempotency_key ?? null;
    if (typeof event.event !== "object" || !checked("/services/collector/event", key, event.event, extra)) {
      allValid = false;
    }
  }
  if (!allValid) return answer(response, 400, { text: "Invalid data format", code: 6 });
  answer(response, 200, { text: "Success", code: 0 });
}

const server = createServer(
  { cert: readFileSync(args.cert), key: readFileSync(args.key), minVersion: "TLSv1.2" },
  (request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      if (request.method !== "POST") return answer(response, 405, { error: "POST only" });
      const path = request.url.split("?")[0];
      if (path === "/findings") return onFindings(request, response, body);
      if (path === "/services/collector/event") return onHec(request, response, body);
      answer(response, 404, { error: "no such path" });
    });
  },
);

server.listen(Number(args.port ?? 0), "127.0.0.1", () => {
  const portFile = args["port-file"];
  writeFileSync(`${portFile}.tmp`, String(server.address().port));
  renameSync(`${portFile}.tmp`, portFile);  // the test reads it whole or not at all
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
