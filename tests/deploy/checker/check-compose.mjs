// Checks docker-compose.yml (alone, or merged with override files such as docker-compose.ops.yml)
// and the haproxy, Prometheus and Grafana configurations it mounts, without Docker:
//   - Debian's docker-compose 1.29 accepts the files (`config -q`) and normalizes them (`config`);
//   - `haproxy -c` and `promtool check config` accept the mounted haproxy and Prometheus files;
//   - the services, their commands and TS_* variables match what the binaries accept (--help, and
//     the binaries parsing the whole configuration), the edge scales (no fixed name or host port),
//     haproxy and Prometheus reach every Tickstream process on the port that serves its probes and
//     metrics, ingest replays the capture the Dockerfile bundles, and the edge's stop grace period
//     outlasts its drain;
//   - every published port is bound to 127.0.0.1 unless TS_BIND says otherwise (checked both ways);
//   - every service has a health check, and each asks the right path on the right port;
//   - Prometheus loads deploy/alerts.yml; Grafana is provisioned with the compose Prometheus and
//     the dashboards directory.
//
//   - the profile "cluster" (with --cluster-url, the TS_REDIS_URL its documentation gives): every
//     node that URL names is a cluster-mode Redis of that profile with a health check, a one-shot
//     service joins exactly those nodes once they are healthy, and with that TS_REDIS_URL every
//     Tickstream service gets it and the binaries accept it; --docs files must give the same URL.
//
//   node check-compose.mjs --root DIR --files docker-compose.yml[,override.yml] --edge BIN --ingest BIN
//                          [--cluster-url URL --docs README.md,docs/DEPLOY.md]
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parse } from "yaml";
import { checkInvocation, effectiveSetting, loadHelp, parseArgs, readText, Report, run } from "./lib.mjs";

const opts = parseArgs(process.argv.slice(2));
const root = opts.root;
const files = (opts.files ?? "docker-compose.yml").split(",");
const report = new Report(`docker-compose (${files.join(" + ")})`);
const fileArgs = files.flatMap((f) => ["-f", join(root, f)]);

