import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseServerFrame, PortfolioStore, type ServerMessage, type StoreChange } from '../src/index.js';
import { account, accountMark, mark, order, position, snapshot, tick, tickObject, trade } from './support.js';

function store(): PortfolioStore {
  let t = 0;
  return new PortfolioStore({ now: () => ++t });
}

function msg(x: unknown): ServerMessage {
  return parseServerFrame(typeof x === 'string' ? x : JSON.stringify(x));
}

describe('PortfolioStore: seq rules', () => {
  it('starts from a snapshot: replaces the sections and sets held to its seq', () => {
    const s = store();
    s.apply(msg(snapshot(8, { positions: [position(8, 'AAPL', '10')], orders: [order(6, 'o-1', 'new')], account: account(1, '100000.00') })));
    const st = s.getState();
    assert.equal(st.held, 8);
    assert.deepEqual([...st.positions.keys()], ['AAPL']);
    assert.deepEqual([...st.orders.keys()], ['o-1']);
    assert.equal(st.account?.data.cash, '100000.00');
    assert.equal(st.userId, 'trader');
    assert.deepEqual([...st.loaded].sort(), ['account', 'orders', 'positions']);
  });

  it('ignores a stored event at or below held (a duplicate) and applies the next', () => {
    const s = store();
    s.apply(msg(snapshot(5)));
    const dup = s.apply(msg(position(5, 'AAPL', '4')));
    assert.equal(dup.duplicates.length, 1);
    assert.equal(s.getState().positions.size, 0);
    const older = s.apply(msg(position(3, 'AAPL', '4')));
    assert.equal(older.duplicates.length, 1);
    s.apply(msg(position(6, 'AAPL', '4')));
    assert.equal(s.getState().held, 6);
    assert.equal(s.getState().positions.get('AAPL')?.data.quantity, '4');
  });

  it('with gap detection on, stops at a jump past held + 1 and applies nothing after it', () => {
    const s = store();
    s.detectGaps = true;
    s.apply(msg(snapshot(5)));
    const r = s.apply(msg({ type: 'batch', events: [order(6, 'o-1', 'new'), order(8, 'o-2', 'new'), order(9, 'o-3', 'new')] }));
    assert.deepEqual(r.gap, { held: 6, seq: 8 });
    assert.equal(s.getState().held, 6);
    assert.deepEqual([...s.getState().orders.keys()], ['o-1']);
  });

  it('without gap detection (fewer channels), a jump is normal', () => {
    const s = store();
    s.apply(msg(snapshot(5)));
    const r = s.apply(msg(order(9, 'o-1', 'new')));
    assert.equal(r.gap, null);
    assert.equal(s.getState().held, 9);
  });

  it('marks update only price-dependent fields, never held, and never create a position', () => {
    const s = store();
    s.apply(msg(snapshot(8, { positions: [position(8, 'AAPL', '10', '189.4')], account: account(1, '100000.00') })));
    s.apply(msg(mark('AAPL', '999', '191.37', '19.70')));
    const p = s.getState().positions.get('AAPL');
    assert.equal(p?.data.unrealizedPnl, '19.70');
    assert.equal(p?.data.currentPrice, '191.37');
    assert.equal(p?.data.quantity, '10', 'a mark does not change the stored quantity');
    assert.equal(p?.data.entryPrice, '189.4');
    assert.equal(p?.seq, 8, 'the entry keeps the seq of its stored event');
    assert.equal(s.getState().held, 8);
    const none = s.apply(msg(mark('MSFT', '1', '10', '1')));
    assert.equal(none.applied.length, 0);
    assert.equal(s.getState().positions.has('MSFT'), false);
    s.apply(msg(accountMark('1.00', '101913.70', '5')));
    const a = s.getState().account?.data;
    assert.equal(a?.equity, '101913.70');
    assert.equal(a?.portfolioValue, '101913.70');
    assert.equal(a?.cash, '100000.00', 'cash is not price-dependent');
    assert.equal(a?.buyingPower, '200000.00');
  });

  it('a stored position with quantity "0" closes it; a final order status closes the order', () => {
    const s = store();
    s.apply(msg(snapshot(1, { positions: [position(1, 'AAPL', '10')], orders: [order(1, 'o-1', 'new')] })));
    s.apply(msg(order(2, 'o-1', 'partially_filled', '4')));
    assert.equal(s.getState().orders.get('o-1')?.data.filledQty, '4');
    s.apply(msg(order(3, 'o-1', 'filled', '10')));
    assert.equal(s.getState().orders.size, 0);
    s.apply(msg(position(4, 'AAPL', '0.000')));
    assert.equal(s.getState().positions.size, 0);
  });

  it('unpacks a batch in order, one change for the whole batch', () => {
    const s = store();
    s.apply(msg(snapshot(1)));
    const changes: StoreChange[] = [];
    s.subscribe((c) => changes.push(c));
    s.apply(msg({ type: 'batch', events: [position(2, 'AAPL', '4'), position(3, 'AAPL', '10'), trade(4, 'x-1'), trade(4, 'x-1')] }));
    assert.equal(changes.length, 1);
    assert.equal(s.getState().positions.get('AAPL')?.data.quantity, '10');
    assert.equal(s.getState().trades.length, 1, 'the duplicate trade is not appended');
    assert.deepEqual([...(changes[0]?.sections ?? [])].sort(), ['positions', 'trades']);
    assert.equal(changes[0]?.events.length, 3);
  });

  it('a resync replaces the state, may lower held, and reports its reason', () => {
    const s = store();
    s.apply(msg(snapshot(20, { positions: [position(20, 'AAPL', '10')] })));
    const r = s.apply(msg({ type: 'resync', reason: 'sequence_reset', seq: 3, positions: [], orders: [order(3, 'o-9', 'new')], account: null }));
    assert.equal(r.resync, 'sequence_reset');
    assert.equal(s.getState().held, 3);
    assert.equal(s.getState().positions.size, 0);
    s.apply(msg(order(4, 'o-9', 'canceled')));
    assert.equal(s.getState().orders.size, 0, 'events above the lowered held apply');
  });

  it('snapshot prices merge by symbol; a symbol-only snapshot leaves held alone', () => {
    const s = store();
    s.apply(msg(snapshot(7)));
    s.apply(msg(tick('MSFT', '498.10')));
    s.apply(msg(`{"type":"snapshot","prices":[${tick('AAPL', '191.37')}]}`));
    const st = s.getState();
    assert.equal(st.held, 7);
    assert.deepEqual([...st.prices.keys()].sort(), ['AAPL', 'MSFT']);
    assert.equal(st.prices.get('MSFT')?.exact.price, '498.10');
  });

  it('keeps the latest tick per symbol', () => {
    const s = store();
    s.apply(tickObject('AAPL', 1));
    s.apply(msg(tick('AAPL', '2.50')));
    assert.equal(s.getState().prices.get('AAPL')?.update.price, 2.5);
    assert.equal(s.getState().prices.get('AAPL')?.exact.price, '2.50');
  });

  it('copies only the sections that change, so unchanged sections keep their identity', () => {
    const s = store();
    s.apply(msg(snapshot(1, { positions: [position(1, 'AAPL', '1')] })));
    const before = s.getState();
    s.apply(msg(tick('AAPL', '3')));
    const after = s.getState();
    assert.notEqual(after, before);
    assert.equal(after.positions, before.positions);
    assert.notEqual(after.prices, before.prices);
    assert.equal(after.version, before.version + 1);
    const pong = s.apply(msg({ type: 'pong', server_time: 't', server_time_us: 1 }));
    assert.equal(pong.changed.size, 0);
    assert.equal(s.getState(), after, 'a control message changes nothing');
  });

  it('applyRest replaces sections without moving held', () => {
    const s = store();
    s.apply(msg(snapshot(10, { positions: [position(10, 'AAPL', '1')] })));
    s.applyRest({ seq: 14, positions: [position(13, 'MSFT', '2')] });
    assert.equal(s.getState().held, 10);
    assert.deepEqual([...s.getState().positions.keys()], ['MSFT']);
  });

  it('keeps at most tradesLimit trades, the newest', () => {
    const s = new PortfolioStore({ tradesLimit: 3 });
    s.apply(msg(snapshot(0)));
    for (let i = 1; i <= 5; i++) s.apply(msg(trade(i, `x-${i}`)));
    assert.deepEqual(s.getState().trades.map((t) => t.data.executionId), ['x-3', 'x-4', 'x-5']);
  });

  it('clear() forgets sections and their loaded flag; removePrices() forgets symbols', () => {
    const s = store();
    s.apply(msg(snapshot(1, { positions: [position(1, 'AAPL', '1')] })));
    s.apply(msg(tick('AAPL', '1')));
    s.clear(['positions']);
    s.removePrices(['AAPL']);
    assert.equal(s.getState().positions.size, 0);
    assert.equal(s.getState().loaded.has('positions'), false);
    assert.equal(s.getState().prices.size, 0);
  });
});
