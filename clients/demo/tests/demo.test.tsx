import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';

import { TickstreamClient, type FetchInit, type FetchLike, type WebSocketLike } from '@tickstream/client';
import { TickstreamProvider } from '@tickstream/react';
import TestRenderer, { act, type ReactTestInstance } from 'react-test-renderer';

import { App } from '../src/App.js';
import { PnlValue } from '../src/components.js';
import { demoConfig } from '../src/config.js';
import { ago, direction, signed } from '../src/format.js';
import { createDemoSession } from '../src/session.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const settle = () => new Promise<void>((r) => setImmediate(r));
const TS = '2026-11-20T14:30:00.000000Z';

class Socket implements WebSocketLike {
  static all: Socket[] = [];
  onopen: ((e: unknown) => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  sent: { type: string; [k: string]: unknown }[] = [];
  constructor(readonly url: string) {
    Socket.all.push(this);
  }
  send(d: string): void {
    this.sent.push(JSON.parse(d));
  }
  close(): void {}
  receive(m: unknown): void {
    this.onmessage?.({ data: typeof m === 'string' ? m : JSON.stringify(m) });
  }
}
const lastSocket = (): Socket => {
  const s = Socket.all.at(-1);
  if (!s) throw new Error('no socket');
  return s;
};

function fakeFetch(answer: (url: string, init: FetchInit) => { status: number; body?: unknown }) {
  const calls: { url: string; init: FetchInit }[] = [];
  const f: FetchLike = async (url, init) => {
    calls.push({ url, init });
    const a = answer(url, init);
    return { status: a.status, ok: a.status < 300, headers: { get: () => null }, text: async () => JSON.stringify(a.body ?? {}) };
  };
  return { fetch: f, calls };
}

/** Timers that run only when told. */
class Clock {
  t = 0;
  private n = 0;
  private readonly pending = new Map<number, { at: number; cb: () => void }>();
  now = (): number => this.t;
  setTimeout = (cb: () => void, ms: number): unknown => {
    this.pending.set(++this.n, { at: this.t + ms, cb });
    return this.n;
  };
  clearTimeout = (h: unknown): void => {
    this.pending.delete(h as number);
  };
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.pending].filter(([, v]) => v.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.t = due[1].at;
      due[1].cb();
    }
    this.t = end;
  }
}

const page = { protocol: 'http:', host: 'demo.test:8080', search: '' };

describe('demo configuration', () => {
  it('connects to the page origin, with the watchlist and knobs from the URL', () => {
    const c = demoConfig({ protocol: 'https:', host: 'x.example', search: '?symbols=aapl,msft&login=dev&retries=2&cap_ms=2000&poll_ms=1000' });
    assert.equal(c.streamUrl, 'wss://x.example/ws');
    assert.equal(c.restUrl, 'https://x.example');
    assert.deepEqual(c.symbols, ['AAPL', 'MSFT']);
    assert.equal(c.devLogin, true);
    assert.equal(c.maxReconnectAttempts, 2);
    assert.deepEqual(c.backoff, { capMs: 2000 });
    assert.equal(c.backupPollMs, 1000);
    assert.equal(demoConfig(page).devLogin, false);
  });

  it('formats: ago, signed, direction', () => {
    assert.equal(ago(1000, 1500), 'just now');
    assert.equal(ago(1000, 13_000), '12s ago');
    assert.equal(ago(0, 180_000), '3m ago');
    assert.equal(signed('19.7'), '+19.70');
    assert.equal(signed('-120.555'), '-120.56');
    assert.equal(signed('0'), '0.00');
    assert.equal(direction('6.00', '19.70'), 'up');
    assert.equal(direction('19.70', '19.7'), null);
    assert.equal(direction(undefined, '1'), null);
  });
});

