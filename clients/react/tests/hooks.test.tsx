import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { StrictMode, type ReactNode } from 'react';
import TestRenderer, { act } from 'react-test-renderer';

import {
  TickstreamProvider,
  bindQueryClient,
  useConnectionStatus,
  usePortfolioStream,
  usePortfolioWebSocket,
  useRealtimeAccount,
  useRealtimeOrders,
  useRealtimePositions,
  useTickstreamEvent,
  useWebSocket,
  type QueryClientLike,
} from '../src/index.js';
import { account, fakeClient, order, position, settle, tick } from './fakes.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

/** Renders a hook inside a provider; `result()` is its latest return value. */
async function renderHook<T>(hook: () => T, wrap: (children: ReactNode) => ReactNode) {
  let value: T | undefined;
  let renders = 0;
  function Probe(): null {
    value = hook();
    renders++;
    return null;
  }
  let renderer: TestRenderer.ReactTestRenderer | undefined;
  await act(async () => {
    renderer = TestRenderer.create(<>{wrap(<Probe />)}</>);
    await settle();
  });
  return {
    result: () => value as T,
    renders: () => renders,
    unmount: async () => act(async () => {
      renderer?.unmount();
      await settle();
    }),
  };
}

async function step(fn: () => void = () => {}): Promise<void> {
  await act(async () => {
    fn();
    await settle();
  });
}

class RecordingQueryClient implements QueryClientLike {
  readonly data = new Map<string, unknown>();
  readonly writes: string[] = [];
  setQueryData(key: readonly unknown[], value: unknown): unknown {
    const k = JSON.stringify(key);
    this.writes.push(k);
    this.data.set(k, value);
    return value;
  }
}

describe('usePortfolioWebSocket / useWebSocket (price streams)', () => {
  it('returns { isConnected, priceUpdates, latency, subscribe, unsubscribe } and follows ticks', async () => {
    const f = fakeClient();
    const h = await renderHook(() => usePortfolioWebSocket('p-1', ['aapl', 'MSFT'], true), (c) => <TickstreamProvider client={f.client}>{c}</TickstreamProvider>);
    const ws = f.last();
    await step(() => ws.onopen?.({}));
    assert.equal(h.result().isConnected, true);
    assert.equal(h.result().connectionState, 'CONNECTED');
    assert.deepEqual(ws.sent.filter((m) => m.type === 'subscribe'), [{ type: 'subscribe', symbols: ['AAPL', 'MSFT'] }]);
    await step(() => {
      f.clock.advance(12);
      const ping = ws.sent.find((m) => m.type === 'ping');
      ws.receive({ type: 'pong', id: ping?.id, server_time: '2026-11-20T14:30:00.000000Z', server_time_us: 1, node: 'edge-1' });
      ws.receive(tick('AAPL', '190.00'));
    });
    const r = h.result();
    assert.equal(r.latency, 12);
    assert.equal(r.priceUpdates.get('AAPL')?.price, 190);
    assert.equal(r.priceUpdates.get('AAPL')?.exact.price, '190.00');
    assert.equal(r.priceUpdates.has('MSFT'), false);
    const before = r.priceUpdates;
    await step(() => ws.receive(tick('ZZZ', '1')));
    assert.equal(h.result().priceUpdates, before, 'a tick of another symbol does not change the map');
    await step(() => h.result().subscribe('nvda'));
    assert.deepEqual(ws.sent.filter((m) => m.type === 'subscribe').at(-1), { type: 'subscribe', symbols: ['NVDA'] });
    await step(() => h.result().unsubscribe(['MSFT']));
    assert.deepEqual(ws.sent.filter((m) => m.type === 'unsubscribe').at(-1), { type: 'unsubscribe', symbols: ['MSFT'] });
    await h.unmount();
    assert.deepEqual(ws.sent.filter((m) => m.type === 'unsubscribe').at(-1), { type: 'unsubscribe', symbols: ['AAPL', 'NVDA'] });
  });

  it('enabled=false subscribes nothing', async () => {
    const f = fakeClient();
    await renderHook(() => usePortfolioWebSocket(null, ['AAPL'], false), (c) => <TickstreamProvider client={f.client}>{c}</TickstreamProvider>);
    await step(() => f.last().onopen?.({}));
    assert.equal(f.last().sent.filter((m) => m.type === 'subscribe').length, 0);
  });

  it('useWebSocket(symbols, market) gives current_price as the seeds read it', async () => {
    const f = fakeClient();
    const h = await renderHook(() => useWebSocket(['RELIANCE'], 'india_nse'), (c) => <TickstreamProvider client={f.client}>{c}</TickstreamProvider>);
    await step(() => {
      f.last().onopen?.({});
      f.last().receive(tick('RELIANCE', '2950.5'));
    });
    assert.equal(h.result().priceUpdates.get('RELIANCE')?.current_price, 2950.5);
  });

  it('under StrictMode (mount, unmount, mount) subscribes once and sends no unsubscribe', async () => {
    const f = fakeClient();
    await renderHook(() => useWebSocket(['AAPL']), (c) => (
      <StrictMode>
        <TickstreamProvider client={f.client}>{c}</TickstreamProvider>
      </StrictMode>
    ));
    await step(() => f.last().onopen?.({}));
    const ws = f.last();
    assert.deepEqual(ws.sent.filter((m) => m.type === 'subscribe'), [{ type: 'subscribe', symbols: ['AAPL'] }]);
    assert.equal(ws.sent.filter((m) => m.type === 'unsubscribe').length, 0);
  });
});

