// The ordered state store: applies edge messages by PROTOCOL.md's "Keeping state" rules and
// publishes an immutable state after every message (sections are copied on write, once per
// message, so a batch of 50 ticks costs one copy of the prices map).

import { isZeroDecimal } from './decimal.js';
import { reportListenerError } from './emitter.js';
import { exactQuote, type ExactQuote } from './parse.js';
import {
  FINAL_ORDER_STATUSES,
  isAppEvent,
  type AccountData,
  type AppEvent,
  type ConflatedMarker,
  type AccountUpdate,
  type Channel,
  type OrderData,
  type PositionData,
  type PositionUpdate,
  type PriceUpdate,
  type ResyncReason,
  type ServerMessage,
  type SnapshotSections,
  type StoredEvent,
  type StreamEvent,
  type TradeData,
} from './protocol.js';

export type Section = 'positions' | 'orders' | 'account' | 'prices' | 'trades';

/** The latest state of one position, order, account or trade, with where it came from. */
export interface Entry<T> {
  readonly data: T;
  /** The seq of the stored event (or snapshot entry) this state is; marks keep it. */
  readonly seq: number | null;
  /** The event's source time. */
  readonly timestamp: string;
  readonly source: string;
  /** When this client last changed the entry (the store's clock, ms). */
  readonly updatedAt: number;
}

export interface PriceEntry {
  /** The tick as received (wire shape, numbers). */
  readonly update: PriceUpdate;
  /** Its numbers as the source wrote them. */
  readonly exact: ExactQuote;
  readonly updatedAt: number;
}

export interface PortfolioState {
  /** The last seq applied (`held` in PROTOCOL.md), or null before any. */
  readonly held: number | null;
  /** The user the private events are for, once known. */
  readonly userId: string | null;
  /** Open positions by symbol. */
  readonly positions: ReadonlyMap<string, Entry<PositionData>>;
  /** Open orders by orderId. */
  readonly orders: ReadonlyMap<string, Entry<OrderData>>;
  readonly account: Entry<AccountData> | null;
  /** The latest tick by symbol. */
  readonly prices: ReadonlyMap<string, PriceEntry>;
  /** Recent executions, oldest first (at most `tradesLimit`). */
  readonly trades: readonly Entry<TradeData>[];
  /** Sections whose whole state is known (a snapshot, a resync or a REST read replaced them). */
  readonly loaded: ReadonlySet<Section>;
  /** Increases with every change. */
  readonly version: number;
}

export interface StoreChange {
  readonly state: PortfolioState;
  readonly previous: PortfolioState;
  readonly sections: ReadonlySet<Section>;
  /** The events that changed the state, in order (app events included). */
  readonly events: readonly (StreamEvent | AppEvent)[];
}

export interface ApplyResult {
  readonly changed: ReadonlySet<Section>;
  readonly applied: readonly (StreamEvent | AppEvent)[];
  /** `conflated` markers applied: their seqs count as received (held moved past them). */
  readonly conflated: readonly ConflatedMarker[];
  /** Stored events ignored because their seq was not above `held`. */
  readonly duplicates: readonly StoredEvent[];
  /**
   * A stored event whose seq skipped past held + 1 while gap detection is on. It was not applied,
   * nor was anything after it in the same message: resume with `since` = held.
   */
  readonly gap: { readonly held: number; readonly seq: number } | null;
  readonly resync: ResyncReason | null;
}

export interface StoreOptions {
  /** The clock for `updatedAt` (ms). Default Date.now. */
  now?: () => number;
  /** How many trades to keep. Default 200. */
  tradesLimit?: number;
}

const PRIVATE_SECTIONS: readonly Section[] = ['positions', 'orders', 'account'];

const EMPTY_STATE: PortfolioState = {
  held: null,
  userId: null,
  positions: new Map(),
  orders: new Map(),
  account: null,
  prices: new Map(),
  trades: [],
  loaded: new Set(),
  version: 0,
};

