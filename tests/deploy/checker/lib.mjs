// Shared pieces of the deployment checks: the binaries' --help as the list of what they accept, and
// the check that a container's command line and environment stay inside it.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

// Names the deployment files may use before the binaries have them ({ binary: { flags, env } }).
// Tolerated only while absent from --help; once a binary lists one, it is checked like any other.
// Empty: every name in the deployment files is one the binaries list.
export const PENDING = {};

// Collects failures so one run reports all of them.
export class Report {
  constructor(title) {
    this.title = title;
    this.errors = [];
    this.notes = [];
    this.passed = 0;
  }
  fail(msg) {
    this.errors.push(msg);
  }
  note(msg) {
    this.notes.push(msg);
  }
  // Records one named check: ok when cond is true, else msg is a failure.
  check(cond, msg) {
    if (cond) this.passed++;
    else this.fail(msg);
    return cond;
  }
  finish() {
    for (const n of [...new Set(this.notes)]) console.log(`note: ${n}`);
    for (const e of this.errors) console.log(`FAIL: ${e}`);
    console.log(`${this.title}: ${this.passed} checks passed, ${this.errors.length} failed`);
    process.exit(this.errors.length === 0 ? 0 : 1);
  }
}

// Parses command-line options of the form --name value into an object (repeatable ones as arrays).
export function parseArgs(argv, repeatable = []) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--") || i + 1 >= argv.length) throw new Error(`bad argument ${a}`);
    const name = a.slice(2);
    const value = argv[++i];
    if (repeatable.includes(name)) (out[name] ??= []).push(value);
    else out[name] = value;
  }
  return out;
}

// Runs a tool with a time limit; returns { status, stdout, stderr }.
export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 30000, ...opts });
  if (r.error) return { status: -1, stdout: r.stdout ?? "", stderr: String(r.error) };
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// What a binary accepts, read from its --help: flag name -> { env, isBool, defaultValue }.
export function loadHelp(binPath) {
  if (!existsSync(binPath)) throw new Error(`binary ${binPath} does not exist (build it first)`);
  const text = execFileSync(binPath, ["--help"], { encoding: "utf8", timeout: 10000, env: {} });
  const flags = new Map();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^  --([a-z0-9-]+)(?:\s+\(env (TS_[A-Z0-9_]+)\))?\s*$/.exec(lines[i]);
    if (!m || m[1] === "help") continue;
    const desc = lines[i + 1] ?? "";
    const def = /\[default: (.*)\]\s*$/.exec(desc);
    flags.set(m[1], { env: m[2] ?? null, defaultValue: def ? def[1] : null });
  }
  if (flags.size < 5) throw new Error(`${binPath} --help listed only ${flags.size} flags; has its format changed?`);
  const env = new Map([...flags].filter(([, f]) => f.env).map(([name, f]) => [f.env, name]));
  return { path: binPath, name: binPath.split("/").pop(), text, flags, env };
}

// Splits "--name=value" / "--name" into the flag name, or null for a non-flag argument.
export function flagName(arg) {
  if (!arg.startsWith("--")) return null;
  return arg.slice(2).split("=")[0];
}

// Checks one container's invocation against its binary: every --flag and every TS_* variable must
// be one the binary lists (or one still PENDING), and the binary itself must accept the whole
// configuration: it is run with these arguments and variables and a final --help, which makes it
// parse and validate every value and then exit without starting.
// env: { NAME: value } with placeholders already substituted for values only a cluster knows.
export function checkInvocation(report, where, help, args, env) {
  const pending = PENDING[help.name] ?? { flags: [], env: [] };
  const dropArgs = new Set();
  for (let i = 0; i < args.length; i++) {
    const name = flagName(args[i]);
    if (name === null) continue;
    if (help.flags.has(name)) {
      report.check(true);
    } else if (pending.flags.includes(name)) {
      report.note(`${help.name} does not list --${name} yet; tolerated (PENDING in tests/deploy/checker/lib.mjs)`);
      dropArgs.add(i);
      if (!args[i].includes("=") && i + 1 < args.length && flagName(args[i + 1]) === null) dropArgs.add(i + 1);
    } else {
      report.fail(`${where}: ${help.name} has no flag --${name} (see ${help.name} --help)`);
      return;
    }
  }
  const runEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith("TS_")) {
      report.fail(`${where}: variable ${name} is not a Tickstream setting (TS_*); ${help.name} ignores it`);
      continue;
    }
    if (help.env.has(name)) {
      report.check(true);
      runEnv[name] = value;
    } else if (pending.env.includes(name)) {
      report.note(`${help.name} does not list ${name} yet; tolerated (PENDING in tests/deploy/checker/lib.mjs)`);
    } else {
      report.fail(`${where}: ${help.name} reads no variable ${name} (see ${help.name} --help)`);
    }
  }
  const argv = args.filter((_, i) => !dropArgs.has(i));
  const r = run(help.path, [...argv, "--help"], { env: runEnv, timeout: 10000 });
  report.check(
    r.status === 0,
    `${where}: ${help.name} rejects this configuration: ${(r.stderr || r.stdout).trim()} ` +
      `(args: ${JSON.stringify(argv)}, env: ${JSON.stringify(runEnv)})`,
  );
}

// The value a flag gets from args or env (args win, as in the binaries), or its --help default.
export function effectiveSetting(help, args, env, flag, fallback) {
  let value = null;
  for (let i = 0; i < args.length; i++) {
    if (flagName(args[i]) !== flag) continue;
    value = args[i].includes("=") ? args[i].split("=").slice(1).join("=") : args[i + 1];
  }
  if (value === null) {
    const info = help.flags.get(flag);
    const envName = info?.env ?? PENDING[help.name]?.env.find((e) => e === `TS_${flag.toUpperCase().replace(/-/g, "_")}`);
    if (envName && env[envName] !== undefined) value = env[envName];
    else if (info?.defaultValue != null) value = info.defaultValue;
    else value = fallback;
  }
  return value;
}

export function readText(path) {
  return readFileSync(path, "utf8");
}
