// The client's message types and docs/asyncapi.yaml must describe the same frames: every sample
// below is type-checked against the TypeScript types (tsc fails the build otherwise) and validated
// against the schemas at run time. The samples are PROTOCOL.md's, written out in full.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { validateClientFrame, validateServerFrame } from '@tickstream/contract';

import type {
  AccountMark,
  ClientMessage,
  OrderData,
  OrderUpdate,
  PositionMark,
  PriceUpdate,
  ServerMessage,
  StoredPositionUpdate,
  SubscribeMessage,
} from '../src/index.js';

const TS = '2026-11-20T14:30:00.000000Z';

const order: OrderUpdate = {
  type: 'order_update',
  userId: 'u-42',
  seq: 17,
  timestamp: '2026-11-20T14:30:01.000000Z',
  data: {
    orderId: 'o-1',
    brokerOrderId: '61e69015-8549-4bfd-b9c3-01e75843f47d',
    symbol: 'AAPL',
    side: 'buy',
    type: 'limit',
    status: 'partially_filled',
    qty: '10',
    filledQty: '4',
    filledAvgPrice: '189.25',
    submittedAt: '2026-11-20T14:30:00.500000Z',
  },
  recv_us: 1795185001000100,
  source: 'alpaca-trading',
};

const storedPosition: StoredPositionUpdate = {
  type: 'position_update',
  userId: 'u-42',
  seq: 19,
  timestamp: TS,
  data: { symbol: 'AAPL', quantity: '14', entryPrice: '188.1071428571', side: 'long' },
  recv_us: 1795185001000100,
  source: 'alpaca-trading',
};

const positionMark: PositionMark = {
  type: 'position_update',
  userId: 'trader',
  timestamp: TS,
  data: {
    symbol: 'AAPL',
    quantity: '10',
    entryPrice: '189.4',
    side: 'long',
    currentPrice: '191.37',
    marketValue: '1913.70',
    unrealizedPnl: '19.70',
    unrealizedPnlPercent: '1.04',
  },
  recv_us: 1795463641339406,
  source: 'finnhub',
};

const accountMark: AccountMark = {
  type: 'account_update',
  userId: 'trader',
  timestamp: TS,
  data: {
    equity: '101913.70',
    buyingPower: '200000.00',
    cash: '100000.00',
    portfolioValue: '101913.70',
    dayPnl: '0.00',
    dayPnlPercent: '0.00',
  },
  recv_us: 1795463641339406,
  source: 'finnhub',
};

const tick: PriceUpdate = {
  type: 'price_update',
  symbol: 'AAPL',
  price: 270.26,
  bid: 270.25,
  ask: 270.26,
  bid_size: 200,
  ask_size: 700,
  size: 100,
  volume: 315846,
  change: 1.79,
  change_percent: 0.67,
  timestamp: '2026-11-20T14:30:00.055629Z',
  recv_us: 1795185000064264,
  source: 'sample',
};

export const serverSamples: ServerMessage[] = [
  { type: 'subscribed', symbols: ['AAPL', 'MSFT', 'BRK.B'], channels: ['positions', 'orders', 'account', 'trades'], rejected: [], batch_ms: 250 },
  {
    type: 'subscribed',
    symbols: ['AAPL'],
    channels: [],
    rejected: [
      { name: 'not a symbol', code: 'invalid_symbol', reason: 'symbol may only contain letters, digits and . - / : _' },
      { name: 'positions', code: 'unauthenticated', reason: 'private channels need an authenticated connection' },
    ],
    batch_ms: 250,
  },
  { type: 'subscribed', symbols: [], channels: [], topics: ['news'], rejected: [], batch_ms: 250 },
  { type: 'unsubscribed', symbols: ['AAPL'], channels: ['trades'] },
  tick,
  order,
  {
    type: 'trade_executed',
    userId: 'u-42',
    seq: 18,
    timestamp: TS,
    data: { executionId: '2f63ea93-0000', orderId: 'o-1', symbol: 'AAPL', side: 'buy', qty: '4', price: '189.25' },
    recv_us: 1795185001000100,
    source: 'alpaca-trading',
  },
  storedPosition,
  positionMark,
  {
    type: 'account_update',
    userId: 'u-42',
    seq: 20,
    timestamp: TS,
    data: {
      equity: '100250.10',
      buyingPower: '190000.00',
      cash: '97000.00',
      portfolioValue: '100250.10',
      dayPnl: '-120.55',
      dayPnlPercent: '-0.12',
    },
    recv_us: 1795185001000100,
    source: 'webhook',
  },
  accountMark,
  { type: 'snapshot', seq: 8, positions: [{ ...storedPosition, seq: 8 }], orders: [], account: null, prices: [tick] },
  { type: 'snapshot', prices: [tick] },
  { type: 'snapshot', prices: [tick], missing: ['ZZZ'] },
  { type: 'resync', reason: 'history_truncated', seq: 13, positions: [], orders: [{ ...order, seq: 13 }], account: null },
  { type: 'batch', events: [tick, positionMark, accountMark, { ...tick, symbol: 'MSFT', price: 498.11 }] },
  { type: 'pong', id: 17, server_time: '2026-11-20T14:30:00.123456Z', server_time_us: 1795185000123456 },
  { type: 'pong', id: 'abc', server_time: '2026-11-20T14:30:00.123456Z', server_time_us: 1795185000123456, node: 'edge-1' },
  { type: 'error', code: 'invalid_json', message: 'malformed JSON at offset 0: Invalid value.' },
  { type: 'token_expiring', expires_at: '2026-11-20T15:30:00.000000Z', expires_at_s: 1795188600 },
  { type: 'refreshed', expires_at: '2026-11-20T16:30:00.000000Z', expires_at_s: 1795192200 },
  { type: 'stale', source: 'finnhub', since: '2026-11-23T19:55:10.200000Z', since_us: 1795463710200000 },
  { type: 'fresh', source: 'finnhub' },
  { type: 'reconnect', reason: 'draining', delay_ms: 7400 },
  { type: 'authenticated', user_id: 'u-42', expires_at_s: 1795188600, node: 'edge-1' },
  { type: 'topic_message', topic: 'signals:momentum', data: { symbol: 'AAPL', score: 0.8 }, timestamp: TS },
  { type: 'broadcast', data: { notice: 'Maintenance at 22:00 UTC' } },
];

