// SIGKILL the edge the page is on: the badge shows RECONNECTING, the page is back on the other
// edge within 5 s (resuming by seq), and every private event published meanwhile is on screen
// once, in order.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as broker from './support/broker.mjs';
import { badge, describePage, installRecorder, launch } from './support/browser.mjs';
import { assertFramesValid, note } from './support/report.mjs';
import { Tier } from './support/tier.mjs';
import { waitFor } from './support/wait.mjs';

test('SIGKILL of the edge the page is on: reconnecting, back on the other edge within 5 s, every event once and in order', async (t) => {
  const tier = await new Tier('failover').start();
  t.after(() => tier.stop());
  await tier.post(broker.opening('demo'));
  const b = await launch();
  t.after(() => b.close());
  const page = b.page;
  await installRecorder(page);
  await page.goto(`${tier.origin}/?login=dev`);
  await waitFor(async () => (await badge(page))?.state === 'connected' && (await page.getByTestId('position-row-AAPL').count()) === 1, {
    timeoutMs: 10000,
    what: 'LIVE with positions',
    explain: () => describePage(page),
  });
  const before = await badge(page);
  const other = before.node === 'edge-1' ? 'edge-2' : 'edge-1';
  assert.match(before.node, /^edge-[12]$/);

  // The events of one order, each in its own post, the first ones while the page has no edge.
  const orderId = broker.uid('o');
  const fills = [1, 2, 3, 4, 5].map((k) => ({ id: `${orderId}-x${k}`, qty: k }));
  const posts = [
    [broker.order('demo', orderId, 'AAPL', 'new', 15, 0)],
    ...fills.map((f, i) => {
      const filled = fills.slice(0, i + 1).reduce((n, x) => n + x.qty, 0);
      return [
        broker.trade('demo', f.id, orderId, 'AAPL', f.qty, '270.50'),
        broker.order('demo', orderId, 'AAPL', filled === 15 ? 'filled' : 'partially_filled', 15, filled, '270.50'),
        broker.position('demo', 'AAPL', 20 + filled, '270.10'),
      ];
    }),
  ];
  const killedAt = Date.now();
  await tier.killEdge(before.node, 'SIGKILL');
  const postedAt = [];
  for (const p of posts) {
    await tier.post(p);
    postedAt.push(Date.now());
  }

  const backAt = await waitFor(
    async () => {
      const bd = await badge(page);
      return bd?.state === 'connected' && bd.node === other ? Date.now() : null;
    },
    { timeoutMs: 10000, everyMs: 20, what: `the page back on ${other}` },
  );
  const rec = await page.evaluate(() => window.__rec);
  const reconnecting = rec.badge.find((x) => x.t >= killedAt && x.text === 'RECONNECTING');
  const liveAgain = rec.badge.find((x) => x.t >= killedAt && x.text === 'LIVE');
  note(
    t,
    `killed ${before.node}: RECONNECTING shown after ${reconnecting ? reconnecting.t - killedAt : '-'} ms, LIVE on ${other} after ${(liveAgain?.t ?? backAt) - killedAt} ms`,
  );
  assert.ok(reconnecting, `the badge showed RECONNECTING (badge history: ${JSON.stringify(rec.badge.map((x) => x.text))})`);
  assert.ok(backAt - killedAt <= 5000, `back on ${other} after ${backAt - killedAt} ms (limit 5000)`);
  const meanwhile = postedAt.filter((x) => x < (liveAgain?.t ?? backAt)).length;
  note(t, `${meanwhile} of ${posts.length} posts were stored while the page had no edge`);
  assert.ok(meanwhile >= 1, 'some events were published while the page was away');

  // Every fill on screen once, in the order published; the order filled; the position after the last fill.
  await waitFor(async () => (await page.locator('[data-testid^="trade-row-"]').count()) === fills.length, { timeoutMs: 10000, what: 'every fill on screen' });
  const shown = await page.locator('[data-testid^="trade-row-"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-testid').slice(10)));
  assert.deepEqual(shown, fills.map((f) => f.id).reverse(), 'recent executions, newest first, each once');
  // Each row was added once; none appeared before a fill published earlier (rows rendered
  // together, as after a resume, share a time).
  const added = await page.evaluate(() => window.__rec.tradesAdded);
  assert.deepEqual(added.map((x) => x.id).sort(), fills.map((f) => f.id).sort(), 'each fill added to the page once');
  const addedAt = fills.map((f) => added.find((x) => x.id === f.id).t);
  assert.deepEqual(addedAt, [...addedAt].sort((x, y) => x - y), 'fills appeared in the order published');
  await waitFor(async () => (await page.getByTestId('position-qty-AAPL').textContent()) === '35', { timeoutMs: 5000, what: 'the position after the last fill' });
  assert.equal(await page.getByTestId(`order-row-${orderId}`).count(), 0, 'the filled order left the open orders');

  // The store agrees: seqs strictly increasing, none twice; the new connection resumed with `since`.
  const seqs = await page.evaluate(() => window.__tickstream.store.getState().trades.map((e) => e.seq));
  assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y));
  assert.equal(new Set(seqs).size, seqs.length);
  const resumed = b.frames.sent('subscribe').filter((f) => f.t >= killedAt && f.msg.channels);
  assert.ok(resumed.length >= 1 && typeof resumed[0].msg.since === 'number', `the reconnection resumed with since (${JSON.stringify(resumed.map((f) => f.msg))})`);
  assertFramesValid(t, b.frames);
});
