// Runs the real tier on loopback: redis-server; tickstream-edge with HS256 authentication;
// tickstream-ingest replaying the capture (with one bad line first); a second tickstream-ingest in
// live mode, connected to a stand-in Finnhub WebSocket server and serving the signed webhook. Then
// it drives traffic that gives every metric family series (ticks, a private snapshot, a bad client
// message, REST with and without a token, an unusable pub/sub message, a webhook event), and:
//   - passes each process' /metrics to `promtool check metrics`, which must accept it without a
//     single lint message, and which must hold the metrics the deployment files depend on;
//   - requires every metric that the alert rules and dashboards (--promql) name to be one of those
//     the binaries export;
//   - asks every HTTP path the chart's and compose's probes use (/healthz, /readyz) and requires
//     200 within a deadline, and runs compose's own health-check commands (--compose) against the
//     real processes, which must pass (and fail against a closed port);
//   - runs the README's checked recipes (--readme: blocks after a `<!-- checked: NAME -->` line)
//     against this tier, configured with compose's development secrets: the token recipe's token
//     opens a private stream, and the webhook recipe's event arrives on it.
// Every wait is on a condition with a deadline; every process started is stopped by its pid.
//
//   node check-live-metrics.mjs --edge BIN --ingest BIN --capture samples/ticks.jsonl --workdir DIR
//        [--promql deploy/alerts.yml]... [--compose docker-compose.yml] [--readme README.md]
import { spawn, spawnSync } from "node:child_process";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { extname } from "node:path";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { join } from "node:path";
import { parse } from "yaml";
import { parseArgs, Report } from "./lib.mjs";
import { dashboardExpressions, grafanaToPromQL, metricNames, ruleExpressions } from "./promql.mjs";

// Probe paths the deployment files use that a binary does not serve yet (404 tolerated until it
// does). Remove an entry when the binary serves the path.
const PENDING_PATHS = { edge: [], ingest: [] };
// Metrics the deployment files depend on (autoscaling on connections).
const REQUIRED = {
  edge: ["tickstream_edge_connections", "tickstream_edge_connections_accepted_total"],
  ingest: ["tickstream_ingest_events_total"],
};
// Series Prometheus itself adds to every scrape; queries may use them.
const PROMETHEUS_SERIES = new Set(["up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"]);
// Secrets when no --compose is given (with it, compose's development defaults are used instead).
const FALLBACK = { jwt: "deploy-check-hs256-secret-0123456789abcdef", webhook: "deploy-check-webhook-secret" };

