import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { StoredEvent } from '../src/index.js';
import { ALL, accept, connected, failAttempts, harness } from './harness.js';
import { order, position, settle, snapshot, subscribed, tick, trade } from './support.js';

describe('resume after a disconnect', () => {
  it('subscribes again with since = the last applied seq, and applies the missed events once', async () => {
    const h = harness({ channels: ALL, symbols: ['AAPL'] });
    const ws = await connected(h, { seq: 8, symbols: ['AAPL'], sections: { positions: [position(8, 'AAPL', '10')] } });
    ws.receive(order(9, 'o-8', 'new'));
    await h.clock.advance(6_000);
    ws.serverClose(1006);
    await h.clock.advance(500);
    const ws2 = h.sockets.last;
    ws2.open();
    assert.deepEqual(ws2.messagesOfType('subscribe'), [{ type: 'subscribe', symbols: ['AAPL'], channels: ALL, since: 9 }]);
    ws2.receive(subscribed(ALL, ['AAPL']));
    ws2.receive(order(9, 'o-8', 'new')); // a duplicate is harmless
    ws2.receive(order(10, 'o-8', 'canceled'));
    ws2.receive(`{"type":"snapshot","prices":[${tick('AAPL', '191.37')}]}`);
    const st = h.client.store.getState();
    assert.equal(st.held, 10);
    assert.equal(st.orders.size, 0);
    assert.equal(st.prices.get('AAPL')?.exact.price, '191.37');
    assert.equal(st.positions.get('AAPL')?.data.quantity, '10', 'positions kept across the resume');
  });

  it('a channel added while disconnected is not resumed: it gets its own snapshot on the same connection', async () => {
    const h = harness({ channels: ['positions'] });
    const ws = await connected(h, { seq: 4, channels: ['positions'], sections: { positions: [] } });
    await h.clock.advance(6_000);
    ws.serverClose(1006);
    await settle();
    h.client.subscribe({ channels: ['orders'] });
    await h.clock.advance(500);
    const ws2 = h.sockets.last;
    ws2.open();
    assert.deepEqual(ws2.messagesOfType('subscribe'), [
      { type: 'subscribe', channels: ['positions'], since: 4 },
      { type: 'subscribe', channels: ['orders'] },
    ]);
  });

  it('a resync replaces the state and is reported as a discontinuity', async () => {
    const h = harness({ channels: ALL });
    const disc = h.events('discontinuity');
    const ws = await connected(h, { seq: 3, sections: { positions: [position(3, 'AAPL', '5')] } });
    ws.receive({ type: 'resync', reason: 'history_truncated', seq: 1300, positions: [], orders: [order(1299, 'o-1', 'new')], account: null });
    assert.equal(h.client.store.getState().held, 1300);
    assert.equal(h.client.store.getState().positions.size, 0);
    assert.deepEqual(disc, [{ reason: 'history_truncated' }]);
  });

  it('with every channel, a seq jump closes the link and resumes from held', async () => {
    const h = harness({ channels: ALL });
    const disc = h.events('discontinuity');
    const ws = await connected(h, { seq: 5 });
    await h.clock.advance(6_000);
    ws.receive({ type: 'batch', events: [order(6, 'o-1', 'new'), order(8, 'o-1', 'filled'), order(9, 'o-2', 'new')] });
    assert.equal(h.client.store.getState().held, 6);
    assert.equal(ws.closed()?.reason, 'gap');
    assert.equal(disc[0]?.reason, 'gap');
    ws.receive(order(10, 'o-3', 'new'));
    assert.equal(h.client.store.getState().orders.has('o-3'), false, 'nothing more from the old socket');
    await h.clock.advance(0);
    const ws2 = h.sockets.last;
    ws2.open();
    assert.equal(ws2.messagesOfType('subscribe')[0]?.since, 6);
  });

  it('with the four portfolio channels but not events, a jump is normal (app events take seqs too)', async () => {
    const h = harness({ channels: ['positions', 'orders', 'account', 'trades'] });
    const ws = await connected(h, { seq: 5, channels: ['positions', 'orders', 'account', 'trades'] });
    ws.receive(order(6, 'o-1', 'new'));
    ws.receive(order(8, 'o-1', 'filled')); // seq 7 was an app event on the events channel
    assert.equal(ws.closed(), null);
    assert.equal(h.client.store.getState().held, 8);
  });

  it('with fewer channels, a seq jump is normal', async () => {
    const h = harness({ channels: ['orders'] });
    const ws = await connected(h, { seq: 5, channels: ['orders'] });
    ws.receive(order(9, 'o-1', 'new'));
    assert.equal(ws.closed(), null);
    assert.equal(h.client.store.getState().held, 9);
  });
});

