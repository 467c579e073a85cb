// The demo as a newcomer sees it: the page loads from haproxy, signs in with the development
// login, and shows LIVE and moving prices within 2 s; the demo trader's broker events fill the
// portfolio. A screenshot of the live page goes into the build tree.

import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';

import { badge, installRecorder, launch, prices } from './support/browser.mjs';
import { assertFramesValid, note } from './support/report.mjs';
import { OUT, Tier } from './support/tier.mjs';
import { waitFor } from './support/wait.mjs';

test('the demo loads and shows LIVE and moving prices within 2 s; the demo trader moves the portfolio', async (t) => {
  // The demo trader, bounded: a few quick rounds (each order new -> partially_filled -> filled).
  // Compression on, for every message: the page must read the same frames through it.
  const tier = await new Tier('live', {
    trader: ['--user', 'demo', '--rounds', '6', '--pause-s', '0.4'],
    edgeArgs: ['--permessage-deflate', '--deflate-threshold-bytes', '0'],
  }).start();
  t.after(() => tier.stop());
  const b = await launch();
  t.after(() => b.close());
  const page = b.page;
  await installRecorder(page);

  const t0 = Date.now();
  await page.goto(`${tier.origin}/?login=dev`);
  // LIVE, and at least one watchlist price changed after it was first shown.
  const first = {};
  let liveAt = null;
  const movedAt = await waitFor(
    async () => {
      const [bd, p] = await Promise.all([badge(page), prices(page)]);
      if (bd?.text === 'LIVE' && liveAt === null) liveAt = Date.now();
      let moved = false;
      for (const [sym, v] of Object.entries(p)) {
        if (v === '—') continue;
        if (first[sym] === undefined) first[sym] = v;
        else if (first[sym] !== v) moved = true;
      }
      return liveAt !== null && moved ? Date.now() : null;
    },
    { timeoutMs: 10000, everyMs: 20, what: 'LIVE and a moving price' },
  );
  note(t, `LIVE after ${liveAt - t0} ms, a price moved after ${movedAt - t0} ms (navigation start to screen)`);
  assert.ok(movedAt - t0 <= 2000, `LIVE with moving prices took ${movedAt - t0} ms (limit 2000)`);

  // Signed in before connecting: one connection, with the cookie, and no error from the edge.
  assert.equal(b.frames.sockets.length, 1, 'one WebSocket on load');
  assert.deepEqual(b.frames.received('error').map((f) => f.payload), [], 'no error frame (auth_required: the socket opened before the sign-in)');
  const bd = await badge(page);
  assert.match(bd.node, /^edge-[12]$/, 'the badge names the edge');
  assert.equal(await page.getByTestId('signin-status').textContent(), 'Signed in as demo');

  // The demo trader's account, positions and a fill reach the page.
  await waitFor(async () => (await page.getByTestId('position-row-AAPL').count()) === 1 && (await page.getByTestId('equity').count()) === 1, {
    timeoutMs: 15000,
    what: "the demo trader's positions and account",
  });
  await waitFor(async () => (await page.locator('[data-testid^="trade-row-"]').count()) >= 2, { timeoutMs: 20000, what: "the demo trader's fills" });
  await waitFor(async () => (await page.locator('[data-testid=latency]').textContent()) !== '— ms', { timeoutMs: 15000, what: 'a latency figure' });

  const shot = path.join(OUT, 'demo-live.png');
  await page.screenshot({ path: shot, fullPage: true });
  note(t, `screenshot of the live demo: ${shot}`);
  assertFramesValid(t, b.frames);

  // Chromium offered permessage-deflate and the edge took it: the page above read compressed frames.
  const compressed = await tier.metricTotal('tickstream_edge_compressed_connections_total');
  assert.equal(compressed, 1, 'the one WebSocket of the page was compressed');
});