const opts = parseArgs(process.argv.slice(2), ["promql"]);
const report = new Report("live /metrics and probes");
mkdirSync(opts.workdir, { recursive: true });
const children = [];
// Should this script die on an exception, it takes its children with it.
process.on("exit", () => {
  for (const e of children) if (!e.exited) e.child.kill("SIGKILL");
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what, deadlineMs, fn) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${deadlineMs} ms`);
    await sleep(50);
  }
}

function start(name, cmd, args) {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  const entry = { name, child, log: "", exited: null };
  child.stdout.on("data", (d) => (entry.log += d));
  child.stderr.on("data", (d) => (entry.log += d));
  child.on("exit", (code, signal) => (entry.exited = { code, signal }));
  children.push(entry);
  return entry;
}

// Stops the processes in reverse start order, Redis last.
async function stopAll() {
  const order = [...children].reverse().sort((a, b) => a.name.startsWith("redis") - b.name.startsWith("redis"));
  for (const e of order) {
    if (e.exited) continue;
    e.child.kill("SIGTERM");
    try {
      await waitFor(`${e.name} exit`, 5000, async () => e.exited);
    } catch {
      e.child.kill("SIGKILL");
      await waitFor(`${e.name} exit after SIGKILL`, 5000, async () => e.exited).catch(() => {});
    }
    writeFileSync(join(opts.workdir, `${e.name}.log`), e.log);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function request(port, path, { method = "GET", headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method, headers, timeout: 3000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode, body: text }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(body);
  });
}
const get = (port, path, headers) => request(port, path, { headers });

const b64url = (buf) => Buffer.from(buf).toString("base64url");
function hs256(secret, claims) {
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = b64url(JSON.stringify(claims));
  return `${head}.${body}.${b64url(createHmac("sha256", secret).update(`${head}.${body}`).digest())}`;
}

// One text frame (masked when a client sends it).
function frame(text, masked) {
  const payload = Buffer.from(text);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x81, (masked ? 0x80 : 0) | len]) : Buffer.from([0x81, (masked ? 0x80 : 0) | 126, len >> 8, len & 255]);
  if (!masked) return Buffer.concat([head, payload]);
  const mask = randomBytes(4);
  return Buffer.concat([head, mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]))]);
}
const acceptKey = (key) => createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");

// A minimal WebSocket client: send(text), until(regex, ms) over everything received, close().
function openWebSocket(port, headers = {}) {
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString("base64");
    const req = http.request({
      host: "127.0.0.1",
      port,
      path: "/ws",
      headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": key, ...headers },
    });
    req.on("response", (res) => reject(new Error(`upgrade refused with ${res.statusCode}`)));
    req.on("error", reject);
    req.on("upgrade", (res, socket) => {
      if (res.headers["sec-websocket-accept"] !== acceptKey(key)) reject(new Error("bad Sec-WebSocket-Accept"));
      let text = "";
      socket.on("error", () => {});
      socket.on("data", (d) => (text += d.toString("latin1")));
      resolve({
        send: (msg) => socket.write(frame(msg, true)),
        until: (re, ms) => waitFor(`a frame matching ${re}`, ms, async () => re.test(text)).then(() => text),
        close: () => {
          // Close frame 1000, masked, then let the edge close the TCP connection.
          const m = randomBytes(4);
          socket.end(Buffer.concat([Buffer.from([0x88, 0x82]), m, Buffer.from([0x03 ^ m[0], 0xe8 ^ m[1]])]));
        },
      });
    });
    req.end();
  });
}

// A stand-in Finnhub: accepts the upgrade and sends one trade, so a live source connects and counts.
function fakeFinnhub() {
  return new Promise((resolve) => {
    const srv = http.createServer((_, res) => res.writeHead(404).end());
    srv.on("upgrade", (req, socket) => {
      socket.on("error", () => {});
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(req.headers["sec-websocket-key"])}\r\n\r\n`);
      socket.write(frame(JSON.stringify({ type: "trade", data: [{ s: "AAPL", p: 190.25, t: Date.now(), v: 10 }] }), false));
    });
    srv.listen(0, "127.0.0.1", () => resolve({ port: srv.address().port, close: () => srv.close() }));
  });
}

function promtool(name, text) {
  const file = join(opts.workdir, `${name}.prom`);
  writeFileSync(file, text);
  const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8", timeout: 30000 });
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
  report.check(r.status === 0 && out === "", `promtool check metrics on ${name}'s /metrics (saved as ${file}): exit ${r.status}: ${out || r.error}`);
  for (const m of REQUIRED[name.replace(/-.*/, "")] ?? []) report.check(new RegExp(`^${m}(\\{| )`, "m").test(text), `${name}'s /metrics has no ${m}`);
}

async function probe(name, port, path) {
  const kind = name.replace(/-.*/, "");
  let last = null;
  try {
    await waitFor(`${name} ${path}`, 15000, async () => {
      last = await get(port, path);
      return last.status === 200 || (last.status === 404 && PENDING_PATHS[kind].includes(path));
    });
  } catch {
    // reported below with the last answer
  }
  if (last?.status === 404 && PENDING_PATHS[kind].includes(path)) {
    report.note(`${name} does not serve ${path} yet (404); tolerated (PENDING_PATHS in tests/deploy/checker/check-live-metrics.mjs)`);
    return;
  }
  report.check(last?.status === 200, `${name} GET ${path}: ${last ? last.status : "no answer"} (the deployment files probe it and expect 200)`);
}

