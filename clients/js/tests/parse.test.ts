import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { exactQuote, FrameError, parseServerFrame, type BatchMessage, type PriceUpdate, type SnapshotMessage } from '../src/index.js';
import { tick } from './support.js';

describe('parseServerFrame', () => {
  it('keeps the digits of a tick as sent, and its numbers as numbers', () => {
    const msg = parseServerFrame(tick('AAPL', '190.00', { bid: '189.90', change: '-1.50', volume: 315846 })) as PriceUpdate;
    assert.equal(msg.price, 190);
    assert.equal(msg.bid, 189.9);
    assert.equal(msg.change, -1.5);
    assert.deepEqual(exactQuote(msg), { price: '190.00', bid: '189.90', change: '-1.50', volume: '315846' });
  });

  it('finds ticks inside batches and snapshots', () => {
    const batch = parseServerFrame(`{"type":"batch","events":[${tick('MSFT', '498.10')},${tick('AAPL', '270.31')}]}`) as BatchMessage;
    const [a, b] = batch.events as PriceUpdate[];
    assert.ok(a && b);
    assert.equal(exactQuote(a).price, '498.10');
    assert.equal(b.price, 270.31);
    const snap = parseServerFrame(`{"type":"snapshot","prices":[${tick('AAPL', '191.370')}]}`) as SnapshotMessage;
    assert.equal(exactQuote(snap.prices?.[0] as PriceUpdate).price, '191.370');
  });

  it('leaves decimal strings and other numbers alone', () => {
    const text =
      '{"type":"batch","events":[' +
      tick('AAPL', '1.10') +
      ',{"type":"trade_executed","userId":"u","seq":4,"timestamp":"t","data":{"executionId":"x","orderId":"o","symbol":"AAPL","side":"buy","qty":"4","price":"189.25"},"recv_us":1,"source":"s"}' +
      ',{"type":"topic_message","topic":"news","data":{"price":12.50,"text":"\\"price\\":3"},"timestamp":"t"}]}';
    const batch = parseServerFrame(text) as BatchMessage;
    const trade = batch.events[1] as unknown as { data: { price: unknown } };
    assert.equal(trade.data.price, '189.25');
    const topic = batch.events[2] as unknown as { data: { price: unknown; text: unknown } };
    assert.equal(topic.data.price, 12.5);
    assert.equal(topic.data.text, '"price":3');
  });

  it('falls back to String(number) for a tick built in code', () => {
    const t: PriceUpdate = { type: 'price_update', symbol: 'X', price: 2.5, timestamp: 't', recv_us: 1, source: 's' };
    assert.deepEqual(exactQuote(t), { price: '2.5' });
  });

  it('rejects what is not a JSON object with a type', () => {
    for (const bad of ['nope', '[1]', '{"a":1}', '{"type":3}', 'null']) {
      assert.throws(() => parseServerFrame(bad), FrameError, bad);
    }
  });
});
