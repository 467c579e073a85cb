// A page from an origin not on the allow-list (another loopback port: the same site, so the
// browser does send the SameSite=Strict session cookie) can neither connect with the cookie nor
// read the REST API with it; the demo's own origin, in the same browser, can.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';

import * as broker from './support/broker.mjs';
import { describePage, launch } from './support/browser.mjs';
import { assertFramesValid, note } from './support/report.mjs';
import { freePort, Tier } from './support/tier.mjs';
import { waitFor } from './support/wait.mjs';

// What the foreign page tries, with the cookie the browser holds for 127.0.0.1. Each step ends on
// an answer, an error, a close, or a 5 s bound.
function foreignPage(lb) {
  return `<!doctype html><meta charset="utf-8"><title>elsewhere</title><script type="module">
const lb = ${JSON.stringify(lb)};
const out = {};
try {
  const r = await fetch(lb + '/api/positions', { credentials: 'include' });
  out.rest = { status: r.status, body: (await r.text()).slice(0, 300) };
} catch (e) { out.rest = { error: String(e) }; }
try {
  const r = await fetch(lb + '/api/positions', { credentials: 'include', mode: 'no-cors' });
  out.opaque = { type: r.type, status: r.status, body: await r.text() };
} catch (e) { out.opaque = { error: String(e) }; }
out.ws = await new Promise((resolve) => {
  const frames = [];
  let opened = false;
  const ws = new WebSocket(lb.replace('http', 'ws') + '/ws');
  const done = (why) => { resolve({ why, opened, frames }); try { ws.close(); } catch {} };
  ws.onopen = () => { opened = true; ws.send(JSON.stringify({ type: 'subscribe', channels: ['positions', 'orders', 'account', 'trades'] })); };
  ws.onmessage = (e) => {
    frames.push(String(e.data));
    const m = JSON.parse(e.data);
    if (m.type === 'error' || m.type === 'subscribed' || m.type === 'snapshot') done('answered: ' + m.type);
  };
  ws.onclose = (e) => done('closed ' + e.code);
  setTimeout(() => done('no answer in 5 s'), 5000);
});
window.__result = out;
</script>`;
}

test('a page from an origin not on the allow-list cannot connect or read REST with the cookie', async (t) => {
  const tier = await new Tier('foreign-origin').start();
  t.after(() => tier.stop());
  await tier.post(broker.opening('demo'));
  const port = await freePort();
  const foreignOrigin = `http://127.0.0.1:${port}`;
  const server = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(foreignPage(tier.origin));
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  const b = await launch();
  t.after(() => b.close());

  // The demo signs in: the browser now holds the session cookie for 127.0.0.1.
  const demo = b.page;
  await demo.goto(`${tier.origin}/?login=dev`);
  await waitFor(async () => (await demo.getByTestId('position-row-AAPL').count()) === 1, { timeoutMs: 10000, what: 'the demo signed in', explain: () => describePage(demo) });
  const own = await demo.evaluate(async () => (await fetch('/api/positions', { credentials: 'include' })).status);
  assert.equal(own, 200, 'the demo origin reads REST with the cookie');

  const foreign = await b.context.newPage();
  // What went over the wire, from Chromium's network stack: the Cookie header is added there
  // (page-level request events do not show it).
  const cdp = await b.context.newCDPSession(foreign);
  await cdp.send('Network.enable');
  const wire = new Map();
  const entry = (id) => wire.get(id) ?? wire.set(id, { id }).get(id);
  cdp.on('Network.requestWillBeSent', (p) => (entry(p.requestId).url = p.request.url));
  cdp.on('Network.requestWillBeSentExtraInfo', (p) => {
    const e = entry(p.requestId);
    e.cookie = p.headers.Cookie ?? '';
    e.origin = p.headers.Origin ?? null;
    e.site = p.headers['Sec-Fetch-Site'];
  });
  cdp.on('Network.responseReceivedExtraInfo', (p) => (entry(p.requestId).status = p.statusCode));
  await foreign.goto(`${foreignOrigin}/`);
  const result = await waitFor(() => foreign.evaluate(() => window.__result), { timeoutMs: 15000, what: "the foreign page's attempts" });
  const api = await waitFor(
    () => {
      const list = [...wire.values()].filter((e) => e.url?.startsWith(`${tier.origin}/api/`));
      return list.length === 2 && list.every((e) => e.status !== undefined) && list;
    },
    { timeoutMs: 5000, what: 'both REST requests on the wire' },
  );
  note(t, `from ${foreignOrigin}: REST ${JSON.stringify(result.rest)}; opaque ${JSON.stringify(result.opaque)}; WebSocket ${result.ws.why} (opened: ${result.ws.opened})`);
  note(t, `on the wire: ${JSON.stringify(api.map((e) => ({ status: e.status, cookie: e.cookie.replace(/=.*/, '=…'), origin: e.origin, site: e.site })))}`);

  // The browser sent the cookie (same site) and the edge refused it, with or without an Origin.
  for (const e of api) {
    assert.match(e.cookie, /^ts_session=/, `the request carried the session cookie (${JSON.stringify(e)})`);
    assert.equal(e.status, 403, `the edge refuses the cookie from ${foreignOrigin} (${JSON.stringify(e)})`);
  }
  assert.ok(result.rest.error, 'the page cannot read the answer (no CORS grant)');
  assert.equal(result.opaque.type, 'opaque');
  assert.equal(result.opaque.body, '', 'an opaque answer reads as nothing');
  const privateFrames = (frames) => frames.filter((f) => /"(position_update|order_update|account_update|trade_executed|snapshot|subscribed)"/.test(f));
  assert.equal(result.ws.opened, false, `the upgrade with the cookie from a foreign origin is refused (${result.ws.why}; frames ${JSON.stringify(result.ws.frames)})`);
  assert.deepEqual(privateFrames(result.ws.frames), []);

  // Without the cookie the same upgrade opens (in-band auth is on: a connection may authenticate
  // with a token), so the refusal above was the cookie's; and it gets nothing private.
  await b.context.clearCookies();
  await foreign.reload();
  const bare = await waitFor(() => foreign.evaluate(() => window.__result), { timeoutMs: 15000, what: "the foreign page's attempts without the cookie" });
  note(t, `without the cookie: WebSocket ${bare.ws.why} (opened: ${bare.ws.opened}), frames ${JSON.stringify(bare.ws.frames.map((f) => JSON.parse(f).code ?? JSON.parse(f).type))}`);
  assert.equal(bare.ws.opened, true);
  assert.deepEqual(privateFrames(bare.ws.frames), [], 'no private frame reached the foreign page');
  assert.ok(bare.ws.frames.some((f) => JSON.parse(f).code === 'auth_required'));
  assertFramesValid(t, b.frames);
});
