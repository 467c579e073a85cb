#!/usr/bin/env node
// Usage: node clients/contract/validate-frames.mjs [--plain=server|client] [--all] FILE...
//
// Validates every line of each FILE as one protocol frame against docs/asyncapi.yaml. A line is
// "<- {json}" (edge → client), "-> {json}" (client → edge), or plain JSON (edge → client unless
// --plain=client). Blank lines and lines starting with '#' are skipped. Exits 0 when every frame
// is valid; 1 naming the first bad frame (every bad frame with --all); 2 on a usage error.

import { readFileSync } from 'node:fs';

import { createValidators } from './lib.mjs';

const args = process.argv.slice(2);
let plain = 'server';
let all = false;
const files = [];
for (const a of args) {
  if (a === '--all') all = true;
  else if (a === '--plain=server' || a === '--plain=client') plain = a.slice('--plain='.length);
  else if (a === '-h' || a === '--help') {
    console.log('usage: validate-frames.mjs [--plain=server|client] [--all] FILE...');
    process.exit(0);
  } else if (a.startsWith('-')) {
    console.error(`unknown option ${a}`);
    process.exit(2);
  } else files.push(a);
}
if (files.length === 0) {
  console.error('usage: validate-frames.mjs [--plain=server|client] [--all] FILE...');
  process.exit(2);
}

const { validateServerFrame, validateClientFrame } = createValidators();
const PREFIXES = [
  ['<- ', 'server'],
  ['← ', 'server'],
  ['-> ', 'client'],
  ['→ ', 'client'],
];

let total = 0;
let bad = 0;
const clip = (s) => (s.length > 300 ? `${s.slice(0, 300)}…` : s);
for (const file of files) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    console.error(`${file}: cannot read: ${err.message}`);
    process.exit(2);
  }
  const lines = text.split('\n');
  let frames = 0;
  let fileBad = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (line.trim() === '' || line.startsWith('#')) continue;
    let direction = plain;
    let json = line;
    for (const [prefix, dir] of PREFIXES) {
      if (line.startsWith(prefix)) {
        direction = dir;
        json = line.slice(prefix.length);
        break;
      }
    }
    frames += 1;
    const result = direction === 'server' ? validateServerFrame(json) : validateClientFrame(json);
    if (result.ok) continue;
    fileBad += 1;
    if (bad + fileBad === 1 || all) {
      const arrow = direction === 'server' ? 'edge → client' : 'client → edge';
      console.error(`${file}:${i + 1}: invalid ${arrow} frame${result.type ? ` of type "${result.type}"` : ''}`);
      for (const e of result.errors) console.error(`    ${e}`);
      console.error(`    frame: ${clip(json)}`);
    }
  }
  total += frames;
  bad += fileBad;
  if (fileBad === 0) console.log(`${file}: ${frames} frames valid`);
  else console.error(`${file}: ${fileBad} of ${frames} frames invalid`);
}
process.exit(bad === 0 ? 0 : 1);