export const clientSamples: ClientMessage[] = [
  { type: 'subscribe', symbols: ['AAPL', 'msft', 'BRK.B'], channels: ['positions', 'orders', 'account', 'trades'] },
  { type: 'subscribe', symbols: ['AAPL'], channels: ['positions', 'orders', 'account', 'trades'], since: 8 },
  { type: 'subscribe', symbols: ['AAPL'], batch_ms: 1000, snapshot: false },
  { type: 'subscribe', topics: ['news', 'signals:momentum'] },
  { type: 'unsubscribe', symbols: ['AAPL'], channels: ['trades'] },
  { type: 'refresh', token: 'eyJhbGciOiJIUzI1NiJ9.e30.sig' },
  { type: 'ping', id: 17 },
  { type: 'ping' },
  { type: 'auth', token: 'eyJhbGciOiJIUzI1NiJ9.e30.sig' },
];

// The types refuse what the schemas refuse. Each line must stay an error: if a type loosens,
// the unused @ts-expect-error fails the build.
// @ts-expect-error money is a decimal string, not a number
export const badQuantity: StoredPositionUpdate = { ...storedPosition, data: { ...storedPosition.data, quantity: 14 } };
// @ts-expect-error a mark has no seq
export const markWithSeq: PositionMark = { ...positionMark, seq: 3 };
// @ts-expect-error a mark carries its price-dependent fields
export const bareMark: PositionMark = { ...positionMark, data: storedPosition.data };
// @ts-expect-error side is buy or sell
export const badSide: OrderData = { ...order.data, side: 'long' };
// @ts-expect-error channels are the four private streams
export const badChannel: SubscribeMessage = { type: 'subscribe', channels: ['position'] };
// @ts-expect-error an edge message is not a client message
export const wrongDirection: ClientMessage = { type: 'pong', server_time: TS, server_time_us: 1 };

describe('message types follow docs/asyncapi.yaml', () => {
  it('every typed edge → client sample validates against the schemas', () => {
    const types = new Set<string>();
    for (const frame of serverSamples) {
      const r = validateServerFrame(frame);
      assert.deepEqual(r.errors, [], JSON.stringify(frame));
      types.add(frame.type);
    }
    const all: ServerMessage['type'][] = [
      'subscribed', 'unsubscribed', 'price_update', 'order_update', 'trade_executed', 'position_update', 'account_update',
      'snapshot', 'resync', 'batch', 'pong', 'error', 'token_expiring', 'refreshed', 'stale', 'fresh', 'reconnect',
      'authenticated', 'topic_message', 'broadcast',
    ];
    assert.deepEqual([...types].sort(), [...all].sort(), 'a sample of every edge → client type');
  });

  it('every typed client → edge sample validates against the schemas', () => {
    for (const frame of clientSamples) assert.deepEqual(validateClientFrame(frame).errors, [], JSON.stringify(frame));
  });

  it('what the types refuse, the schemas refuse too', () => {
    // (A "mark with a seq" is, to the schemas, a stored update: only the types tell them apart.)
    for (const frame of [badQuantity, bareMark]) assert.equal(validateServerFrame(frame).ok, false, JSON.stringify(frame));
    assert.equal(validateClientFrame(badChannel).ok, false);
    assert.equal(validateClientFrame(wrongDirection).ok, false);
    assert.equal(validateServerFrame({ ...order, data: badSide }).ok, false);
  });
});
