// Checks the Grafana dashboards in deploy/grafana/dashboards without Grafana (Debian has no
// package of it):
//   - each file is valid JSON with a uid, a title and a schemaVersion; panel ids are unique and
//     panels stay inside the 24-column grid without overlapping;
//   - every panel and target reads the datasource variable, which the dashboard defines;
//   - every query parses: each one, Grafana's variables replaced, goes through `promtool check
//     rules` as a recording rule;
//   - the dashboard shows what an operator needs (COVERAGE below).
// Whether the metrics the queries name exist is checked against the real binaries by
// check-live-metrics.mjs.
//
//   node check-dashboard.mjs --dir deploy/grafana/dashboards --workdir DIR
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { parseArgs, readText, Report, run } from "./lib.mjs";
import { dashboardExpressions, grafanaToPromQL } from "./promql.mjs";

// What the dashboard must show, each as a pattern some query must match.
const COVERAGE = [
  ["open connections", /\btickstream_edge_connections\b(?!_)/],
  ["deliveries per second", /rate\(tickstream_edge_(delivery_latency_seconds_count|frames_sent_total)\b/],
  ["delivery latency p50", /histogram_quantile\(0\.5,.*tickstream_edge_delivery_latency_seconds_bucket/],
  ["delivery latency p95", /histogram_quantile\(0\.95,.*tickstream_edge_delivery_latency_seconds_bucket/],
  ["delivery latency p99", /histogram_quantile\(0\.99,.*tickstream_edge_delivery_latency_seconds_bucket/],
  ["slow consumers", /tickstream_edge_disconnects_total\{[^}]*reason="slow_consumer"/],
  ["disconnects by reason", /by \(reason\) \(rate\(tickstream_edge_disconnects_total\[/],
  ["edge Redis command connection", /tickstream_edge_redis_command_connected/],
  ["edge Redis subscriber connection", /tickstream_edge_redis_subscriber_connected/],
  ["ingest Redis connection", /tickstream_ingest_redis_connected/],
  ["Redis reconnects", /tickstream_edge_redis_reconnects_total/],
  ["ingest sources connected", /tickstream_ingest_source_connected/],
  ["ingest sources' last message", /tickstream_ingest_source_last_message_/],
  ["ingest publish latency p99", /histogram_quantile\(0\.99,.*tickstream_ingest_publish_latency_seconds_bucket/],
];

const opts = parseArgs(process.argv.slice(2));
const report = new Report("Grafana dashboards");
mkdirSync(opts.workdir, { recursive: true });
const files = readdirSync(opts.dir).filter((f) => f.endsWith(".json"));
report.check(files.length > 0, `${opts.dir} holds no dashboard`);
const uids = new Set();
const rules = [];
for (const f of files) {
  let dash;
  try {
    dash = JSON.parse(readText(join(opts.dir, f)));
  } catch (e) {
    report.fail(`${f} is not valid JSON: ${e.message}`);
    continue;
  }
  report.check(typeof dash.uid === "string" && /^[\w-]{1,40}$/.test(dash.uid) && !uids.has(dash.uid), `${f}: uid ${dash.uid} is missing, too long or taken`);
  uids.add(dash.uid);
  report.check(typeof dash.title === "string" && dash.title !== "", `${f}: no title`);
  report.check(Number.isInteger(dash.schemaVersion) && dash.schemaVersion >= 36, `${f}: schemaVersion ${dash.schemaVersion} is older than Grafana 9`);
  report.check(dash.id === undefined || dash.id === null, `${f}: carries an instance-specific id; provisioning and import assign their own`);
  const dsVars = new Set((dash.templating?.list ?? []).filter((v) => v.type === "datasource" && v.query === "prometheus").map((v) => v.name));
  report.check(dsVars.size === 1, `${f}: expected one Prometheus datasource variable, found ${dsVars.size}`);
  const dsRef = (ds) => ds && ds.type === "prometheus" && [...dsVars].some((v) => ds.uid === `\${${v}}`);

  const all = [];
  const flatten = (panels) => {
    for (const p of panels ?? []) {
      all.push(p);
      flatten(p.panels);
    }
  };
  flatten(dash.panels);
  const ids = new Set();
  const cells = new Map();
  for (const p of all) {
    const where = `${f} panel "${p.title}"`;
    report.check(Number.isInteger(p.id) && !ids.has(p.id), `${where}: id ${p.id} is missing or used twice`);
    ids.add(p.id);
    const g = p.gridPos ?? {};
    report.check([g.x, g.y, g.w, g.h].every(Number.isInteger) && g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0, `${where}: gridPos ${JSON.stringify(g)} is outside the 24-column grid`);
    for (let x = g.x; x < g.x + g.w; x++) {
      for (let y = g.y; y < g.y + g.h; y++) {
        const other = cells.get(`${x},${y}`);
        if (other !== undefined) {
          report.fail(`${where} overlaps panel "${other}"`);
          y = Infinity;
          x = Infinity;
        } else cells.set(`${x},${y}`, p.title);
      }
    }
    if (p.type === "row") continue;
    report.check(typeof p.description === "string" && p.description.length > 10, `${where}: no description saying what it shows`);
    report.check(dsRef(p.datasource), `${where}: datasource ${JSON.stringify(p.datasource)} is not the dashboard's datasource variable`);
    const refIds = new Set();
    report.check((p.targets ?? []).length > 0, `${where}: no query`);
    for (const t of p.targets ?? []) {
      report.check(dsRef(t.datasource ?? p.datasource), `${where} ${t.refId}: datasource is not the dashboard's variable`);
      report.check(typeof t.expr === "string" && t.expr.trim() !== "", `${where} ${t.refId}: no PromQL expression`);
      report.check(!refIds.has(t.refId), `${where}: refId ${t.refId} used twice`);
      refIds.add(t.refId);
    }
  }
  const exprs = dashboardExpressions(dash, f);
  for (const [what, pattern] of COVERAGE) report.check(exprs.some((e) => pattern.test(e.expr)), `${f}: no panel shows ${what} (a query matching ${pattern})`);
  exprs.forEach((e, i) => rules.push({ record: `dashboard:query_${rules.length + i}`, expr: grafanaToPromQL(e.expr), where: e.where }));
}

// Prometheus' parser on every query, as recording rules (their names only need to be valid).
const rulesFile = join(opts.workdir, "dashboard-queries.rules.yml");
writeFileSync(rulesFile, stringify({ groups: [{ name: "dashboard", rules: rules.map(({ record, expr }) => ({ record, expr })) }] }));
const pc = run("promtool", ["check", "rules", rulesFile]);
if (!report.check(pc.status === 0, `a dashboard query does not parse (promtool check rules ${rulesFile}):\n${(pc.stdout + pc.stderr).trim()}`)) {
  for (const r of rules) {
    const one = join(opts.workdir, "one-query.rules.yml");
    writeFileSync(one, stringify({ groups: [{ name: "q", rules: [{ record: "q", expr: r.expr }] }] }));
    if (run("promtool", ["check", "rules", one]).status !== 0) report.fail(`${r.where}: ${r.expr}`);
  }
}
report.note(`${rules.length} queries in ${files.length} dashboards`);
report.finish();
