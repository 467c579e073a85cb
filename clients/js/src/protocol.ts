// The wire protocol, as TypeScript types. docs/PROTOCOL.md is the reference and docs/asyncapi.yaml
// holds the JSON Schemas these types follow; the contract tests validate the same sample frames
// against both, so a change to one that the other does not follow fails CI.

/** A private stream of the connection's own user (`events`: the application's own events). */
export type Channel = 'positions' | 'orders' | 'account' | 'trades' | 'events';

/** The portfolio's channels, in the order the edge lists them. */
export const CHANNELS: readonly Channel[] = ['positions', 'orders', 'account', 'trades'];

/**
 * Every private channel. A connection holding all of them sees every seq of its user (app events
 * take seqs too), so only then is a seq jump a gap.
 */
export const ALL_CHANNELS: readonly Channel[] = [...CHANNELS, 'events'];

/** An exact decimal written as a JSON string, e.g. "189.4" or "-120.55". Never parse it to a number. */
export type DecimalString = string;

/** ISO-8601 UTC with microseconds, e.g. "2026-11-20T14:30:00.055629Z". */
export type IsoTimestamp = string;

// ---------------------------------------------------------------------------------------------
// Client → edge

export interface SubscribeMessage {
  type: 'subscribe';
  symbols?: string[];
  channels?: Channel[];
  /** Public topics such as "news" or "signals:momentum" (edges that support topics). */
  topics?: string[];
  /** A wider batching window for the connection, 0–60000 ms. */
  batch_ms?: number;
  /** `false`: no snapshot after `subscribed` (a resync is still sent). Default true. */
  snapshot?: boolean;
  /** Resume: the last seq applied. */
  since?: number;
}

export interface UnsubscribeMessage {
  type: 'unsubscribe';
  symbols?: string[];
  channels?: Channel[];
  topics?: string[];
}

export interface RefreshMessage {
  type: 'refresh';
  token: string;
}

export interface PingMessage {
  type: 'ping';
  id?: string | number;
}

/** In-band authentication: the first message of a connection that carries no credential. */
export interface AuthMessage {
  type: 'auth';
  token: string;
}

export type ClientMessage = SubscribeMessage | UnsubscribeMessage | RefreshMessage | PingMessage | AuthMessage;

// ---------------------------------------------------------------------------------------------
// Edge → client: events

/** A market tick. Numbers carry exactly the digits the source sent; see `exactQuote()` for them as text. */
export interface PriceUpdate {
  type: 'price_update';
  symbol: string;
  price: number;
  bid?: number;
  ask?: number;
  bid_size?: number;
  ask_size?: number;
  size?: number;
  volume?: number;
  change?: number;
  change_percent?: number;
  timestamp: IsoTimestamp;
  /** When ingest received the tick, µs since the Unix epoch. */
  recv_us: number;
  source: string;
}

export interface OrderData {
  orderId: string;
  brokerOrderId: string;
  symbol: string;
  side: 'buy' | 'sell';
  type: string;
  status: string;
  qty?: DecimalString;
  filledQty?: DecimalString;
  filledAvgPrice?: DecimalString;
  submittedAt: IsoTimestamp;
  filledAt?: IsoTimestamp;
}

export interface TradeData {
  executionId: string;
  orderId: string;
  symbol: string;
  side: 'buy' | 'sell';
  qty: DecimalString;
  price: DecimalString;
}

export interface PositionData {
  symbol: string;
  /** Non-negative; `side` gives the sign. "0" closes the position. */
  quantity: DecimalString;
  entryPrice: DecimalString;
  side: 'long' | 'short';
  currentPrice?: DecimalString;
  marketValue?: DecimalString;
  unrealizedPnl?: DecimalString;
  unrealizedPnlPercent?: DecimalString;
  strategyId?: string;
  openedAt?: IsoTimestamp;
}

/** A position as a mark carries it: the price-dependent fields are always there. */
export interface MarkedPositionData extends PositionData {
  currentPrice: DecimalString;
  marketValue: DecimalString;
  unrealizedPnl: DecimalString;
  unrealizedPnlPercent: DecimalString;
}

export interface AccountData {
  equity: DecimalString;
  buyingPower: DecimalString;
  cash: DecimalString;
  portfolioValue: DecimalString;
  dayPnl: DecimalString;
  dayPnlPercent: DecimalString;
}

interface PrivateEnvelope<T extends string, D> {
  type: T;
  userId: string;
  timestamp: IsoTimestamp;
  data: D;
  recv_us: number;
  source: string;
}

/** A stored event has the user's sequence number. */
interface Stored {
  seq: number;
}

/** A mark has none: it is not a stored event. */
interface Unsequenced {
  seq?: undefined;
}

export type OrderUpdate = PrivateEnvelope<'order_update', OrderData> & Stored;
export type TradeExecuted = PrivateEnvelope<'trade_executed', TradeData> & Stored;
export type StoredPositionUpdate = PrivateEnvelope<'position_update', PositionData> & Stored;
export type PositionMark = PrivateEnvelope<'position_update', MarkedPositionData> & Unsequenced;
export type PositionUpdate = StoredPositionUpdate | PositionMark;
export type StoredAccountUpdate = PrivateEnvelope<'account_update', AccountData> & Stored;
export type AccountMark = PrivateEnvelope<'account_update', AccountData> & Unsequenced;
export type AccountUpdate = StoredAccountUpdate | AccountMark;

/** An event with a `seq`: applied once, in seq order. */
export type StoredEvent = OrderUpdate | TradeExecuted | StoredPositionUpdate | StoredAccountUpdate;
export type PrivateEvent = StoredEvent | PositionMark | AccountMark;

