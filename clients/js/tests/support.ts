// Test doubles: a clock whose time only moves when told, a WebSocket the test drives from the
// server's side, a fetch that answers from a table, and network events.

import type {
  AccountMark,
  ClientMessage,
  StoredAccountUpdate,
  StoredPositionUpdate,
  FetchInit,
  FetchLike,
  FetchResponseLike,
  NetworkEvents,
  ServerMessage,
  Timers,
  WebSocketConstructor,
  WebSocketLike,
} from '../src/index.js';

/** Lets every pending promise continuation run (setImmediate comes after the microtask queue). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await flush();
}

interface PendingTimer {
  at: number;
  id: number;
  callback: () => void;
}

export class FakeClock implements Timers {
  private t_ = 1_000_000;
  private nextId_ = 0;
  private readonly timers_ = new Map<number, PendingTimer>();

  now(): number {
    return this.t_;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = ++this.nextId_;
    this.timers_.set(id, { at: this.t_ + ms, id, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers_.delete(handle as number);
  }

  /** Timers due within the next `ms`, sorted. */
  pendingDelays(): number[] {
    return [...this.timers_.values()].map((t) => t.at - this.t_).sort((a, b) => a - b);
  }

  /** Moves time forward by ms, running each timer at its time, promises settled between them. */
  async advance(ms: number): Promise<void> {
    const end = this.t_ + ms;
    for (;;) {
      await settle();
      let next: PendingTimer | undefined;
      for (const t of this.timers_.values()) {
        if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t;
      }
      if (!next) break;
      this.timers_.delete(next.id);
      this.t_ = Math.max(this.t_, next.at);
      next.callback();
    }
    this.t_ = end;
    await settle();
  }
}

export class FakeWebSocket implements WebSocketLike {
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason?: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly sent: string[] = [];
  private closedByClient_: { code: number | undefined; reason: string | undefined } | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.closedByClient_) throw new Error('send after close');
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.closedByClient_ = { code, reason };
  }

  /** How the client closed this socket, or null while it has not. */
  closed(): { code: number | undefined; reason: string | undefined } | null {
    return this.closedByClient_;
  }

  /** The client's messages, parsed. */
  messages(): ClientMessage[] {
    return this.sent.map((s) => JSON.parse(s) as ClientMessage);
  }

  messagesOfType<T extends ClientMessage['type']>(type: T): Extract<ClientMessage, { type: T }>[] {
    return this.messages().filter((m): m is Extract<ClientMessage, { type: T }> => m.type === type);
  }

  /** True while the client still listens to this socket. */
  get attached(): boolean {
    return this.onmessage !== null;
  }

  open(): void {
    this.onopen?.({});
  }

  receive(msg: ServerMessage | Record<string, unknown> | string): void {
    this.onmessage?.({ data: typeof msg === 'string' ? msg : JSON.stringify(msg) });
  }

  /** The edge closes (or the network fails, with 1006). */
  serverClose(code: number): void {
    this.onerror?.({});
    this.onclose?.({ code, reason: '' });
  }

  /** Answers the client's last ping. */
  pong(node = 'edge-a'): void {
    const ping = this.messagesOfType('ping').at(-1);
    this.receive({ type: 'pong', id: ping?.id ?? 0, server_time: '2026-11-20T14:30:00.000000Z', server_time_us: 1, node });
  }
}

/** Hands out FakeWebSockets and remembers them. */
export class FakeSockets {
  readonly all: FakeWebSocket[] = [];
  readonly ctor: WebSocketConstructor;

  constructor() {
    const all = this.all;
    this.ctor = class extends FakeWebSocket {
      constructor(url: string) {
        super(url);
        all.push(this);
      }
    };
  }

  get last(): FakeWebSocket {
    const s = this.all.at(-1);
    if (!s) throw new Error('no socket was opened');
    return s;
  }

  get count(): number {
    return this.all.length;
  }
}

export interface FakeAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A fetch that answers from a handler, and records each request. */
export class FakeFetch {
  readonly calls: { url: string; init: FetchInit }[] = [];
  handler: (url: string, init: FetchInit) => FakeAnswer | Promise<FakeAnswer> = () => ({ status: 404, body: { type: 'error', code: 'not_found', message: 'no' } });
  readonly fetch: FetchLike = async (url, init) => {
    this.calls.push({ url, init });
    const a = await this.handler(url, init);
    const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body ?? null);
    const headers = a.headers ?? {};
    const res: FetchResponseLike = {
      status: a.status,
      ok: a.status >= 200 && a.status < 300,
      headers: { get: (name) => headers[name] ?? headers[name.toLowerCase()] ?? null },
      text: async () => text,
    };
    return res;
  };

  paths(): string[] {
    return this.calls.map((c) => new URL(c.url).pathname + new URL(c.url).search);
  }
}

