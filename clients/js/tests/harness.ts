import { TickstreamClient, type Channel, type ClientEvents, type ClientOptions } from '../src/index.js';
import { FakeClock, FakeFetch, FakeNetwork, FakeSockets, settle, snapshot, subscribed, type FakeWebSocket } from './support.js';

/** Every private channel (app events included): with all of them, a seq jump is a gap. */
export const ALL: Channel[] = ['positions', 'orders', 'account', 'trades', 'events'];

export interface Harness {
  clock: FakeClock;
  sockets: FakeSockets;
  fetch: FakeFetch;
  network: FakeNetwork;
  client: TickstreamClient;
  /** Every state entered, in order. */
  states: string[];
  events: <K extends keyof ClientEvents>(type: K) => ClientEvents[K][];
}

/**
 * A client on fakes: random() = 0.5 (so backoff delays are half their ceiling), no reconciliation,
 * no refusal probe, and a dead-link timeout of 10 minutes (tests of those features set them).
 */
export function harness(options: Partial<ClientOptions> = {}): Harness {
  const clock = new FakeClock();
  const sockets = new FakeSockets();
  const fetch = new FakeFetch();
  const network = new FakeNetwork();
  const client = new TickstreamClient({
    url: 'ws://edge.test/ws',
    WebSocket: sockets.ctor,
    fetch: fetch.fetch,
    timers: clock,
    random: () => 0.5,
    network,
    reconcileMs: 0,
    probeRefusals: false,
    deadAfterMs: 600_000,
    ...options,
  });
  const states: string[] = [];
  client.on('state', (s) => states.push(s.state));
  const recorded = new Map<string, unknown[]>();
  const events = <K extends keyof ClientEvents>(type: K): ClientEvents[K][] => {
    let list = recorded.get(type as string);
    if (!list) {
      list = [];
      recorded.set(type as string, list);
      const l = list;
      client.on(type, (p) => l.push(p));
    }
    return list as ClientEvents[K][];
  };
  return { clock, sockets, fetch, network, client, states, events };
}

/** Opens the latest socket and answers its subscribe with `subscribed` and a snapshot at `seq`. */
export async function accept(
  h: Harness,
  opts: { seq?: number; sections?: Record<string, unknown>; channels?: string[]; symbols?: string[] } = {},
): Promise<FakeWebSocket> {
  await settle();
  const ws = h.sockets.last;
  ws.open();
  await settle();
  if (ws.messages()[0]?.type === 'auth') {
    ws.receive({ type: 'authenticated', user_id: 'trader', expires_at_s: 1795188600, node: 'edge-a' });
  }
  const channels = opts.channels ?? ALL;
  ws.receive(subscribed(channels, opts.symbols ?? []));
  // The sections of the channels subscribed, as the edge sends them.
  const sections: Record<string, unknown> = {};
  if (channels.includes('positions')) sections.positions = [];
  if (channels.includes('orders')) sections.orders = [];
  if (channels.includes('account')) sections.account = null;
  const snap: Record<string, unknown> = { ...snapshot(opts.seq ?? 5, {}), ...sections, ...opts.sections };
  for (const k of ['positions', 'orders', 'account']) if (!(k in sections) && !(opts.sections && k in opts.sections)) delete snap[k];
  ws.receive(snap);
  await settle();
  return ws;
}

/** Fails `n` attempts in a row (1006 before opening), waiting for each retry to start. */
export async function failAttempts(h: Harness, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await settle();
    const before = h.sockets.count;
    h.sockets.last.serverClose(1006);
    while (h.sockets.count === before && h.client.state !== 'backup') await h.clock.advance(250);
    if (h.client.state === 'backup') return;
  }
}

/** connect(), then accept(). */
export async function connected(h: Harness, opts: Parameters<typeof accept>[1] = {}): Promise<FakeWebSocket> {
  h.client.connect();
  return accept(h, opts);
}
