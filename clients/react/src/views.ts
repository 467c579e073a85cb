// Views of the store shaped like existing front ends expect: the `data` objects the replaced hooks returned, plus when each
// row last changed. Cached by section identity, so hooks and the query cache share one array per
// change and React sees a new value only when its section changed.

import {
  exactQuote,
  type AccountData,
  type Entry,
  type ExactQuote,
  type OrderData,
  type PortfolioState,
  type PositionData,
  type PriceEntry,
  type PriceUpdate,
  type TradeData,
} from '@tickstream/client';

interface RowMeta {
  /** The seq of the stored event the row is, or null. */
  readonly seq: number | null;
  /** The event's source time. */
  readonly timestamp: string;
  /** When this client last changed the row (ms, the client's clock). */
  readonly updatedAt: number;
}

export type PositionView = PositionData & RowMeta;
export type OrderView = OrderData & RowMeta;
export type AccountView = AccountData & RowMeta;
export type TradeView = TradeData & RowMeta;

/** A tick as the replaced hooks returned it (`current_price` is the older apps' name for `price`). */
export type PriceView = PriceUpdate & {
  readonly current_price: number;
  /** The tick's numbers with the digits the source sent. */
  readonly exact: ExactQuote;
  readonly updatedAt: number;
};

function row<T extends object>(e: Entry<T>): T & RowMeta {
  return { ...e.data, seq: e.seq, timestamp: e.timestamp, updatedAt: e.updatedAt };
}

function cached<K extends object, V>(cache: WeakMap<K, V>, key: K, make: () => V): V {
  let v = cache.get(key);
  if (v === undefined) {
    v = make();
    cache.set(key, v);
  }
  return v;
}

const positionCache = new WeakMap<object, PositionView[]>();
const orderCache = new WeakMap<object, OrderView[]>();
const tradeCache = new WeakMap<object, TradeView[]>();
const accountCache = new WeakMap<object, AccountView>();
const priceCache = new WeakMap<PriceEntry, PriceView>();

/** Open positions, by symbol. */
export function positionsView(state: PortfolioState): PositionView[] {
  return cached(positionCache, state.positions, () =>
    [...state.positions.values()].map(row).sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0)),
  );
}

/** Open orders, newest submission first. */
export function ordersView(state: PortfolioState): OrderView[] {
  return cached(orderCache, state.orders, () =>
    [...state.orders.values()].map(row).sort((a, b) => (a.submittedAt < b.submittedAt ? 1 : a.submittedAt > b.submittedAt ? -1 : 0)),
  );
}

/** Recent executions, newest first. */
export function tradesView(state: PortfolioState): TradeView[] {
  return cached(tradeCache, state.trades, () => state.trades.map(row).reverse());
}

export function accountView(state: PortfolioState): AccountView | null {
  const a = state.account;
  return a ? cached(accountCache, a, () => row(a)) : null;
}

export function priceView(entry: PriceEntry): PriceView {
  return cached(priceCache, entry, () => ({
    ...entry.update,
    current_price: entry.update.price,
    exact: entry.exact ?? exactQuote(entry.update),
    updatedAt: entry.updatedAt,
  }));
}