/** A pending change: sections are copied on their first write. */
class Draft {
  positions: Map<string, Entry<PositionData>> | null = null;
  orders: Map<string, Entry<OrderData>> | null = null;
  prices: Map<string, PriceEntry> | null = null;
  trades: Entry<TradeData>[] | null = null;
  loaded: Set<Section> | null = null;
  account: Entry<AccountData> | null | undefined = undefined;
  held: number | null;
  userId: string | null;
  readonly changed = new Set<Section>();
  readonly applied: (StreamEvent | AppEvent)[] = [];
  readonly conflated: ConflatedMarker[] = [];
  readonly duplicates: StoredEvent[] = [];
  gap: { held: number; seq: number } | null = null;
  resync: ResyncReason | null = null;

  constructor(readonly base: PortfolioState) {
    this.held = base.held;
    this.userId = base.userId;
  }

  get heldChanged(): boolean {
    return this.held !== this.base.held || this.userId !== this.base.userId;
  }

  writePositions(): Map<string, Entry<PositionData>> {
    this.changed.add('positions');
    return (this.positions ??= new Map(this.base.positions));
  }
  readPositions(): ReadonlyMap<string, Entry<PositionData>> {
    return this.positions ?? this.base.positions;
  }
  writeOrders(): Map<string, Entry<OrderData>> {
    this.changed.add('orders');
    return (this.orders ??= new Map(this.base.orders));
  }
  writePrices(): Map<string, PriceEntry> {
    this.changed.add('prices');
    return (this.prices ??= new Map(this.base.prices));
  }
  writeTrades(): Entry<TradeData>[] {
    this.changed.add('trades');
    return (this.trades ??= [...this.base.trades]);
  }
  readAccount(): Entry<AccountData> | null {
    return this.account === undefined ? this.base.account : this.account;
  }
  writeAccount(entry: Entry<AccountData> | null): void {
    this.changed.add('account');
    this.account = entry;
  }
  setLoaded(section: Section, loaded: boolean): void {
    const current = this.loaded ?? this.base.loaded;
    if (current.has(section) === loaded) return;
    this.loaded ??= new Set(this.base.loaded);
    if (loaded) this.loaded.add(section);
    else this.loaded.delete(section);
    this.changed.add(section);
  }
}

export class PortfolioStore {
  private state_: PortfolioState = EMPTY_STATE;
  private readonly listeners_ = new Set<(change: StoreChange) => void>();
  private readonly now_: () => number;
  private readonly tradesLimit_: number;

  /**
   * Gap detection: on while the connection holds all four channels, when stored events arrive
   * with consecutive seqs (with fewer channels a jump is normal). The client sets it.
   */
  detectGaps = false;

  constructor(options: StoreOptions = {}) {
    this.now_ = options.now ?? (() => Date.now());
    this.tradesLimit_ = options.tradesLimit ?? 200;
  }

  /** The current state; the same object until something changes (useSyncExternalStore-safe). */
  getState = (): PortfolioState => this.state_;

  /** Calls listener after every change; returns the function that removes it. */
  subscribe = (listener: (change: StoreChange) => void): (() => void) => {
    this.listeners_.add(listener);
    return () => {
      this.listeners_.delete(listener);
    };
  };

  /** Applies one edge message (a batch is unpacked in order). Control messages change nothing. */
  apply(message: ServerMessage): ApplyResult {
    const d = new Draft(this.state_);
    switch (message.type) {
      case 'batch':
        for (const ev of message.events) {
          this.applyEvent(d, ev);
          if (d.gap) break;
        }
        break;
      case 'snapshot':
        this.applySections(d, message);
        break;
      case 'resync':
        this.applySections(d, message);
        d.resync = message.reason;
        break;
      case 'price_update':
      case 'order_update':
      case 'trade_executed':
      case 'position_update':
      case 'account_update':
      case 'topic_message':
      case 'broadcast':
      case 'conflated':
        this.applyEvent(d, message);
        break;
      default:
        if (isAppEvent(message)) this.applyEvent(d, message);
        break;
    }
    return this.commit(d);
  }

  /**
   * Replaces the sections a REST body carries (`/api/positions`, `/api/orders`, `/api/account`;
   * `/api/prices` merges by symbol). `held` is left alone: REST bodies of different sections are
   * read at different seqs, so after polling, a stream must start from a snapshot.
   */
  applyRest(body: SnapshotSections): ApplyResult {
    const d = new Draft(this.state_);
    this.replaceSections(d, body);
    return this.commit(d);
  }

