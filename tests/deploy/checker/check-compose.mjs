// Checks docker-compose.yml and the haproxy and Prometheus configurations it mounts, without Docker:
//   - Debian's docker-compose 1.29 accepts the file (`config -q`) and normalizes it (`config`);
//   - `haproxy -c` and `promtool check config` accept deploy/haproxy.cfg and deploy/prometheus.yml;
//   - the services, their commands and TS_* variables match what the binaries accept (--help, and
//     the binaries parsing the whole configuration), the edge scales (no fixed name or host port),
//     haproxy and Prometheus reach every edge on the port it listens on, ingest replays the capture
//     the Dockerfile bundles, and the edge's stop grace period outlasts its drain.
//
//   node check-compose.mjs --root DIR --edge BIN --ingest BIN
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { parse } from "yaml";
import { checkInvocation, effectiveSetting, loadHelp, parseArgs, readText, Report, run } from "./lib.mjs";

const opts = parseArgs(process.argv.slice(2));
const root = opts.root;
const report = new Report("docker-compose");
const composeFile = join(root, "docker-compose.yml");

// Interpolated variables get their defaults; nothing from the caller's environment leaks in.
const composeEnv = { PATH: process.env.PATH, HOME: process.env.HOME ?? "/tmp" };
const quiet = run("docker-compose", ["-f", composeFile, "config", "-q"], { cwd: root, env: composeEnv });
report.check(quiet.status === 0, `docker-compose config -q rejects docker-compose.yml: ${quiet.stderr.trim()}`);
const full = run("docker-compose", ["-f", composeFile, "config"], { cwd: root, env: composeEnv });
if (full.status !== 0) {
  report.fail(`docker-compose config failed: ${full.stderr.trim()}`);
  report.finish();
}
report.check(!/WARNING/i.test(full.stderr), `docker-compose config warns: ${full.stderr.trim()}`);
const compose = parse(full.stdout);
const services = compose.services ?? {};
for (const name of ["redis", "ingest", "edge", "haproxy", "prometheus"]) {
  report.check(name in services, `service ${name} is missing`);
}
const helps = { "tickstream-edge": loadHelp(opts.edge), "tickstream-ingest": loadHelp(opts.ingest) };

// Seconds in a compose duration such as "30s", "1m30s" or "1500ms".
function seconds(duration) {
  let total = 0;
  for (const [, n, unit] of String(duration).matchAll(/(\d+(?:\.\d+)?)(ms|us|h|m|s)/g)) {
    total += Number(n) * { h: 3600, m: 60, s: 1, ms: 0.001, us: 0.000001 }[unit];
  }
  return total;
}

// The Dockerfile's destination for the bundled capture.
const dockerfile = readText(join(root, "Dockerfile"));
const captureDest = /^COPY\s+samples\/ticks\.jsonl\s+(\S+)\s*$/m.exec(dockerfile)?.[1];
report.check(captureDest !== undefined, "Dockerfile does not COPY samples/ticks.jsonl into the image");

// ---- Tickstream services. ----
const settings = {};
for (const [name, svc] of Object.entries(services)) {
  const command = Array.isArray(svc.command) ? svc.command.map(String) : null;
  const binary = command?.[0];
  if (!(binary in helps)) continue;
  const where = `service ${name}`;
  const help = helps[binary];
  report.check(typeof svc.image === "string" && svc.image === services.ingest?.image, `${where}: edge and ingest should run the same image`);
  report.check(svc.build?.context !== undefined && existsSync(join(svc.build.context, svc.build.dockerfile ?? "Dockerfile")), `${where}: builds from no Dockerfile`);
  const env = Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, v === null ? "" : String(v)]));
  const args = command.slice(1);
  checkInvocation(report, where, help, args, env);
  settings[name] = { help, args, env };
}

const edge = services.edge;
const ingest = settings.ingest;
let edgePort = null;
if (edge && settings.edge) {
  const { help, args, env } = settings.edge;
  report.check(settings.edge !== undefined && edge.command[0] === "tickstream-edge", "service edge does not run tickstream-edge");
  report.check(edge.container_name === undefined, "service edge has a container_name, so `--scale edge=N` cannot start a second one");
  report.check((edge.ports ?? []).length === 0, "service edge publishes host ports, so `--scale edge=N` collides; haproxy is the way in");
  edgePort = Number(effectiveSetting(help, args, env, "port"));
  report.check((edge.expose ?? []).map(String).includes(String(edgePort)), `service edge does not expose its --port ${edgePort}`);
  const listenHost = effectiveSetting(help, args, env, "listen-host");
  report.check(listenHost === "0.0.0.0", `service edge listens on ${listenHost}, unreachable from haproxy`);
  report.check(effectiveSetting(help, args, env, "redis-host") === "redis", "service edge does not use the redis service");
  const drainMs = Number(effectiveSetting(help, args, env, "drain-ms", "20000"));
  const closeMs = Number(effectiveSetting(help, args, env, "shutdown-grace-ms", "5000"));
  const grace = seconds(edge.stop_grace_period ?? "10s");
  report.check(grace > (drainMs + closeMs) / 1000, `service edge: stop_grace_period ${grace} s is not longer than drain ${drainMs} ms + close grace ${closeMs} ms`);
  report.check(edge.depends_on?.redis !== undefined, "service edge does not depend on redis");
}
let ingestMetricsPort = null;
if (ingest) {
  const { help, args, env } = ingest;
  report.check(effectiveSetting(help, args, env, "input", "") === captureDest, `service ingest does not replay the bundled capture ${captureDest}`);
  report.check(["true", "1", "yes", "on"].includes(String(effectiveSetting(help, args, env, "loop", "false"))) || args.includes("--loop"), "service ingest does not --loop");
  report.check(effectiveSetting(help, args, env, "redis-host") === "redis", "service ingest does not use the redis service");
  const listen = effectiveSetting(help, args, env, "metrics-listen", "");
  report.check(listen.startsWith("0.0.0.0:"), `service ingest serves metrics on '${listen}', unreachable from Prometheus`);
  ingestMetricsPort = Number(listen.split(":").pop());
  report.check((services.ingest.expose ?? []).map(String).includes(String(ingestMetricsPort)), `service ingest does not expose its metrics port ${ingestMetricsPort}`);
} else {
  report.fail("service ingest does not run tickstream-ingest");
}
report.check(services.redis?.healthcheck !== undefined, "service redis has no healthcheck for the others to wait on");

