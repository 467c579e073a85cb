// Kubernetes schema checks of rendered objects, from npm's kubernetes-models (and its KEDA,
// prometheus-operator and GKE packages):
//   - validate(): the JSON schema of the object's apiVersion/kind (types, required fields, enums);
//   - unknownFields(): fields the schema does not have. The API server rejects those (kubectl's
//     default field validation is strict), but the packaged JSON-schema validators let them through,
//     so this walks the object along the TypeScript declarations the same packages ship.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const nodeModules = join(here, "node_modules");

// apiVersion group -> package holding its models.
const PACKAGES = [
  { match: (group) => group === "keda.sh", pkg: "@kubernetes-models/keda" },
  { match: (group) => group === "monitoring.coreos.com", pkg: "@kubernetes-models/prometheus-operator" },
  { match: (group) => group === "cloud.google.com", pkg: "@kubernetes-models/gke" },
  { match: () => true, pkg: "kubernetes-models" },
];

function modelPath(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const { pkg } = PACKAGES.find((p) => p.match(group));
  const sub = group === "" ? version : `${group}/${version}`;
  return { pkg, module: `${pkg}/${sub}/${kind}` };
}

// Validates one object against its schema; returns a list of messages (empty when valid).
export async function validate(obj) {
  const { module } = modelPath(obj.apiVersion, obj.kind);
  let mod;
  try {
    mod = await import(module);
  } catch {
    return [`no schema for ${obj.apiVersion} ${obj.kind} (unknown or removed API version?)`];
  }
  const Model = mod[obj.kind];
  if (typeof Model !== "function") return [`no model class ${obj.kind} in ${module}`];
  const errors = [];
  try {
    new Model(obj).validate();
  } catch (e) {
    errors.push(String(e.message ?? e));
  }
  const dts = resolveDts(module);
  if (!dts) return [...errors, `no type declarations for ${module}`];
  const decl = loadModule(dts);
  const iface = decl.types.get(`I${obj.kind}`);
  if (!iface) return [...errors, `no interface I${obj.kind} in ${dts}`];
  unknownFields(obj, iface, decl, "", errors);
  return errors;
}

function resolveDts(spec, fromDir = null) {
  let base;
  if (spec.startsWith(".")) base = join(fromDir, spec);
  else base = join(nodeModules, spec);
  for (const cand of [`${base}.d.ts`, join(base, "index.d.ts")]) if (existsSync(cand)) return cand;
  // A dependency installed under its dependent package (when versions differ).
  if (!spec.startsWith(".") && fromDir) {
    let dir = fromDir;
    while (dir.startsWith(nodeModules) && dir !== nodeModules) {
      const cand = join(dir, "node_modules", `${spec}.d.ts`);
      if (existsSync(cand)) return cand;
      dir = dirname(dir);
    }
  }
  return null;
}

// ---- A reader for the subset of TypeScript declarations these packages are generated as. ----

const moduleCache = new Map();

function tokenize(src) {
  src = src.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\/\/[^\n]*/g, " ");
  const tokens = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[A-Za-z_$][\w$.]*|-?\d+(?:\.\d+)?|=>|[{}[\]<>|&:;?,()=*])/y;
  let pos = 0;
  while (pos < src.length) {
    re.lastIndex = pos;
    const m = re.exec(src);
    if (m === null) {
      // Trailing blanks, or a character no declaration here needs (skipped).
      pos = /^\s*$/.test(src.slice(pos)) ? src.length : pos + 1;
      continue;
    }
    tokens.push(m[1]);
    pos = re.lastIndex;
  }
  return tokens;
}

function parseType(ts) {
  const members = [parsePrimary(ts)];
  while (ts.peek() === "|" || ts.peek() === "&") {
    ts.next();
    members.push(parsePrimary(ts));
  }
  return members.length === 1 ? members[0] : { t: "union", members };
}