/** A message on a public topic. */
export interface TopicMessage {
  type: 'topic_message';
  topic: string;
  data: Record<string, unknown>;
  timestamp: IsoTimestamp;
  /** The topic's retained message, delivered on subscribe before its live ones. */
  retained?: true;
}

/** A message to every connection. */
export interface BroadcastMessage {
  type: 'broadcast';
  data: Record<string, unknown>;
  timestamp?: IsoTimestamp;
}

/**
 * An application's own event (the `events` channel, published by its back end through the server
 * API): a type of its own, the user's seq like a stored event, and `data` as the application sent it.
 */
export interface AppEvent {
  type: string;
  userId: string;
  seq: number;
  timestamp: IsoTimestamp;
  data: Record<string, unknown>;
  recv_us: number;
  source: string;
}

/**
 * In a batch, where superseded events were: the edge conflates app events of configured types
 * (`--conflate`) for a connection that is behind or batching, and none of the seqs fromSeq..toSeq
 * is coming to this connection (those it was due were replaced by later events of their key,
 * which follow). Count them as received.
 */
export interface ConflatedMarker {
  type: 'conflated';
  fromSeq: number;
  toSeq: number;
}

/**
 * What a `batch` may hold: each member is exactly the message that would have been sent alone
 * (app events too, see `isAppEvent`), or a `conflated` marker.
 */
export type StreamEvent = PriceUpdate | PrivateEvent | TopicMessage | BroadcastMessage | ConflatedMarker;

export interface BatchMessage {
  type: 'batch';
  events: StreamEvent[];
}

// ---------------------------------------------------------------------------------------------
// Edge → client: state and control

export interface SnapshotSections {
  /** The user's seq the private sections are exact at (present when channels were named). */
  seq?: number;
  positions?: StoredPositionUpdate[];
  orders?: OrderUpdate[];
  account?: StoredAccountUpdate | null;
  prices?: PriceUpdate[];
}

export interface SnapshotMessage extends SnapshotSections {
  type: 'snapshot';
  /** REST `/api/prices` only: requested symbols without a last tick. */
  missing?: string[];
}

export type ResyncReason = 'history_truncated' | 'history_unreadable' | 'sequence_reset';

export interface ResyncMessage extends SnapshotSections {
  type: 'resync';
  reason: ResyncReason;
  seq: number;
}

export interface Rejection {
  name: string;
  code: string;
  reason: string;
}

export interface SubscribedMessage {
  type: 'subscribed';
  symbols: string[];
  channels: Channel[];
  topics?: string[];
  rejected: Rejection[];
  batch_ms: number;
}

export interface UnsubscribedMessage {
  type: 'unsubscribed';
  symbols: string[];
  channels: Channel[];
  topics?: string[];
  /** Set when the edge released them itself: the connection's entitlements were narrowed. */
  reason?: 'not_entitled';
}

export interface PongMessage {
  type: 'pong';
  id?: string | number;
  server_time: IsoTimestamp;
  server_time_us: number;
  /** The edge this connection is on. */
  node?: string;
}

export interface ErrorMessage {
  type: 'error';
  code: string;
  message: string;
}

export interface TokenExpiringMessage {
  type: 'token_expiring';
  expires_at: IsoTimestamp;
  expires_at_s: number;
}

export interface RefreshedMessage {
  type: 'refreshed';
  expires_at: IsoTimestamp;
  expires_at_s: number;
}

export interface StaleMessage {
  type: 'stale';
  source: string;
  since: IsoTimestamp;
  since_us: number;
}

export interface FreshMessage {
  type: 'fresh';
  source: string;
}

export interface ReconnectMessage {
  type: 'reconnect';
  reason: 'draining';
  delay_ms: number;
}

export interface AuthenticatedMessage {
  type: 'authenticated';
  user_id: string;
  expires_at_s: number;
  expires_at?: IsoTimestamp;
  node: string;
}

export type ControlMessage =
  | SubscribedMessage
  | UnsubscribedMessage
  | PongMessage
  | ErrorMessage
  | TokenExpiringMessage
  | RefreshedMessage
  | StaleMessage
  | FreshMessage
  | ReconnectMessage
  | AuthenticatedMessage;

export type ServerMessage = StreamEvent | BatchMessage | SnapshotMessage | ResyncMessage | ControlMessage;

export type ServerMessageType = ServerMessage['type'];

/** Order statuses after which an order is no longer open (PROTOCOL.md, snapshot). */
export const FINAL_ORDER_STATUSES: ReadonlySet<string> = new Set([
  'filled',
  'canceled',
  'expired',
  'rejected',
  'replaced',
  'done_for_day',
  'stopped',
  'suspended',
]);

/** Close codes the edge uses (PROTOCOL.md, "When the connection ends"). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  abnormal: 1006,
  policyViolation: 1008,
  messageTooBig: 1009,
  tokenExpired: 4001,
  authenticationFailed: 4003,
  slowConsumer: 4008,
  tooManyConnections: 4009,
  revoked: 4010,
} as const;

/** The tier's own message types; any other type with a seq is an application's event. */
const TIER_TYPES: ReadonlySet<string> = new Set([
  'price_update', 'order_update', 'trade_executed', 'position_update', 'account_update', 'topic_message', 'broadcast',
  'conflated', 'batch', 'snapshot', 'resync', 'subscribed', 'unsubscribed', 'pong', 'error', 'token_expiring',
  'refreshed', 'stale', 'fresh', 'reconnect', 'authenticated',
]);

/** True for an application's own event (AppEvent): a type the tier does not use, and a seq. */
export function isAppEvent(msg: { type: string }): msg is AppEvent {
  return !TIER_TYPES.has(msg.type) && typeof (msg as { seq?: unknown }).seq === 'number';
}