describe('demo sign-in', () => {
  it('?login=dev posts the development login before connecting', async () => {
    Socket.all = [];
    const f = fakeFetch(() => ({ status: 200, body: { user_id: 'demo', expires_at_s: 1 } }));
    const s = createDemoSession(demoConfig({ ...page, search: '?login=dev' }), { fetch: f.fetch, WebSocket: Socket });
    await s.start();
    assert.equal(f.calls[0]?.url, 'http://demo.test:8080/api/dev/login');
    assert.equal(f.calls[0]?.init.method, 'POST');
    assert.equal(f.calls[0]?.init.credentials, 'include');
    assert.equal(f.calls[0]?.init.body, '{"user":"demo"}');
    assert.equal(Socket.all.length, 1);
    assert.equal(s.getSignIn().kind, 'signed_in');
    s.client.close();
  });

  it('an upgrade refused with 401 tries the development login once, then reconnects', async () => {
    Socket.all = [];
    const f = fakeFetch((url) => (url.includes('/api/dev/login') ? { status: 200, body: { user_id: 'demo' } } : { status: 401, body: { type: 'error', code: 'missing_credentials', message: 'm' } }));
    const s = createDemoSession(demoConfig(page), { fetch: f.fetch, WebSocket: Socket });
    await s.start();
    lastSocket().onclose?.({ code: 1006 });
    for (let i = 0; i < 5; i++) await settle();
    assert.ok(f.calls.some((c) => c.url.endsWith('/api/dev/login')));
    assert.equal(s.getSignIn().kind, 'signed_in');
    assert.equal(Socket.all.length, 2, 'reconnected with the cookie');
    s.client.close();
  });

  it('a connection without the cookie (auth_required, e.g. the session expired): logs in again and reconnects', async () => {
    Socket.all = [];
    const f = fakeFetch(() => ({ status: 200, body: { user_id: 'demo', expires_at_s: 1 } }));
    const s = createDemoSession(demoConfig({ ...page, search: '?login=dev' }), { fetch: f.fetch, WebSocket: Socket });
    await s.start();
    const first = lastSocket();
    first.onopen?.({});
    first.receive({ type: 'error', code: 'auth_required', message: 'authenticate first' });
    for (let i = 0; i < 5; i++) await settle();
    assert.equal(f.calls.filter((c) => c.url.endsWith('/api/dev/login')).length, 2);
    assert.equal(Socket.all.length, 2, 'a second connection, with the cookie');
    assert.equal(s.getSignIn().kind, 'signed_in');
    assert.deepEqual(s.client.subscriptions().channels.sort(), ['account', 'orders', 'positions', 'trades']);
    s.client.close();
  });

  it('development login off (404): "not signed in" and public data only', async () => {
    Socket.all = [];
    const f = fakeFetch((url) => (url.includes('/api/dev/login') ? { status: 404 } : { status: 200, body: { type: 'snapshot', prices: [] } }));
    const s = createDemoSession(demoConfig({ ...page, search: '?symbols=AAPL' }), { fetch: f.fetch, WebSocket: Socket });
    await s.start();
    const ws = lastSocket();
    ws.onopen?.({});
    ws.receive({
      type: 'subscribed',
      symbols: ['AAPL'],
      channels: [],
      rejected: ['positions', 'orders', 'account', 'trades'].map((name) => ({ name, code: 'unauthenticated', reason: 'r' })),
      batch_ms: 250,
    });
    for (let i = 0; i < 5; i++) await settle();
    assert.equal(s.getSignIn().kind, 'signed_out');
    assert.deepEqual(s.client.subscriptions().channels, []);
    assert.deepEqual(ws.sent.filter((m) => m.type === 'unsubscribe').at(-1), { type: 'unsubscribe', channels: ['positions', 'orders', 'account', 'trades'] });
    s.client.close();
  });
});

function byTestId(root: ReactTestInstance, id: string): ReactTestInstance {
  return root.find((n) => n.props['data-testid'] === id && typeof n.type === 'string');
}
function text(n: ReactTestInstance): string {
  return n.children.map((c) => (typeof c === 'string' ? c : text(c))).join('');
}

