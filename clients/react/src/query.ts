// Writes the store into a TanStack Query cache under the usual query keys, so components that read
// `useQuery(['positions', userId])` see every event without a refetch. Duck-typed: anything with
// setQueryData(key, data) will do; TanStack is not a dependency.

import type { PortfolioState, Section, TickstreamClient } from '@tickstream/client';

import { accountView, ordersView, positionsView, priceView, tradesView, type PriceView } from './views.js';

export interface QueryClientLike {
  setQueryData(queryKey: readonly unknown[], data: unknown): unknown;
}

export type QueryKey = readonly unknown[];

export interface QueryKeys {
  positions(userId: string): QueryKey;
  orders(userId: string): QueryKey;
  account(userId: string): QueryKey;
  trades(userId: string): QueryKey;
  prices(): QueryKey;
}

/** The query keys: ['positions', userId], ['orders', userId], ['account', userId], ['trades', userId], ['prices']. */
export const DEFAULT_QUERY_KEYS: QueryKeys = {
  positions: (userId) => ['positions', userId],
  orders: (userId) => ['orders', userId],
  account: (userId) => ['account', userId],
  trades: (userId) => ['trades', userId],
  prices: () => ['prices'],
};

export interface BindQueryOptions {
  /** The user of the keys; default: the user the stream is for, once known. */
  userId?: string;
  keys?: Partial<QueryKeys>;
  /** Which sections to write; default all. */
  sections?: readonly Section[];
}

const ALL_SECTIONS: readonly Section[] = ['positions', 'orders', 'account', 'trades', 'prices'];

/**
 * Writes the client's state into queryClient now and after every change of a section, until the
 * returned function is called. Data written: positions, orders and trades as arrays of the usual
 * row objects, the account as one object (or null), prices as a record by symbol.
 */
export function bindQueryClient(client: TickstreamClient, queryClient: QueryClientLike, options: BindQueryOptions = {}): () => void {
  const keys: QueryKeys = { ...DEFAULT_QUERY_KEYS, ...options.keys };
  const wanted = new Set(options.sections ?? ALL_SECTIONS);
  let lastUser: string | null = null;

  const write = (state: PortfolioState, sections: Iterable<Section>): void => {
    const userId = options.userId ?? state.userId ?? client.getStatus().userId;
    for (const s of sections) {
      if (!wanted.has(s)) continue;
      if (s === 'prices') {
        const prices: Record<string, PriceView> = {};
        for (const [symbol, entry] of state.prices) prices[symbol] = priceView(entry);
        queryClient.setQueryData(keys.prices(), prices);
        continue;
      }
      if (userId === null) continue;
      if (s === 'positions') queryClient.setQueryData(keys.positions(userId), positionsView(state));
      else if (s === 'orders') queryClient.setQueryData(keys.orders(userId), ordersView(state));
      else if (s === 'account') queryClient.setQueryData(keys.account(userId), accountView(state));
      else if (s === 'trades') queryClient.setQueryData(keys.trades(userId), tradesView(state));
    }
    lastUser = userId;
  };

  const initial = client.store.getState();
  write(initial, [...initial.loaded, ...(initial.prices.size > 0 ? (['prices'] as const) : [])]);
  return client.store.subscribe((change) => {
    const userNow = options.userId ?? change.state.userId ?? client.getStatus().userId;
    // The user became known: write every section once under the right keys.
    write(change.state, userNow !== lastUser ? ALL_SECTIONS : change.sections);
  });
}