describe('useConnectionStatus', () => {
  it('follows the state machine, with the seeds` isConnected/error fields', async () => {
    const f = fakeClient({ maxReconnectAttempts: 1 });
    const h = await renderHook(() => useConnectionStatus(), (c) => <TickstreamProvider client={f.client}>{c}</TickstreamProvider>);
    assert.equal(h.result().state, 'connecting');
    assert.equal(h.result().connectionStatus, 'connecting');
    await step(() => f.last().onopen?.({}));
    assert.equal(h.result().isConnected, true);
    await step(() => f.last().onclose?.({ code: 1006 }));
    assert.equal(h.result().isReconnecting, true);
    await step(() => f.clock.advance(500));
    await step(() => f.last().onclose?.({ code: 1006 }));
    assert.equal(h.result().isBackup, true);
    assert.equal(h.result().connectionStatus, 'disconnected');
    await step(() => f.clock.advance(30_000));
    await step(() => f.last().onclose?.({ code: 1002 }));
    assert.equal(h.result().isOffline, true);
    assert.equal(h.result().connectionStatus, 'error');
  });
});

describe('useRealtimePositions / Orders / Account and the query cache', () => {
  it('subscribes each channel, is loading until the snapshot, and writes the seeds` query keys', async () => {
    const f = fakeClient();
    const qc = new RecordingQueryClient();
    const h = await renderHook(
      () => ({ p: useRealtimePositions(), o: useRealtimeOrders(), a: useRealtimeAccount() }),
      (c) => (
        <TickstreamProvider client={f.client} queryClient={qc}>
          {c}
        </TickstreamProvider>
      ),
    );
    const ws = f.last();
    await step(() => ws.onopen?.({}));
    assert.deepEqual(ws.sent.filter((m) => m.type === 'subscribe'), [{ type: 'subscribe', channels: ['positions', 'orders', 'account'] }]);
    assert.equal(h.result().p.isLoading, true);
    await step(() => {
      ws.receive({ type: 'subscribed', symbols: [], channels: ['positions', 'orders', 'account'], rejected: [], batch_ms: 250 });
      ws.receive({ type: 'snapshot', seq: 3, positions: [position(2, 'MSFT', '1'), position(3, 'AAPL', '10')], orders: [order(1, 'o-1', 'new')], account: account(1, '100.00') });
    });
    const r = h.result();
    assert.equal(r.p.isLoading, false);
    assert.deepEqual(r.p.positions.map((p) => p.symbol), ['AAPL', 'MSFT']);
    assert.equal(r.o.byId.get('o-1')?.status, 'new');
    assert.equal(r.a.account?.equity, '100.00');
    assert.deepEqual((qc.data.get('["positions","trader"]') as { symbol: string }[]).map((p) => p.symbol), ['AAPL', 'MSFT']);
    assert.equal((qc.data.get('["account","trader"]') as { dayPnl: string }).dayPnl, '-1.50');

    const writesBefore = qc.writes.length;
    await step(() => ws.receive(position(0, 'AAPL', '10', '19.70')));
    assert.equal(h.result().p.bySymbol.get('AAPL')?.unrealizedPnl, '19.70', 'a mark updates P&L');
    assert.deepEqual(qc.writes.slice(writesBefore), ['["positions","trader"]'], 'only the changed section is written');
    await step(() => ws.receive(order(4, 'o-1', 'filled')));
    assert.equal(h.result().o.orders.length, 0);
    assert.deepEqual(qc.data.get('["orders","trader"]'), []);
  });

  it('bindQueryClient with a given user and keys', async () => {
    const f = fakeClient({ channels: ['positions'] });
    const qc = new RecordingQueryClient();
    const off = bindQueryClient(f.client, qc, { userId: 'u-1', keys: { positions: (u) => ['portfolio', u, 'positions'] } });
    f.client.connect();
    await settle();
    f.last().onopen?.({});
    f.last().receive({ type: 'snapshot', seq: 1, positions: [position(1, 'AAPL', '2')] });
    assert.ok(qc.data.has('["portfolio","u-1","positions"]'));
    off();
    f.last().receive(position(2, 'AAPL', '3'));
    assert.equal((qc.data.get('["portfolio","u-1","positions"]') as { quantity: string }[])[0]?.quantity, '2', 'unbound: no more writes');
  });
});

