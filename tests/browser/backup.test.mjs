// Every WebSocket edge stopped past the retry budget (shortened through the demo's URL
// parameters): the page shows the backup state and still updates positions by REST; edges back:
// LIVE again, and what the page shows is what a freshly loaded page shows.
//
// REST is served by the edges too, so with literally every edge down there would be nothing to
// poll: this tier has a third edge in haproxy's /api/* backend only ("edge-rest"), the way an
// operator keeps the REST API up when the WebSocket fleet is lost.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as broker from './support/broker.mjs';
import { badge, describePage, domState, installRecorder, launch } from './support/browser.mjs';
import { assertFramesValid, note } from './support/report.mjs';
import { Tier } from './support/tier.mjs';
import { waitFor } from './support/wait.mjs';

const PARAMS = 'login=dev&retries=2&backoff_ms=100&cap_ms=300&poll_ms=500';

test('all WebSocket edges stopped: backup by REST, then LIVE again with the state of a fresh load', async (t) => {
  const tier = await new Tier('backup', { restEdge: true }).start();
  t.after(() => tier.stop());
  await tier.post(broker.opening('demo'));
  const b = await launch();
  t.after(() => b.close());
  const page = b.page;
  await installRecorder(page);
  await page.goto(`${tier.origin}/?${PARAMS}`);
  const explain = () => describePage(page);
  await waitFor(async () => (await badge(page))?.state === 'connected' && (await page.getByTestId('position-row-AAPL').count()) === 1, {
    timeoutMs: 10000,
    what: 'LIVE with positions',
    explain,
  });

  const stoppedAt = Date.now();
  await Promise.all(['edge-1', 'edge-2'].map((n) => tier.killEdge(n, 'SIGTERM')));
  const backupAt = await waitFor(async () => (await badge(page))?.state === 'backup' && (await page.getByTestId('backup-notice').count()) === 1 && Date.now(), {
    timeoutMs: 15000,
    what: 'the backup state',
    explain,
  });
  note(t, `WebSocket edges stopped: BACKUP shown after ${backupAt - stoppedAt} ms (retries=2, backoff 100-300 ms)`);
  assert.match(await page.getByTestId('backup-notice').textContent(), /^Using backup connection/);

  // A fill while in backup reaches the page by REST polling.
  const postedAt = Date.now();
  await tier.post([broker.position('demo', 'AAPL', 33, '270.40')]);
  const polledAt = await waitFor(async () => (await page.getByTestId('position-qty-AAPL').textContent()) === '33' && Date.now(), {
    timeoutMs: 5000,
    what: 'the position updated by REST',
    explain,
  });
  assert.equal((await badge(page)).state, 'backup', 'still in backup when the position changed');
  note(t, `position updated by REST polling ${polledAt - postedAt} ms after the post (poll_ms=500)`);

  const restartedAt = Date.now();
  await Promise.all(['edge-1', 'edge-2'].map((n) => tier.startEdge(n)));
  const liveAt = await waitFor(async () => (await badge(page))?.state === 'connected' && Date.now(), { timeoutMs: 15000, what: 'LIVE again', explain });
  note(t, `edges restarted: LIVE again after ${liveAt - restartedAt} ms`);
  assert.equal(await page.getByTestId('backup-notice').count(), 0);

  // An event after the return arrives on the stream.
  const orderId = broker.uid('o');
  await tier.post([broker.order('demo', orderId, 'NVDA', 'new', 5, 0)]);
  await waitFor(async () => (await page.getByTestId(`order-row-${orderId}`).count()) === 1, { timeoutMs: 5000, what: 'a new order on the stream', explain });

  // Prices freeze (the replay stops), so marks stop too; then a fresh page must show the same.
  await tier.replay.stop();
  let previous = null;
  let stableSince = 0;
  await waitFor(
    async () => {
      const s = JSON.stringify(await domState(page));
      if (s !== previous) {
        previous = s;
        stableSince = Date.now();
      }
      return Date.now() - stableSince >= 1000;
    },
    { timeoutMs: 10000, everyMs: 100, what: 'the page to settle once ticks stop' },
  );
  const fresh = await b.context.newPage();
  await fresh.goto(`${tier.origin}/?login=dev`);
  let last = null;
  const same = await waitFor(
    async () => {
      const [a, f] = [await domState(page), await domState(fresh)];
      last = { a, f };
      return JSON.stringify(a) === JSON.stringify(f);
    },
    { timeoutMs: 10000, everyMs: 100, what: 'the fresh page to show the same state' },
  ).catch(() => false);
  if (!same) assert.deepEqual(last.a, last.f, 'the page after the return vs a fresh load');
  note(t, `after the return the page matches a fresh load on ${Object.keys(last.a).length} test ids`);
  assert.ok(last.a['position-qty-AAPL']?.text === '33' && last.a[`order-row-${orderId}`], 'the compared state holds the changes');
  assertFramesValid(t, b.frames);
});