  /** Forgets sections (their channel or symbols were unsubscribed). */
  clear(sections: Iterable<Section>): void {
    const d = new Draft(this.state_);
    for (const s of sections) {
      if (s === 'positions' && this.state_.positions.size > 0) d.writePositions().clear();
      if (s === 'orders' && this.state_.orders.size > 0) d.writeOrders().clear();
      if (s === 'account' && this.state_.account !== null) d.writeAccount(null);
      if (s === 'prices' && this.state_.prices.size > 0) d.writePrices().clear();
      if (s === 'trades' && this.state_.trades.length > 0) d.writeTrades().length = 0;
      d.setLoaded(s, false);
    }
    this.commit(d);
  }

  /** Forgets the ticks of symbols no longer subscribed. */
  removePrices(symbols: Iterable<string>): void {
    const d = new Draft(this.state_);
    for (const s of symbols) {
      if (this.state_.prices.has(s)) d.writePrices().delete(s);
    }
    this.commit(d);
  }

  /** Back to empty (held = null). */
  reset(): void {
    const previous = this.state_;
    if (previous === EMPTY_STATE) return;
    this.state_ = { ...EMPTY_STATE, version: previous.version + 1 };
    this.notify({
      state: this.state_,
      previous,
      sections: new Set<Section>(['positions', 'orders', 'account', 'prices', 'trades']),
      events: [],
    });
  }

  private applySections(d: Draft, msg: SnapshotSections): void {
    this.replaceSections(d, msg);
    if (typeof msg.seq === 'number') d.held = msg.seq;
  }

  private replaceSections(d: Draft, msg: SnapshotSections): void {
    const now = this.now_();
    if (msg.positions) {
      const map = d.writePositions();
      map.clear();
      for (const p of msg.positions) {
        this.noteUser(d, p.userId);
        if (!isZeroDecimal(p.data.quantity)) map.set(p.data.symbol, entryOf(p, now));
      }
      d.setLoaded('positions', true);
    }
    if (msg.orders) {
      const map = d.writeOrders();
      map.clear();
      for (const o of msg.orders) {
        this.noteUser(d, o.userId);
        if (!FINAL_ORDER_STATUSES.has(o.data.status)) map.set(o.data.orderId, entryOf(o, now));
      }
      d.setLoaded('orders', true);
    }
    if (msg.account !== undefined) {
      if (msg.account) this.noteUser(d, msg.account.userId);
      d.writeAccount(msg.account ? entryOf(msg.account, now) : null);
      d.setLoaded('account', true);
    }
    if (msg.prices) {
      // By symbol, not wholesale: a snapshot leaves out symbols whose ticks already arrived.
      const map = d.writePrices();
      for (const t of msg.prices) map.set(t.symbol, { update: t, exact: exactQuote(t), updatedAt: now });
      d.setLoaded('prices', true);
    }
  }

  private applyEvent(d: Draft, input: StreamEvent | AppEvent): void {
    if (isAppEvent(input)) {
      this.applyAppEvent(d, input);
      return;
    }
    const ev = input as StreamEvent;
    const now = this.now_();
    switch (ev.type) {
      case 'conflated':
        this.applyConflated(d, ev);
        return;
      case 'price_update':
        d.writePrices().set(ev.symbol, { update: ev, exact: exactQuote(ev), updatedAt: now });
        d.applied.push(ev);
        return;
      case 'topic_message':
      case 'broadcast':
        d.applied.push(ev);
        return;
      case 'position_update':
      case 'account_update':
        if (typeof ev.seq !== 'number') {
          if (this.applyMark(d, ev, now)) d.applied.push(ev);
          return;
        }
        break;
      default:
        break;
    }
    const stored = ev as StoredEvent;
    if (d.held !== null && stored.seq <= d.held) {
      d.duplicates.push(stored);
      return;
    }
    if (this.detectGaps && d.held !== null && stored.seq > d.held + 1) {
      d.gap = { held: d.held, seq: stored.seq };
      return;
    }
    this.noteUser(d, stored.userId);
    switch (stored.type) {
      case 'position_update':
        if (isZeroDecimal(stored.data.quantity)) d.writePositions().delete(stored.data.symbol);
        else d.writePositions().set(stored.data.symbol, entryOf(stored, now));
        break;
      case 'order_update':
        if (FINAL_ORDER_STATUSES.has(stored.data.status)) d.writeOrders().delete(stored.data.orderId);
        else d.writeOrders().set(stored.data.orderId, entryOf(stored, now));
        break;
      case 'account_update':
        d.writeAccount(entryOf(stored, now));
        break;
      case 'trade_executed': {
        const trades = d.writeTrades();
        trades.push(entryOf(stored, now));
        if (trades.length > this.tradesLimit_) trades.splice(0, trades.length - this.tradesLimit_);
        break;
      }
    }
    d.held = stored.seq;
    d.applied.push(stored);
  }

