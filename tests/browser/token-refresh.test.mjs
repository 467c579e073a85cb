// A token near expiry is refreshed through the page's getToken callback (the demo's
// window.__tickstreamGetToken hook, authenticating in-band): token_expiring -> getToken ->
// refresh -> refreshed, and the connection stays up past the first token's expiry.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as broker from './support/broker.mjs';
import { badge, describePage, launch } from './support/browser.mjs';
import { assertFramesValid, note } from './support/report.mjs';
import { Tier } from './support/tier.mjs';
import { waitFor } from './support/wait.mjs';

const FIRST_TTL_S = 7;
const WARNING_S = 4;

test('a token near expiry is refreshed through getToken; the connection stays up', async (t) => {
  const tier = await new Tier('token-refresh', { edgeArgs: ['--token-expiry-warning-s', String(WARNING_S), '--jwt-leeway-s', '0'] }).start();
  t.after(() => tier.stop());
  await tier.post(broker.opening('demo'));
  const b = await launch();
  t.after(() => b.close());
  const page = b.page;

  // The first token is short-lived; every later one is good for 10 minutes.
  const minted = [];
  await page.exposeFunction('__mintToken', () => {
    const ttl = minted.length === 0 ? FIRST_TTL_S : 600;
    const token = tier.token('demo', ttl);
    minted.push({ token, at: Date.now(), exp: Math.floor(Date.now() / 1000) + ttl });
    return token;
  });
  await page.addInitScript(() => {
    window.__tickstreamGetToken = () => window.__mintToken();
  });
  await page.goto(`${tier.origin}/`);
  const explain = () => describePage(page);
  await waitFor(async () => (await badge(page))?.state === 'connected' && (await page.getByTestId('position-row-AAPL').count()) === 1, {
    timeoutMs: 10000,
    what: 'LIVE with positions, authenticated in-band',
    explain,
  });
  assert.equal(await page.getByTestId('signin-status').textContent(), 'Signed in as demo');
  const auth = b.frames.sent('auth');
  assert.equal(auth.length, 1);
  assert.equal(auth[0].msg.token, minted[0].token, 'the page authenticated in-band with the first token');

  const refreshed = await waitFor(() => b.frames.received('refreshed')[0], { timeoutMs: (FIRST_TTL_S + 2) * 1000, what: 'refreshed', explain });
  const expiring = b.frames.received('token_expiring')[0];
  assert.ok(expiring, 'the edge warned');
  assert.equal(expiring.msg.expires_at_s, minted[0].exp);
  const refresh = b.frames.sent('refresh');
  assert.equal(refresh.length, 1);
  assert.equal(minted.length, 2, 'getToken was asked once more');
  assert.equal(refresh[0].msg.token, minted[1].token, 'the refresh carries the new token');
  assert.equal(refreshed.msg.expires_at_s, minted[1].exp);
  note(
    t,
    `token_expiring ${expiring.t - b.frames.sockets[0].openedAt} ms after the connection opened (warning ${WARNING_S} s before a ${FIRST_TTL_S} s token); refreshed ${refreshed.t - expiring.t} ms after it`,
  );

  // Past the first token's expiry (and the edge's once-a-second sweep), the same connection is up.
  const firstExpiryMs = minted[0].exp * 1000;
  await waitFor(() => Date.now() > firstExpiryMs + 2500, { timeoutMs: (FIRST_TTL_S + 5) * 1000, what: "the first token's expiry to pass" });
  const orderId = broker.uid('o');
  await tier.post([broker.order('demo', orderId, 'TSLA', 'new', 3, 0)]);
  await waitFor(async () => (await page.getByTestId(`order-row-${orderId}`).count()) === 1, { timeoutMs: 5000, what: 'an event after the first expiry', explain });
  assert.equal(b.frames.sockets.length, 1, 'one WebSocket for the whole test');
  assert.equal(b.frames.sockets[0].closedAt, null, 'and it is still open');
  assert.equal((await badge(page)).state, 'connected');
  note(t, `connection up ${Date.now() - firstExpiryMs} ms past the first token's expiry`);
  assertFramesValid(t, b.frames);
});