// Interpolated variables get their defaults; nothing from the caller's environment leaks in.
const composeEnv = { PATH: process.env.PATH, HOME: process.env.HOME ?? "/tmp" };
const quiet = run("docker-compose", [...fileArgs, "config", "-q"], { cwd: root, env: composeEnv });
report.check(quiet.status === 0, `docker-compose config -q rejects ${files.join(" + ")}: ${quiet.stderr.trim()}`);
const config = (env) => run("docker-compose", [...fileArgs, "config"], { cwd: root, env: { ...composeEnv, ...env } });
const full = config({});
if (full.status !== 0) {
  report.fail(`docker-compose config failed: ${full.stderr.trim()}`);
  report.finish();
}
report.check(!/WARNING/i.test(full.stderr), `docker-compose config warns: ${full.stderr.trim()}`);
const compose = parse(full.stdout);
const services = compose.services ?? {};
for (const name of ["redis", "ingest", "webhook", "edge", "haproxy", "prometheus", "grafana"]) {
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

// Published ports of a service as { hostIp, published, target }, from either syntax.
function publishedPorts(svc) {
  return (svc?.ports ?? []).map((p) => {
    if (typeof p === "object") return { hostIp: p.host_ip ?? "", published: Number(p.published), target: Number(p.target) };
    const parts = String(p).replace(/\/(tcp|udp)$/, "").split(":");
    if (parts.length === 3) return { hostIp: parts[0], published: Number(parts[1]), target: Number(parts[2]) };
    if (parts.length === 2) return { hostIp: "", published: Number(parts[0]), target: Number(parts[1]) };
    return { hostIp: "", published: null, target: Number(parts[0]) };
  });
}

// The HTTP request a health check makes, as { port, path }: the bash /dev/tcp form the Tickstream
// and haproxy images use (they have no HTTP client), or wget/curl with a URL.
function healthRequest(svc) {
  const test = svc?.healthcheck?.test;
  if (!Array.isArray(test) || svc.healthcheck.disable) return null;
  const text = test.slice(1).join(" ");
  const tcp = /\/dev\/tcp\/127\.0\.0\.1\/(\d+)\b.*?GET (\S+) HTTP\/1\.[01]/.exec(text);
  if (tcp) return { port: Number(tcp[1]), path: tcp[2], expects200: / 200 /.test(text) };
  const url = /https?:\/\/(?:127\.0\.0\.1|localhost):(\d+)(\/\S*)/.exec(text);
  if (url) return { port: Number(url[1]), path: url[2], expects200: true };
  return { port: null, path: null, expects200: false, text };
}

// The Dockerfile's destination for the bundled capture.
const dockerfile = readText(join(root, "Dockerfile"));
const captureDest = /^COPY\s+samples\/ticks\.jsonl\s+(\S+)\s*$/m.exec(dockerfile)?.[1];
report.check(captureDest !== undefined, "Dockerfile does not COPY samples/ticks.jsonl into the image");

// ---- Published ports: loopback unless TS_BIND says otherwise. ----
for (const [name, svc] of Object.entries(services)) {
  for (const p of publishedPorts(svc)) {
    report.check(p.hostIp === "127.0.0.1", `service ${name} publishes port ${p.published ?? p.target} on ${p.hostIp || "every interface"}, not 127.0.0.1 (use "\${TS_BIND:-127.0.0.1}:<port>:<port>")`);
  }
}
const opened = config({ TS_BIND: "0.0.0.0" });
if (report.check(opened.status === 0, `docker-compose config with TS_BIND=0.0.0.0 failed: ${opened.stderr.trim()}`)) {
  for (const [name, svc] of Object.entries(parse(opened.stdout).services ?? {})) {
    for (const p of publishedPorts(svc)) report.check(p.hostIp === "0.0.0.0", `service ${name}: port ${p.published} ignores TS_BIND (binds ${p.hostIp || "every interface"} with TS_BIND=0.0.0.0)`);
  }
}

// ---- Tickstream services. ----
// For each: its settings, and the port serving /metrics, /healthz and /readyz (the ops port when
// --ops-listen is set).
const settings = {};
for (const [name, svc] of Object.entries(services)) {
  const command = Array.isArray(svc.command) ? svc.command.map(String) : null;
  const binary = command?.[0];
  if (!(binary in helps)) continue;
  const where = `service ${name}`;
  const help = helps[binary];
  report.check(typeof svc.image === "string" && svc.image === services.edge?.image, `${where}: every Tickstream service should run the same image`);
  report.check(svc.build?.context !== undefined && existsSync(join(svc.build.context, svc.build.dockerfile ?? "Dockerfile")), `${where}: builds from no Dockerfile`);
  const env = Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, v === null ? "" : String(v)]));
  const args = command.slice(1);
  checkInvocation(report, where, help, args, env);
  const ops = effectiveSetting(help, args, env, "ops-listen", "");
  let opsPort;
  if (ops) opsPort = Number(ops.split(":").pop());
  else if (binary === "tickstream-edge") opsPort = Number(effectiveSetting(help, args, env, "port"));
  else opsPort = Number(effectiveSetting(help, args, env, "metrics-listen", "").split(":").pop() || NaN);
  const listen = ops || (binary === "tickstream-ingest" ? effectiveSetting(help, args, env, "metrics-listen", "") : "0.0.0.0:");
  report.check(listen.startsWith("0.0.0.0:"), `${where} serves metrics and probes on '${listen}', unreachable from Prometheus`);
  report.check((svc.expose ?? []).map(String).includes(String(opsPort)), `${where} does not expose its metrics and probe port ${opsPort}`);
  report.check(!publishedPorts(svc).some((p) => p.target === opsPort && ops), `${where} publishes its internal ops port ${opsPort} on the host`);
  const hc = healthRequest(svc);
  report.check(hc?.port === opsPort && hc?.path === "/readyz" && hc.expects200, `${where}: health check is not GET /readyz on port ${opsPort} expecting 200 (${JSON.stringify(hc)})`);
  const redisUrl = effectiveSetting(help, args, env, "redis-url", "");
  report.check(redisUrl === "redis://redis:6379" || (!redisUrl && effectiveSetting(help, args, env, "redis-host") === "redis"), `${where} does not use the redis service by default (redis-url '${redisUrl}')`);
  report.check(svc.depends_on?.redis?.condition === "service_healthy", `${where} does not wait for a healthy redis`);
  settings[name] = { help, args, env, opsPort };
}

