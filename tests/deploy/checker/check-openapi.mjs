#!/usr/bin/env node
// Usage: node check-openapi.mjs --spec docs/openapi.yaml --paths /v1/publish,/v1/events,...
// Checks that docs/openapi.yaml parses as an OpenAPI 3.0 document: every operation has
// responses with status codes, every $ref resolves, every security requirement names a defined
// scheme, and every endpoint the tier serves (--paths) is described. Exits 1 with the reasons.
import { readFileSync } from "node:fs";
import { parse } from "yaml";

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const file = opt("spec") ?? "docs/openapi.yaml";
const problems = [];
let doc;
try {
  doc = parse(readFileSync(file, "utf8"));
} catch (e) {
  console.error(`${file}: does not parse: ${e.message}`);
  process.exit(1);
}
if (!/^3\.0\.\d+$/.test(String(doc?.openapi))) problems.push(`openapi must be 3.0.x, got ${doc?.openapi}`);
if (!doc?.info?.title || !doc?.info?.version) problems.push("info.title and info.version are required");
const resolve = (ref) => {
  if (!ref.startsWith("#/")) return undefined;
  return ref.slice(2).split("/").reduce((node, key) => (node === undefined ? undefined : node[key.replaceAll("~1", "/").replaceAll("~0", "~")]), doc);
};
const walk = (node, where) => {
  if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${where}[${i}]`));
  if (node === null || typeof node !== "object") return;
  if (typeof node.$ref === "string" && resolve(node.$ref) === undefined) problems.push(`${where}: $ref ${node.$ref} does not resolve`);
  for (const [k, v] of Object.entries(node)) walk(v, `${where}.${k}`);
};
walk(doc, "");
const schemes = Object.keys(doc?.components?.securitySchemes ?? {});
const methods = ["get", "put", "post", "delete", "options", "head", "patch"];
let operations = 0;
for (const [path, item] of Object.entries(doc?.paths ?? {})) {
  if (!path.startsWith("/")) problems.push(`path ${path} must start with /`);
  for (const m of methods.filter((m) => item[m])) {
    ++operations;
    const op = item[m];
    const codes = Object.keys(op.responses ?? {});
    if (codes.length === 0) problems.push(`${m.toUpperCase()} ${path}: no responses`);
    for (const c of codes) if (!/^[1-5]\d\d$/.test(c)) problems.push(`${m.toUpperCase()} ${path}: response ${c} is not a status code`);
    for (const req of op.security ?? []) {
      for (const s of Object.keys(req)) if (!schemes.includes(s)) problems.push(`${m.toUpperCase()} ${path}: unknown security scheme ${s}`);
    }
  }
}
for (const p of (opt("paths") ?? "").split(",").filter(Boolean)) {
  if (!doc?.paths?.[p]) problems.push(`the tier serves ${p}, which is not described`);
}
if (problems.length > 0) {
  for (const p of problems) console.error(`${file}: ${p}`);
  process.exit(1);
}
console.log(`${file}: OpenAPI ${doc.openapi}, ${operations} operations, every $ref resolves`);