describe('usePortfolioStream', () => {
  it('holds all five channels and exposes the seeds` connectionStatus with the state', async () => {
    const f = fakeClient();
    const h = await renderHook(() => usePortfolioStream(), (c) => <TickstreamProvider client={f.client}>{c}</TickstreamProvider>);
    const ws = f.last();
    await step(() => ws.onopen?.({}));
    const subs = ws.sent.filter((m) => m.type === 'subscribe') as { channels: string[] }[];
    assert.equal(subs.length, 1);
    assert.deepEqual([...(subs[0]?.channels ?? [])].sort(), ['account', 'events', 'orders', 'positions', 'trades']);
    await step(() => {
      ws.receive({ type: 'snapshot', seq: 1, positions: [], orders: [], account: account(1, '5.00') });
      ws.receive({ type: 'trade_executed', userId: 'trader', seq: 2, timestamp: '2026-11-20T14:30:00.000000Z', data: { executionId: 'x', orderId: 'o', symbol: 'AAPL', side: 'buy', qty: '1', price: '1' }, recv_us: 1795185000064264, source: 's' });
    });
    const r = h.result();
    assert.equal(r.connectionStatus, 'connected');
    assert.equal(r.account?.equity, '5.00');
    assert.equal(r.trades[0]?.executionId, 'x');
    assert.equal(r.held, 2);
  });
});

describe('events and per-hook options', () => {
  it('useTickstreamEvent delivers raw events while mounted, with the latest handler', async () => {
    const f = fakeClient();
    const seen: string[] = [];
    let label = 'a';
    const h = await renderHook(
      () => useTickstreamEvent('event', (e) => seen.push(`${label}:${e.type}`)),
      (c) => <TickstreamProvider client={f.client}>{c}</TickstreamProvider>,
    );
    await step(() => {
      f.last().onopen?.({});
      f.last().receive({ type: 'batch', events: [JSON.parse(tick('AAPL', '1')), JSON.parse(tick('MSFT', '2'))] });
    });
    label = 'b';
    await step(() => f.last().receive(tick('AAPL', '3')));
    await h.unmount();
    f.last().receive(tick('AAPL', '4'));
    assert.deepEqual(seen, ['a:price_update', 'a:price_update', 'b:price_update']);
  });

  it('useRealtimePositions({ queryClient, userId }) writes its own key without a provider-level client', async () => {
    const f = fakeClient();
    const qc = new RecordingQueryClient();
    await renderHook(() => useRealtimePositions({ queryClient: qc, userId: 'u-7' }), (c) => <TickstreamProvider client={f.client}>{c}</TickstreamProvider>);
    await step(() => {
      f.last().onopen?.({});
      f.last().receive({ type: 'snapshot', seq: 1, positions: [position(1, 'AAPL', '2')] });
    });
    assert.deepEqual([...qc.data.keys()], ['["positions","u-7"]']);
  });

  it('usePortfolioStream subscribe/unsubscribe change the channels held', async () => {
    const f = fakeClient();
    const h = await renderHook(() => usePortfolioStream(['positions']), (c) => <TickstreamProvider client={f.client}>{c}</TickstreamProvider>);
    const ws = f.last();
    await step(() => ws.onopen?.({}));
    await step(() => h.result().subscribe(['orders']));
    assert.deepEqual(ws.sent.filter((m) => m.type === 'subscribe').at(-1), { type: 'subscribe', channels: ['orders'] });
    await step(() => h.result().unsubscribe(['positions']));
    assert.deepEqual(ws.sent.filter((m) => m.type === 'unsubscribe').at(-1), { type: 'unsubscribe', channels: ['positions'] });
    assert.deepEqual(f.client.subscriptions().channels, ['orders']);
  });
});

describe('TickstreamProvider', () => {
  it('with options it makes the client, connects on mount and closes on unmount', async () => {
    const f = fakeClient();
    const sockets = f.sockets;
    const ctor = class {
      onopen = null;
      onmessage = null;
      onclose = null;
      onerror = null;
      closed = false;
      constructor(readonly url: string) {
        sockets.push(this as never);
      }
      send(): void {}
      close(): void {
        this.closed = true;
      }
    };
    const h = await renderHook(() => useConnectionStatus(), (c) => (
      <TickstreamProvider options={{ url: 'ws://x.test/ws', WebSocket: ctor, network: null, timers: f.clock }}>{c}</TickstreamProvider>
    ));
    assert.equal(sockets.length, 1);
    assert.equal(h.result().state, 'connecting');
    await h.unmount();
    assert.equal((sockets[0] as unknown as { closed: boolean }).closed, true);
  });

  it('autoConnect={false}: the app connects its client when it is ready (after a sign-in)', async () => {
    const f = fakeClient();
    const h = await renderHook(() => useConnectionStatus(), (c) => (
      <TickstreamProvider client={f.client} autoConnect={false}>
        {c}
      </TickstreamProvider>
    ));
    assert.equal(f.sockets.length, 0, 'no connection on mount');
    assert.equal(h.result().state, 'offline');
    await act(async () => f.client.connect());
    assert.equal(f.sockets.length, 1);
    await h.unmount();
    f.client.close();
  });

  it('without a provider outside a browser, a hook says what is missing', async () => {
    const quiet = console.error;
    console.error = () => {};
    try {
      await assert.rejects(
        renderHook(() => useConnectionStatus(), (c) => c),
        /need a <TickstreamProvider>/,
      );
    } finally {
      console.error = quiet;
    }
  });
});