const edge = services.edge;
let edgePort = null;
if (edge && settings.edge) {
  const { help, args, env } = settings.edge;
  report.check(edge.command[0] === "tickstream-edge", "service edge does not run tickstream-edge");
  report.check(edge.container_name === undefined, "service edge has a container_name, so `--scale edge=N` cannot start a second one");
  report.check((edge.ports ?? []).length === 0, "service edge publishes host ports, so `--scale edge=N` collides; haproxy is the way in");
  edgePort = Number(effectiveSetting(help, args, env, "port"));
  report.check((edge.expose ?? []).map(String).includes(String(edgePort)), `service edge does not expose its --port ${edgePort}`);
  const listenHost = effectiveSetting(help, args, env, "listen-host");
  report.check(listenHost === "0.0.0.0", `service edge listens on ${listenHost}, unreachable from haproxy`);
  const drainMs = Number(effectiveSetting(help, args, env, "drain-ms", "20000"));
  const closeMs = Number(effectiveSetting(help, args, env, "shutdown-grace-ms", "5000"));
  const grace = seconds(edge.stop_grace_period ?? "10s");
  report.check(grace > (drainMs + closeMs) / 1000, `service edge: stop_grace_period ${grace} s is not longer than drain ${drainMs} ms + close grace ${closeMs} ms`);
} else {
  report.fail("service edge does not run tickstream-edge");
}
const ingest = settings.ingest;
if (ingest) {
  const { help, args, env } = ingest;
  report.check(effectiveSetting(help, args, env, "input", "") === captureDest, `service ingest does not replay the bundled capture ${captureDest}`);
  report.check(["true", "1", "yes", "on"].includes(String(effectiveSetting(help, args, env, "loop", "false"))) || args.includes("--loop"), "service ingest does not --loop");
} else {
  report.fail("service ingest does not run tickstream-ingest");
}
const webhook = settings.webhook;
if (webhook) {
  const { help, args, env } = webhook;
  const listen = effectiveSetting(help, args, env, "webhook-listen", "");
  report.check(listen.startsWith("0.0.0.0:"), `service webhook listens on '${listen}', unreachable from the host`);
  const port = Number(listen.split(":").pop());
  report.check(publishedPorts(services.webhook).some((p) => p.target === port), `service webhook does not publish its --webhook-listen port ${port}`);
  report.check((env.TS_WEBHOOK_SECRET ?? "").length >= 16, "service webhook has no TS_WEBHOOK_SECRET of at least 16 characters");
} else {
  report.fail("service webhook does not run tickstream-ingest");
}

// ---- Every service has a health check (but a one-shot task: restart "no", run once and done). ----
const oneShot = (name) => services[name]?.restart === "no";
for (const [name, svc] of Object.entries(services)) {
  if (oneShot(name)) continue;
  const hc = svc.healthcheck;
  report.check(Array.isArray(hc?.test) && !hc.disable && hc.test[0] !== "NONE", `service ${name} has no health check`);
  if (hc) report.check(seconds(hc.timeout ?? "30s") < seconds(hc.interval ?? "30s") + 0.001, `service ${name}: health check timeout ${hc.timeout} exceeds its interval ${hc.interval}`);
}
const prometheusHc = healthRequest(services.prometheus);
report.check(prometheusHc?.port === 9090 && ["/-/ready", "/-/healthy"].includes(prometheusHc.path), `service prometheus: health check is not /-/ready on 9090 (${JSON.stringify(prometheusHc)})`);
const grafanaHc = healthRequest(services.grafana);
report.check(grafanaHc?.port === 3000 && grafanaHc.path === "/api/health", `service grafana: health check is not /api/health on 3000 (${JSON.stringify(grafanaHc)})`);