describe('demo dashboard', () => {
  it('shows the badge, latency, node, prices, positions with P&L, account, stale banner and the backup notice', async () => {
    Socket.all = [];
    const f = fakeFetch(() => ({ status: 200, body: { type: 'snapshot', seq: 9, positions: [], orders: [], account: null } }));
    const clock = new Clock();
    const s = createDemoSession(demoConfig({ ...page, search: '?symbols=AAPL,MSFT&retries=1' }), { fetch: f.fetch, WebSocket: Socket, timers: clock, random: () => 0.5 });
    let r: TestRenderer.ReactTestRenderer | undefined;
    await act(async () => {
      r = TestRenderer.create(
        <TickstreamProvider client={s.client}>
          <App session={s} symbols={['AAPL', 'MSFT']} />
        </TickstreamProvider>,
      );
      await s.start();
      await settle();
    });
    const root = (r as TestRenderer.ReactTestRenderer).root;
    const ws = lastSocket();
    await act(async () => {
      ws.onopen?.({});
      const ping = ws.sent.find((m) => m.type === 'ping');
      ws.receive({ type: 'pong', id: ping?.id, server_time: TS, server_time_us: 1, node: 'edge-2' });
      ws.receive({ type: 'subscribed', symbols: ['AAPL', 'MSFT'], channels: ['positions', 'orders', 'account', 'trades'], rejected: [], batch_ms: 250 });
      ws.receive(
        `{"type":"snapshot","seq":8,"positions":[{"type":"position_update","userId":"demo","seq":8,"timestamp":"${TS}","data":{"symbol":"AAPL","quantity":"10","entryPrice":"189.4","side":"long","currentPrice":"190.00","marketValue":"1900.00","unrealizedPnl":"6.00","unrealizedPnlPercent":"0.32"},"recv_us":1795463641295707,"source":"alpaca-trading"}],` +
          `"orders":[],"account":{"type":"account_update","userId":"demo","seq":1,"timestamp":"${TS}","data":{"equity":"101900.00","buyingPower":"200000.00","cash":"100000.00","portfolioValue":"101900.00","dayPnl":"-120.55","dayPnlPercent":"-0.12"},"recv_us":1795463641295707,"source":"webhook"},` +
          `"prices":[{"type":"price_update","symbol":"AAPL","price":190.00,"timestamp":"${TS}","recv_us":1795463641295707,"source":"finnhub"}]}`,
      );
      await settle();
    });
    assert.equal(text(byTestId(root, 'connection-badge')), 'LIVE');
    assert.equal(byTestId(root, 'connection-badge').props['data-state'], 'connected');
    assert.match(text(byTestId(root, 'latency')), /^\d+ ms$/);
    assert.equal(text(byTestId(root, 'node')), 'edge-2');
    assert.equal(text(byTestId(root, 'price-AAPL')), '190.00', 'the digits as sent');
    assert.equal(text(byTestId(root, 'price-MSFT')), '—');
    byTestId(root, 'position-row-AAPL');
    assert.equal(text(byTestId(root, 'position-pnl-AAPL')), '+6.00');
    assert.equal(text(byTestId(root, 'equity')), '101,900.00');
    assert.equal(text(byTestId(root, 'day-pnl')), '-120.55');
    assert.equal(text(byTestId(root, 'signin-status')), 'Signed in as demo');

    await act(async () => {
      ws.receive({ type: 'stale', source: 'finnhub', since: '2026-11-23T19:55:10.200000Z', since_us: 1795463710200000 });
      await settle();
    });
    assert.match(text(byTestId(root, 'stale-banner')), /finnhub \(since 19:55:10 UTC\)/);
    await act(async () => {
      ws.receive({ type: 'fresh', source: 'finnhub' });
      await settle();
    });
    assert.equal(root.findAll((n) => n.props['data-testid'] === 'stale-banner').length, 0);

    // Two failures with retries=1: backup, REST polled, the notice shown.
    await act(async () => {
      ws.onclose?.({ code: 1006 });
      await settle();
    });
    assert.equal(text(byTestId(root, 'connection-badge')), 'RECONNECTING');
    await act(async () => {
      clock.advance(500);
      await settle();
    });
    await act(async () => {
      lastSocket().onclose?.({ code: 1006 });
      await settle();
      await settle();
    });
    assert.equal(text(byTestId(root, 'connection-badge')), 'BACKUP');
    assert.match(text(byTestId(root, 'backup-notice')), /^Using backup connection/);
    s.client.close();
    r?.unmount();
  });

  it('P&L flashes for 500 ms in the direction it moved', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      let r: TestRenderer.ReactTestRenderer | undefined;
      await act(async () => {
        r = TestRenderer.create(<PnlValue value="6.00" testId="pnl" />);
      });
      const node = () => (r as TestRenderer.ReactTestRenderer).root.find((n) => n.props['data-testid'] === 'pnl');
      assert.equal(node().props['data-flash'], 'none');
      await act(async () => r?.update(<PnlValue value="19.70" testId="pnl" />));
      assert.equal(node().props['data-flash'], 'up');
      assert.match(node().props.className as string, /flash-up/);
      await act(async () => mock.timers.tick(499));
      assert.equal(node().props['data-flash'], 'up');
      await act(async () => mock.timers.tick(1));
      assert.equal(node().props['data-flash'], 'none');
      await act(async () => r?.update(<PnlValue value="-1.00" testId="pnl" />));
      assert.equal(node().props['data-flash'], 'down');
      await act(async () => r?.update(<PnlValue value="-1.0" testId="pnl" />));
      assert.equal(node().props['data-flash'], 'down', 'an equal value does not restart or clear it');
      r?.unmount();
    } finally {
      mock.timers.reset();
    }
  });
});

describe('the built bundle', () => {
  it('dist/ has index.html referencing app.js and app.css, and the CSS keeps colour without motion under reduced motion', async () => {
    const { readFileSync } = await import('node:fs');
    const dist = new URL('../../dist/', import.meta.url);
    const html = readFileSync(new URL('index.html', dist), 'utf8');
    assert.match(html, /src="\.\/app\.js"/);
    assert.match(html, /href="\.\/app\.css"/);
    const css = readFileSync(new URL('app.css', dist), 'utf8');
    assert.match(css, /prefers-reduced-motion:\s*reduce/);
    assert.match(css, /animation:\s*none\s*!important/);
    assert.match(css, /\.flash-up\{background-color:var\(--pos-flash\)/);
    assert.ok(readFileSync(new URL('app.js', dist)).length > 10_000);
    void TickstreamClient;
  });
});
