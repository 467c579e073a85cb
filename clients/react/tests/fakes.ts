// Minimal fakes for driving a real TickstreamClient from hook tests.

import { TickstreamClient, type ClientOptions, type Timers, type WebSocketLike } from '@tickstream/client';

export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class FakeClock implements Timers {
  private t = 1_000_000;
  private id = 0;
  private readonly timers = new Map<number, { at: number; cb: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(cb: () => void, ms: number): unknown {
    this.timers.set(++this.id, { at: this.t + ms, cb });
    return this.id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; cb: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].cb();
    }
    this.t = end;
  }
}

export class FakeSocket implements WebSocketLike {
  onopen: ((e: unknown) => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  readonly sent: Record<string, unknown>[] = [];
  closed = false;
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(): void {
    this.closed = true;
  }
  receive(msg: unknown): void {
    this.onmessage?.({ data: typeof msg === 'string' ? msg : JSON.stringify(msg) });
  }
}

export function fakeClient(options: Partial<ClientOptions> = {}) {
  const sockets: FakeSocket[] = [];
  const clock = new FakeClock();
  const client = new TickstreamClient({
    url: 'ws://edge.test/ws',
    WebSocket: class extends FakeSocket {
      constructor(url: string) {
        super(url);
        sockets.push(this);
      }
    },
    fetch: async () => ({ status: 404, ok: false, headers: { get: () => null }, text: async () => '{}' }),
    timers: clock,
    random: () => 0.5,
    network: null,
    reconcileMs: 0,
    probeRefusals: false,
    deadAfterMs: 600_000,
    ...options,
  });
  const last = (): FakeSocket => {
    const s = sockets.at(-1);
    if (!s) throw new Error('no socket');
    return s;
  };
  return { client, sockets, clock, last };
}

const TS = '2026-11-20T14:30:00.000000Z';
export const tick = (symbol: string, price: string) =>
  `{"type":"price_update","symbol":"${symbol}","price":${price},"timestamp":"${TS}","recv_us":1795185000064264,"source":"sample"}`;
export const position = (seq: number, symbol: string, quantity: string, pnl?: string) => ({
  type: 'position_update',
  userId: 'trader',
  ...(seq > 0 ? { seq } : {}),
  timestamp: TS,
  data: {
    symbol,
    quantity,
    entryPrice: '100',
    side: 'long',
    ...(pnl ? { currentPrice: '101', marketValue: '1010.00', unrealizedPnl: pnl, unrealizedPnlPercent: '1.00' } : {}),
  },
  recv_us: 1795185000064264,
  source: 'alpaca-trading',
});
export const order = (seq: number, orderId: string, status: string) => ({
  type: 'order_update',
  userId: 'trader',
  seq,
  timestamp: TS,
  data: { orderId, brokerOrderId: 'b', symbol: 'AAPL', side: 'buy', type: 'limit', status, qty: '1', submittedAt: TS },
  recv_us: 1795185000064264,
  source: 'alpaca-trading',
});
export const account = (seq: number, equity: string) => ({
  type: 'account_update',
  userId: 'trader',
  seq,
  timestamp: TS,
  data: { equity, buyingPower: '1', cash: '1', portfolioValue: equity, dayPnl: '-1.50', dayPnlPercent: '-0.01' },
  recv_us: 1795185000064264,
  source: 'webhook',
});
