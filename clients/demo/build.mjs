#!/usr/bin/env node
// Bundles the dashboard into dist/: index.html, app.js, app.css (static files, same origin as the
// edges). `node build.mjs --check` rebuilds in memory and exits 1 if dist/ is not what the sources
// build to (dist/ is committed so the local tier can serve it without Node).

import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, 'dist');
const check = process.argv.includes('--check');

const result = await esbuild.build({
  entryPoints: [path.join(here, 'src/main.tsx')],
  outfile: path.join(dist, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  jsx: 'automatic',
  legalComments: 'eof',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
  write: !check,
  metafile: false,
});

if (check) {
  const expected = new Map(result.outputFiles.map((f) => [path.basename(f.path), Buffer.from(f.contents)]));
  expected.set('index.html', readFileSync(path.join(here, 'index.html')));
  const stale = [];
  for (const [name, bytes] of expected) {
    let current = null;
    try {
      current = readFileSync(path.join(dist, name));
    } catch {
      current = null;
    }
    if (!current || !current.equals(bytes)) stale.push(name);
  }
  if (stale.length > 0) {
    console.error(`demo/dist is out of date (${stale.join(', ')}): run npm run build in clients/ and commit demo/dist`);
    process.exit(1);
  }
  console.log('demo/dist matches the sources');
} else {
  mkdirSync(dist, { recursive: true });
  copyFileSync(path.join(here, 'index.html'), path.join(dist, 'index.html'));
  console.log(`demo/dist: ${['index.html', 'app.js', 'app.css'].join(', ')}`);
}
