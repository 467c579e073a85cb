import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ALL, accept, connected, harness } from './harness.js';
import { settle } from './support.js';

describe('connection states', () => {
  it('connecting → connected; pings first (latency, node from the pong), then subscribes', async () => {
    const h = harness({ channels: ALL, symbols: ['aapl'] });
    assert.equal(h.client.state, 'offline');
    h.client.connect();
    assert.equal(h.client.state, 'connecting');
    await settle();
    const ws = h.sockets.last;
    assert.equal(ws.url, 'ws://edge.test/ws');
    ws.open();
    assert.equal(h.client.state, 'connected');
    const [ping, sub] = ws.messages();
    assert.equal(ping?.type, 'ping');
    assert.deepEqual(sub, { type: 'subscribe', symbols: ['AAPL'], channels: ALL });
    await h.clock.advance(42);
    ws.pong('edge-7');
    const status = h.client.getStatus();
    assert.equal(status.latencyMs, 42);
    assert.equal(status.node, 'edge-7');
    assert.deepEqual(h.states, ['connecting', 'connected']);
  });

  it('close() stops: offline "closed", the socket closed with 1000, no retry', async () => {
    const h = harness({ channels: ALL });
    const ws = await connected(h);
    h.client.close();
    assert.equal(h.client.state, 'offline');
    assert.equal(h.client.getStatus().reason, 'closed');
    assert.equal(ws.closed()?.code, 1000);
    await h.clock.advance(120_000);
    assert.equal(h.sockets.count, 1);
    assert.equal(h.network.count('offline'), 0, 'network listeners removed');
  });
});

describe('close codes (PROTOCOL.md table)', () => {
  // After a stable connection (5 s) the first retry waits random × 1 s = 500 ms here.
  async function stableThenClose(code: number, options = {}) {
    const h = harness({ channels: ALL, ...options });
    const ws = await connected(h);
    await h.clock.advance(5_000);
    ws.serverClose(code);
    await settle();
    return h;
  }

  for (const code of [1001]) {
    it(`${code}: reconnect now`, async () => {
      const h = await stableThenClose(code);
      assert.equal(h.client.state, 'reconnecting');
      assert.equal(h.client.getStatus().reason, 'draining');
      await h.clock.advance(0);
      assert.equal(h.sockets.count, 2);
    });
  }

  for (const code of [1006, 4008, 1011, 1000]) {
    it(`${code}: back off (full jitter, 500 ms at random 0.5)`, async () => {
      const h = await stableThenClose(code);
      assert.equal(h.client.state, 'reconnecting');
      await h.clock.advance(499);
      assert.equal(h.sockets.count, 1);
      await h.clock.advance(1);
      assert.equal(h.sockets.count, 2);
    });
  }

  for (const [code, reason] of [
    [1002, 'protocol_error'],
    [1008, 'rate_limited'],
    [1009, 'message_too_big'],
  ] as const) {
    it(`${code}: do not retry (offline, ${reason})`, async () => {
      const h = await stableThenClose(code);
      assert.equal(h.client.state, 'offline');
      assert.equal(h.client.getStatus().reason, reason);
      await h.clock.advance(600_000);
      assert.equal(h.sockets.count, 1);
    });
  }

  for (const code of [4001, 4003, 4010]) {
    it(`${code}: without a way to get a credential, do not retry`, async () => {
      const h = await stableThenClose(code);
      assert.equal(h.client.state, 'offline');
      assert.equal(h.client.getStatus().reason, 'unauthorized');
      await h.clock.advance(600_000);
      assert.equal(h.sockets.count, 1);
    });

    it(`${code}: with getToken, a fresh token is asked for and the old one never reused`, async () => {
      const asked: string[] = [];
      let n = 0;
      const h = await stableThenClose(code, {
        getToken: ({ reason }: { reason: string }) => {
          asked.push(reason);
          return `t${++n}`;
        },
      });
      await h.clock.advance(500);
      assert.equal(h.sockets.count, 2);
      assert.equal(asked[1], code === 4001 ? 'token_expired' : code === 4003 ? 'authentication_failed' : 'revoked');
      h.sockets.last.open();
      assert.deepEqual(h.sockets.last.messages()[0], { type: 'auth', token: 't2' });
    });

    it(`${code}: with onAuthRequired (cookies), reconnect at once after a successful login`, async () => {
      const calls: string[] = [];
      const h = await stableThenClose(code, {
        onAuthRequired: async ({ reason }: { reason: string }) => {
          calls.push(reason);
          return true;
        },
      });
      await h.clock.advance(0);
      assert.equal(calls.length, 1);
      assert.equal(h.sockets.count, 2);
    });
  }

  it('getToken returning the token just refused: stop', async () => {
    const h = await stableThenClose(4003, { getToken: () => 'same' });
    await h.clock.advance(60_000);
    assert.equal(h.client.state, 'offline');
    assert.equal(h.client.getStatus().reason, 'unauthorized');
    assert.equal(h.sockets.count, 1);
  });

  it('4009: wait for a connection slot (at least the 30 s lease TTL)', async () => {
    const h = await stableThenClose(4009);
    assert.equal(h.client.state, 'reconnecting');
    await h.clock.advance(29_999);
    assert.equal(h.sockets.count, 1);
    await h.clock.advance(1);
    assert.equal(h.sockets.count, 2);
  });
});

