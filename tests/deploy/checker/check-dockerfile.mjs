// Checks the Dockerfile and .dockerignore without building the image (no Docker engine here):
//   - Debian 12 (bookworm) stages: a build stage, and a runtime stage that runs as a numeric
//     non-root user and carries both binaries and the bundled capture;
//   - the build stage installs the build packages (-dev and toolchain) scripts/install-deps installs;
//   - the runtime stage installs the Debian package of every shared library the binaries built
//     here link (ldd + dpkg -S), no -dev package, and nothing else: a runtime package that provides
//     no library either binary loads is an unused one (RUNTIME_EXTRAS lists the exceptions);
//   - every COPY source exists and .dockerignore does not hide it, while it does hide build trees.
//
//   node check-dockerfile.mjs --root DIR --edge BIN --ingest BIN
import { existsSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { parseArgs, readText, Report, run } from "./lib.mjs";

const opts = parseArgs(process.argv.slice(2));
const root = opts.root;
const report = new Report("Dockerfile");

// Packages of debian:bookworm-slim itself (priority required), which need no install line.
const BASE_IMAGE_PACKAGES = new Set(["libc6", "libgcc-s1", "libstdc++6", "zlib1g", "libzstd1", "liblzma5", "libcrypt1"]);
// Runtime packages the binaries need without linking them, each with its reason.
const RUNTIME_EXTRAS = new Map([["ca-certificates", "trust roots for the live sources' wss:// connections"]]);
// Which scripts/install-deps packages the image's build stage needs: libraries' -dev packages and
// the toolchain. The rest (redis-server, haproxy, curl...) run tests and the local tier.
const isBuildPackage = (p) => /-dev$/.test(p) || ["build-essential", "cmake", "ninja-build", "pkg-config", "catch2"].includes(p);

// Joins continuation lines and drops comments: one instruction per entry.
function instructions(text) {
  const joined = text.replace(/^\s*#.*$/gm, "").replace(/\\\n/g, " ");
  return joined
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(" ") };
    });
}

const stages = [];
for (const ins of instructions(readText(join(root, "Dockerfile")))) {
  if (ins.op === "FROM") {
    const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
    stages.push({ image: m[1], name: m[2] ?? String(stages.length), ins: [] });
  } else if (stages.length) {
    stages[stages.length - 1].ins.push(ins);
  }
}
const aptPackages = (stage) =>
  stage.ins
    .filter((i) => i.op === "RUN" && /apt-get install/.test(i.args))
    .flatMap((i) => i.args.split("apt-get install")[1].split("&&")[0].split(/\s+/))
    .filter((w) => w && !w.startsWith("-"));

report.check(stages.length >= 2, "Dockerfile is not multi-stage");
for (const s of stages) report.check(/^debian:bookworm(-slim)?(@sha256:[0-9a-f]+)?$/.test(s.image), `stage ${s.name}: base ${s.image} is not Debian 12 (bookworm)`);
const build = stages[0];
const runtime = stages[stages.length - 1];

// ---- Build stage: what scripts/install-deps builds with. ----
const depsText = readText(join(root, "scripts/install-deps"));
const depsList = /packages=\(([\s\S]*?)\)/.exec(depsText)?.[1] ?? "";
const buildDeps = depsList.split(/\s+/).filter((p) => p && isBuildPackage(p));
report.check(buildDeps.length > 5, "could not read the package list of scripts/install-deps");
const buildPkgs = new Set(aptPackages(build));
for (const p of buildDeps) report.check(buildPkgs.has(p), `build stage does not install ${p} (scripts/install-deps does)`);
report.check(build.ins.some((i) => i.op === "RUN" && /cmake --build/.test(i.args) && /tickstream-edge/.test(i.args) && /tickstream-ingest/.test(i.args)), "build stage does not build both binaries");

// ---- Runtime stage. ----
const runtimePkgs = new Set(aptPackages(runtime));
for (const p of runtimePkgs) report.check(!p.endsWith("-dev"), `runtime stage installs the build package ${p}`);
// Debian packages providing a library some binary loads (directly or through another library).
const linkedPkgs = new Set();
for (const bin of [opts.edge, opts.ingest]) {
  const ldd = run("ldd", [bin]);
  report.check(ldd.status === 0, `ldd ${bin} failed: ${ldd.stderr}`);
  for (const m of ldd.stdout.matchAll(/=>\s+(\/\S+)/g)) {
    const lib = realpathSync(m[1]);
    // Debian 12 registers files under /lib as well as /usr/lib (merged /usr); ask for both.
    let pkg = null;
    for (const cand of [lib, lib.replace(/^\/usr\/lib\//, "/lib/"), m[1]]) {
      const r = run("dpkg", ["-S", cand]);
      if (r.status === 0) {
        pkg = r.stdout.split(":")[0].trim();
        break;
      }
    }
    if (lib.includes("libasan") || lib.includes("libubsan") || lib.includes("libtsan")) continue; // sanitizer builds
    if (!report.check(pkg !== null, `no Debian package owns ${lib}, which ${bin} links`)) continue;
    linkedPkgs.add(pkg);
    if (BASE_IMAGE_PACKAGES.has(pkg)) continue;
    report.check(runtimePkgs.has(pkg), `runtime stage does not install ${pkg}, which provides ${lib} for ${bin.split("/").pop()}`);
  }
}
for (const p of runtimePkgs) {
  if (RUNTIME_EXTRAS.has(p)) continue;
  report.check(linkedPkgs.has(p), `runtime stage installs ${p}, which provides no library tickstream-edge or tickstream-ingest loads (ldd); drop it`);
}
const user = runtime.ins.filter((i) => i.op === "USER").pop()?.args;
report.check(user !== undefined && /^[1-9]\d*(:\d+)?$/.test(user), `runtime stage USER is ${user}, not a numeric non-root uid (runAsNonRoot needs a number)`);
const copies = runtime.ins.filter((i) => i.op === "COPY");
const fromBuild = copies.filter((c) => new RegExp(`--from=${build.name}\\b`).test(c.args)).map((c) => c.args).join(" ");
for (const b of ["tickstream-edge", "tickstream-ingest"]) report.check(fromBuild.includes(`/${b}`), `runtime stage does not copy ${b} from the build stage`);
report.check(copies.some((c) => /^samples\/ticks\.jsonl\s+\S+$/.test(c.args)), "runtime stage does not copy samples/ticks.jsonl");

// ---- Build context: COPY sources exist and are not ignored. ----
const ignore = readText(join(root, ".dockerignore"))
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));
const ignored = (path) => ignore.some((p) => {
  const pat = p.replace(/\/$/, "");
  return path === pat || path.startsWith(`${pat}/`);
});
for (const s of stages) {
  for (const c of s.ins.filter((i) => i.op === "COPY" && !/--from=/.test(i.args))) {
    const parts = c.args.split(/\s+/).filter((w) => !w.startsWith("--"));
    for (const src of parts.slice(0, -1)) {
      const path = src.replace(/\/$/, "");
      report.check(existsSync(join(root, path)), `COPY ${src}: no such file in the repository`);
      report.check(!ignored(path), `COPY ${src}: hidden by .dockerignore`);
    }
  }
}
for (const p of ["build", ".git"]) report.check(ignored(p), `.dockerignore does not exclude ${p}/ (build trees would be sent as context)`);

report.finish();