describe('subscriptions', () => {
  it('are reference-counted: the edge is told when the last holder releases', async () => {
    const h = harness();
    h.client.connect();
    await settle();
    h.sockets.last.open();
    const a = h.client.subscribe({ symbols: ['aapl', 'MSFT'] });
    const b = h.client.subscribe({ symbols: ['AAPL'] });
    await settle();
    const ws = h.sockets.last;
    assert.deepEqual(ws.messagesOfType('subscribe'), [{ type: 'subscribe', symbols: ['AAPL', 'MSFT'] }]);
    ws.receive(subscribed([], ['AAPL', 'MSFT']));
    ws.receive(tick('MSFT', 1));
    a.unsubscribe();
    a.unsubscribe();
    await settle();
    assert.deepEqual(ws.messagesOfType('unsubscribe'), [{ type: 'unsubscribe', symbols: ['MSFT'] }]);
    assert.equal(h.client.store.getState().prices.has('MSFT'), false);
    b.unsubscribe();
    await settle();
    assert.deepEqual(ws.messagesOfType('unsubscribe').at(-1), { type: 'unsubscribe', symbols: ['AAPL'] });
  });

  it('a release and re-subscribe in the same turn (React StrictMode) sends nothing', async () => {
    const h = harness({ symbols: ['AAPL'] });
    h.client.connect();
    await settle();
    h.sockets.last.open();
    const s = h.client.subscribe({ channels: ['positions'] });
    s.unsubscribe();
    h.client.subscribe({ channels: ['positions'] });
    await settle();
    assert.deepEqual(h.sockets.last.messagesOfType('subscribe'), [
      { type: 'subscribe', symbols: ['AAPL'] },
      { type: 'subscribe', channels: ['positions'] },
    ]);
    assert.equal(h.sockets.last.messagesOfType('unsubscribe').length, 0);
  });

  it('more than 1,000 symbols go out in messages of at most 1,000', async () => {
    const symbols = Array.from({ length: 2500 }, (_, i) => `S${i}`);
    const h = harness({ symbols, channels: ['positions'] });
    h.client.connect();
    await settle();
    h.sockets.last.open();
    const subs = h.sockets.last.messagesOfType('subscribe');
    assert.deepEqual(subs.map((m) => m.symbols?.length), [1000, 1000, 500]);
    assert.deepEqual(subs[0]?.channels, ['positions']);
    assert.equal(subs[1]?.channels, undefined);
  });

  it('topics are sent and their messages emitted', async () => {
    const h = harness({ topics: ['news'] });
    const topics = h.events('topic');
    h.client.connect();
    await settle();
    const ws = h.sockets.last;
    ws.open();
    assert.deepEqual(ws.messagesOfType('subscribe'), [{ type: 'subscribe', topics: ['news'] }]);
    ws.receive({ type: 'topic_message', topic: 'news', data: { headline: 'x' }, timestamp: '2026-11-20T14:30:00.000000Z' });
    ws.receive({ type: 'batch', events: [{ type: 'topic_message', topic: 'news', data: { n: 2 }, timestamp: '2026-11-20T14:30:00.000000Z' }] });
    assert.equal(topics.length, 2);
  });

  it('a retained topic message is emitted like a live one, and a not_entitled release is reported', async () => {
    const h = harness({ topics: ['news'], symbols: ['CRYPTO:BTC'] });
    const topics = h.events('topic');
    const rejected = h.events('rejected');
    h.client.connect();
    await settle();
    const ws = h.sockets.last;
    ws.open();
    ws.receive({ type: 'subscribed', symbols: ['CRYPTO:BTC'], channels: [], topics: ['news'], rejected: [], batch_ms: 250 });
    ws.receive({ type: 'topic_message', topic: 'news', data: { h: 'last' }, timestamp: '2026-11-20T14:30:00.000000Z', retained: true });
    assert.equal(topics.length, 1);
    assert.equal(topics[0]?.retained, true);
    ws.receive({ type: 'unsubscribed', symbols: ['CRYPTO:BTC'], channels: [], topics: [], reason: 'not_entitled' });
    assert.deepEqual(rejected, [[{ name: 'CRYPTO:BTC', code: 'not_entitled', reason: 'the connection is no longer entitled to this' }]]);
  });

  it('stale and fresh are tracked per source', async () => {
    const h = harness({ symbols: ['AAPL'] });
    const ws = await connected(h);
    ws.receive({ type: 'stale', source: 'finnhub', since: '2026-11-23T19:55:10.200000Z', since_us: 1795463710200000 });
    assert.deepEqual([...h.client.getStatus().staleSources.keys()], ['finnhub']);
    ws.receive({ type: 'fresh', source: 'finnhub' });
    assert.equal(h.client.getStatus().staleSources.size, 0);
  });
});

