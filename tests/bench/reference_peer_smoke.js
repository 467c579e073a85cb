#!/usr/bin/env node
// Smoke check of the benchmarks' reference peer (bench/reference-peer): with a real redis-server,
// one WebSocket client subscribes, gets its "subscribed" answer, receives a published tick as one
// frame with the payload unchanged, and its Redis subscription ends when it leaves.
// Exits 77 (skipped) when the peer's dependencies are not installed (bench/run-scenario installs
// them on first use). Bounded: everything ends within 10 s; every process started is stopped.
'use strict';

const path = require('path');
const fs = require('fs');
const net = require('net');
const { spawn } = require('child_process');

const peerDir = path.resolve(__dirname, '../../bench/reference-peer');
if (!fs.existsSync(path.join(peerDir, 'node_modules', 'ws'))) {
  console.log('reference peer dependencies not installed: skipped');
  process.exit(77);
}
const { WebSocket } = require(path.join(peerDir, 'node_modules', 'ws'));
const { createClient } = require(path.join(peerDir, 'node_modules', 'redis'));

const children = [];
const fail = (msg) => {
  console.error(`reference_peer_smoke: ${msg}`);
  for (const c of children) c.kill('SIGKILL');
  process.exit(1);
};
setTimeout(() => fail('timed out'), 10000).unref();

const freePort = () => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitForPort(port) {
  for (let i = 0; i < 100; ++i) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.end(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  fail(`nothing listens on ${port}`);
}

async function main() {
  const redisPort = await freePort();
  const peerPort = await freePort();
  children.push(spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no', '--loglevel', 'warning'], { stdio: 'ignore' }));
  await waitForPort(redisPort);
  children.push(spawn(process.execPath, [path.join(peerDir, 'server.js'), '--port', String(peerPort),
    '--redis-port', String(redisPort)], { stdio: 'ignore' }));
  await waitForPort(peerPort);

  const redis = createClient({ socket: { host: '127.0.0.1', port: redisPort } });
  await redis.connect();
  const ws = new WebSocket(`ws://127.0.0.1:${peerPort}/ws`);
  const frames = [];
  let wake = () => {};
  ws.on('message', (data) => { frames.push(data.toString()); wake(); });
  const next = () => new Promise((resolve) => {
    if (frames.length) return resolve(frames.shift());
    wake = () => { wake = () => {}; resolve(frames.shift()); };
  });
  await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });

  ws.send(JSON.stringify({ type: 'subscribe', snapshot: false, symbols: ['AAPL', 'not a symbol'] }));
  const answer = JSON.parse(await next());
  if (answer.type !== 'subscribed' || JSON.stringify(answer.symbols) !== '["AAPL"]' ||
      answer.rejected.length !== 1 || answer.rejected[0].code !== 'invalid_symbol') {
    fail(`unexpected answer ${JSON.stringify(answer)}`);
  }
  const numsub = async () => (await redis.pubSubNumSub('ts:{md:AAPL}'))['ts:{md:AAPL}'];
  if (await numsub() !== 1) fail('the peer does not hold one subscription to ts:{md:AAPL}');

  const tick = '{"type":"price_update","symbol":"AAPL","price":190.00,"recv_us":1795185000131002}';
  await redis.publish('ts:{md:AAPL}', tick);
  const got = await next();
  if (got !== tick) fail(`the tick arrived as ${got}`);

  ws.close();
  for (let i = 0; i < 100 && await numsub() !== 0; ++i) await sleep(20);
  if (await numsub() !== 0) fail('the subscription outlived its last client');
  await redis.quit();
  for (const c of children) c.kill('SIGTERM');
  console.log('reference peer: subscribed, delivered the tick unchanged, unsubscribed after the last client');
}

main().catch((err) => fail(err.message));
