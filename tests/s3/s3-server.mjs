#!/usr/bin/env node
// A real S3-compatible server for podmortem's S3 store tests: @20minutes/s3rver (it checks
// SigV4 signatures), path-style, on 127.0.0.1, with bucket "evidence". s3rver does not
// implement Object Lock nor check Content-MD5 or x-amz-checksum-sha256, so every request's
// method, URL and headers are also written to a JSON-lines log: the tests assert those headers
// on the wire.
//
//   node --openssl-legacy-provider s3-server.mjs --dir DATA --port-file F --requests LOG [--port N]
//
// (--openssl-legacy-provider: s3rver's list continuation tokens use DES.)
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from "node:fs";

import S3rver from "@20minutes/s3rver";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => {
    if (arg.startsWith("--")) pairs.push([arg.slice(2), all[i + 1]]);
    return pairs;
  }, []),
);
for (const required of ["dir", "port-file", "requests"]) {
  if (!args[required]) {
    console.error(`s3-server: --${required} is required`);
    process.exit(2);
  }
}
mkdirSync(args.dir, { recursive: true });

const server = new S3rver({
  address: "127.0.0.1",
  port: Number(args.port ?? 0),
  directory: args.dir,
  silent: true,
  vhostBuckets: false,
  resetOnClose: false,
  configureBuckets: [{ name: "evidence" }],
});

const { port } = await server.run();
server.httpServer.on("request", (request) => {
  appendFileSync(args.requests, JSON.stringify({ method: request.method, url: request.url, headers: request.headers }) + "\n");
});
writeFileSync(`${args["port-file"]}.tmp`, String(port));
renameSync(`${args["port-file"]}.tmp`, args["port-file"]);

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  setTimeout(() => process.exit(0), 2000).unref();
  try {
    server.httpServer.closeAllConnections();
    await server.close();
  } catch {}
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
