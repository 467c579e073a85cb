#!/usr/bin/env node
// A reference peer for the benchmarks: the smallest Node `ws` + `redis` fan-out server built the way
// the Node systems Tickstream replaces were built, so that bench/run-scenario can drive it with the
// same load generator as the edge and print both side by side.
//
//   node bench/reference-peer/server.js [--host 127.0.0.1] [--port 8111] [--redis-port 6379]
//                                       [--redis-host 127.0.0.1] [--send frame|send] [--lag-ms N]
//
// What it does, and no more:
// - accepts WebSocket upgrades on any path (no auth, no compression, no pings);
// - takes {"type":"subscribe","symbols":[...]} and {"type":"unsubscribe","symbols":[...]} (other
//   fields are ignored) and answers {"type":"subscribed","symbols":[...],"channels":[],"rejected":[...]};
// - holds one Redis SUBSCRIBE per channel ts:{md:<SYMBOL>} (the channel ingest publishes ticks on),
//   reference-counted over its subscribers: the first subscriber subscribes, the last one leaving
//   unsubscribes;
// - forwards each Redis message unchanged as one text frame: with --send frame (the default) the
//   frame (header and payload) is built once per message and the same bytes are written to every
//   subscriber's socket; with --send send each subscriber gets ws.send(payload) (ws builds a header
//   per client and shares the payload).
// There is no backpressure and no bound on a slow client's buffer, like the systems it stands for.
'use strict';

const http = require('http');
const { WebSocketServer, WebSocket } = require('ws');
const { createClient } = require('redis');

function parseArgs(argv) {
  const opts = { host: '127.0.0.1', port: 8111, redisHost: '127.0.0.1', redisPort: 6379, send: 'frame', lagMs: 0 };
  for (let i = 2; i < argv.length; ++i) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = inline !== undefined ? inline : argv[++i];
    switch (flag) {
      case '--host': opts.host = value; break;
      case '--port': opts.port = Number(value); break;
      case '--redis-host': opts.redisHost = value; break;
      case '--redis-port': opts.redisPort = Number(value); break;
      case '--send': opts.send = value; break;
      case '--lag-ms': opts.lagMs = Number(value); break;
      default:
        console.error(`reference-peer: unknown flag ${flag}`);
        process.exit(2);
    }
  }
  if (opts.send !== 'frame' && opts.send !== 'send') {
    console.error('reference-peer: --send must be frame or send');
    process.exit(2);
  }
  return opts;
}

const opts = parseArgs(process.argv);
const symbolPattern = /^[A-Za-z0-9._-]{1,32}$/;
const channelOf = (symbol) => `ts:{md:${symbol}}`;

// channel -> { clients: Set<client>, ready: Promise<void> }
const channels = new Map();

async function main() {
  const redis = createClient({ socket: { host: opts.redisHost, port: opts.redisPort } });
  redis.on('error', (err) => console.error(`reference-peer: redis: ${err.message}`));
  await redis.connect();

  function deliver(channel, message) {
    const entry = channels.get(channel);
    if (!entry) return;
    if (opts.send === 'frame') {
      const frame = Buffer.concat(
        WebSocket.Sender.frame(message, { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: false }));
      for (const c of entry.clients) {
        if (c.ws.readyState === WebSocket.OPEN) c.socket.write(frame);
      }
    } else {
      for (const c of entry.clients) {
        if (c.ws.readyState === WebSocket.OPEN) c.ws.send(message, { binary: false });
      }
    }
  }

  function join(client, symbol) {
    const channel = channelOf(symbol);
    let entry = channels.get(channel);
    if (!entry) {
      entry = { clients: new Set(), ready: null };
      channels.set(channel, entry);
      entry.ready = redis.subscribe(channel, (message) => deliver(channel, message), true);
    }
    entry.clients.add(client);
    client.symbols.add(symbol);
    return entry.ready;
  }

  function leave(client, symbol) {
    const channel = channelOf(symbol);
    client.symbols.delete(symbol);
    const entry = channels.get(channel);
    if (!entry) return;
    entry.clients.delete(client);
    if (entry.clients.size === 0) {
      channels.delete(channel);
      // Past the end of a run Redis may be gone before the clients: nothing to report then.
      if (redis.isReady) redis.unsubscribe(channel).catch(() => {});
    }
  }

  const server = http.createServer((req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('WebSocket only\n');
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.setNoDelay(true);
      const client = { ws, socket, symbols: new Set() };
      ws.on('message', async (data, isBinary) => {
        let msg;
        try {
          msg = JSON.parse(isBinary ? data : data.toString());
        } catch {
          ws.send(JSON.stringify({ type: 'error', code: 'invalid_json', message: 'not JSON' }));
          return;
        }
        const list = Array.isArray(msg && msg.symbols) ? msg.symbols : [];
        const accepted = [];
        const rejected = [];
        for (const s of list) {
          if (typeof s === 'string' && symbolPattern.test(s)) accepted.push(s);
          else rejected.push({ name: String(s), code: 'invalid_symbol', reason: 'not a symbol' });
        }
        if (msg.type === 'subscribe') {
          try {
            await Promise.all(accepted.map((s) => join(client, s)));
          } catch (err) {
            ws.send(JSON.stringify({ type: 'error', code: 'redis_error', message: err.message }));
            return;
          }
          if (ws.readyState !== WebSocket.OPEN) return;
          ws.send(JSON.stringify({ type: 'subscribed', symbols: [...client.symbols], channels: [], rejected }));
        } else if (msg.type === 'unsubscribe') {
          for (const s of accepted) leave(client, s);
          ws.send(JSON.stringify({ type: 'unsubscribed', symbols: accepted }));
        } else {
          ws.send(JSON.stringify({ type: 'error', code: 'unknown_type', message: 'subscribe or unsubscribe' }));
        }
      });
      ws.on('close', () => {
        for (const s of [...client.symbols]) leave(client, s);
      });
      ws.on('error', () => {});
    });
  });
  server.listen(opts.port, opts.host, () => console.log(`reference-peer: listening on ${opts.host}:${opts.port}`));

  // --lag-ms N: report each time the event loop was held up for more than N ms (diagnostics).
  if (opts.lagMs > 0) {
    let last = process.hrtime.bigint();
    let lastCpu = process.cpuUsage();
    setInterval(() => {
      const now = process.hrtime.bigint();
      const late = Number(now - last) / 1e6 - 10;
      const cpu = process.cpuUsage(lastCpu);
      if (late > opts.lagMs) {
        console.error(`reference-peer: event loop ${late.toFixed(0)} ms late, ` +
          `${((cpu.user + cpu.system) / 1000).toFixed(0)} ms of CPU in that time`);
      }
      last = now;
      lastCpu = process.cpuUsage();
    }, 10).unref();
  }

  const stop = () => {
    server.close();
    redis.quit().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  console.error(`reference-peer: ${err.message}`);
  process.exit(1);
});
