// Renders helm/tickstream with one set of values (tests/deploy/helm-render) and checks every object:
// Kubernetes schema and unknown fields (kubernetes-models), the binaries' flags and TS_* variables
// (their --help, and the binaries parsing the whole configuration), probes, resources, security
// context, drain timing, and that names referenced between objects exist; an Ingress routes to the
// edge's client port with its controller's WebSocket timeout and no session affinity; a
// PrometheusRule holds exactly the groups of deploy/alerts.yml (--rules); NOTES.txt warns exactly
// as --notes-warnings says (image: the placeholder repository, auth: no client authentication).
//
//   node check-manifests.mjs --renderer BIN --chart DIR [--values FILE]... --edge BIN --ingest BIN
//                            [--expect Kind,...] [--absent Kind,...] [--output FILE]
//                            [--rules deploy/alerts.yml] [--notes-warnings image,auth]
//                            [--env NAME=VALUE]... [--no-env NAME]...
// --env / --no-env: the environment every Tickstream container gets must (not) hold that variable.
import { isDeepStrictEqual } from "node:util";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { validate } from "./k8s.mjs";
import { checkInvocation, effectiveSetting, loadHelp, parseArgs, readText, Report, run } from "./lib.mjs";

// API versions the chart may use: current, not deprecated, on Kubernetes 1.23 and later.
const ALLOWED_API_VERSIONS = new Set(["v1", "apps/v1", "autoscaling/v2", "policy/v1", "networking.k8s.io/v1", "keda.sh/v1alpha1", "monitoring.coreos.com/v1", "cloud.google.com/v1"]);
// What NOTES.txt says for each warning --notes-warnings may name.
const NOTES_WARNINGS = { image: /WARNING: image\.repository is still the placeholder/, auth: /WARNING: no client authentication is configured/ };
// Values for settings only a cluster knows, so the binaries can parse the configuration here.
const PLACEHOLDER_SECRET = "placeholder-secret-value-for-tests-0123456789";
const PLACEHOLDER_FIELD = "pod-name-placeholder";
// Metric the autoscalers scale on; the edge binary must export it.
const CONNECTIONS_METRIC = "tickstream_edge_connections";

const opts = parseArgs(process.argv.slice(2), ["values", "env", "no-env"]);
const valuesFiles = opts.values ?? [];
const report = new Report(`helm ${valuesFiles.length ? valuesFiles.map((v) => v.split("/").pop()).join("+") : "default values"}`);

const notesDir = mkdtempSync(join(tmpdir(), "tickstream-notes-"));
const notesFile = join(notesDir, "NOTES.txt");
const renderArgs = ["--chart", opts.chart, "--notes", notesFile];
for (const v of valuesFiles) renderArgs.push("--values", v);
const rendered = run(opts.renderer, renderArgs);
const notes = rendered.status === 0 ? readFileSync(notesFile, "utf8") : "";
rmSync(notesDir, { recursive: true, force: true });
if (rendered.status !== 0) {
  report.fail(`rendering failed: ${rendered.stderr.trim()}`);
  report.finish();
}
if (opts.output) writeFileSync(opts.output, rendered.stdout);

const helps = { "tickstream-edge": loadHelp(opts.edge), "tickstream-ingest": loadHelp(opts.ingest) };
const docs = parseAllDocuments(rendered.stdout);
const objects = [];
for (const doc of docs) {
  if (doc.errors.length) report.fail(`rendered YAML does not parse: ${doc.errors.map((e) => e.message).join("; ")}`);
  const obj = doc.toJS();
  if (obj !== null && obj !== undefined) objects.push(obj);
}
const key = (o) => `${o.kind}/${o.metadata?.name}`;
const byKind = (kind) => objects.filter((o) => o.kind === kind);
const find = (kind, name) => objects.find((o) => o.kind === kind && o.metadata?.name === name);

// ---- Every object: schema, unknown fields, API version, names. ----
const seen = new Set();
for (const o of objects) {
  report.check(ALLOWED_API_VERSIONS.has(o.apiVersion), `${key(o)}: apiVersion ${o.apiVersion} is not one the chart targets`);
  for (const e of await validate(o)) report.fail(`${key(o)}: ${e}`);
  report.check(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(o.metadata?.name ?? ""), `${key(o)}: name is not a DNS label`);
  report.check(!seen.has(key(o)), `${key(o)}: defined twice`);
  seen.add(key(o));
  report.check(o.metadata?.labels?.["app.kubernetes.io/instance"] !== undefined, `${key(o)}: no app.kubernetes.io/instance label`);
}
const kinds = new Set(objects.map((o) => o.kind));
for (const k of opts.expect?.split(",") ?? []) report.check(kinds.has(k), `expected a ${k} in this rendering`);
for (const k of opts.absent?.split(",") ?? []) report.check(!kinds.has(k), `expected no ${k} in this rendering`);