function parsePrimary(ts) {
  let node;
  const tok = ts.next();
  if (tok === "Array" && ts.peek() === "<") {
    ts.expect("<");
    node = { t: "array", item: parseType(ts) };
    ts.expect(">");
  } else if (tok === "{") {
    node = parseObjectBody(ts);
  } else if (tok === "(") {
    node = parseType(ts);
    ts.expect(")");
  } else if (/^["']/.test(tok) || /^-?\d/.test(tok) || ["string", "number", "boolean", "null", "undefined"].includes(tok)) {
    node = { t: "prim" };
  } else if (["any", "unknown", "object"].includes(tok)) {
    node = { t: "any" };
  } else {
    node = { t: "ref", name: tok };
    if (ts.peek() === "<") {
      // A generic reference such as ModelData<T>: not a schema type; accept anything.
      let depth = 0;
      do {
        const x = ts.next();
        if (x === "<") depth++;
        if (x === ">") depth--;
      } while (depth > 0);
      node = { t: "any" };
    }
    if (ts.peek() === "[") {
      // IFoo["kind"]: an indexed access, always a primitive here.
      ts.next();
      ts.next();
      ts.expect("]");
      node = { t: "prim" };
    }
  }
  while (ts.peek() === "[" && ts.peek(1) === "]") {
    ts.next();
    ts.next();
    node = { t: "array", item: node };
  }
  return node;
}

// After "{": either an index signature or a list of properties, up to the matching "}".
function parseObjectBody(ts) {
  const props = new Map();
  let index = null;
  while (ts.peek() !== "}") {
    if (ts.peek() === "[") {
      ts.next();
      ts.next(); // key name
      ts.expect(":");
      ts.next(); // key type
      ts.expect("]");
      ts.expect(":");
      index = parseType(ts);
    } else {
      let name = ts.next();
      if (/^["']/.test(name)) name = name.slice(1, -1);
      if (ts.peek() === "?") ts.next();
      ts.expect(":");
      props.set(name, parseType(ts));
    }
    if (ts.peek() === ";" || ts.peek() === ",") ts.next();
  }
  ts.expect("}");
  return index && props.size === 0 ? { t: "map", value: index } : { t: "object", props, index };
}

function stream(tokens) {
  let i = 0;
  return {
    peek: (k = 0) => tokens[i + k],
    next() {
      if (i >= tokens.length) throw new Error("declaration parser: unexpected end of file");
      return tokens[i++];
    },
    expect(tok) {
      const got = tokens[i++];
      if (got !== tok) throw new Error(`declaration parser: expected ${tok}, got ${got}`);
    },
    done: () => i >= tokens.length,
  };
}

// Reads one .d.ts file: its interfaces and type aliases, and where its imported names come from.
function loadModule(path) {
  if (moduleCache.has(path)) return moduleCache.get(path);
  const decl = { path, types: new Map(), imports: new Map(), aliases: new Map() };
  moduleCache.set(path, decl);
  const ts = stream(tokenize(readFileSync(path, "utf8")));
  while (!ts.done()) {
    const tok = ts.next();
    if (tok === "import") {
      const names = [];
      if (ts.peek() === "{") {
        ts.next();
        while (ts.peek() !== "}") {
          const orig = ts.next();
          let local = orig;
          if (ts.peek() === "as") {
            ts.next();
            local = ts.next();
          }
          names.push([local, orig]);
          if (ts.peek() === ",") ts.next();
        }
        ts.next();
      } else {
        while (ts.peek() !== "from") ts.next();
      }
      ts.expect("from");
      const from = ts.next().slice(1, -1);
      for (const [local, orig] of names) decl.imports.set(local, { from, name: orig });
    } else if (tok === "interface") {
      const name = ts.next();
      const bases = [];
      if (ts.peek() === "extends") {
        ts.next();
        while (ts.peek() !== "{") {
          const b = ts.next();
          if (b !== ",") bases.push(b);
        }
      }
      ts.expect("{");
      const body = parseObjectBody(ts);
      body.bases = bases;
      decl.types.set(name, body);
    } else if (tok === "type" && ts.peek(1) === "=") {
      const name = ts.next();
      ts.expect("=");
      decl.types.set(name, parseType(ts));
    } else if (tok === "export" && ts.peek() === "{") {
      ts.next();
      while (ts.peek() !== "}") {
        const orig = ts.next();
        if (ts.peek() === "as") {
          ts.next();
          decl.aliases.set(ts.next(), orig);
        }
        if (ts.peek() === ",") ts.next();
      }
      ts.next();
    } else if (tok === "class") {
      // Skip class bodies: their members repeat the interface.
      while (ts.peek() !== "{") ts.next();
      let depth = 0;
      do {
        const x = ts.next();
        if (x === "{") depth++;
        if (x === "}") depth--;
      } while (depth > 0);
    }
  }
  return decl;
}

// Resolves a referenced type name seen in decl to [node, declaring module], or null (accept).
function resolveRef(name, decl) {
  if (decl.types.has(name)) return [decl.types.get(name), decl];
  if (decl.aliases.has(name)) return resolveRef(decl.aliases.get(name), decl);
  const imp = decl.imports.get(name);
  if (!imp) return null; // TypeMeta, Model and the like: no fields to check
  const path = resolveDts(imp.from, dirname(decl.path));
  if (!path) return null;
  return resolveRef(imp.name, loadModule(path));
}

function propsOf(node, decl, seen = new Set()) {
  // An interface's own properties plus those of its bases (TypeMeta adds apiVersion and kind).
  const props = new Map(node.props);
  for (const b of node.bases ?? []) {
    if (b === "TypeMeta") {
      props.set("apiVersion", { t: "prim" });
      props.set("kind", { t: "prim" });
      continue;
    }
    const r = resolveRef(b, decl);
    if (r && r[0].t === "object" && !seen.has(r[0])) {
      seen.add(r[0]);
      for (const [k, v] of propsOf(r[0], r[1], seen)) props.set(k, [v, r[1]]);
    }
  }
  return props;
}

// Appends "unknown field" messages for value against type node (declared in decl).
export function unknownFields(value, node, decl, path, errors) {
  if (value === null || value === undefined || node === undefined) return;
  switch (node.t) {
    case "any":
    case "prim":
      return;
    case "ref": {
      const r = resolveRef(node.name, decl);
      if (r) unknownFields(value, r[0], r[1], path, errors);
      return;
    }
    case "union": {
      const pick = Array.isArray(value)
        ? node.members.find((m) => m.t === "array")
        : typeof value === "object"
          ? node.members.find((m) => m.t !== "prim" && m.t !== "array")
          : null;
      if (pick) unknownFields(value, pick, decl, path, errors);
      return;
    }
    case "array":
      if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, node.item, decl, `${path}[${i}]`, errors));
      return;
    case "map":
      if (typeof value === "object" && !Array.isArray(value)) {
        for (const [k, v] of Object.entries(value)) unknownFields(v, node.value, decl, `${path}.${k}`, errors);
      }
      return;
    case "object": {
      if (typeof value !== "object" || Array.isArray(value)) return;
      const props = propsOf(node, decl);
      for (const [k, v] of Object.entries(value)) {
        const p = props.get(k);
        if (p === undefined) {
          if (node.index) unknownFields(v, node.index, decl, `${path}.${k}`, errors);
          else errors.push(`unknown field ${path ? `${path.slice(1)}.` : ""}${k}`);
          continue;
        }
        if (Array.isArray(p)) unknownFields(v, p[0], p[1], `${path}.${k}`, errors);
        else unknownFields(v, p, decl, `${path}.${k}`, errors);
      }
      return;
    }
    default:
      return;
  }
}