  // An application's event: it takes a seq like a stored event and changes no section.
  private applyAppEvent(d: Draft, ev: AppEvent): void {
    if (d.held !== null && ev.seq <= d.held) return;
    if (this.detectGaps && d.held !== null && ev.seq > d.held + 1) {
      d.gap = { held: d.held, seq: ev.seq };
      return;
    }
    this.noteUser(d, ev.userId);
    d.held = ev.seq;
    d.applied.push(ev);
  }

  // Seqs fromSeq..toSeq were superseded (app events conflated by the edge): received, nothing to
  // apply. A marker entirely at or below held is a duplicate; one starting past held + 1 is a gap
  // as a stored event would be.
  private applyConflated(d: Draft, m: ConflatedMarker): void {
    if (d.held !== null && m.toSeq <= d.held) return;
    if (this.detectGaps && d.held !== null && m.fromSeq > d.held + 1) {
      d.gap = { held: d.held, seq: m.fromSeq };
      return;
    }
    d.held = m.toSeq;
    d.conflated.push(m);
  }

  // A mark updates only the price-dependent fields of what the store holds; it never creates a
  // position or an account (the stored events decide what exists) and never moves held.
  private applyMark(d: Draft, ev: PositionUpdate | AccountUpdate, now: number): boolean {
    if (ev.type === 'position_update') {
      const existing = d.readPositions().get(ev.data.symbol);
      if (!existing) return false;
      const data: PositionData = { ...existing.data };
      copyDefined(data, ev.data, ['currentPrice', 'marketValue', 'unrealizedPnl', 'unrealizedPnlPercent']);
      d.writePositions().set(ev.data.symbol, { ...existing, data, updatedAt: now });
      return true;
    }
    const existing = d.readAccount();
    if (!existing) return false;
    const data: AccountData = { ...existing.data, equity: ev.data.equity, portfolioValue: ev.data.portfolioValue };
    d.writeAccount({ ...existing, data, updatedAt: now });
    return true;
  }

  private noteUser(d: Draft, userId: string): void {
    if (d.userId === null) d.userId = userId;
  }

  private commit(d: Draft): ApplyResult {
    const result: ApplyResult = {
      changed: d.changed,
      applied: d.applied,
      conflated: d.conflated,
      duplicates: d.duplicates,
      gap: d.gap,
      resync: d.resync,
    };
    if (d.changed.size === 0 && !d.heldChanged) return result;
    const previous = this.state_;
    this.state_ = {
      held: d.held,
      userId: d.userId,
      positions: d.positions ?? previous.positions,
      orders: d.orders ?? previous.orders,
      account: d.account === undefined ? previous.account : d.account,
      prices: d.prices ?? previous.prices,
      trades: d.trades ?? previous.trades,
      loaded: d.loaded ?? previous.loaded,
      version: previous.version + 1,
    };
    this.notify({ state: this.state_, previous, sections: d.changed, events: d.applied });
    return result;
  }

  private notify(change: StoreChange): void {
    for (const listener of [...this.listeners_]) {
      try {
        listener(change);
      } catch (err) {
        reportListenerError(err);
      }
    }
  }
}

/** True for the sections a REST endpoint serves and a snapshot replaces (not prices or trades). */
export function isStateSection(s: Section | Channel): s is 'positions' | 'orders' | 'account' {
  return (PRIVATE_SECTIONS as readonly string[]).includes(s);
}

function entryOf<T>(ev: { data: T; seq?: number | undefined; timestamp: string; source: string }, now: number): Entry<T> {
  return { data: ev.data, seq: typeof ev.seq === 'number' ? ev.seq : null, timestamp: ev.timestamp, source: ev.source, updatedAt: now };
}

function copyDefined<T extends object>(target: T, from: T, keys: readonly (keyof T)[]): void {
  for (const k of keys) {
    if (from[k] !== undefined) target[k] = from[k];
  }
}