// ---- Workloads. ----
const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
const secretNames = new Set(byKind("Secret").map((o) => o.metadata.name));
const configMaps = new Map(byKind("ConfigMap").map((o) => [o.metadata.name, o.data ?? {}]));
const existingSecret = /existingSecret:\s*(\S+)/.exec(valuesFiles.map(readText).join("\n"))?.[1];
// A Secret the operator provides by name: Redis's CA and client certificate (redis.external.tls.secretName).
const redisTlsSecret = /secretName:\s*(\S+)/.exec(valuesFiles.map(readText).join("\n"))?.[1];
const workloads = [...byKind("Deployment"), ...byKind("StatefulSet")];

function secretValue(ref) {
  const s = byKind("Secret").find((o) => o.metadata.name === ref.name);
  if (s?.data?.[ref.key] !== undefined) return Buffer.from(s.data[ref.key], "base64").toString("utf8");
  if (s?.stringData?.[ref.key] !== undefined) return s.stringData[ref.key];
  return ref.optional && s ? undefined : PLACEHOLDER_SECRET;
}

let edgeProbePort = null;
let edgeIdleMs = 30000;
for (const w of workloads) {
  const where = key(w);
  const pod = w.spec.template;
  const spec = pod.spec;
  report.check(matches(w.spec.selector?.matchLabels, pod.metadata?.labels), `${where}: selector does not match the pod labels`);
  report.check(spec.securityContext?.runAsNonRoot === true, `${where}: pod securityContext.runAsNonRoot is not true`);
  report.check(Number.isInteger(spec.securityContext?.runAsUser) && spec.securityContext.runAsUser > 0, `${where}: pod runs as no fixed non-root uid`);
  report.check(spec.automountServiceAccountToken === false, `${where}: mounts a service account token it does not need`);
  for (const c of spec.containers) {
    const cw = `${where} container ${c.name}`;
    report.check(c.readinessProbe !== undefined, `${cw}: no readinessProbe`);
    report.check(c.livenessProbe !== undefined, `${cw}: no livenessProbe`);
    for (const r of ["requests", "limits"]) {
      for (const res of ["cpu", "memory"]) report.check(c.resources?.[r]?.[res] !== undefined, `${cw}: no resources.${r}.${res}`);
    }
    report.check(c.securityContext?.allowPrivilegeEscalation === false, `${cw}: allowPrivilegeEscalation is not false`);
    report.check(c.securityContext?.capabilities?.drop?.includes("ALL"), `${cw}: capabilities are not dropped`);
    report.check(c.securityContext?.readOnlyRootFilesystem === true, `${cw}: root filesystem is writable`);
    // Probes name ports the container has.
    const portNames = new Map((c.ports ?? []).map((p) => [p.name, p.containerPort]));
    for (const probe of ["readinessProbe", "livenessProbe"]) {
      const p = c[probe]?.httpGet?.port ?? c[probe]?.tcpSocket?.port;
      if (p !== undefined) report.check(typeof p === "number" || portNames.has(p), `${cw}: ${probe} uses port ${p}, which the container does not name`);
    }
    // References to ConfigMaps and Secrets resolve.
    for (const src of c.envFrom ?? []) {
      if (src.configMapRef) report.check(configMaps.has(src.configMapRef.name), `${cw}: envFrom ConfigMap ${src.configMapRef.name} is not rendered`);
      if (src.secretRef) report.check(secretNames.has(src.secretRef.name) || src.secretRef.name === existingSecret, `${cw}: envFrom Secret ${src.secretRef.name} is not rendered`);
    }
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref) report.check(secretNames.has(ref.name) || ref.name === existingSecret, `${cw}: env ${e.name} reads Secret ${ref.name}, which is neither rendered nor secrets.existingSecret`);
      const cmRef = e.valueFrom?.configMapKeyRef;
      if (cmRef) report.check(configMaps.get(cmRef.name)?.[cmRef.key] !== undefined, `${cw}: env ${e.name} reads ConfigMap ${cmRef.name} key ${cmRef.key}, which is not rendered`);
    }
    for (const v of spec.volumes ?? []) {
      if (v.secret) report.check(secretNames.has(v.secret.secretName) || v.secret.secretName === existingSecret || (v.name === "redis-tls" && v.secret.secretName === redisTlsSecret), `${where}: volume ${v.name} mounts Secret ${v.secret.secretName}, which is not rendered`);
    }
    for (const m of c.volumeMounts ?? []) {
      const declared = (spec.volumes ?? []).some((v) => v.name === m.name) || (w.spec.volumeClaimTemplates ?? []).some((t) => t.metadata.name === m.name);
      report.check(declared, `${cw}: volumeMount ${m.name} has no volume`);
    }

    const binary = c.command?.[0];
    if (!(binary in helps)) continue;
    // ---- A Tickstream container: flags, variables and the values the binary will see. ----
    const help = helps[binary];
    report.check(c.command.length === 1, `${cw}: command should be the binary alone, flags in args`);
    const args = c.args ?? [];
    const env = {};
    for (const src of c.envFrom ?? []) {
      if (src.configMapRef) Object.assign(env, configMaps.get(src.configMapRef.name) ?? {});
      if (src.secretRef) report.fail(`${cw}: envFrom a whole Secret hands this container keys meant for others; use secretKeyRef`);
    }
    for (const e of c.env ?? []) {
      if (e.value !== undefined) env[e.name] = String(e.value);
      else if (e.valueFrom?.secretKeyRef) {
        const v = secretValue(e.valueFrom.secretKeyRef);
        if (v !== undefined) env[e.name] = v;
      } else if (e.valueFrom?.fieldRef) env[e.name] = PLACEHOLDER_FIELD;
      else if (e.valueFrom?.configMapKeyRef) env[e.name] = configMaps.get(e.valueFrom.configMapKeyRef.name)?.[e.valueFrom.configMapKeyRef.key] ?? "";
    }
    checkInvocation(report, cw, help, args, env);
    for (const pair of opts.env ?? []) {
      const [name, ...rest] = pair.split("=");
      const want = rest.join("=");
      report.check(env[name] === want, `${cw}: ${name} is ${JSON.stringify(env[name])}, expected ${JSON.stringify(want)}`);
    }
    for (const name of opts["no-env"] ?? []) report.check(env[name] === undefined, `${cw}: ${name} is set (${JSON.stringify(env[name])}), expected it absent`);

    // The port of /metrics, /healthz and /readyz: the ops listener's when it is set.
    const opsListen = effectiveSetting(help, args, env, "ops-listen", "");
    if (opsListen) {
      report.check(portNames.get("ops") === Number(opsListen.split(":").pop()), `${cw}: containerPort "ops" (${portNames.get("ops")}) is not --ops-listen (${opsListen})`);
      for (const probe of ["readinessProbe", "livenessProbe"]) report.check(c[probe]?.httpGet?.port === "ops", `${cw}: ${probe} is not on the ops port, where the probes are served`);
    }
    if (binary === "tickstream-edge") {
      const port = Number(effectiveSetting(help, args, env, "port"));
      report.check(portNames.get("http") === port, `${cw}: containerPort "http" (${portNames.get("http")}) is not the edge's --port (${port})`);
      if (!opsListen) for (const probe of ["readinessProbe", "livenessProbe"]) report.check(c[probe]?.httpGet?.port === "http", `${cw}: ${probe} is not on the client port, where the probes are served`);
      edgeProbePort = opsListen ? Number(opsListen.split(":").pop()) : port;
      edgeIdleMs = Number(effectiveSetting(help, args, env, "idle-timeout-ms", "30000"));
      report.check(c.readinessProbe?.httpGet?.path === "/readyz", `${cw}: readinessProbe is not GET /readyz`);
      report.check(c.livenessProbe?.httpGet?.path === "/healthz", `${cw}: livenessProbe is not GET /healthz`);
      const drainMs = Number(effectiveSetting(help, args, env, "drain-ms", "20000"));
      const closeMs = Number(effectiveSetting(help, args, env, "shutdown-grace-ms", "5000"));
      const preStop = c.lifecycle?.preStop;
      report.check(preStop !== undefined, `${cw}: no lifecycle.preStop`);
      const sleepCmd = preStop?.exec?.command;
      const preStopS = sleepCmd?.[0] === "sleep" ? Number(sleepCmd[1]) : preStop?.sleep?.seconds ?? 0;
      const grace = spec.terminationGracePeriodSeconds;
      const needed = preStopS + (drainMs + closeMs) / 1000;
      report.check(
        Number.isInteger(grace) && grace > needed,
        `${cw}: terminationGracePeriodSeconds ${grace} is not longer than preStop ${preStopS} s + drain ${drainMs} ms + close grace ${closeMs} ms`,
      );
      report.check(drainMs > 0, `${cw}: drain window is ${drainMs} ms`);
    }
    if (binary === "tickstream-ingest") {
      const listen = opsListen || effectiveSetting(help, args, env, "metrics-listen", "");
      const portName = opsListen ? "ops" : "metrics";
      const port = Number(listen.split(":").pop());
      report.check(listen.startsWith("0.0.0.0:") && portNames.get(portName) === port, `${cw}: containerPort "${portName}" (${portNames.get(portName)}) is not where ingest serves metrics and probes (${listen})`);
      for (const probe of ["readinessProbe", "livenessProbe"]) report.check(c[probe]?.httpGet?.port === portName, `${cw}: ${probe} is not on port ${portName}`);
      report.check(c.readinessProbe?.httpGet?.path === "/readyz", `${cw}: readinessProbe is not GET /readyz`);
      report.check(c.livenessProbe?.httpGet?.path === "/healthz", `${cw}: livenessProbe is not GET /healthz`);
      report.check((w.spec.replicas ?? 1) === 1 && w.spec.strategy?.type === "Recreate", `${cw}: ingest must run as exactly one replica with the Recreate strategy`);
      const webhook = effectiveSetting(help, args, env, "webhook-listen", "");
      if (webhook) report.check(portNames.get("webhook") === Number(webhook.split(":").pop()), `${cw}: containerPort "webhook" does not match --webhook-listen ${webhook}`);
    }
  }
  if (w.kind === "StatefulSet") {
    const svc = find("Service", w.spec.serviceName);
    report.check(svc?.spec?.clusterIP === "None", `${where}: serviceName ${w.spec.serviceName} is not a rendered headless Service`);
  }
}