// A bind-mounted file or directory of a service, as a path relative to the repository.
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
  // The demo's files from the tree, where the container has them mounted.
  const hc = run("haproxy", ["-c", "-f", join(root, haproxyCfg)], { env: { ...process.env, TS_DEMO_DIR: join(root, "clients/demo/dist") } });
  report.check(hc.status === 0, `haproxy -c rejects ${haproxyCfg}: ${(hc.stderr + hc.stdout).trim()}`);
  report.check(!/\[WARNING\]/.test(hc.stderr + hc.stdout), `haproxy -c warns about ${haproxyCfg}: ${(hc.stderr + hc.stdout).trim()}`);
  const cfg = readText(join(root, haproxyCfg)).replace(/#.*$/gm, "");
  // "${NAME-default}" as haproxy expands it, with the service's environment.
  const haproxyEnv = services.haproxy?.environment ?? {};
  const expand = (s) => s.replace(/"?\$\{(\w+)(?:-([^}]*))?\}"?/g, (_, n, d) => String(haproxyEnv[n] ?? d ?? ""));
  const template = /^\s*server-template\s+\S+\s+\S+\s+([\w.-]+):(\d+)/m.exec(cfg);
  report.check(template !== null, `${haproxyCfg}: no server-template (scaled edges are found through DNS)`);
  if (template) {
    report.check(template[1] === "edge", `${haproxyCfg}: server-template resolves ${template[1]}, not the edge service`);
    report.check(Number(template[2]) === edgePort, `${haproxyCfg}: server-template port ${template[2]} is not the edge's --port ${edgePort}`);
  }
  report.check(/^\s*nameserver\s+\S+\s+127\.0\.0\.11:53\s*$/m.test(cfg), `${haproxyCfg}: no nameserver 127.0.0.11:53 (Docker's resolver)`);
  report.check(/^\s*(default-server|server-template)\b.*\bresolvers\s+\S+/m.test(cfg), `${haproxyCfg}: servers do not use the resolvers section`);
  report.check(/^\s*option\s+httpchk\s+GET\s+\/readyz\b/m.test(cfg), `${haproxyCfg}: health check is not GET /readyz`);
  const checkLine = /^\s*(default-server|server-template)\b.*\bcheck\b.*$/m.exec(cfg)?.[0];
  report.check(checkLine !== undefined, `${haproxyCfg}: health checks are not enabled on the servers`);
  const checkPort = /\bport\s+(\S+)/.exec(expand(checkLine ?? ""))?.[1];
  const probePort = settings.edge?.opsPort;
  report.check(Number(checkPort ?? edgePort) === probePort, `${haproxyCfg}: edges' /readyz is asked on port ${checkPort ?? edgePort}, but they serve it on ${probePort}`);
  report.check(/^\s*timeout\s+tunnel\s+\S+/m.test(cfg), `${haproxyCfg}: no timeout tunnel; WebSockets would be cut at timeout client/server`);
  const publicFrontend = /^frontend\s+\S+[\s\S]*?(?=^\S|(?![\s\S]))/gm;
  const frontends = [...cfg.matchAll(publicFrontend)].map((m) => m[0]).filter((f) => /default_backend\s+edges/.test(f));
  report.check(frontends.length > 0 && frontends.every((f) => /http-request\s+deny\b.*\/metrics/.test(f) && /http-request\s+deny\b.*\/api\/admin/.test(f)), `${haproxyCfg}: the client frontend forwards /metrics or /api/admin/ to the edges`);
  const binds = [...cfg.matchAll(/^\s*bind\s+\S*:(\d+)/gm)].map((m) => Number(m[1]));
  const published = publishedPorts(services.haproxy).map((p) => p.target);
  report.check(published.length > 0 && published.every((p) => binds.includes(p)), `haproxy publishes ports ${published} but ${haproxyCfg} binds ${binds}`);
  const monitor = /^\s*monitor-uri\s+(\S+)/m.exec(cfg)?.[1];
  const hcReq = healthRequest(services.haproxy);
  report.check(monitor !== undefined && hcReq?.path === monitor && binds.includes(hcReq.port) && hcReq.expects200, `service haproxy: health check (${JSON.stringify(hcReq)}) does not ask ${haproxyCfg}'s monitor-uri ${monitor} on a bound port`);
  report.check(/^\s*monitor\s+fail\s+if\b.*nbsrv\(edges\)/m.test(cfg), `${haproxyCfg}: monitor-uri answers 200 even with no edge in rotation (monitor fail if { nbsrv(edges) lt 1 })`);
}