// Compose's raw services (its development defaults and health checks), when given.
const composeServices = opts.compose ? parse(readFileSync(opts.compose, "utf8")).services ?? {} : null;
const composeDefault = (service, variable) => {
  const v = String(composeServices?.[service]?.environment?.[variable] ?? "");
  return /^\$\{\w+:-(.*)\}$/.exec(v)?.[1] ?? (v || null);
};
const jwtSecret = composeDefault("edge", "TS_JWT_HS_SECRET") ?? FALLBACK.jwt;
const webhookSecret = composeDefault("webhook", "TS_WEBHOOK_SECRET") ?? FALLBACK.webhook;
if (opts.compose) report.check(jwtSecret !== FALLBACK.jwt && webhookSecret !== FALLBACK.webhook, `${opts.compose}: could not read the development secrets (edge TS_JWT_HS_SECRET, webhook TS_WEBHOOK_SECRET)`);

// A compose health check (CMD form) run here, its container port replaced with the live one.
function healthcheck(service, containerPort, livePort) {
  const test = composeServices?.[service]?.healthcheck?.test;
  if (!Array.isArray(test) || test[0] !== "CMD") return report.fail(`compose service ${service}: no CMD health check to run`);
  const argv = test.slice(1).map((a) => String(a).replaceAll(`127.0.0.1/${containerPort}`, `127.0.0.1/${livePort}`));
  report.check(argv.join(" ") !== test.slice(1).join(" "), `compose service ${service}: health check does not name 127.0.0.1/${containerPort}`);
  return spawnSync(argv[0], argv.slice(1), { encoding: "utf8", timeout: 10000 }).status;
}

// The README's blocks marked `<!-- checked: NAME -->`, by name.
function readmeRecipes() {
  if (!opts.readme) return {};
  const text = readFileSync(opts.readme, "utf8");
  const out = {};
  for (const m of text.matchAll(/<!-- checked: ([\w-]+) -->\s*\n```(?:sh|bash)\n([\s\S]*?)\n```/g)) out[m[1]] = m[2];
  return out;
}
const sh = (script, timeout = 15000) => spawnSync("bash", ["-euo", "pipefail", "-c", script], { encoding: "utf8", timeout });