describe('backoff across attempts', () => {
  it('grows 0.5, 1, 2, 4, 8, 15, 15 s (random 0.5) while attempts fail, and resets after a stable connection', async () => {
    const h = harness({ channels: ALL });
    h.client.connect();
    await settle();
    const delays: number[] = [];
    let last = h.clock.now();
    for (let i = 0; i < 7; i++) {
      h.sockets.last.serverClose(1006);
      const before = h.sockets.count;
      while (h.sockets.count === before) await h.clock.advance(250);
      delays.push(h.clock.now() - last);
      last = h.clock.now();
    }
    // Steps of 250 ms round each delay up to the next step.
    assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 15000, 15000]);
    assert.equal(h.client.getStatus().failures, 7);
    // Up for 5 s: stable. The next drop starts over.
    await accept(h);
    await h.clock.advance(5_000);
    assert.equal(h.client.getStatus().failures, 0);
    h.sockets.last.serverClose(1006);
    await h.clock.advance(499);
    assert.equal(h.sockets.count, 8);
    await h.clock.advance(1);
    assert.equal(h.sockets.count, 9);
  });

  it('a connection that drops before it is stable does not reset the backoff', async () => {
    const h = harness({ channels: ALL });
    h.client.connect();
    await settle();
    h.sockets.last.serverClose(1006); // retry 0: 500 ms
    await h.clock.advance(500);
    h.sockets.last.serverClose(1006); // retry 1: 1 s
    await h.clock.advance(1000);
    await accept(h);
    await h.clock.advance(1000); // up 1 s only
    h.sockets.last.serverClose(1006); // retry 2: 2 s
    await h.clock.advance(1999);
    assert.equal(h.sockets.count, 3);
    await h.clock.advance(1);
    assert.equal(h.sockets.count, 4);
  });

  it('a socket that never opens times out after connectTimeoutMs and counts as a failure', async () => {
    const h = harness({ channels: ALL, connectTimeoutMs: 3000 });
    h.client.connect();
    await h.clock.advance(2999);
    assert.equal(h.sockets.last.closed(), null);
    await h.clock.advance(1);
    assert.equal(h.sockets.last.closed()?.code, 1000);
    assert.equal(h.client.state, 'connecting');
    await h.clock.advance(500);
    assert.equal(h.sockets.count, 2);
  });
});

describe('drain hint', () => {
  it('reconnects when delay_ms has passed, even without the 1001', async () => {
    const h = harness({ channels: ALL });
    const ws = await connected(h);
    await h.clock.advance(6_000);
    ws.receive({ type: 'reconnect', reason: 'draining', delay_ms: 7400 });
    await h.clock.advance(7399);
    assert.equal(h.sockets.count, 1);
    await h.clock.advance(1);
    assert.equal(ws.closed()?.reason, 'draining');
    assert.equal(h.sockets.count, 2);
    await accept(h);
    assert.equal(h.client.state, 'connected');
  });

  it('the 1001 that follows the hint reconnects at once', async () => {
    const h = harness({ channels: ALL });
    const ws = await connected(h);
    await h.clock.advance(6_000);
    ws.receive({ type: 'reconnect', reason: 'draining', delay_ms: 7400 });
    await h.clock.advance(100);
    ws.serverClose(1001);
    await h.clock.advance(0);
    assert.equal(h.sockets.count, 2);
    await h.clock.advance(10_000);
    assert.equal(h.sockets.count, 2, 'the hint timer died with its socket');
  });
});

describe('browser offline/online', () => {
  it('offline drops the link and pauses attempts; online reconnects at once', async () => {
    const h = harness({ channels: ALL });
    const ws = await connected(h);
    h.network.fire('offline');
    assert.equal(h.client.state, 'offline');
    assert.equal(h.client.getStatus().reason, 'network');
    assert.notEqual(ws.closed(), null);
    await h.clock.advance(300_000);
    assert.equal(h.sockets.count, 1, 'no attempts while offline');
    h.network.fire('online');
    assert.equal(h.client.state, 'reconnecting');
    await settle();
    assert.equal(h.sockets.count, 2);
    await accept(h);
    assert.equal(h.client.state, 'connected');
  });
});