// ---- Prometheus. ----
const promCfg = mounted(services.prometheus, "/etc/prometheus/prometheus.yml");
report.check(promCfg?.startsWith("deploy/prometheus"), `prometheus does not mount a deploy/prometheus*.yml (mounts ${promCfg})`);
let promPort = 9090;
if (promCfg) {
  const pc = run("promtool", ["check", "config", join(root, promCfg)]);
  report.check(pc.status === 0, `promtool check config rejects ${promCfg}: ${(pc.stderr + pc.stdout).trim()}`);
  const prom = parse(readText(join(root, promCfg)));
  // Rule files resolve relative to the configuration, in the repository as in the container.
  for (const rf of prom.rule_files ?? []) {
    const inContainer = resolve("/etc/prometheus", rf);
    const mountedAs = mounted(services.prometheus, inContainer);
    report.check(mountedAs === relative(root, resolve(dirname(join(root, promCfg)), rf)), `${promCfg}: rule file ${rf} is ${inContainer} in the container, which mounts ${mountedAs}, not the file promtool checked`);
  }
  report.check((prom.rule_files ?? []).some((rf) => mounted(services.prometheus, resolve("/etc/prometheus", rf)) === "deploy/alerts.yml"), `${promCfg} does not load deploy/alerts.yml`);
  const targets = [];
  for (const job of prom.scrape_configs ?? []) {
    for (const sd of job.dns_sd_configs ?? []) for (const n of sd.names ?? []) targets.push({ job: job.job_name, name: n, port: sd.port, path: job.metrics_path ?? "/metrics" });
  }
  for (const [name, s] of Object.entries(settings)) {
    const t = targets.find((x) => x.name === name);
    report.check(t !== undefined, `${promCfg}: no dns_sd_configs job scrapes service ${name}`);
    if (t) report.check(t.port === s.opsPort && t.path === "/metrics", `${promCfg}: service ${name} is scraped on ${t.port}${t.path}, but serves /metrics on ${s.opsPort}`);
    if (t) report.check(t.job === (name === "edge" ? "tickstream-edge" : "tickstream-ingest"), `${promCfg}: service ${name} is scraped as job ${t.job}, which deploy/alerts.yml and the dashboard do not expect`);
  }
  const args = (services.prometheus?.command ?? []).map(String);
  const listen = args.find((a) => a.startsWith("--web.listen-address="));
  if (listen) promPort = Number(listen.split(":").pop());
}

// ---- Grafana: provisioned datasource and dashboards. ----
const provisioning = mounted(services.grafana, "/etc/grafana/provisioning");
report.check(provisioning === "deploy/grafana/provisioning", `grafana does not mount deploy/grafana/provisioning (mounts ${provisioning})`);
if (provisioning) {
  const dir = join(root, provisioning);
  const yamlIn = (sub) => (existsSync(join(dir, sub)) ? readdirSync(join(dir, sub)).filter((f) => /\.ya?ml$/.test(f)).map((f) => parse(readText(join(dir, sub, f)))) : []);
  const datasources = yamlIn("datasources").flatMap((d) => d?.datasources ?? []);
  const prom = datasources.filter((d) => d.type === "prometheus");
  report.check(prom.length === 1 && prom[0].isDefault === true, `${provisioning}/datasources: expected one default Prometheus datasource, found ${prom.length}`);
  if (prom[0]) {
    report.check(prom[0].url === `http://prometheus:${promPort}`, `${provisioning}/datasources: Prometheus URL ${prom[0].url} is not the compose service http://prometheus:${promPort}`);
    report.check(prom[0].access === "proxy", `${provisioning}/datasources: access ${prom[0].access}; the browser cannot reach the compose network, use proxy`);
  }
  const providers = yamlIn("dashboards").flatMap((d) => d?.providers ?? []);
  report.check(providers.length > 0, `${provisioning}/dashboards: no dashboard provider`);
  for (const p of providers) {
    const path = p.options?.path;
    const src = mounted(services.grafana, path);
    report.check(src === "deploy/grafana/dashboards", `${provisioning}/dashboards: provider ${p.name} reads ${path}, where grafana mounts ${src}, not deploy/grafana/dashboards`);
    if (src) report.check(readdirSync(join(root, src)).some((f) => f.endsWith(".json")), `${src} holds no dashboard`);
  }
  const home = services.grafana?.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
  if (home) {
    const dirMount = providers.map((p) => p.options?.path).find((p) => home.startsWith(`${p}/`));
    report.check(dirMount !== undefined && existsSync(join(root, "deploy/grafana/dashboards", home.slice(dirMount.length + 1))), `grafana's home dashboard ${home} is not a provisioned file`);
  }
  report.check(services.grafana?.environment?.GF_AUTH_ANONYMOUS_ORG_ROLE !== "Admin", "grafana gives anonymous visitors the Admin role");
}

