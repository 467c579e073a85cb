// Renders helm/tickstream with values that cannot work and requires each rendering to fail with a
// message that names the setting, as `helm install` would: values.schema.json (types, ranges,
// enums, unknown keys), and the chart's required/fail guards for rules across settings.
//
//   node check-helm-rejects.mjs --renderer BIN --chart DIR
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, Report, run } from "./lib.mjs";

const CASES = [
  { why: "external Redis without an address", values: "redis: {enabled: false}", message: "redis.external.host" },
  { why: "a password inside the Redis URL", values: "redis: {enabled: false, external: {url: 'redis://:pw@r:6379'}}", message: "must not carry a password" },
  { why: "sentinels without the master's name", values: "redis: {enabled: false, external: {sentinel: {hosts: ['s:26379']}}}", message: "redis.external.sentinel.masterName is required" },
  { why: "a sentinel given as a URL", values: "redis: {enabled: false, external: {sentinel: {hosts: ['redis://s:26379'], masterName: m}}}", message: "Does not match pattern" },
  { why: "a cluster node given as a URL", values: "redis: {enabled: false, external: {cluster: {nodes: ['redis://r0:6379']}}}", message: "Does not match pattern" },
  { why: "cluster nodes and sentinels at once", values: "redis: {enabled: false, external: {cluster: {nodes: ['r0:6379']}, sentinel: {hosts: ['s:26379'], masterName: m}}}", message: "redis.external.sentinel.hosts and redis.external.cluster.nodes exclude each other" },
  { why: "a Redis URL of another scheme", values: "redis: {enabled: false, external: {url: 'http://r:6379'}}", message: "redis.external.url: Does not match pattern" },
  { why: "HS256 without its key", values: "edge: {jwt: {algorithms: HS256}}", message: "secrets.jwtHsSecret" },
  { why: "RS256 without a public key", values: "edge: {jwt: {algorithms: RS256}}", message: "secrets.jwtPublicKey" },
  { why: "the webhook without its secret", values: "ingest: {webhook: {enabled: true}}", message: "secrets.webhookSecret" },
  { why: "an unknown ingest mode", values: "ingest: {mode: record}", message: "ingest.mode must be one of the following" },
  { why: "Alpaca trading without a user", values: "ingest: {mode: live, live: {alpacaTradingUrl: 'wss://x/stream'}}", message: "tradingUser" },
  { why: "an unknown autoscaling provider", values: "edge: {autoscaling: {connections: {enabled: true, provider: hpa}}}", message: "provider must be" },
  // values.schema.json, as Helm applies it before rendering.
  { why: "a port that is not a number", values: "edge: {port: eighty}", message: "edge.port: Invalid type. Expected: integer" },
  { why: "a port out of range", values: "ops: {port: 70000}", message: "ops.port: Must be less than or equal to 65535" },
  { why: "a misspelt key", values: "edge: {drainMS: 1000}", message: "Additional property drainMS is not allowed" },
  { why: "a misspelt top-level key", values: "ingres: {enabled: true}", message: "Additional property ingres is not allowed" },
  { why: "an unknown log level", values: "logLevel: verbose", message: "logLevel must be one of the following" },
  { why: "an unpinned JWT algorithm", values: "edge: {jwt: {algorithms: 'HS256,none'}}", message: "edge.jwt.algorithms: Does not match pattern" },
  { why: "an HS256 key under 32 bytes", values: "secrets: {jwtHsSecret: short}", message: "secrets.jwtHsSecret: Does not match pattern" },
  { why: "a negative drain window", values: "edge: {drainMs: -1}", message: "edge.drainMs: Must be greater than or equal to 0" },
  { why: "an empty image repository", values: "image: {repository: ''}", message: "image.repository: String length must be greater than or equal to 1" },
  { why: "an unknown ingress controller", values: "ingress: {enabled: true, controller: haproxy}", message: "ingress.controller must be one of the following" },
  { why: "a WebSocket timeout under a minute", values: "ingress: {enabled: true, timeoutSeconds: 30}", message: "ingress.timeoutSeconds: Must be greater than or equal to 60" },
  { why: "an ingress for another controller without a class", values: "ingress: {enabled: true, controller: other}", message: "ingress.className: String length must be greater than or equal to 1" },
  { why: "an ingress path that is not absolute", values: "ingress: {enabled: true, paths: [ws]}", message: "ingress.paths.0: Does not match pattern" },
  { why: "a container without CPU limits", values: "edge: {resources: {limits: {cpu: null}}}", message: "edge.resources.limits: cpu is required" },
  { why: "an unknown replay speed", values: "ingest: {replay: {speed: fast}}", message: "ingest.replay.speed: Must validate at least one schema" },
];

const opts = parseArgs(process.argv.slice(2));
const report = new Report("helm rejects bad values");
const dir = mkdtempSync(join(tmpdir(), "tickstream-helm-rejects-"));
try {
  CASES.forEach((c, i) => {
    const file = join(dir, `case-${i}.yaml`);
    writeFileSync(file, `${c.values}\n`);
    const r = run(opts.renderer, ["--chart", opts.chart, "--values", file]);
    report.check(r.status !== 0 && r.stderr.includes(c.message), `${c.why} (${c.values}): expected the rendering to fail mentioning "${c.message}"; exit ${r.status}: ${r.stderr.trim()}`);
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
report.finish();