describe('dead-link detection', () => {
  it('a link with no frame for deadAfterMs is closed and retried', async () => {
    const h = harness({ channels: ALL, deadAfterMs: 25_000, pingIntervalMs: 10_000 });
    const ws = await connected(h);
    await h.clock.advance(24_999);
    assert.equal(ws.closed(), null);
    assert.equal(ws.messagesOfType('ping').length, 3, 'pings at 0, 10 and 20 s');
    await h.clock.advance(1);
    assert.equal(ws.closed()?.reason, 'no_traffic');
    assert.equal(h.client.state, 'reconnecting');
    assert.equal(h.client.getStatus().reason, 'no_traffic');
  });

  it('a healthy link (pongs answering pings) stays up', async () => {
    const h = harness({ channels: ALL, deadAfterMs: 25_000, pingIntervalMs: 10_000 });
    const ws = await connected(h);
    for (let i = 0; i < 20; i++) {
      await h.clock.advance(10_000);
      ws.pong();
    }
    assert.equal(ws.closed(), null);
    assert.equal(h.client.state, 'connected');
    assert.ok(ws.messagesOfType('ping').length >= 20);
  });
});

describe('authentication in-band and token refresh', () => {
  it('auth_required on a cookie connection (no cookie reached the edge): onAuthRequired, then a new connection at once', async () => {
    let logins = 0;
    const h = harness({ channels: ALL, onAuthRequired: () => (++logins, true) });
    h.client.connect();
    await settle();
    const ws = h.sockets.last;
    ws.open();
    ws.receive({ type: 'error', code: 'auth_required', message: 'authenticate first' });
    await settle();
    assert.ok(ws.closed(), 'the socket without a credential is dropped');
    assert.equal(logins, 1);
    await h.clock.advance(0);
    assert.equal(h.sockets.count, 2);
    assert.equal(h.client.getStatus().lastError?.code, 'auth_required');
  });

  it('auth_required with no way to authenticate: offline unauthorized, not 5 s later at the edge deadline', async () => {
    const h = harness({ channels: ALL });
    const ws = await connected(h);
    ws.receive({ type: 'error', code: 'auth_required', message: 'authenticate first' });
    await settle();
    assert.equal(h.client.state, 'offline');
    assert.equal(h.client.getStatus().reason, 'unauthorized');
  });

  it('sends auth first, is connected on `authenticated`, refreshes on token_expiring', async () => {
    const reasons: string[] = [];
    let n = 0;
    const h = harness({
      channels: ALL,
      getToken: async ({ reason }) => {
        reasons.push(reason);
        return `jwt-${++n}`;
      },
    });
    const refreshed = h.events('refreshed');
    h.client.connect();
    await settle();
    const ws = h.sockets.last;
    ws.open();
    assert.deepEqual(ws.messages(), [{ type: 'auth', token: 'jwt-1' }]);
    assert.equal(h.client.state, 'connecting', 'not connected before the edge answers');
    ws.receive({ type: 'authenticated', user_id: 'u-42', expires_at_s: 1795188600, node: 'edge-1' });
    assert.equal(h.client.state, 'connected');
    assert.equal(h.client.getStatus().userId, 'u-42');
    assert.equal(h.client.getStatus().node, 'edge-1');
    assert.equal(ws.messagesOfType('subscribe').length, 1);
    ws.receive({ type: 'token_expiring', expires_at: '2026-11-20T15:30:00.000000Z', expires_at_s: 1795188600 });
    await settle();
    assert.deepEqual(reasons, ['connect', 'expiring']);
    assert.deepEqual(ws.messagesOfType('refresh'), [{ type: 'refresh', token: 'jwt-2' }]);
    ws.receive({ type: 'refreshed', expires_at: '2026-11-20T16:30:00.000000Z', expires_at_s: 1795192200 });
    assert.equal(refreshed.length, 1);
    assert.equal(h.client.state, 'connected');
    assert.equal(ws.closed(), null);
  });

  it('a refused token (error, then 4003) asks for another one', async () => {
    const reasons: string[] = [];
    const h = harness({ channels: ALL, getToken: ({ reason }) => (reasons.push(reason), `t-${reasons.length}`) });
    h.client.connect();
    await settle();
    const ws = h.sockets.last;
    ws.open();
    ws.receive({ type: 'error', code: 'expired', message: 'token expired' });
    ws.serverClose(4003);
    await h.clock.advance(500);
    assert.deepEqual(reasons, ['connect', 'authentication_failed']);
    h.sockets.last.open();
    assert.deepEqual(h.sockets.last.messages()[0], { type: 'auth', token: 't-2' });
  });

  it('no `authenticated` within authTimeoutMs: close and retry', async () => {
    const h = harness({ channels: ALL, getToken: () => 'tok', authTimeoutMs: 4000 });
    h.client.connect();
    await settle();
    h.sockets.last.open();
    await h.clock.advance(4000);
    assert.equal(h.sockets.last.closed()?.reason, 'auth_timeout');
    await h.clock.advance(500);
    assert.equal(h.sockets.count, 2);
  });

  it('an edge that does not know `auth` (unknown_type) is used with what the upgrade carried', async () => {
    const h = harness({ channels: ALL, getToken: () => 'tok' });
    h.client.connect();
    await settle();
    const ws = h.sockets.last;
    ws.open();
    ws.receive({ type: 'error', code: 'unknown_type', message: "unknown message type 'auth'" });
    assert.equal(h.client.state, 'connected');
    assert.equal(ws.messagesOfType('subscribe').length, 1);
  });

  it('query transport puts the token in the URL and sends no auth message', async () => {
    const h = harness({ channels: ALL, getToken: () => 'a b', tokenTransport: 'query' });
    h.client.connect();
    await settle();
    assert.equal(h.sockets.last.url, 'ws://edge.test/ws?token=a%20b');
    h.sockets.last.open();
    assert.equal(h.client.state, 'connected');
    assert.equal(h.sockets.last.messagesOfType('auth').length, 0);
  });

  it('REST requests carry the token as a bearer', async () => {
    const h = harness({ channels: ALL, getToken: () => 'tok-9' });
    h.client.connect();
    await settle();
    h.fetch.handler = () => ({ status: 200, body: { type: 'snapshot', seq: 1, positions: [] } });
    await h.client.rest.positions();
    assert.equal(h.fetch.calls[0]?.init.headers.Authorization, 'Bearer tok-9');
  });
});

