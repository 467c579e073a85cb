// Hooks with the names and return shapes trading front ends already use, on one shared client.

import {
  ALL_CHANNELS,
  type Channel,
  type ClientEvents,
  type ConnectionState,
  type ConnectionStatus,
  type PortfolioState,
  type TickstreamClient,
} from '@tickstream/client';
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';

import { useTickstreamClient } from './context.js';
import { bindQueryClient, type QueryClientLike, type QueryKeys } from './query.js';
import {
  accountView,
  ordersView,
  positionsView,
  priceView,
  tradesView,
  type AccountView,
  type OrderView,
  type PositionView,
  type PriceView,
  type TradeView,
} from './views.js';

/** The common four-state status ('connected' | 'connecting' | 'disconnected' | 'error'). */
export type SimpleConnectionStatus = 'connected' | 'connecting' | 'disconnected' | 'error';
/** usePortfolioWebSocket's upper-case states. */
export type SimpleConnectionState = 'CONNECTING' | 'CONNECTED' | 'RECONNECTING' | 'DISCONNECTED';

const ERROR_REASONS = new Set(['unauthorized', 'forbidden_origin', 'protocol_error', 'rate_limited', 'message_too_big']);

function simpleStatus(s: ConnectionStatus): SimpleConnectionStatus {
  if (s.state === 'connected') return 'connected';
  if (s.state === 'connecting' || s.state === 'reconnecting') return 'connecting';
  if (s.state === 'offline' && s.reason !== null && ERROR_REASONS.has(s.reason)) return 'error';
  return 'disconnected';
}

function simpleState(state: ConnectionState): SimpleConnectionState {
  if (state === 'connected') return 'CONNECTED';
  if (state === 'connecting') return 'CONNECTING';
  if (state === 'reconnecting') return 'RECONNECTING';
  return 'DISCONNECTED';
}

export interface ConnectionStatusView extends ConnectionStatus {
  readonly isConnected: boolean;
  readonly isConnecting: boolean;
  readonly isReconnecting: boolean;
  /** REST polling ("Using backup connection"). */
  readonly isBackup: boolean;
  readonly isOffline: boolean;
  /** Round trip of the last application ping, ms (null until measured). */
  readonly latency: number | null;
  /** The last error's message, for display (null if none). */
  readonly error: string | null;
  readonly connectionStatus: SimpleConnectionStatus;
}

function useStatus(client: TickstreamClient): ConnectionStatus {
  const subscribe = useCallback((onChange: () => void) => client.on('status', onChange), [client]);
  return useSyncExternalStore(subscribe, client.getStatus, client.getStatus);
}

/** The connection: state, latency, node, stale sources, errors (the usual `{ isConnected, error }` included). */
export function useConnectionStatus(): ConnectionStatusView {
  const status = useStatus(useTickstreamClient());
  return useMemo(
    () => ({
      ...status,
      isConnected: status.state === 'connected',
      isConnecting: status.state === 'connecting',
      isReconnecting: status.state === 'reconnecting',
      isBackup: status.state === 'backup',
      isOffline: status.state === 'offline',
      latency: status.latencyMs,
      error: status.lastError?.message ?? null,
      connectionStatus: simpleStatus(status),
    }),
    [status],
  );
}

/** The whole store state (re-renders on every change; prefer the narrower hooks). */
export function usePortfolioState(): PortfolioState {
  const client = useTickstreamClient();
  return useSyncExternalStore(client.store.subscribe, client.store.getState, client.store.getState);
}

function useSection<T>(select: (s: PortfolioState) => T): T {
  const client = useTickstreamClient();
  const get = useCallback(() => select(client.store.getState()), [client, select]);
  return useSyncExternalStore(client.store.subscribe, get, get);
}

export interface SubscriptionRequest {
  symbols?: readonly string[];
  channels?: readonly Channel[];
  topics?: readonly string[];
}

/** Holds a subscription while mounted (and enabled); the same lists in a new array do not resubscribe. */
export function useSubscription(request: SubscriptionRequest, enabled = true): void {
  const client = useTickstreamClient();
  const key = JSON.stringify([
    [...(request.symbols ?? [])].sort(),
    [...(request.channels ?? [])].sort(),
    [...(request.topics ?? [])].sort(),
  ]);
  useEffect(() => {
    if (!enabled) return undefined;
    const [symbols, channels, topics] = JSON.parse(key) as [string[], Channel[], string[]];
    const sub = client.subscribe({ symbols, channels, topics });
    return () => sub.unsubscribe();
  }, [client, key, enabled]);
}

function toList(symbols: string | readonly string[]): string[] {
  return (typeof symbols === 'string' ? [symbols] : [...symbols]).map((s) => s.trim().toUpperCase()).filter((s) => s !== '');
}