// ---- Services select pods and name their ports. ----
for (const s of byKind("Service")) {
  const targets = workloads.filter((w) => matches(s.spec.selector, w.spec.template.metadata?.labels));
  report.check(targets.length === 1, `${key(s)}: selector matches ${targets.length} workloads, not 1`);
  for (const p of s.spec.ports ?? []) {
    if (typeof p.targetPort !== "string") continue;
    const named = targets.some((w) => w.spec.template.spec.containers.some((c) => (c.ports ?? []).some((cp) => cp.name === p.targetPort)));
    report.check(named, `${key(s)}: targetPort ${p.targetPort} is no container port of the selected pods`);
  }
}

// ---- Edge scaling and disruption. ----
const edge = workloads.find((w) => w.spec.template.spec.containers.some((c) => c.command?.[0] === "tickstream-edge"));
report.check(edge !== undefined, "no edge Deployment rendered");
const hpas = byKind("HorizontalPodAutoscaler");
const scaled = byKind("ScaledObject");
const edgeBinary = readFileSync(opts.edge);
for (const h of hpas) {
  const ref = h.spec.scaleTargetRef;
  report.check(ref.kind === "Deployment" && ref.name === edge?.metadata.name, `${key(h)}: does not target the edge Deployment`);
  report.check(h.spec.minReplicas >= 1 && h.spec.minReplicas <= h.spec.maxReplicas, `${key(h)}: minReplicas/maxReplicas out of order`);
  const cpu = h.spec.metrics?.find((m) => m.type === "Resource" && m.resource?.name === "cpu");
  report.check(cpu?.resource?.target?.type === "Utilization", `${key(h)}: no CPU utilization target`);
  for (const m of h.spec.metrics ?? []) {
    if (m.type !== "Pods") continue;
    report.check(m.pods.metric.name === CONNECTIONS_METRIC, `${key(h)}: Pods metric ${m.pods.metric.name} is not ${CONNECTIONS_METRIC}`);
    report.check(edgeBinary.includes(m.pods.metric.name), `${key(h)}: the edge binary exports no metric named ${m.pods.metric.name}`);
  }
  report.check(h.spec.behavior?.scaleDown !== undefined, `${key(h)}: no scale-down behavior (each removed edge disconnects clients)`);
}
for (const so of scaled) {
  report.check(so.spec.scaleTargetRef.name === edge?.metadata.name, `${key(so)}: does not target the edge Deployment`);
  const prom = so.spec.triggers.find((t) => t.type === "prometheus");
  report.check(prom !== undefined, `${key(so)}: no prometheus trigger on connections`);
  if (prom) {
    const metric = /^sum\((\w+)\{/.exec(prom.metadata.query)?.[1];
    report.check(metric === CONNECTIONS_METRIC && edgeBinary.includes(metric), `${key(so)}: query ${prom.metadata.query} is not on ${CONNECTIONS_METRIC}`);
    report.check(/^\d+$/.test(prom.metadata.threshold ?? ""), `${key(so)}: threshold ${prom.metadata.threshold} is not a whole number`);
  }
}
report.check(hpas.length + scaled.length <= 1, "the edge has more than one autoscaler (KEDA creates its own HPA)");
if (edge) {
  const autoscaled = hpas.length + scaled.length > 0;
  report.check(!autoscaled || edge.spec.replicas === undefined, `${key(edge)}: sets replicas while an autoscaler owns them (every upgrade would reset the scale)`);
  for (const c of edge.spec.template.spec.containers) {
    if (autoscaled) report.check(c.resources?.requests?.cpu !== undefined, `${key(edge)}: CPU autoscaling needs CPU requests`);
  }
}
for (const p of byKind("PodDisruptionBudget")) {
  report.check(edge && matches(p.spec.selector?.matchLabels, edge.spec.template.metadata.labels), `${key(p)}: does not select the edge pods`);
  report.check(p.spec.maxUnavailable !== undefined || p.spec.minAvailable !== undefined, `${key(p)}: neither maxUnavailable nor minAvailable`);
}

// ---- ServiceMonitors select a Service and name its port. ----
for (const sm of byKind("ServiceMonitor")) {
  const svc = byKind("Service").find((s) => matches(sm.spec.selector?.matchLabels, s.metadata.labels));
  report.check(svc !== undefined, `${key(sm)}: selects no rendered Service`);
  for (const ep of sm.spec.endpoints ?? []) {
    report.check(svc?.spec.ports.some((p) => p.name === ep.port), `${key(sm)}: endpoint port ${ep.port} is not a port of ${svc?.metadata.name}`);
    report.check(ep.path === "/metrics", `${key(sm)}: endpoint path ${ep.path} is not /metrics`);
    const job = (ep.relabelings ?? []).find((r) => r.targetLabel === "job" && (r.action ?? "replace") === "replace")?.replacement;
    const component = sm.metadata.labels?.["app.kubernetes.io/component"];
    report.check(job === `tickstream-${component}`, `${key(sm)}: targets get job ${job}, not tickstream-${component} (what deploy/alerts.yml and the dashboard select)`);
  }
}

// ---- Services: the ops port stays off every Service that is not ClusterIP. ----
for (const s of byKind("Service")) {
  if ((s.spec.type ?? "ClusterIP") === "ClusterIP") continue;
  report.check(!(s.spec.ports ?? []).some((p) => p.targetPort === "ops" || p.name === "ops"), `${key(s)}: a ${s.spec.type} Service exposes the internal ops port`);
}

// ---- Ingress: routes to the edge's client port, WebSocket timeouts, no affinity. ----
const edgeService = byKind("Service").find((s) => edge && matches(s.spec.selector, edge.spec.template.metadata.labels) && (s.spec.ports ?? []).some((p) => p.targetPort === "http"));
const minTimeoutS = edgeIdleMs / 2000;
for (const ing of byKind("Ingress")) {
  const where = key(ing);
  const ann = ing.metadata.annotations ?? {};
  const paths = [];
  for (const rule of ing.spec.rules ?? []) {
    for (const p of rule.http?.paths ?? []) {
      paths.push(p.path);
      const svc = byKind("Service").find((s) => s.metadata.name === p.backend?.service?.name);
      report.check(svc !== undefined && svc === edgeService, `${where}: path ${p.path} goes to ${p.backend?.service?.name}, not the edge's client Service`);
      const port = p.backend?.service?.port;
      report.check((svc?.spec.ports ?? []).some((sp) => (port?.name ? sp.name === port.name : sp.port === port?.number) && sp.targetPort === "http"), `${where}: path ${p.path} goes to port ${JSON.stringify(port)}, not the edge's client port`);
    }
  }
  report.check(paths.some((p) => "/ws".startsWith(p)), `${where}: no path routes /ws`);
  const opsPortSeparate = edgeProbePort !== null && edgeProbePort !== Number(edge?.spec.template.spec.containers[0].ports?.find((p) => p.name === "http")?.containerPort);
  if (!opsPortSeparate) for (const p of paths) report.check(!"/metrics".startsWith(p), `${where}: path ${p} routes the edge's /metrics to the outside (keep it inside, or set ops.enabled)`);
  report.check(!Object.keys(ann).some((k) => /affinity|sticky|upstream-hash-by/.test(k)), `${where}: session affinity annotations; clients resume on any edge and need none`);
  const cls = ing.spec.ingressClassName ?? ann["kubernetes.io/ingress.class"];
  report.check(cls !== undefined, `${where}: neither ingressClassName nor kubernetes.io/ingress.class; no controller would pick it up`);
  if (cls === "nginx") {
    for (const a of ["proxy-read-timeout", "proxy-send-timeout"]) {
      const v = Number(ann[`nginx.ingress.kubernetes.io/${a}`]);
      report.check(v >= minTimeoutS, `${where}: nginx ${a} ${ann[`nginx.ingress.kubernetes.io/${a}`]} is under the edge's ping interval ${minTimeoutS} s (ingress-nginx defaults to 60 s)`);
    }
  } else if (cls === "alb") {
    const idle = Number(/idle_timeout\.timeout_seconds=(\d+)/.exec(ann["alb.ingress.kubernetes.io/load-balancer-attributes"] ?? "")?.[1]);
    report.check(idle >= minTimeoutS, `${where}: ALB idle timeout ${idle} s is under the edge's ping interval ${minTimeoutS} s`);
    report.check(/stickiness\.enabled=false/.test(ann["alb.ingress.kubernetes.io/target-group-attributes"] ?? ""), `${where}: ALB stickiness is not turned off`);
    report.check(ann["alb.ingress.kubernetes.io/target-type"] === "ip", `${where}: ALB targets are not the pods (target-type ip)`);
    report.check(ann["alb.ingress.kubernetes.io/healthcheck-path"] === "/readyz" && Number(ann["alb.ingress.kubernetes.io/healthcheck-port"]) === edgeProbePort, `${where}: ALB health check is not /readyz on the edge's probe port ${edgeProbePort}`);
  } else if (cls === "gce") {
    const ref = edgeService?.metadata.annotations?.["cloud.google.com/backend-config"];
    const name = ref ? JSON.parse(ref).default : undefined;
    const bc = find("BackendConfig", name);
    report.check(bc !== undefined, `${where}: the edge Service names no rendered BackendConfig (GKE's default backend timeout closes WebSockets after 30 s)`);
    if (bc) {
      report.check(bc.spec.timeoutSec >= 600, `${where}: BackendConfig timeoutSec ${bc.spec.timeoutSec} caps every WebSocket's life at that`);
      report.check(bc.spec.sessionAffinity?.affinityType === "NONE", `${where}: BackendConfig has session affinity`);
      report.check(bc.spec.healthCheck?.requestPath === "/readyz" && bc.spec.healthCheck?.port === edgeProbePort, `${where}: BackendConfig health check is not /readyz on the edge's probe port ${edgeProbePort}`);
    }
    report.check(/"ingress":\s*true/.test(edgeService?.metadata.annotations?.["cloud.google.com/neg"] ?? ""), `${where}: the edge Service has no cloud.google.com/neg annotation (container-native load balancing)`);
  }
}

// ---- PrometheusRule: exactly deploy/alerts.yml's groups. ----
for (const pr of byKind("PrometheusRule")) {
  if (!opts.rules) {
    report.fail(`${key(pr)}: rendered, but no --rules file to compare it with`);
    continue;
  }
  const expected = parse(readText(opts.rules)).groups;
  report.check(isDeepStrictEqual(pr.spec.groups, expected), `${key(pr)}: its groups differ from ${opts.rules}; change both together (the template escapes {{ }})`);
}

// ---- NOTES.txt: the warnings it must give, and only those. ----
if (opts["notes-warnings"] !== undefined) {
  const want = new Set(opts["notes-warnings"].split(",").filter(Boolean));
  for (const w of want) report.check(w in NOTES_WARNINGS, `--notes-warnings: unknown warning ${w}`);
  for (const [w, re] of Object.entries(NOTES_WARNINGS)) {
    report.check(re.test(notes) === want.has(w), `NOTES.txt ${want.has(w) ? "does not warn" : "warns"} about ${w} (${re}):\n${notes}`);
  }
}

report.note(`${objects.length} objects: ${objects.map(key).join(", ")}`);
report.finish();
