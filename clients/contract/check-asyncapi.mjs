#!/usr/bin/env node
// Usage: node clients/contract/check-asyncapi.mjs [docs/asyncapi.yaml]
// Exits 0 when the document is a valid AsyncAPI 3 document whose schemas compile and whose
// examples validate; 1 with the reasons otherwise.

import { checkDocument, DEFAULT_DOCUMENT, loadDocument } from './lib.mjs';

const file = process.argv[2] ?? DEFAULT_DOCUMENT;
let doc;
try {
  doc = loadDocument(file);
} catch (err) {
  console.error(`${file}: cannot read: ${err.message}`);
  process.exit(2);
}
const { ok, errors, stats } = checkDocument(doc);
if (!ok) {
  for (const e of errors) console.error(`${file}: ${e}`);
  console.error(`${file}: ${errors.length} problem(s)`);
  process.exit(1);
}
console.log(`${file}: valid AsyncAPI 3.0.0 (${stats.messages} messages, ${stats.schemas} schemas, ${stats.examples} examples checked)`);