export class FakeNetwork implements NetworkEvents {
  private readonly listeners_ = new Map<string, Set<() => void>>();

  addEventListener(type: 'online' | 'offline', listener: () => void): void {
    let set = this.listeners_.get(type);
    if (!set) this.listeners_.set(type, (set = new Set()));
    set.add(listener);
  }

  removeEventListener(type: 'online' | 'offline', listener: () => void): void {
    this.listeners_.get(type)?.delete(listener);
  }

  fire(type: 'online' | 'offline'): void {
    for (const l of [...(this.listeners_.get(type) ?? [])]) l();
  }

  count(type: 'online' | 'offline'): number {
    return this.listeners_.get(type)?.size ?? 0;
  }
}

/** A deterministic random source: returns the values given, then the last one forever. */
export function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)] ?? 0.5;
}

// ---------------------------------------------------------------------------------------------
// Frames

const TS = '2026-11-20T14:30:00.000000Z';
const RECV = 1795185000064264;

export function tick(symbol: string, price: number | string, extra: Record<string, number | string> = {}): string {
  // Written by hand so the digits reach the client exactly as given ("190.00"): numbers given as
  // strings are written bare.
  const extras = Object.entries(extra)
    .map(([k, v]) => `,"${k}":${String(v)}`)
    .join('');
  return `{"type":"price_update","symbol":"${symbol}","price":${price}${extras},"timestamp":"${TS}","recv_us":${RECV},"source":"sample"}`;
}

export function tickObject(symbol: string, price: number): ServerMessage {
  return { type: 'price_update', symbol, price, timestamp: TS, recv_us: RECV, source: 'sample' };
}

export function position(seq: number, symbol: string, quantity: string, entryPrice = '100', extra: Record<string, string> = {}): StoredPositionUpdate {
  return {
    type: 'position_update',
    seq,
    userId: 'trader',
    timestamp: TS,
    data: { symbol, quantity, entryPrice, side: 'long', ...extra },
    recv_us: RECV,
    source: 'alpaca-trading',
  };
}

export function mark(symbol: string, quantity: string, currentPrice: string, unrealizedPnl: string) {
  return {
    type: 'position_update' as const,
    userId: 'trader',
    timestamp: TS,
    data: {
      symbol,
      quantity,
      entryPrice: '100',
      side: 'long' as const,
      currentPrice,
      marketValue: '0.00',
      unrealizedPnl,
      unrealizedPnlPercent: '0.00',
    },
    recv_us: RECV,
    source: 'finnhub',
  };
}

export function order(seq: number, orderId: string, status: string, filledQty = '0') {
  return {
    type: 'order_update' as const,
    userId: 'trader',
    seq,
    timestamp: TS,
    data: {
      orderId,
      brokerOrderId: `b-${orderId}`,
      symbol: 'AAPL',
      side: 'buy' as const,
      type: 'limit',
      status,
      qty: '10',
      filledQty,
      submittedAt: TS,
    },
    recv_us: RECV,
    source: 'alpaca-trading',
  };
}

export function trade(seq: number, executionId: string, qty = '1') {
  return {
    type: 'trade_executed' as const,
    userId: 'trader',
    seq,
    timestamp: TS,
    data: { executionId, orderId: 'o-1', symbol: 'AAPL', side: 'buy' as const, qty, price: '189.25' },
    recv_us: RECV,
    source: 'alpaca-trading',
  };
}

export function account(seq: number, cash: string, equity = cash): StoredAccountUpdate {
  return { ...accountMark(cash, equity), seq, source: 'webhook' };
}

export function accountMark(cash: string, equity: string, buyingPower = '200000.00'): AccountMark {
  return {
    type: 'account_update',
    userId: 'trader',
    timestamp: TS,
    data: { equity, buyingPower, cash, portfolioValue: equity, dayPnl: '0.00', dayPnlPercent: '0.00' },
    recv_us: RECV,
    source: 'finnhub',
  };
}

export function subscribed(channels: string[] = ['positions', 'orders', 'account', 'trades'], symbols: string[] = []) {
  return { type: 'subscribed', symbols, channels, rejected: [], batch_ms: 250 };
}

export function snapshot(seq: number, sections: Record<string, unknown> = {}) {
  return { type: 'snapshot', seq, positions: [], orders: [], account: null, ...sections };
}
