// Checks deploy/alerts.yml, the Prometheus alerting rules:
//   - `promtool check rules` accepts it, and `promtool test rules` passes the unit tests;
//   - every alert has a severity (critical or warning), a summary and a description;
//   - every alert has a unit test where it fires and one whose series never fire it;
//   - docs/OPERATIONS.md's alert table names every alert, and names no alert the file lacks.
// Whether the metrics the rules use exist is checked against the real binaries by
// check-live-metrics.mjs.
//
//   node check-alerts.mjs --rules deploy/alerts.yml --tests tests/deploy/alerts.test.yml --docs docs/OPERATIONS.md
import { parse } from "yaml";
import { parseArgs, readText, Report, run } from "./lib.mjs";

const SEVERITIES = new Set(["critical", "warning"]);

const opts = parseArgs(process.argv.slice(2));
const report = new Report("alert rules");

const check = run("promtool", ["check", "rules", opts.rules]);
report.check(check.status === 0 && /SUCCESS/.test(check.stdout), `promtool check rules ${opts.rules}: ${(check.stdout + check.stderr).trim()}`);
report.check(!/warn/i.test(check.stdout + check.stderr), `promtool check rules warns: ${(check.stdout + check.stderr).trim()}`);
const test = run("promtool", ["test", "rules", opts.tests]);
report.check(test.status === 0, `promtool test rules ${opts.tests}:\n${(test.stdout + test.stderr).trim()}`);

const rules = parse(readText(opts.rules));
const alerts = new Map();
for (const g of rules.groups ?? []) {
  for (const r of g.rules ?? []) {
    if (!r.alert) continue;
    report.check(!alerts.has(r.alert), `alert ${r.alert} is defined twice`);
    alerts.set(r.alert, r);
    report.check(SEVERITIES.has(r.labels?.severity), `alert ${r.alert}: severity ${r.labels?.severity} is not one of ${[...SEVERITIES]}`);
    for (const a of ["summary", "description"]) report.check(typeof r.annotations?.[a] === "string" && r.annotations[a].length > 10, `alert ${r.alert} has no ${a} annotation`);
  }
}
report.check(alerts.size > 0, `${opts.rules} defines no alert`);

const fires = new Set();
const quiet = new Set();
// A test fires an alert when one of its evaluations expects it; it is a quiet case for the alert
// when every evaluation of it expects none (a "not yet" inside a firing test does not count).
for (const t of parse(readText(opts.tests)).tests ?? []) {
  const firing = new Map();
  for (const a of t.alert_rule_test ?? []) {
    report.check(alerts.has(a.alertname), `test "${t.name}" tests ${a.alertname}, which ${opts.rules} does not define`);
    firing.set(a.alertname, (firing.get(a.alertname) ?? false) || (a.exp_alerts ?? []).length > 0);
  }
  for (const [name, fired] of firing) (fired ? fires : quiet).add(name);
}
for (const name of alerts.keys()) {
  report.check(fires.has(name), `alert ${name} has no unit test in which it fires`);
  report.check(quiet.has(name), `alert ${name} has no unit test in which it must not fire`);
}

const docs = readText(opts.docs);
const documented = new Set([...docs.matchAll(/`(Tickstream[A-Za-z]+)`/g)].map((m) => m[1]));
for (const name of alerts.keys()) report.check(documented.has(name), `${opts.docs} does not describe alert ${name}`);
for (const name of documented) report.check(alerts.has(name), `${opts.docs} names alert ${name}, which ${opts.rules} does not define`);

report.note(`${alerts.size} alerts: ${[...alerts.keys()].join(", ")}`);
report.finish();