describe('backup (REST polling) and back', () => {
  it('after 10 failed attempts polls REST every 5 s, keeps trying at the cap, and returns with a snapshot: no event twice, none lost', async () => {
    const h = harness({ channels: ['positions', 'orders', 'account'], symbols: ['AAPL'] });
    const disc = h.events('discontinuity');
    const applied: number[] = [];
    h.client.store.subscribe((c) => {
      for (const e of c.events) if ('seq' in e && typeof e.seq === 'number') applied.push((e as StoredEvent).seq);
    });
    const ws = await connected(h, {
      seq: 5,
      channels: ['positions', 'orders', 'account'],
      symbols: ['AAPL'],
      sections: { positions: [position(5, 'AAPL', '10')] },
    });
    ws.receive(order(6, 'o-1', 'new'));
    await h.clock.advance(6_000);

    // REST: the state moved on to seq 8 meanwhile (o-1 filled, AAPL 14).
    let restSeq = 8;
    let holdNextPoll: ((v: void) => void) | null = null;
    let held: Promise<void> | null = null;
    h.fetch.handler = async (url) => {
      if (held) await held;
      const path = new URL(url).pathname;
      if (path === '/api/positions') return { status: 200, body: { type: 'snapshot', seq: restSeq, positions: [position(restSeq, 'AAPL', '14')] } };
      if (path === '/api/orders') return { status: 200, body: { type: 'snapshot', seq: restSeq, orders: [] } };
      if (path === '/api/account') return { status: 200, body: { type: 'snapshot', seq: restSeq, account: null } };
      return { status: 200, body: `{"type":"snapshot","prices":[${tick('AAPL', '192.10')}],"missing":[]}` };
    };

    // The drop, then 9 failed reconnects: still reconnecting; the 10th failure starts backup.
    await failAttempts(h, 10);
    assert.equal(h.client.state, 'reconnecting');
    assert.equal(h.sockets.count, 11);
    assert.equal(h.fetch.calls.length, 0);
    h.sockets.last.serverClose(1006);
    await settle();
    assert.equal(h.client.state, 'backup');
    assert.equal(disc.at(-1)?.reason, 'backup');
    assert.deepEqual(h.fetch.paths().sort(), ['/api/account', '/api/orders', '/api/positions', '/api/prices?symbols=AAPL']);
    const st = h.client.store.getState();
    assert.equal(st.positions.get('AAPL')?.data.quantity, '14');
    assert.equal(st.orders.size, 0);
    assert.equal(st.prices.get('AAPL')?.exact.price, '192.10');
    assert.equal(st.held, 6, 'REST does not move held');

    // Polls every 5 s; attempts continue at the cap (15 s with random 0.5).
    await h.clock.advance(5_000);
    assert.equal(h.fetch.calls.length, 8);
    const socketsBefore = h.sockets.count;
    await h.clock.advance(10_000);
    assert.equal(h.sockets.count, socketsBefore + 1, 'an attempt 15 s after the last one');
    assert.equal(h.client.state, 'backup');

    // A poll is in flight when the stream comes back: its answer must not land.
    restSeq = 9;
    held = new Promise<void>((r) => (holdNextPoll = r));
    await h.clock.advance(5_000);
    const polls = h.fetch.calls.length;
    const ws2 = h.sockets.last;
    ws2.open();
    assert.equal(h.client.state, 'connected');
    const sub = ws2.messagesOfType('subscribe')[0];
    assert.equal(sub?.since, undefined, 'after REST polling: subscribe without since');
    ws2.receive(subscribed(['positions', 'orders', 'account'], ['AAPL']));
    ws2.receive(snapshot(10, { positions: [position(10, 'AAPL', '20')], orders: [order(9, 'o-2', 'new')], account: null }));
    ws2.receive(order(10, 'o-2', 'new')); // at the snapshot's seq: already in it
    ws2.receive(order(11, 'o-2', 'filled'));
    (holdNextPoll as unknown as (v: void) => void)();
    held = null;
    await settle();
    const end = h.client.store.getState();
    assert.equal(end.positions.get('AAPL')?.data.quantity, '20', 'the late REST answer (seq 9) did not overwrite the snapshot');
    assert.equal(end.held, 11);
    assert.equal(end.orders.size, 0);
    assert.deepEqual(applied, [6, 11], 'each stored event applied once');
    await h.clock.advance(60_000);
    assert.equal(h.fetch.calls.length, polls, 'no polling while connected');
  });

  it('a REST read older than the last applied seq does not step the state back', async () => {
    const h = harness({ channels: ['positions'], maxReconnectAttempts: 1 });
    h.fetch.handler = () => ({ status: 200, body: { type: 'snapshot', seq: 4, positions: [] } });
    const ws = await connected(h, { seq: 6, channels: ['positions'], sections: { positions: [position(6, 'AAPL', '10')] } });
    await h.clock.advance(6_000);
    await failAttempts(h, 2);
    assert.equal(h.client.state, 'backup');
    assert.ok(h.fetch.calls.length >= 1);
    assert.equal(h.client.store.getState().positions.get('AAPL')?.data.quantity, '10');
    void ws;
  });

  it('a connection that drops soon after leaving backup goes back to backup at once', async () => {
    const h = harness({ channels: ['positions'], maxReconnectAttempts: 2 });
    h.fetch.handler = () => ({ status: 200, body: { type: 'snapshot', seq: 1, positions: [] } });
    h.client.connect();
    await failAttempts(h, 3);
    assert.equal(h.client.state, 'backup');
    const before = h.sockets.count;
    while (h.sockets.count === before) await h.clock.advance(1_000);
    await accept(h, { channels: ['positions'] });
    assert.equal(h.client.state, 'connected');
    h.sockets.last.serverClose(1006);
    await settle();
    assert.equal(h.client.state, 'backup');
  });
});