/** Latest ticks of some symbols, as a Map by symbol; a new Map only when one of them changed. */
export function usePrices(symbols: readonly string[]): ReadonlyMap<string, PriceView> {
  const client = useTickstreamClient();
  const key = [...new Set(toList(symbols))].sort().join(',');
  const last = useRef<{ map: Map<string, PriceView>; entries: unknown[] } | null>(null);
  const get = useCallback(() => {
    const prices = client.store.getState().prices;
    const wanted = key === '' ? [] : key.split(',');
    const entries = wanted.map((s) => prices.get(s));
    const prev = last.current;
    if (prev && prev.entries.length === entries.length && prev.entries.every((e, i) => e === entries[i])) return prev.map;
    const map = new Map<string, PriceView>();
    wanted.forEach((s, i) => {
      const e = entries[i];
      if (e) map.set(s, priceView(e));
    });
    last.current = { map, entries };
    return map;
  }, [client, key]);
  return useSyncExternalStore(client.store.subscribe, get, get);
}

export interface PriceStreamResult {
  readonly isConnected: boolean;
  /** Latest tick per symbol (the hook's symbols and those added with subscribe()). */
  readonly priceUpdates: ReadonlyMap<string, PriceView>;
  readonly latency: number | null;
  /** Adds symbols to this hook's subscription. */
  subscribe(symbols: string | readonly string[]): void;
  unsubscribe(symbols: string | readonly string[]): void;
  readonly connectionState: SimpleConnectionState;
  readonly status: ConnectionState;
}

function usePriceStream(symbols: readonly string[], enabled: boolean): PriceStreamResult {
  const client = useTickstreamClient();
  const status = useStatus(client);
  const [extra, setExtra] = useState<readonly string[]>([]);
  const [removed, setRemoved] = useState<readonly string[]>([]);
  const all = useMemo(() => {
    const set = new Set([...toList(symbols), ...extra]);
    for (const r of removed) set.delete(r);
    return [...set].sort();
  }, [symbols, extra, removed]);
  useSubscription({ symbols: all }, enabled && all.length > 0);
  const priceUpdates = usePrices(all);
  const subscribe = useCallback((s: string | readonly string[]) => {
    const list = toList(s);
    setExtra((prev) => [...new Set([...prev, ...list])]);
    setRemoved((prev) => prev.filter((x) => !list.includes(x)));
  }, []);
  const unsubscribe = useCallback((s: string | readonly string[]) => {
    const list = toList(s);
    setExtra((prev) => prev.filter((x) => !list.includes(x)));
    setRemoved((prev) => [...new Set([...prev, ...list])]);
  }, []);
  return {
    isConnected: status.state === 'connected',
    priceUpdates,
    latency: status.latencyMs,
    subscribe,
    unsubscribe,
    connectionState: simpleState(status.state),
    status: status.state,
  };
}

/**
 * The portfolio price stream, as existing front ends use it: `const { isConnected, priceUpdates, latency, subscribe,
 * unsubscribe } = usePortfolioWebSocket(portfolioId, symbols, true)`. The portfolio is the
 * signed-in user's; `portfolioId` is accepted for compatibility and not sent.
 */
export function usePortfolioWebSocket(_portfolioId: string | number | null | undefined, symbols: readonly string[], enabled = true): PriceStreamResult {
  return usePriceStream(symbols, enabled);
}

/**
 * The watchlist price stream, as existing front ends use it: `const { isConnected, priceUpdates, subscribe,
 * unsubscribe } = useWebSocket(['RELIANCE', 'TCS'], 'india_nse')`; `priceUpdates.get(s)?.current_price`.
 * Symbols are global in Tickstream; `market` is accepted for compatibility and not sent.
 */
export function useWebSocket(symbols: readonly string[], _market?: string): PriceStreamResult {
  return usePriceStream(symbols, true);
}

export interface RealtimeOptions {
  /** Also write this section into a query cache (when the provider does not already). */
  queryClient?: QueryClientLike;
  userId?: string;
  queryKeys?: Partial<QueryKeys>;
  /** Subscribe the channel (default true). */
  enabled?: boolean;
}

function useQueryBinding(section: 'positions' | 'orders' | 'account', options: RealtimeOptions): void {
  const client = useTickstreamClient();
  const { queryClient, userId, queryKeys } = options;
  useEffect(() => {
    if (!queryClient) return undefined;
    const o: { sections: ['positions' | 'orders' | 'account']; userId?: string; keys?: Partial<QueryKeys> } = { sections: [section] };
    if (userId !== undefined) o.userId = userId;
    if (queryKeys !== undefined) o.keys = queryKeys;
    return bindQueryClient(client, queryClient, o);
  }, [client, queryClient, userId, queryKeys, section]);
}

const selectPositions = positionsView;
const selectOrders = ordersView;
const selectAccount = accountView;
const selectTrades = tradesView;
const selectLoaded = (s: PortfolioState) => s.loaded;

