// Renders helm/tickstream with values that cannot work and requires each rendering to fail with a
// message that names the setting, as `helm install` would (the chart's required/fail guards).
//
//   node check-helm-rejects.mjs --renderer BIN --chart DIR
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, Report, run } from "./lib.mjs";

const CASES = [
  { why: "external Redis without an address", values: "redis: {enabled: false}", message: "redis.external.host" },
  { why: "a password inside the Redis URL", values: "redis: {enabled: false, external: {url: 'redis://:pw@r:6379'}}", message: "must not carry a password" },
  { why: "a Redis URL of another scheme", values: "redis: {enabled: false, external: {url: 'http://r:6379'}}", message: "redis://host:port" },
  { why: "HS256 without its key", values: "edge: {jwt: {algorithms: HS256}}", message: "secrets.jwtHsSecret" },
  { why: "RS256 without a public key", values: "edge: {jwt: {algorithms: RS256}}", message: "secrets.jwtPublicKey" },
  { why: "the webhook without its secret", values: "ingest: {webhook: {enabled: true}}", message: "secrets.webhookSecret" },
  { why: "an unknown ingest mode", values: "ingest: {mode: record}", message: "ingest.mode must be replay or live" },
  { why: "Alpaca trading without a user", values: "ingest: {mode: live, live: {alpacaTradingUrl: 'wss://x/stream'}}", message: "tradingUser" },
  { why: "an unknown autoscaling provider", values: "edge: {autoscaling: {connections: {enabled: true, provider: hpa}}}", message: "provider must be" },
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
