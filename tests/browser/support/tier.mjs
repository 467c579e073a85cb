// A real local tier for one browser test, on free loopback ports: redis-server, ingest replaying
// samples/ticks.jsonl, a second ingest taking signed webhook posts, edges with browser
// authentication on (HS256 JWTs, session cookie, Origin allow-list, in-band auth, development
// sign-in), and haproxy configured by scripts/local-haproxy-config (the one scripts/run-local
// uses) serving clients/demo/dist on the same origin as /ws and /api/*.
//
// Every process is started by this module, remembered by PID, and stopped by PID in stop().

import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { waitFor } from './wait.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BUILD = process.env.TICKSTREAM_BUILD_DIR ?? path.join(ROOT, 'build/release');
export const OUT = path.join(BUILD, 'browser-tests');
const EDGE_BIN = path.join(BUILD, 'edge/tickstream-edge');
const INGEST_BIN = path.join(BUILD, 'ingest/tickstream-ingest');

/** A port nobody listens on now (bound to 0, then released). */
// Ports handed out by freePort() in this process. A port is free again once its probe closes, so
// the kernel may offer it twice before the first taker binds it (a tier picks all its ports
// before it starts its processes): never hand out the same one twice.
const handedOut = new Set();

function probePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export async function freePort() {
  for (let attempt = 0; attempt < 1000; attempt += 1) {
    const port = await probePort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no port left that this process has not handed out already');
}

function base64url(data) {
  return Buffer.from(data).toString('base64url');
}

/** An HS256 JWT for `sub`, expiring `ttlS` seconds from now. */
export function mintToken(secret, sub, ttlS) {
  const now = Math.floor(Date.now() / 1000);
  const head = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = base64url(JSON.stringify({ sub, iat: now, exp: now + ttlS }));
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

// Processes still running when this test process exits (a test cut short) are killed by PID, so
// nothing outlives the test file that started it.
const running = new Set();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** A process of the tier: its log file, its PID, its exit. */
class Child {
  constructor(name, cmd, args, { env, logDir, restart }) {
    this.name = name;
    this.log = path.join(logDir, `${name}.log`);
    // A restarted process (an edge started again) appends to its log.
    const out = createWriteStream(this.log, { flags: restart ? 'a' : 'w' });
    this.proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout.pipe(out);
    this.proc.stderr.pipe(out);
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
    this.running = true;
    running.add(this);
    void this.exited.then(() => {
      this.running = false;
      running.delete(this);
    });
  }

  get pid() {
    return this.proc.pid;
  }

  kill(signal) {
    if (this.running) this.proc.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited within graceMs. */
  async stop(graceMs = 5000) {
    if (!this.running) return this.exited;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    const r = await this.exited;
    clearTimeout(timer);
    return r;
  }
}

async function httpStatus(url, init) {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

export class Tier {
  /**
   * options.edges: WebSocket+REST edges (2); options.restEdge: one more edge serving only /api/*;
   * options.edgeArgs: extra edge flags; options.trader: demo-trader arguments (or null: none).
   */
  constructor(name, options = {}) {
    this.name = name;
    this.options = { edges: 2, restEdge: false, edgeArgs: [], trader: null, ...options };
    this.logDir = path.join(OUT, name);
    mkdirSync(this.logDir, { recursive: true });
    this.children = [];
    this.jwtSecret = randomBytes(32).toString('hex');
    this.webhookSecret = randomBytes(32).toString('hex');
    this.edges = [];
  }

  get origin() {
    return `http://127.0.0.1:${this.lbPort}`;
  }

  spawn(name, cmd, args, env = {}) {
    const restart = this.children.some((c) => c.name === name);
    const c = new Child(name, cmd, args, { env, logDir: this.logDir, restart });
    this.children.push(c);
    return c;
  }

  async start() {
    const o = this.options;
    [this.redisPort, this.lbPort, this.webhookPort] = [await freePort(), await freePort(), await freePort()];
    this.redis = this.spawn('redis', 'redis-server', ['--port', String(this.redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    await waitFor(async () => (await this.redisPing()) === true, { what: 'redis-server', timeoutMs: 10000 });

    const names = [...Array.from({ length: o.edges }, (_, i) => `edge-${i + 1}`), ...(o.restEdge ? ['edge-rest'] : [])];
    for (const node of names) this.edges.push({ node, port: await freePort(), opsPort: await freePort(), rest: node === 'edge-rest', child: null });
    await Promise.all(this.edges.map((e) => this.startEdge(e.node)));

    this.replay = this.spawn('ingest-replay', INGEST_BIN, [
      '--input', path.join(ROOT, 'samples/ticks.jsonl'), '--loop', '--speed', '1', '--redis-port', String(this.redisPort),
    ]);
    this.webhook = this.spawn('ingest-webhook', INGEST_BIN, ['--webhook-listen', `127.0.0.1:${this.webhookPort}`, '--redis-port', String(this.redisPort)], {
      TS_WEBHOOK_SECRET: this.webhookSecret,
    });

    const args = ['--port', String(this.lbPort), '--static', path.join(ROOT, 'clients/demo/dist'), '--check-inter-ms', '200', '--proxy-v2'];
    for (const e of this.edges) args.push(e.rest ? '--rest-edge' : '--edge', `${e.node}=127.0.0.1:${e.port}@${e.opsPort}`);
    const cfg = path.join(this.logDir, 'haproxy.cfg');
    await new Promise((resolve, reject) => {
      const p = spawn(path.join(ROOT, 'scripts/local-haproxy-config'), args, { stdio: ['ignore', 'pipe', 'inherit'] });
      const out = createWriteStream(cfg);
      p.stdout.pipe(out);
      p.once('exit', (code) => (code === 0 ? out.end(resolve) : reject(new Error(`local-haproxy-config exited ${code}`))));
    });
    this.haproxy = this.spawn('haproxy', 'haproxy', ['-db', '-f', cfg]);
    await waitFor(async () => (await httpStatus(`${this.origin}/`)) === 200, { what: 'haproxy serving the demo', timeoutMs: 10000 });
    await waitFor(async () => (await httpStatus(`http://127.0.0.1:${this.webhookPort}/v1/events`)) === 405, {
      what: "ingest's webhook",
      timeoutMs: 10000,
    });
    // The replay is under way once a symbol has a last tick.
    await waitFor(async () => (await this.redisCli(['EXISTS', 'ts:{md:SPY}:last'])).trim() === '1', {
      what: 'the first ticks in Redis',
      timeoutMs: 10000,
    });
    if (o.trader) {
      this.trader = this.spawn('demo-trader', 'python3', [path.join(ROOT, 'scripts/demo-trader'), '--url', `http://127.0.0.1:${this.webhookPort}/v1/events`, ...o.trader], {
        TS_WEBHOOK_SECRET: this.webhookSecret,
      });
    }
    return this;
  }

  edgeArgs(e) {
    return [
      '--listen-host', '127.0.0.1', '--port', String(e.port), '--redis-port', String(this.redisPort), '--node-id', e.node,
      '--drain-ms', '300', '--shutdown-grace-ms', '500',
      '--jwt-algorithms', 'HS256', '--session-cookie', 'ts_session', '--allowed-origins', this.origin,
      '--allow-in-band-auth', '--dev-login', ...this.options.edgeArgs,
      // As run-local: clients' addresses in a PROXY v2 header from haproxy, probes and metrics on the ops port.
      '--proxy-protocol', '--ops-listen', `127.0.0.1:${e.opsPort}`,
    ];
  }

  edge(node) {
    const e = this.edges.find((x) => x.node === node);
    if (!e) throw new Error(`no edge ${node}`);
    return e;
  }

  /** Starts (or starts again, on its port) the edge `node` and waits until it is ready. */
  async startEdge(node) {
    const e = this.edge(node);
    e.child = this.spawn(node, EDGE_BIN, this.edgeArgs(e), { TS_JWT_HS_SECRET: this.jwtSecret });
    await waitFor(async () => (await httpStatus(`http://127.0.0.1:${e.opsPort}/readyz`)) === 200, { what: `${node} ready`, timeoutMs: 15000 });
  }

  /** Sends `signal` to the edge `node`; resolves when it has exited. */
  async killEdge(node, signal) {
    const e = this.edge(node);
    e.child.kill(signal);
    await e.child.exited;
  }

  /** Until haproxy's health checks have the edge `node` in (true) or out (false) of the WebSocket rotation. */
  async waitEdgeInRotation(node, up, timeoutMs = 10000) {
    // haproxy keeps no per-server state we can read without a stats socket; the edge's /readyz
    // through a direct connection plus its check period (200 ms x rise 2) stands in for it.
    const e = this.edge(node);
    await waitFor(async () => ((await httpStatus(`http://127.0.0.1:${e.opsPort}/readyz`)) === 200) === up, { what: `${node} ${up ? 'up' : 'down'}`, timeoutMs });
  }

  redisCli(args) {
    return new Promise((resolve, reject) => {
      const p = spawn('redis-cli', ['-p', String(this.redisPort), ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.once('error', reject);
      p.once('exit', () => resolve(out));
    });
  }

  async redisPing() {
    return (await this.redisCli(['PING'])).trim() === 'PONG';
  }

  /** Posts events (one or an array) to ingest's webhook, signed; resolves with the answer's JSON (throws on non-200). */
  async post(events) {
    const body = JSON.stringify(events);
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = `sha256=${createHmac('sha256', this.webhookSecret).update(`${ts}.${body}`).digest('hex')}`;
    const res = await fetch(`http://127.0.0.1:${this.webhookPort}/v1/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Tickstream-Timestamp': ts, 'X-Tickstream-Signature': sig },
      body,
      signal: AbortSignal.timeout(10000),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`webhook answered ${res.status}: ${text}`);
    return JSON.parse(text);
  }

  /** The sum over the tier's edges of a counter without labels, read from their /metrics. */
  async metricTotal(name) {
    let total = 0;
    for (const e of this.edges) {
      const text = await (await fetch(`http://127.0.0.1:${e.opsPort}/metrics`)).text();
      const m = text.match(new RegExp(`^${name} (\\d+)`, 'm'));
      total += m ? Number(m[1]) : 0;
    }
    return total;
  }

  token(sub, ttlS) {
    return mintToken(this.jwtSecret, sub, ttlS);
  }

  /** Stops every process this tier started, by PID, the load balancer first and Redis last. */
  async stop() {
    for (const c of [...this.children].reverse()) await c.stop();
  }
}