export interface RealtimePositions {
  readonly positions: readonly PositionView[];
  readonly bySymbol: ReadonlyMap<string, PositionView>;
  /** True until the first snapshot (or REST read) of positions. */
  readonly isLoading: boolean;
}

/** Subscribes `positions`; the open positions, kept in order by seq (and in the query cache if given). */
export function useRealtimePositions(options: RealtimeOptions = {}): RealtimePositions {
  useSubscription({ channels: ['positions'] }, options.enabled ?? true);
  useQueryBinding('positions', options);
  const positions = useSection(selectPositions);
  const loaded = useSection(selectLoaded);
  const bySymbol = useMemo(() => new Map(positions.map((p) => [p.symbol, p])), [positions]);
  return { positions, bySymbol, isLoading: !loaded.has('positions') };
}

export interface RealtimeOrders {
  readonly orders: readonly OrderView[];
  readonly byId: ReadonlyMap<string, OrderView>;
  readonly isLoading: boolean;
}

/** Subscribes `orders`; the open orders. */
export function useRealtimeOrders(options: RealtimeOptions = {}): RealtimeOrders {
  useSubscription({ channels: ['orders'] }, options.enabled ?? true);
  useQueryBinding('orders', options);
  const orders = useSection(selectOrders);
  const loaded = useSection(selectLoaded);
  const byId = useMemo(() => new Map(orders.map((o) => [o.orderId, o])), [orders]);
  return { orders, byId, isLoading: !loaded.has('orders') };
}

export interface RealtimeAccount {
  readonly account: AccountView | null;
  readonly isLoading: boolean;
}

/** Subscribes `account`; equity, buying power, cash, day P&L. */
export function useRealtimeAccount(options: RealtimeOptions = {}): RealtimeAccount {
  useSubscription({ channels: ['account'] }, options.enabled ?? true);
  useQueryBinding('account', options);
  const account = useSection(selectAccount);
  const loaded = useSection(selectLoaded);
  return { account, isLoading: !loaded.has('account') };
}

/** Subscribes `trades`; recent executions, newest first. */
export function useRealtimeTrades(enabled = true): readonly TradeView[] {
  useSubscription({ channels: ['trades'] }, enabled);
  return useSection(selectTrades);
}

export interface PortfolioStream {
  /** The common status: 'connected' | 'connecting' | 'disconnected' | 'error'. */
  readonly connectionStatus: SimpleConnectionStatus;
  readonly status: ConnectionStatus;
  readonly isConnected: boolean;
  readonly positions: readonly PositionView[];
  readonly orders: readonly OrderView[];
  readonly account: AccountView | null;
  readonly trades: readonly TradeView[];
  /** The last seq applied. */
  readonly held: number | null;
  /** Adds channels (all five are held already unless `channels` was given). */
  subscribe(channels: readonly Channel[]): void;
  unsubscribe(channels: readonly Channel[]): void;
  reconnect(): void;
}

/**
 * The portfolio stream: every private channel (or those given), with its state. With all five
 * (the default) a seq the client never saw is a gap and is filled by a resume; with fewer, the
 * app events' seqs look like jumps, so gaps go undetected.
 */
export function usePortfolioStream(channels: readonly Channel[] = ALL_CHANNELS): PortfolioStream {
  const client = useTickstreamClient();
  const status = useStatus(client);
  const [extra, setExtra] = useState<readonly Channel[]>([]);
  const [removed, setRemoved] = useState<readonly Channel[]>([]);
  const held = useMemo(() => [...new Set([...channels, ...extra])].filter((c) => !removed.includes(c)), [channels, extra, removed]);
  useSubscription({ channels: held }, held.length > 0);
  const positions = useSection(selectPositions);
  const orders = useSection(selectOrders);
  const account = useSection(selectAccount);
  const trades = useSection(selectTrades);
  const heldSeq = useSection(useCallback((s: PortfolioState) => s.held, []));
  const subscribe = useCallback((c: readonly Channel[]) => {
    setExtra((prev) => [...new Set([...prev, ...c])]);
    setRemoved((prev) => prev.filter((x) => !c.includes(x)));
  }, []);
  const unsubscribe = useCallback((c: readonly Channel[]) => {
    setExtra((prev) => prev.filter((x) => !c.includes(x)));
    setRemoved((prev) => [...new Set([...prev, ...c])]);
  }, []);
  const reconnect = useCallback(() => client.reconnect(), [client]);
  return {
    connectionStatus: simpleStatus(status),
    status,
    isConnected: status.state === 'connected',
    positions,
    orders,
    account,
    trades,
    held: heldSeq,
    subscribe,
    unsubscribe,
    reconnect,
  };
}

/** Calls handler for each client event of `type` while mounted (raw frames: 'message'; events: 'event'). */
export function useTickstreamEvent<K extends keyof ClientEvents>(type: K, handler: (payload: ClientEvents[K]) => void): void {
  const client = useTickstreamClient();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => client.on(type, (p) => ref.current(p)), [client, type]);
}
