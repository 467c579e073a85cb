// PromQL in the deployment files: the expressions of a rules file or a Grafana dashboard, Grafana's
// variables replaced so Prometheus' own parser (promtool) can check them, and the metric names an
// expression selects.
import { parse } from "yaml";

// Every alerting or recording rule's expression: [{ where, expr }].
export function ruleExpressions(text, file) {
  const out = [];
  for (const g of parse(text).groups ?? []) {
    for (const r of g.rules ?? []) out.push({ where: `${file} ${r.alert ?? r.record}`, expr: String(r.expr) });
  }
  return out;
}

// Every query of a dashboard: panel targets (rows' nested panels too) and query variables.
export function dashboardExpressions(dash, file) {
  const out = [];
  const walk = (panels) => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? []) if (t.expr !== undefined) out.push({ where: `${file} panel "${p.title}" ${t.refId}`, expr: String(t.expr) });
      walk(p.panels);
    }
  };
  walk(dash.panels);
  for (const v of dash.templating?.list ?? []) {
    if (v.type !== "query") continue;
    const q = typeof v.query === "string" ? v.query : v.query?.query;
    // label_values(metric, label) and query_result(expr) are Grafana's; check what they wrap.
    const m = /^\s*(?:label_values|query_result)\((.*)\)\s*$/s.exec(q ?? "");
    const inner = m ? m[1].replace(/,\s*\w+\s*$/, "") : q;
    if (inner) out.push({ where: `${file} variable ${v.name}`, expr: inner });
  }
  return out;
}

// Grafana's interval variables become durations, other variables a plain label value.
export function grafanaToPromQL(expr) {
  return expr
    .replace(/\$\{?__(rate_interval|interval|range)(?::\w+)?\}?/g, (_, v) => (v === "range" ? "1h" : "1m"))
    .replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g, "x");
}

const KEYWORDS = new Set(["and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "inf", "nan", "atan2"]);

// Metric names an expression selects (not functions, labels, keywords or numbers).
export function metricNames(expr) {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  s = s.replace(/#.*$/gm, " ");
  s = s.replace(/\{[^}]*\}/g, " ");
  s = s.replace(/\[[^\]]*\]/g, " ");
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  s = s.replace(/\boffset\s+-?[\dsmhdwy]+/g, " ");
  const names = new Set();
  for (const m of s.matchAll(/(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    if (m[2] || KEYWORDS.has(m[1].toLowerCase())) continue;
    names.add(m[1]);
  }
  return [...names];
}