describe('reconciliation with REST', () => {
  function reconcileHarness(rest: () => unknown) {
    const h = harness({ channels: ['positions'], reconcileMs: 60_000 });
    h.fetch.handler = () => ({ status: 200, body: rest() });
    return h;
  }

  it('runs every 60 s while connected; equal seq and fields: nothing to do', async () => {
    const h = reconcileHarness(() => ({ type: 'snapshot', seq: 8, positions: [position(8, 'AAPL', '10.0')] }));
    const rec = h.events('reconciled');
    await connected(h, { seq: 8, channels: ['positions'], sections: { positions: [position(8, 'AAPL', '10')] } });
    await h.clock.advance(59_999);
    assert.equal(h.fetch.calls.length, 0);
    await h.clock.advance(1);
    assert.equal(rec[0]?.outcome, 'match');
    await h.clock.advance(60_000);
    assert.equal(h.fetch.calls.length, 2);
  });

  it('equal seq, different stored fields: the section is replaced by REST and reported', async () => {
    const h = reconcileHarness(() => ({ type: 'snapshot', seq: 8, positions: [position(8, 'AAPL', '14'), position(7, 'MSFT', '1')] }));
    const disc = h.events('discontinuity');
    await connected(h, { seq: 8, channels: ['positions'], sections: { positions: [position(8, 'AAPL', '10')] } });
    const [r] = await h.client.reconcileNow();
    assert.equal(r?.outcome, 'replace');
    const st = h.client.store.getState();
    assert.equal(st.positions.get('AAPL')?.data.quantity, '14');
    assert.equal(st.positions.has('MSFT'), true);
    assert.equal(st.held, 8);
    assert.equal(disc[0]?.reason, 'reconciliation');
    assert.equal(disc[0]?.section, 'positions');
  });

  it('REST ahead with an entry at or below held that differs: subscribe the channel again for its snapshot', async () => {
    const h = reconcileHarness(() => ({ type: 'snapshot', seq: 12, positions: [position(7, 'AAPL', '14')] }));
    const disc = h.events('discontinuity');
    const ws = await connected(h, { seq: 8, channels: ['positions'], sections: { positions: [position(5, 'AAPL', '10')] } });
    const [r] = await h.client.reconcileNow();
    assert.equal(r?.outcome, 'resubscribe');
    assert.deepEqual(ws.messagesOfType('subscribe').at(-1), { type: 'subscribe', channels: ['positions'] });
    assert.equal(disc[0]?.reason, 'missed_event');
    ws.receive(snapshot(12, { positions: [position(7, 'AAPL', '14')] }));
    assert.equal(h.client.store.getState().positions.get('AAPL')?.data.quantity, '14');
    assert.equal(h.client.store.getState().held, 12);
  });

  it('REST ahead whose older entries agree: on their way, nothing to do', async () => {
    const h = reconcileHarness(() => ({ type: 'snapshot', seq: 12, positions: [position(5, 'AAPL', '10'), position(11, 'MSFT', '3')] }));
    const ws = await connected(h, { seq: 8, channels: ['positions'], sections: { positions: [position(5, 'AAPL', '10')] } });
    const [r] = await h.client.reconcileNow();
    assert.equal(r?.outcome, 'ahead');
    assert.equal(ws.messagesOfType('subscribe').length, 1);
    assert.equal(h.client.store.getState().positions.has('MSFT'), false);
  });

  it('a REST read older than held is ignored', async () => {
    const h = reconcileHarness(() => ({ type: 'snapshot', seq: 3, positions: [] }));
    await connected(h, { seq: 8, channels: ['positions'], sections: { positions: [position(5, 'AAPL', '10')] } });
    const [r] = await h.client.reconcileNow();
    assert.equal(r?.outcome, 'stale_read');
    assert.equal(h.client.store.getState().positions.size, 1);
  });

  it('is compared with the state when the answer arrives, not when it was asked', async () => {
    let release: () => void = () => {};
    const h = harness({ channels: ['positions'], reconcileMs: 0 });
    h.fetch.handler = () =>
      new Promise((resolve) => {
        release = () => resolve({ status: 200, body: { type: 'snapshot', seq: 8, positions: [position(8, 'AAPL', '10')] } });
      });
    const ws = await connected(h, { seq: 8, channels: ['positions'], sections: { positions: [position(8, 'AAPL', '10')] } });
    const pending = h.client.reconcileNow();
    await settle();
    ws.receive(position(9, 'AAPL', '11'));
    release();
    const [r] = await pending;
    assert.equal(r?.outcome, 'stale_read');
    assert.equal(h.client.store.getState().positions.get('AAPL')?.data.quantity, '11');
  });
});

