#!/usr/bin/env node
// Usage: node clients/contract/validate-http.mjs [--spec docs/openapi.yaml] DIR
//
// Validates every HTTP answer the test clients received (DIR/http-*.jsonl, one
// {"method","target","status","content_type","body"} per line, written by the tests' HTTP client)
// against docs/openapi.yaml: the path and method are described, the status is one of the
// operation's responses, and a JSON body matches that response's schema. Requests to paths the
// document does not describe are checked only when they succeeded (a 404 for a made-up path is
// fine; a 200 is an undocumented endpoint). Exits 0 when all are valid, 1 naming the bad ones.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const args = process.argv.slice(2);
let spec = fileURLToPath(new URL('../../docs/openapi.yaml', import.meta.url));
const dirs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--spec') spec = args[++i];
  else dirs.push(args[i]);
}
if (dirs.length !== 1) {
  console.error('usage: validate-http.mjs [--spec docs/openapi.yaml] DIR');
  process.exit(2);
}

const doc = YAML.parse(readFileSync(spec, 'utf8'));
const ROOT = 'tickstream:openapi';
const rewrite = (node) => JSON.parse(JSON.stringify(node).replaceAll('"#/components/schemas/', `"${ROOT}#/definitions/`));
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: ROOT, definitions: rewrite(doc.components?.schemas ?? {}) });

const resolve = (node) => {
  while (node && typeof node.$ref === 'string') {
    node = node.$ref
      .slice(2)
      .split('/')
      .reduce((n, k) => n?.[k.replaceAll('~1', '/').replaceAll('~0', '~')], doc);
  }
  return node;
};

const validators = new Map();
const validatorFor = (key, schema) => {
  if (!validators.has(key)) validators.set(key, ajv.compile(rewrite(schema)));
  return validators.get(key);
};

const files = readdirSync(dirs[0]).filter((f) => /^http-.*\.jsonl$/.test(f));
if (files.length === 0) {
  console.error(`validate-http: no HTTP answers were recorded in ${dirs[0]}`);
  process.exit(process.env.TICKSTREAM_EXPECT_FRAMES === '1' ? 1 : 0);
}

let total = 0;
let checked = 0;
const problems = [];
const clip = (s) => (s.length > 300 ? `${s.slice(0, 300)}…` : s);
for (const file of files) {
  for (const line of readFileSync(join(dirs[0], file), 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    total += 1;
    const r = JSON.parse(line);
    const path = r.target.split('?')[0];
    const where = `${r.method} ${r.target} → ${r.status}`;
    const op = doc.paths?.[path]?.[r.method.toLowerCase()];
    if (!op) {
      if (r.status < 400) problems.push(`${where}: answered, but ${doc.paths?.[path] ? 'the method' : 'the path'} is not described`);
      continue;
    }
    const status = String(r.status);
    const response = resolve(op.responses?.[status] ?? op.responses?.[`${status[0]}XX`] ?? op.responses?.default);
    if (!response) {
      problems.push(`${where}: status ${status} is not among the operation's responses (${Object.keys(op.responses ?? {}).join(', ')})`);
      continue;
    }
    const type = (r.content_type ?? '').split(';')[0].trim();
    const schema = response.content?.[type]?.schema;
    if (type !== 'application/json' || !schema) continue;
    let body;
    try {
      body = JSON.parse(r.body);
    } catch {
      problems.push(`${where}: the body is not JSON: ${clip(r.body)}`);
      continue;
    }
    const validate = validatorFor(`${path} ${r.method} ${status}`, schema);
    checked += 1;
    if (!validate(body)) {
      const why = validate.errors.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
      problems.push(`${where}: ${why}\n    body: ${clip(r.body)}`);
    }
  }
}
if (problems.length > 0) {
  // One write, and exitCode rather than exit(): output to a pipe is written asynchronously.
  process.stderr.write(problems.map((p) => `validate-http: ${p}\n`).join(''));
  process.exitCode = 1;
} else {
  console.log(`validate-http: ${total} answers, ${checked} JSON bodies valid against ${spec}`);
}