describe('why an upgrade failed (REST probe)', () => {
  function refusedHarness(status: number, extra = {}) {
    const h = harness({ channels: ALL, symbols: ['AAPL'], probeRefusals: true, ...extra });
    h.fetch.handler = () => ({
      status,
      body: { type: 'error', code: status === 401 ? 'missing_credentials' : 'x', message: 'm' },
      headers: status === 503 ? { 'Retry-After': '3' } : ({} as Record<string, string>),
    });
    return h;
  }

  it('401 → onAuthRequired (e.g. a login), then reconnect at once', async () => {
    let logins = 0;
    const h = refusedHarness(401, { onAuthRequired: () => (++logins, true) });
    h.client.connect();
    await settle();
    h.sockets.last.serverClose(1006);
    await settle();
    assert.deepEqual(h.fetch.paths(), ['/api/prices?symbols=AAPL']);
    await h.clock.advance(0);
    assert.equal(logins, 1);
    assert.equal(h.sockets.count, 2);
  });

  it('401 with no way to authenticate → offline unauthorized', async () => {
    const h = refusedHarness(401);
    h.client.connect();
    await settle();
    h.sockets.last.serverClose(1006);
    await settle();
    assert.equal(h.client.state, 'offline');
    assert.equal(h.client.getStatus().reason, 'unauthorized');
    assert.equal(h.client.getStatus().lastError?.code, 'missing_credentials');
  });

  it('403 → offline forbidden_origin', async () => {
    const h = refusedHarness(403);
    h.client.connect();
    await settle();
    h.sockets.last.serverClose(1006);
    await settle();
    assert.equal(h.client.state, 'offline');
    assert.equal(h.client.getStatus().reason, 'forbidden_origin');
  });

  it('503 with Retry-After: 3 → back off at least 3 s', async () => {
    const h = refusedHarness(503);
    h.client.connect();
    await settle();
    h.sockets.last.serverClose(1006);
    await h.clock.advance(2999);
    assert.equal(h.sockets.count, 1);
    await h.clock.advance(1);
    assert.equal(h.sockets.count, 2);
  });

  it('REST answering fine means a network failure: back off, probing once per run of failures', async () => {
    const h = refusedHarness(200);
    h.client.connect();
    await settle();
    h.sockets.last.serverClose(1006);
    await h.clock.advance(500);
    assert.equal(h.sockets.count, 2);
    h.sockets.last.serverClose(1006);
    await h.clock.advance(1000);
    assert.equal(h.sockets.count, 3);
    assert.equal(h.fetch.calls.length, 1);
    // Once connected, the next run of failures probes again.
    await accept(h, { symbols: ['AAPL'] });
    await h.clock.advance(6_000);
    h.sockets.last.serverClose(1006);
    await h.clock.advance(500);
    h.sockets.last.serverClose(1006);
    await settle();
    assert.equal(h.fetch.calls.length, 2);
  });
});