describe('raw events', () => {
  it('every frame and every event (batches unpacked) reach listeners as received', async () => {
    const h = harness({ channels: ALL });
    const frames = h.events('message');
    const events = h.events('event');
    const ws = await connected(h, { seq: 1 });
    ws.receive({ type: 'batch', events: [trade(2, 'x'), trade(2, 'x')] });
    assert.deepEqual(frames.map((f) => f.type), ['subscribed', 'snapshot', 'batch']);
    assert.equal(events.length, 2, 'duplicates included: raw means raw');
    assert.equal(h.client.store.getState().trades.length, 1);
  });
});

describe('conflated app events', () => {
  const app = (seq: number, type: string, data: Record<string, unknown>) => ({
    type,
    userId: 'trader',
    seq,
    timestamp: '2026-11-20T14:30:02.000000Z',
    data,
    recv_us: 1795185002000000,
    source: 'api',
  });

  it('counts the seqs of a conflated marker as received: no gap, and the survivor arrives as an event', async () => {
    const h = harness({ channels: ALL });
    const disc = h.events('discontinuity');
    const seen = h.events('event');
    const markers = h.events('conflated');
    const ws = await connected(h, { seq: 5 });
    // Portfolio p1 at 6, 8 and 10 with a decision at 7 between: the edge kept the latest (10) and
    // told the client that 6 and 8..9 were superseded, each where it was.
    ws.receive(
      JSON.stringify({
        type: 'batch',
        events: [
          { type: 'conflated', fromSeq: 6, toSeq: 6 },
          app(7, 'decision_made', { action: 'buy' }),
          { type: 'conflated', fromSeq: 8, toSeq: 9 },
          app(10, 'portfolio_update', { portfolioId: 'p1', n: 10 }),
        ],
      }),
    );
    assert.equal(ws.closed(), null, 'no gap: the link stays');
    assert.deepEqual(disc, []);
    assert.equal(h.client.store.getState().held, 10);
    assert.deepEqual(
      seen.map((e) => [e.type, 'seq' in e ? e.seq : null]),
      [
        ['decision_made', 7],
        ['portfolio_update', 10],
      ],
    );
    assert.deepEqual(markers, [
      { type: 'conflated', fromSeq: 6, toSeq: 6 },
      { type: 'conflated', fromSeq: 8, toSeq: 9 },
    ]);
    // Later events continue from there; an app event alone is an event too.
    ws.receive(JSON.stringify(app(11, 'portfolio_update', { portfolioId: 'p1', n: 11 })));
    assert.equal(h.client.store.getState().held, 11);
    assert.equal(seen.at(-1)?.type, 'portfolio_update');
    // A reconnect resumes after the last seq, whether an event or a marker covered it.
    await h.clock.advance(6_000);
    ws.serverClose(1006);
    await h.clock.advance(500);
    const ws2 = h.sockets.last;
    ws2.open();
    assert.equal(ws2.messagesOfType('subscribe')[0]?.since, 11);
  });

  it('a marker past held + 1 is a gap like a stored event, and one at or below held is a duplicate', async () => {
    const h = harness({ channels: ALL });
    const ws = await connected(h, { seq: 5 });
    ws.receive({ type: 'batch', events: [{ type: 'conflated', fromSeq: 3, toSeq: 5 }, order(6, 'o-1', 'new')] });
    assert.equal(h.client.store.getState().held, 6);
    assert.equal(ws.closed(), null);
    await h.clock.advance(6_000);
    ws.receive({ type: 'batch', events: [{ type: 'conflated', fromSeq: 8, toSeq: 9 }, order(10, 'o-1', 'filled')] });
    assert.equal(h.client.store.getState().held, 6);
    assert.equal(ws.closed()?.reason, 'gap');
  });
});
