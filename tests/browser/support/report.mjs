// What the browser tests measured, printed as test diagnostics and collected in
// <build>/browser-tests/timings.txt; the frame check every test ends with.

import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

import { OUT } from './tier.mjs';

export function note(t, line) {
  mkdirSync(OUT, { recursive: true });
  appendFileSync(path.join(OUT, 'timings.txt'), `${new Date().toISOString()} ${t.name}: ${line}\n`);
  t.diagnostic(line);
}

/** Every frame the edge sent (and the page sent) conforms to docs/asyncapi.yaml. */
export function assertFramesValid(t, frames) {
  const r = frames.validate();
  const received = Object.entries(r.byType).filter(([k]) => k.startsWith('<-')).reduce((n, [, v]) => n + v, 0);
  note(t, `${r.count} frames validated against docs/asyncapi.yaml (${received} from the edge): ${r.invalid.length} invalid`);
  assert.ok(received > 0, 'the page received frames');
  assert.deepEqual(r.invalid, [], 'frames that do not conform to docs/asyncapi.yaml');
}