// ---- The profile "cluster": a Redis Cluster, and the tier on it through TS_REDIS_URL. ----
if (opts["cluster-url"]) {
  const url = opts["cluster-url"];
  const nodes = url.replace(/^rediss?\+cluster:\/\//, "").split(",").map((n) => n.split(":"));
  for (const [host, port] of nodes) {
    const svc = services[host];
    const where = `cluster node ${host}`;
    if (!report.check(svc !== undefined, `${where} of ${url} is not a service`)) continue;
    report.check((svc.profiles ?? []).includes("cluster"), `${where} is not in the profile "cluster"`);
    const cmd = (svc.command ?? []).map(String);
    report.check(cmd[0] === "redis-server" && cmd[cmd.indexOf("--cluster-enabled") + 1] === "yes", `${where} does not run redis-server --cluster-enabled yes`);
    report.check(!cmd.includes("--port") || cmd[cmd.indexOf("--port") + 1] === port, `${where} does not listen on ${port}`);
    report.check(cmd[cmd.indexOf("--cluster-require-full-coverage") + 1] === "no", `${where}: a master down would stop every slot (--cluster-require-full-coverage no)`);
    report.check(Array.isArray(svc.healthcheck?.test), `${where} has no health check`);
  }
  const inits = Object.entries(services).filter(([, svc]) => (svc.profiles ?? []).includes("cluster") && /--cluster create/.test((svc.command ?? []).join(" ")));
  if (report.check(inits.length === 1, `the profile "cluster" has ${inits.length} services running redis-cli --cluster create, expected one`)) {
    const [name, svc] = inits[0];
    const script = (svc.command ?? []).join(" ");
    for (const [host] of nodes) {
      report.check(script.includes(host), `service ${name} does not join ${host}`);
      report.check(svc.depends_on?.[host]?.condition === "service_healthy", `service ${name} does not wait for a healthy ${host}`);
    }
    report.check(/--cluster-yes/.test(script), `service ${name} would wait for a typed "yes" (--cluster-yes)`);
    report.check(svc.restart === "no", `service ${name} is a one-shot: restart "no"`);
  }
  const withUrl = config({ TS_REDIS_URL: url });
  if (report.check(withUrl.status === 0, `docker-compose config with TS_REDIS_URL=${url} failed: ${withUrl.stderr.trim()}`)) {
    const clustered = parse(withUrl.stdout).services ?? {};
    for (const [name, { help }] of Object.entries(settings)) {
      const svc = clustered[name];
      const args = (svc.command ?? []).map(String).slice(1);
      const env = Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, v === null ? "" : String(v)]));
      report.check(effectiveSetting(help, args, env, "redis-url", "") === url, `service ${name} does not follow TS_REDIS_URL to the cluster`);
      checkInvocation(report, `service ${name} (profile cluster)`, help, args, env);
    }
  }
  for (const doc of (opts.docs ?? "").split(",").filter(Boolean)) {
    report.check(readText(join(root, doc)).includes(`TS_REDIS_URL=${url}`), `${doc} does not give TS_REDIS_URL=${url} for the profile "cluster"`);
  }
}

report.finish();