// A bind-mounted file of a service, as a path relative to the repository.
function mounted(svc, target) {
  for (const v of svc?.volumes ?? []) {
    const [src, dst] = typeof v === "string" ? v.split(":") : [v.source, v.target];
    if (dst === target) return relative(root, src);
  }
  return null;
}

// ---- haproxy. ----
const haproxyCfg = mounted(services.haproxy, "/usr/local/etc/haproxy/haproxy.cfg");
report.check(haproxyCfg === "deploy/haproxy.cfg", `haproxy does not mount deploy/haproxy.cfg (mounts ${haproxyCfg})`);
if (haproxyCfg) {
  const hc = run("haproxy", ["-c", "-f", join(root, haproxyCfg)]);
  report.check(hc.status === 0, `haproxy -c rejects ${haproxyCfg}: ${(hc.stderr + hc.stdout).trim()}`);
  report.check(!/\[WARNING\]/.test(hc.stderr + hc.stdout), `haproxy -c warns about ${haproxyCfg}: ${(hc.stderr + hc.stdout).trim()}`);
  const cfg = readText(join(root, haproxyCfg)).replace(/#.*$/gm, "");
  const template = /^\s*server-template\s+\S+\s+\S+\s+([\w.-]+):(\d+)/m.exec(cfg);
  report.check(template !== null, `${haproxyCfg}: no server-template (scaled edges are found through DNS)`);
  if (template) {
    report.check(template[1] === "edge", `${haproxyCfg}: server-template resolves ${template[1]}, not the edge service`);
    report.check(Number(template[2]) === edgePort, `${haproxyCfg}: server-template port ${template[2]} is not the edge's --port ${edgePort}`);
  }
  report.check(/^\s*nameserver\s+\S+\s+127\.0\.0\.11:53\s*$/m.test(cfg), `${haproxyCfg}: no nameserver 127.0.0.11:53 (Docker's resolver)`);
  report.check(/^\s*(default-server|server-template)\b.*\bresolvers\s+\S+/m.test(cfg), `${haproxyCfg}: servers do not use the resolvers section`);
  report.check(/^\s*option\s+httpchk\s+GET\s+\/readyz\b/m.test(cfg), `${haproxyCfg}: health check is not GET /readyz`);
  report.check(/^\s*(default-server|server-template)\b.*\bcheck\b/m.test(cfg), `${haproxyCfg}: health checks are not enabled on the servers`);
  report.check(/^\s*timeout\s+tunnel\s+\S+/m.test(cfg), `${haproxyCfg}: no timeout tunnel; WebSockets would be cut at timeout client/server`);
  const binds = [...cfg.matchAll(/^\s*bind\s+\S*:(\d+)/gm)].map((m) => Number(m[1]));
  const published = (services.haproxy?.ports ?? []).map((p) => Number(typeof p === "object" ? p.target : String(p).split(":").pop()));
  report.check(published.length > 0 && published.every((p) => binds.includes(p)), `haproxy publishes ports ${published} but ${haproxyCfg} binds ${binds}`);
}

// ---- Prometheus. ----
const promCfg = mounted(services.prometheus, "/etc/prometheus/prometheus.yml");
report.check(promCfg === "deploy/prometheus.yml", `prometheus does not mount deploy/prometheus.yml (mounts ${promCfg})`);
if (promCfg) {
  const pc = run("promtool", ["check", "config", join(root, promCfg)]);
  report.check(pc.status === 0, `promtool check config rejects ${promCfg}: ${(pc.stderr + pc.stdout).trim()}`);
  const prom = parse(readText(join(root, promCfg)));
  const targets = [];
  for (const job of prom.scrape_configs ?? []) {
    for (const sd of job.dns_sd_configs ?? []) for (const n of sd.names ?? []) targets.push({ name: n, port: sd.port, path: job.metrics_path ?? "/metrics" });
  }
  const edgeTarget = targets.find((t) => t.name === "edge");
  report.check(edgeTarget !== undefined, `${promCfg}: no dns_sd_configs job for the edge service (every replica)`);
  if (edgeTarget) report.check(edgeTarget.port === edgePort && edgeTarget.path === "/metrics", `${promCfg}: edge target port ${edgeTarget.port} is not the edge's --port ${edgePort}`);
  const ingestTarget = targets.find((t) => t.name === "ingest");
  report.check(ingestTarget !== undefined, `${promCfg}: no job for the ingest service`);
  if (ingestTarget) report.check(ingestTarget.port === ingestMetricsPort, `${promCfg}: ingest target port ${ingestTarget.port} is not ingest's metrics port ${ingestMetricsPort}`);
}

report.finish();