const scraped = {};
try {
  const redisPort = await freePort();
  start("redis", "redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"]);
  await waitFor("redis-server accepting", 10000, () => new Promise((resolve) => {
    const s = net.connect(redisPort, "127.0.0.1", () => {
      s.end();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  }));

  // As the bundled configurations run it: metrics, probes and admin on the internal ops port.
  const edgeOpsPort = await freePort();
  const edge = start("edge", opts.edge, ["--listen-host", "127.0.0.1", "--port", "0", "--redis-port", String(redisPort), "--node-id", "deploy-check",
    "--shutdown-grace-ms", "0", "--jwt-algorithms", "HS256", "--jwt-hs-secret", jwtSecret, "--ops-listen", `127.0.0.1:${edgeOpsPort}`]);
  const edgePort = Number(await waitFor("edge listening", 15000, async () => {
    if (edge.exited) throw new Error(`edge exited: ${edge.log}`);
    return /msg="edge listening".* port=(\d+)/.exec(edge.log)?.[1];
  }));
  // The capture with one bad line first, so the rejected-input counter has a series.
  const capture = join(opts.workdir, "capture.jsonl");
  writeFileSync(capture, Buffer.concat([Buffer.from("this line is not json\n"), readFileSync(opts.capture)]));
  const ingestPort = await freePort();
  const ingest = start("ingest", opts.ingest, ["--input", capture, "--loop", "--speed", "50", "--redis-port", String(redisPort), "--ops-listen", `127.0.0.1:${ingestPort}`]);
  const finnhub = await fakeFinnhub();
  const liveMetricsPort = await freePort();
  const webhookPort = await freePort();
  const live = start("ingest-live", opts.ingest, ["--finnhub-url", `ws://127.0.0.1:${finnhub.port}`, "--finnhub-symbols", "AAPL", "--webhook-listen", `127.0.0.1:${webhookPort}`,
    "--webhook-secret", webhookSecret, "--heartbeat-ms", "200", "--redis-port", String(redisPort), "--ops-listen", `127.0.0.1:${liveMetricsPort}`]);
  for (const [e, port] of [[ingest, ingestPort], [live, liveMetricsPort]]) {
    await waitFor(`${e.name} /metrics`, 15000, async () => {
      if (e.exited) throw new Error(`${e.name} exited: ${e.log}`);
      return (await get(port, "/metrics")).status === 200;
    });
  }

  // Traffic, so labelled families have series to lint and to match the queries against.
  const token = hs256(jwtSecret, { sub: "deploy-check", exp: Math.floor(Date.now() / 1000) + 600 });
  const auth = { Authorization: `Bearer ${token}` };
  const ws = await openWebSocket(edgePort, auth);
  ws.send(JSON.stringify({ type: "subscribe", symbols: ["AAPL", "MSFT", "NVDA"], channels: ["positions", "account"] }));
  ws.send(JSON.stringify({ type: "no_such_message" }));
  const got = await ws.until(/^(?=[\s\S]*"symbol":"(AAPL|MSFT|NVDA)".*"price")(?=[\s\S]*"snapshot")(?=[\s\S]*unknown_type)/, 20000);
  report.check(got.includes("subscribed"), "the WebSocket client was not subscribed");
  ws.close();
  const plain = await get(edgePort, "/ws");
  report.check(plain.status === 426, `plain GET /ws answered ${plain.status}, not 426`);
  const anonymous = await openWebSocket(edgePort).then(() => "upgraded", (e) => e.message);
  report.check(/refused with 401/.test(anonymous), `an upgrade without a credential was not refused with 401: ${anonymous}`);
  report.check((await get(edgePort, "/api/prices?symbols=AAPL", auth)).status === 200, "GET /api/prices with a token did not answer 200");
  report.check((await get(edgePort, "/api/prices?symbols=AAPL")).status === 401, "GET /api/prices without a token did not answer 401");
  // Every edge holds ts:sys (source liveness): an unusable message there counts.
  const pub = spawnSync("redis-cli", ["-p", String(redisPort), "PUBLISH", "ts:sys", "not json"], { encoding: "utf8", timeout: 5000 });
  report.check(pub.status === 0, `redis-cli PUBLISH failed: ${pub.stderr}`);
  await waitFor("edge counting the closed connection and the unusable message", 5000, async () => {
    const m = (await get(edgeOpsPort, "/metrics")).body;
    return /^tickstream_edge_connections 0/m.test(m) && /^tickstream_edge_upstream_invalid_total\{/m.test(m);
  });
  await waitFor("the live source connected", 10000, async () => /^tickstream_ingest_source_connected\{source="finnhub"\} 1/m.test((await get(liveMetricsPort, "/metrics")).body));

  // ---- The README's recipes, against this tier. ----
  const recipes = readmeRecipes();
  if (opts.readme) {
    for (const name of ["token", "webhook", "publish"]) report.check(recipes[name] !== undefined, `${opts.readme}: no block marked <!-- checked: ${name} -->`);
  }
  if (recipes.token && recipes.webhook) {
    const t = sh(`${recipes.token}\nprintf '%s' "$TOKEN"`);
    report.check(t.status === 0 && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(t.stdout), `the README's token recipe failed (exit ${t.status}): ${t.stderr}${t.stdout}`);
    const user = JSON.parse(Buffer.from(t.stdout.split(".")[1] ?? "", "base64url").toString() || "{}").sub;
    const demo = await openWebSocket(edgePort, { Authorization: `Bearer ${t.stdout}` }).catch((e) => report.fail(`the README's token does not open a WebSocket: ${e.message}`));
    if (demo) {
      demo.send(JSON.stringify({ type: "subscribe", channels: ["account", "events"] }));
      await demo.until(/"type":"subscribed"/, 5000);
      const script = recipes.webhook.replaceAll("http://127.0.0.1:8090", `http://127.0.0.1:${webhookPort}`);
      report.check(script !== recipes.webhook, "the README's webhook recipe does not post to http://127.0.0.1:8090 (compose's webhook)");
      const w = sh(script);
      report.check(w.status === 0 && /"accepted":1/.test(w.stdout), `the README's webhook recipe was not accepted (exit ${w.status}): ${w.stdout}${w.stderr}`);
      const userId = /"userId":"([^"]+)"/.exec(recipes.webhook)?.[1];
      report.check(userId === user, `the README's webhook event is for user ${userId}, its token for ${user}`);
      await demo.until(/"type":"account_update"[^\n]*"seq":1/, 5000).catch(() => report.fail("the README's webhook event did not reach the README token's WebSocket"));
      if (recipes.publish) {
        const p = sh(recipes.publish.replaceAll("http://127.0.0.1:8090", `http://127.0.0.1:${webhookPort}`));
        report.check(p.status === 0 && /"accepted":1/.test(p.stdout), `the README's publish recipe was not accepted (exit ${p.status}): ${p.stdout}${p.stderr}`);
        const publishUser = /"user":"([^"]+)"/.exec(recipes.publish)?.[1];
        report.check(publishUser === user, `the README's published event is for user ${publishUser}, its token for ${user}`);
        await demo.until(/"type":"decision_made"[^\n]*"seq":2/, 5000).catch(() => report.fail("the README's published event did not reach the README token's WebSocket"));
      }
      demo.close();
    }
  }

  for (const [name, port] of [["edge", edgeOpsPort], ["ingest", ingestPort], ["ingest-live", liveMetricsPort]]) {
    const m = await get(port, "/metrics");
    report.check(m.status === 200, `${name} /metrics answered ${m.status}`);
    scraped[name] = m.body;
    promtool(name, m.body);
    // Every binary: its build and the process's own figures, in the Prometheus conventions.
    for (const metric of ["tickstream_build_info{", "process_open_fds ", "process_max_fds ", "process_start_time_seconds ", "process_resident_memory_bytes "]) {
      report.check(m.body.includes(metric), `${name} /metrics has no ${metric.trim()}`);
    }
  }

  await probe("edge", edgeOpsPort, "/healthz");
  await probe("edge", edgeOpsPort, "/readyz");
  // The client port serves clients only.
  report.check((await get(edgePort, "/metrics")).status === 404, "the edge's client port serves /metrics beside --ops-listen");
  await probe("ingest", ingestPort, "/healthz");
  await probe("ingest", ingestPort, "/readyz");
  await probe("ingest-live", liveMetricsPort, "/readyz");

  // ---- Compose's health checks, run against the real processes. ----
  if (composeServices) {
    report.check(healthcheck("edge", 9100, edgeOpsPort) === 0, "compose's edge health check fails against a ready edge");
    report.check(healthcheck("ingest", 9100, ingestPort) === 0, "compose's ingest health check fails against a ready ingest");
    report.check(healthcheck("webhook", 9100, liveMetricsPort) === 0, "compose's webhook health check fails against a ready ingest");
    const closed = await freePort();
    report.check(healthcheck("edge", 9100, closed) !== 0, "compose's edge health check passes against a closed port");
    // Ready only while Redis is up: stop it and the ingest check must fail.
    children.find((c) => c.name === "redis").child.kill("SIGTERM");
    await waitFor("ingest /readyz failing without Redis", 10000, async () => (await get(ingestPort, "/readyz")).status === 503);
    report.check(healthcheck("ingest", 9100, ingestPort) !== 0, "compose's ingest health check passes while its /readyz answers 503");
    // Redis back on its port, so the processes stop cleanly instead of retrying their publishes.
    start("redis-again", "redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"]);
    await waitFor("ingest ready again", 10000, async () => (await get(ingestPort, "/readyz")).status === 200);
  }
  finnhub.close();
} catch (e) {
  report.fail(String(e.message ?? e));
} finally {
  await stopAll();
}

// ---- Every metric the alert rules and dashboards name is one the binaries export. ----
const exported = new Set(PROMETHEUS_SERIES);
for (const text of Object.values(scraped)) for (const m of text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/gm)) exported.add(m[1]);
for (const file of opts.promql ?? []) {
  const text = readFileSync(file, "utf8");
  const exprs = extname(file) === ".json" ? dashboardExpressions(JSON.parse(text), file) : ruleExpressions(text, file);
  report.check(exprs.length > 0, `${file}: no PromQL expression found`);
  for (const { where, expr } of exprs) {
    for (const name of metricNames(grafanaToPromQL(expr))) {
      report.check(exported.has(name), `${where}: metric ${name} is not exported by tickstream-edge or tickstream-ingest (their /metrics after traffic are in ${opts.workdir})`);
    }
  }
}
report.finish();
