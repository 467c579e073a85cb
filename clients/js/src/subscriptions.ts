// What the client keeps subscribed: reference-counted wants, what the last flush put in force
// (so the store can forget what was released), and what the current connection was asked for
// (so only differences go to the edge). Pure bookkeeping: no sockets, no timers.

import type { Channel, ClientMessage, SubscribeMessage, UnsubscribeMessage } from './protocol.js';
import type { PortfolioState } from './store.js';

/** Entries per subscribe message the edge accepts. */
export const MAX_LIST_ENTRIES = 1000;

export interface SubscriptionSpec {
  readonly symbols?: readonly string[];
  readonly channels?: readonly Channel[];
  readonly topics?: readonly string[];
}

export interface SubscriptionSets {
  readonly symbols: ReadonlySet<string>;
  readonly channels: ReadonlySet<Channel>;
  readonly topics: ReadonlySet<string>;
}

interface Lists {
  symbols: string[];
  channels: Channel[];
  topics: string[];
}

/** Symbols upper-cased and trimmed, empty entries and duplicates dropped. */
export function normalizeSpec(spec: SubscriptionSpec): SubscriptionSpec {
  return {
    symbols: [...new Set((spec.symbols ?? []).map((s) => s.trim().toUpperCase()).filter((s) => s !== ''))],
    channels: [...new Set(spec.channels ?? [])],
    topics: [...new Set((spec.topics ?? []).filter((t) => t !== ''))],
  };
}

function bump<K>(map: Map<K, number>, key: K, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n > 0) map.set(key, n);
  else map.delete(key);
}

const emptySets = (): SubscriptionSets => ({ symbols: new Set(), channels: new Set(), topics: new Set() });

export interface FlushResult {
  /** Released since the last flush: the store forgets their state. */
  readonly removedSymbols: readonly string[];
  readonly removedChannels: readonly Channel[];
  /** unsubscribe/subscribe messages for the open connection (empty when there is none). */
  readonly messages: readonly ClientMessage[];
}

export class SubscriptionBook {
  private readonly symbols_ = new Map<string, number>();
  private readonly channels_ = new Map<Channel, number>();
  private readonly topics_ = new Map<string, number>();
  private effective_: SubscriptionSets = emptySets();
  private sent_: SubscriptionSets = emptySets();

  /** Adds one holder of each entry (spec already normalized). */
  add(spec: SubscriptionSpec): void {
    for (const s of spec.symbols ?? []) bump(this.symbols_, s, 1);
    for (const c of spec.channels ?? []) bump(this.channels_, c, 1);
    for (const t of spec.topics ?? []) bump(this.topics_, t, 1);
  }

  remove(spec: SubscriptionSpec): void {
    for (const s of spec.symbols ?? []) bump(this.symbols_, s, -1);
    for (const c of spec.channels ?? []) bump(this.channels_, c, -1);
    for (const t of spec.topics ?? []) bump(this.topics_, t, -1);
  }

  wanted(): SubscriptionSets {
    return { symbols: new Set(this.symbols_.keys()), channels: new Set(this.channels_.keys()), topics: new Set(this.topics_.keys()) };
  }

  /** Marks everything wanted now as in force without telling the store anything (construction). */
  settle(): void {
    this.effective_ = this.wanted();
  }

  /**
   * The subscribes that open a new connection: channels whose state the store holds resume with
   * `since` = held (unless a snapshot is needed, after REST polling); channels it does not hold
   * get their snapshot from a second subscribe on the same connection, after the events the first
   * is due. Lists are split at the edge's 1,000 entries a message.
   */
  openingMessages(state: PortfolioState, needsSnapshot: boolean, batchMs: number | undefined): ClientMessage[] {
    const wanted = this.wanted();
    this.effective_ = wanted;
    this.sent_ = wanted;
    const channels = [...wanted.channels];
    const resumable = state.held !== null && !needsSnapshot;
    // trades and events have no section a snapshot loads: they resume with the rest.
    const resumed = resumable ? channels.filter((c) => c === 'trades' || c === 'events' || state.loaded.has(c)) : [];
    const fresh = channels.filter((c) => !resumed.includes(c));
    const symbols = [...wanted.symbols];
    const topics = [...wanted.topics];
    const out: ClientMessage[] = [];
    const first: SubscribeMessage = { type: 'subscribe' };
    const firstSymbols = symbols.slice(0, MAX_LIST_ENTRIES);
    if (firstSymbols.length > 0) first.symbols = firstSymbols;
    if (resumed.length > 0) {
      first.channels = resumed;
      first.since = state.held ?? 0;
    } else if (fresh.length > 0) {
      first.channels = fresh;
    }
    if (topics.length > 0) first.topics = topics.slice(0, MAX_LIST_ENTRIES);
    if (batchMs !== undefined) first.batch_ms = batchMs;
    if (first.symbols || first.channels || first.topics) out.push(first);
    for (let i = MAX_LIST_ENTRIES; i < symbols.length; i += MAX_LIST_ENTRIES) {
      out.push({ type: 'subscribe', symbols: symbols.slice(i, i + MAX_LIST_ENTRIES) });
    }
    if (resumed.length > 0 && fresh.length > 0) out.push({ type: 'subscribe', channels: fresh });
    return out;
  }

  /** What changed since the last flush; `open`: whether a connection is there to be told. */
  flush(open: boolean): FlushResult {
    const wanted = this.wanted();
    const removedSymbols = [...this.effective_.symbols].filter((s) => !wanted.symbols.has(s));
    const removedChannels = [...this.effective_.channels].filter((c) => !wanted.channels.has(c));
    this.effective_ = wanted;
    if (!open) return { removedSymbols, removedChannels, messages: [] };
    const sent = this.sent_;
    this.sent_ = wanted;
    const unsub: Lists = {
      symbols: [...sent.symbols].filter((s) => !wanted.symbols.has(s)),
      channels: [...sent.channels].filter((c) => !wanted.channels.has(c)),
      topics: [...sent.topics].filter((t) => !wanted.topics.has(t)),
    };
    const sub: Lists = {
      symbols: [...wanted.symbols].filter((s) => !sent.symbols.has(s)),
      channels: [...wanted.channels].filter((c) => !sent.channels.has(c)),
      topics: [...wanted.topics].filter((t) => !sent.topics.has(t)),
    };
    return { removedSymbols, removedChannels, messages: [...listMessages('unsubscribe', unsub), ...listMessages('subscribe', sub)] };
  }
}

function listMessages(type: 'subscribe' | 'unsubscribe', lists: Lists): ClientMessage[] {
  const out: ClientMessage[] = [];
  const n = Math.max(lists.symbols.length, lists.topics.length, lists.channels.length > 0 ? 1 : 0);
  for (let i = 0; i < n; i += MAX_LIST_ENTRIES) {
    const msg: SubscribeMessage | UnsubscribeMessage = { type };
    const symbols = lists.symbols.slice(i, i + MAX_LIST_ENTRIES);
    const topics = lists.topics.slice(i, i + MAX_LIST_ENTRIES);
    if (symbols.length > 0) msg.symbols = symbols;
    if (i === 0 && lists.channels.length > 0) msg.channels = lists.channels;
    if (topics.length > 0) msg.topics = topics;
    out.push(msg);
  }
  return out;
}
