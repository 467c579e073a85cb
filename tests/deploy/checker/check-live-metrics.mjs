// Runs the real tier on loopback (redis-server, tickstream-ingest replaying the capture,
// tickstream-edge with one WebSocket client), then:
//   - scrapes /metrics from the edge and from ingest and passes each to `promtool check metrics`,
//     which must accept it without a single lint message (missing HELP, counter not ending in
//     _total, non-base units...), and which must hold the metrics the deployment files use;
//   - asks every HTTP path the chart's and compose's probes use (/healthz, /readyz) and requires
//     200 within a deadline.
// Every wait is on a condition with a deadline; every process started is stopped by its pid.
//
//   node check-live-metrics.mjs --edge BIN --ingest BIN --capture samples/ticks.jsonl --workdir DIR
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { join } from "node:path";
import { parseArgs, Report } from "./lib.mjs";

// Probe paths the deployment files use that a binary does not serve yet (404 tolerated until it
// does; see the report that added tests/deploy). Remove an entry when the binary serves the path.
const PENDING_PATHS = { edge: [], ingest: [] };
// Metrics the deployment files depend on (autoscaling on connections, dashboards in docs/DEPLOY.md).
const REQUIRED = {
  edge: ["tickstream_edge_connections", "tickstream_edge_connections_accepted_total"],
  ingest: ["tickstream_ingest_events_total"],
};

const opts = parseArgs(process.argv.slice(2));
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

async function stopAll() {
  for (const e of [...children].reverse()) {
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

function get(port, path) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, timeout: 3000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

// A minimal WebSocket client: upgrade, send one masked text frame, collect text until `until`.
function webSocketSession(port, message, until, deadlineMs) {
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString("base64");
    const req = http.request({
      host: "127.0.0.1",
      port,
      path: "/ws",
      headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": key },
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no reply matching ${until} within ${deadlineMs} ms`));
    }, deadlineMs);
    req.on("response", (res) => {
      clearTimeout(timer);
      reject(new Error(`upgrade refused with ${res.statusCode}`));
    });
    req.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.on("upgrade", (res, socket) => {
      const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
      if (res.headers["sec-websocket-accept"] !== accept) reject(new Error("bad Sec-WebSocket-Accept"));
      const payload = Buffer.from(message);
      const mask = randomBytes(4);
      const header = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 255]);
      const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
      socket.write(Buffer.concat([header, mask, masked]));
      let text = "";
      let done = false;
      socket.on("error", () => {});
      socket.on("data", (d) => {
        text += d.toString("latin1");
        if (!done && until.test(text)) {
          done = true;
          clearTimeout(timer);
          // Close frame 1000, masked, then let the edge close the TCP connection.
          const m = randomBytes(4);
          socket.end(Buffer.concat([Buffer.from([0x88, 0x82]), m, Buffer.from([0x03 ^ m[0], 0xe8 ^ m[1]])]));
          resolve(text);
        }
      });
    });
    req.end();
  });
}

function promtool(name, text) {
  const file = join(opts.workdir, `${name}.prom`);
  writeFileSync(file, text);
  const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8", timeout: 30000 });
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
  report.check(r.status === 0 && out === "", `promtool check metrics on ${name}'s /metrics (saved as ${file}): exit ${r.status}: ${out || r.error}`);
  for (const m of REQUIRED[name]) report.check(new RegExp(`^${m}(\\{| )`, "m").test(text), `${name}'s /metrics has no ${m}`);
}

async function probe(name, port, path) {
  let last = null;
  try {
    await waitFor(`${name} ${path}`, 15000, async () => {
      last = await get(port, path);
      return last.status === 200 || (last.status === 404 && PENDING_PATHS[name].includes(path));
    });
  } catch {
    // reported below with the last answer
  }
  if (last?.status === 404 && PENDING_PATHS[name].includes(path)) {
    report.note(`${name} does not serve ${path} yet (404); tolerated (PENDING_PATHS in tests/deploy/checker/check-live-metrics.mjs)`);
    return;
  }
  report.check(last?.status === 200, `${name} GET ${path}: ${last ? last.status : "no answer"} (the deployment files probe it and expect 200)`);
}

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

  const edge = start("edge", opts.edge, ["--listen-host", "127.0.0.1", "--port", "0", "--redis-port", String(redisPort), "--node-id", "deploy-check", "--shutdown-grace-ms", "0"]);
  const edgePort = Number(await waitFor("edge listening", 15000, async () => {
    if (edge.exited) throw new Error(`edge exited: ${edge.log}`);
    return /msg="edge listening".* port=(\d+)/.exec(edge.log)?.[1];
  }));
  const ingestPort = await freePort();
  const ingest = start("ingest", opts.ingest, ["--input", opts.capture, "--loop", "--speed", "50", "--redis-port", String(redisPort), "--metrics-listen", `127.0.0.1:${ingestPort}`]);
  await waitFor("ingest /metrics", 15000, async () => {
    if (ingest.exited) throw new Error(`ingest exited: ${ingest.log}`);
    return (await get(ingestPort, "/metrics")).status === 200;
  });

  // Traffic, so labelled families (disconnect reasons, latency histograms) have series to lint.
  const got = await webSocketSession(edgePort, JSON.stringify({ type: "subscribe", symbols: ["AAPL", "MSFT", "NVDA"] }), /"symbol":"(AAPL|MSFT|NVDA)".*"price"/s, 20000);
  report.check(got.includes("subscribed"), "the WebSocket client was not subscribed");
  const rejected = await get(edgePort, "/ws");
  report.check(rejected.status === 426, `plain GET /ws answered ${rejected.status}, not 426`);
  await waitFor("edge counting the closed connection", 5000, async () => /^tickstream_edge_connections 0/m.test((await get(edgePort, "/metrics")).body));

  const edgeMetrics = await get(edgePort, "/metrics");
  report.check(edgeMetrics.status === 200, `edge /metrics answered ${edgeMetrics.status}`);
  promtool("edge", edgeMetrics.body);
  const ingestMetrics = await get(ingestPort, "/metrics");
  report.check(ingestMetrics.status === 200, `ingest /metrics answered ${ingestMetrics.status}`);
  promtool("ingest", ingestMetrics.body);

  await probe("edge", edgePort, "/healthz");
  await probe("edge", edgePort, "/readyz");
  await probe("ingest", ingestPort, "/healthz");
  await probe("ingest", ingestPort, "/readyz");
} catch (e) {
  report.fail(String(e.message ?? e));
} finally {
  await stopAll();
}
report.finish();
