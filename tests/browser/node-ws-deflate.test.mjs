// permessage-deflate with Node's `ws` client, a second real client beside Chromium (live.test.mjs):
// three connections through haproxy, each making a different offer (ws's default, one asking for
// server_max_window_bits=15, one asking for server_no_context_takeover), read the replay's SPY
// ticks through ws's own zlib inflater. Every message must inflate to a valid price_update, the
// answers must carry what each offer asked for, the two connections with context takeover must
// read the channel's shared stream (far fewer bytes on the wire per tick than the one whose ticks
// are compressed alone), and the edge must count three compressed connections.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import WebSocket from 'ws';

import { Tier } from './support/tier.mjs';

const SYMBOLS = ['SPY']; // ~3.7 ticks/s in the capture
// A connection joins the channel's stream when it restarts (every 32 messages): from the 33rd tick
// on it is in step, and the wire is measured over ticks 33 to 50.
const FROM = 33;
const WANTED = 50;

/**
 * Connects with the deflate options given, signs in and subscribes; resolves with what it read.
 * Anything wrong (an error, a frame that does not inflate or parse, the connection ending early,
 * 60 s without enough ticks) rejects, and the socket is ended.
 */
function readTicks(tier, deflate, user) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${tier.lbPort}/ws`, { origin: tier.origin, perMessageDeflate: deflate });
    const ticks = [];
    let extensions = '';
    let socket = null;
    let wireFrom = 0;
    let inflated = 0;
    let settled = false;
    const fail = (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.terminate();
      reject(e instanceof Error ? e : new Error(String(e)));
    };
    const timer = setTimeout(() => fail(new Error(`${user}: ${ticks.length} of ${WANTED} ticks within 60 s`)), 60000);
    ws.on('upgrade', (res) => {
      extensions = res.headers['sec-websocket-extensions'] ?? '';
      socket = res.socket;
    });
    ws.on('error', fail);
    ws.on('close', (code, reason) => fail(new Error(`${user}: closed with ${code} ${String(reason)} after ${ticks.length} ticks`)));
    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'auth', token: tier.token(user, 600) }));
      ws.send(JSON.stringify({ type: 'subscribe', symbols: SYMBOLS }));
    });
    ws.on('message', (raw, isBinary) => {
      if (settled) return;
      try {
        assert.equal(isBinary, false, 'every message is a text frame');
        const msg = JSON.parse(String(raw));
        assert.notEqual(msg.type, 'error', `${user}: the edge answered ${String(raw)}`);
        assert.notEqual(msg.type, 'batch', 'batching is off');
        if (msg.type !== 'price_update') return;
        ticks.push(msg);
        if (ticks.length === FROM - 1) wireFrom = socket.bytesRead;
        if (ticks.length >= FROM) inflated += raw.length;
        if (ticks.length < WANTED) return;
        settled = true;
        clearTimeout(timer);
        const wireRatio = (socket.bytesRead - wireFrom) / inflated;
        resolve({ ticks, extensions, wireRatio, agreed: ws.extensions });
        ws.close(1000);
      } catch (e) {
        fail(e);
      }
    });
  });
}

test('Node ws clients read compressed ticks with and without context takeover, whatever window they ask for', async (t) => {
  // Batching off: a batch frame is the connection's own, compressed alone, and puts it out of step
  // with the channel's stream (docs/PROTOCOL.md, "Compression").
  const tier = await new Tier('node-ws-deflate', { edgeArgs: ['--permessage-deflate', '--deflate-threshold-bytes', '0', '--batch-window-ms', '0'] }).start();
  t.after(() => tier.stop());

  const [plainOffer, windowOffer, aloneOffer] = await Promise.all([
    readTicks(tier, true, 'ws-default'),
    readTicks(tier, { serverMaxWindowBits: 15 }, 'ws-window'),
    readTicks(tier, { serverNoContextTakeover: true }, 'ws-alone'),
  ]);

  // The edge's answer to each offer, and ws took it.
  for (const offer of [plainOffer, windowOffer, aloneOffer]) assert.equal(offer.agreed, 'permessage-deflate');
  assert.match(plainOffer.extensions, /^permessage-deflate; client_no_context_takeover/);
  assert.doesNotMatch(plainOffer.extensions, /server_no_context_takeover/, 'context takeover kept for ws-default');
  assert.match(windowOffer.extensions, /server_max_window_bits=15/, 'the window asked for is answered');
  assert.match(aloneOffer.extensions, /server_no_context_takeover/, 'server_no_context_takeover agreed');

  // Ticks compressed against the channel's recent ones are a fraction of ticks compressed alone.
  t.diagnostic(`wire / inflated, ticks ${FROM}-${WANTED}: default ${plainOffer.wireRatio.toFixed(3)}, window ${windowOffer.wireRatio.toFixed(3)}, alone ${aloneOffer.wireRatio.toFixed(3)}`);
  for (const shared of [plainOffer, windowOffer]) {
    assert.ok(shared.wireRatio < 0.45, `a tick in the shared stream: ${shared.wireRatio.toFixed(3)} of its size on the wire (limit 0.45)`);
    assert.ok(shared.wireRatio < 0.75 * aloneOffer.wireRatio, `shared ${shared.wireRatio.toFixed(3)} against alone ${aloneOffer.wireRatio.toFixed(3)}`);
  }

  for (const { ticks } of [plainOffer, windowOffer, aloneOffer]) {
    for (const tick of ticks) {
      assert.ok(SYMBOLS.includes(tick.symbol), `a tick of a subscribed symbol: ${JSON.stringify(tick)}`);
      assert.equal(typeof tick.price, 'number');
    }
  }

  const compressed = await tier.metricTotal('tickstream_edge_compressed_connections_total');
  assert.equal(compressed, 3, 'the three connections were compressed');
});
