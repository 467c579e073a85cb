// The protocol contract: loads docs/asyncapi.yaml, checks it is a valid AsyncAPI 3 document, and
// validates frames against its schemas (ServerMessage for edge → client, ClientMessage for
// client → edge). Tooling for tests and CI, not part of the client.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import specs from '@asyncapi/specs';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

/** docs/asyncapi.yaml of this repository. */
export const DEFAULT_DOCUMENT = fileURLToPath(new URL('../../docs/asyncapi.yaml', import.meta.url));

const ROOT_ID = 'tickstream:asyncapi';

export function loadDocument(file = DEFAULT_DOCUMENT) {
  return YAML.parse(readFileSync(file, 'utf8'));
}

// The schemas of components/schemas as one JSON Schema whose definitions they are.
function schemaRoot(doc) {
  const text = JSON.stringify(doc?.components?.schemas ?? {}).replaceAll('"#/components/schemas/', `"${ROOT_ID}#/definitions/`);
  return { $id: ROOT_ID, definitions: JSON.parse(text) };
}

function formatErrors(errors) {
  const out = [];
  for (const e of errors ?? []) {
    // The if/then dispatch adds "must match then schema" above the real reason: keep the reason.
    if (e.keyword === 'if') continue;
    let msg = `${e.instancePath || '/'} ${e.message}`;
    if (e.keyword === 'additionalProperties') msg += `: '${e.params.additionalProperty}'`;
    else if (e.keyword === 'enum') msg += `: ${JSON.stringify(e.params.allowedValues)}`;
    else if (e.keyword === 'const') msg += `: ${JSON.stringify(e.params.allowedValue)}`;
    if (!out.includes(msg)) out.push(msg);
  }
  return out;
}

/**
 * Validators built from an AsyncAPI document (default: docs/asyncapi.yaml).
 * Each returns { ok, type, errors }: `type` is the frame's type (or null), `errors` human-readable.
 */
export function createValidators(doc = loadDocument()) {
  // strict: unknown keywords (a typo in the document) are errors; the if/then dispatch needs strictTypes off.
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, allowUnionTypes: true });
  ajv.addSchema(schemaRoot(doc));
  const compiled = new Map();
  const get = (name) => {
    let v = compiled.get(name);
    if (!v) {
      v = ajv.getSchema(`${ROOT_ID}#/definitions/${name}`);
      if (!v) throw new Error(`no schema components/schemas/${name} in the document`);
      compiled.set(name, v);
    }
    return v;
  };
  const run = (name, frame) => {
    let value = frame;
    if (typeof frame === 'string') {
      try {
        value = JSON.parse(frame);
      } catch (err) {
        return { ok: false, type: null, errors: [`not JSON: ${err.message}`] };
      }
    }
    const type = value !== null && typeof value === 'object' && typeof value.type === 'string' ? value.type : null;
    const validate = get(name);
    const ok = validate(value);
    return { ok: Boolean(ok), type, errors: ok ? [] : formatErrors(validate.errors) };
  };
  return {
    validateServerFrame: (frame) => run('ServerMessage', frame),
    validateClientFrame: (frame) => run('ClientMessage', frame),
    /** Against one schema of components/schemas, e.g. "PositionMark". */
    validateAgainst: (schemaName, frame) => run(schemaName, frame),
  };
}

let defaults = null;
function defaultValidators() {
  defaults ??= createValidators();
  return defaults;
}

/** An edge → client frame (object or JSON text) against docs/asyncapi.yaml. */
export function validateServerFrame(frame) {
  return defaultValidators().validateServerFrame(frame);
}

/** A client → edge frame (object or JSON text) against docs/asyncapi.yaml. */
export function validateClientFrame(frame) {
  return defaultValidators().validateClientFrame(frame);
}

function resolvePointer(doc, ref) {
  if (!ref.startsWith('#/')) return undefined;
  let node = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

function collectRefs(node, path, out) {
  if (Array.isArray(node)) node.forEach((v, i) => collectRefs(v, `${path}/${i}`, out));
  else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push({ at: path, ref: v });
      else collectRefs(v, `${path}/${k}`, out);
    }
  }
  return out;
}

function payloadOf(doc, message) {
  const m = message?.$ref ? resolvePointer(doc, message.$ref) : message;
  const p = m?.payload;
  return p?.$ref ? resolvePointer(doc, p.$ref) : p;
}

/**
 * Checks a document: valid against the AsyncAPI 3.0.0 JSON Schema, every $ref resolves, every
 * operation's messages belong to its channel, every schema compiles, every example validates, and
 * ServerMessage/ClientMessage accept every message their operation lists. Returns { ok, errors, stats }.
 */
export function checkDocument(doc = loadDocument()) {
  const errors = [];
  if (doc?.asyncapi !== '3.0.0') errors.push(`asyncapi: expected "3.0.0", found ${JSON.stringify(doc?.asyncapi)}`);

  // The AsyncAPI schema carries its own copy of the draft-07 meta-schema: no built-in one beside it.
  const meta = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true, meta: false, validateSchema: false });
  addFormats(meta);
  const validateSpec = meta.compile(specs.schemas['3.0.0']);
  if (!validateSpec(doc)) {
    for (const e of validateSpec.errors ?? []) errors.push(`AsyncAPI 3.0.0 schema: ${e.instancePath || '/'} ${e.message}`);
  }

  for (const { at, ref } of collectRefs(doc, '#', [])) {
    if (resolvePointer(doc, ref) === undefined) errors.push(`${at}: $ref ${ref} does not resolve`);
  }

  for (const [name, op] of Object.entries(doc?.operations ?? {})) {
    const channelRef = op?.channel?.$ref ?? '';
    for (const m of op?.messages ?? []) {
      if (!String(m?.$ref ?? '').startsWith(`${channelRef}/messages/`)) {
        errors.push(`operations/${name}: message ${m?.$ref} is not a message of ${channelRef}`);
      }
    }
  }

  let validators = null;
  try {
    validators = createValidators(doc);
    for (const name of Object.keys(doc?.components?.schemas ?? {})) validators.validateAgainst(name, {});
  } catch (err) {
    errors.push(`components/schemas: ${err.message}`);
  }

  let examples = 0;
  if (validators) {
    for (const [opName, op] of Object.entries(doc?.operations ?? {})) {
      const dispatch = op.action === 'send' ? validators.validateServerFrame : validators.validateClientFrame;
      for (const ref of op?.messages ?? []) {
        const message = resolvePointer(doc, ref.$ref);
        const payload = payloadOf(doc, message);
        const typeConst = payload?.properties?.type?.const;
        if (typeof typeConst !== 'string') {
          errors.push(`${ref.$ref}: the payload has no properties.type.const`);
          continue;
        }
        const resolved = message?.$ref ? resolvePointer(doc, message.$ref) : message;
        const payloadName = String(resolved?.payload?.$ref ?? '').split('/').pop();
        for (const [i, ex] of (resolved?.examples ?? []).entries()) {
          examples += 1;
          const own = validators.validateAgainst(payloadName, ex.payload);
          const any = dispatch(ex.payload);
          if (!own.ok) errors.push(`${ref.$ref} example ${i}: ${own.errors.join('; ')}`);
          else if (!any.ok) errors.push(`${ref.$ref} example ${i}: valid alone but not as a ${opName} frame: ${any.errors.join('; ')}`);
        }
        // The dispatch schema must know this type at all.
        const probe = dispatch({ type: typeConst });
        if (probe.errors.some((e) => e.startsWith('/type must be equal to one of'))) {
          errors.push(`${ref.$ref}: type "${typeConst}" is not dispatched by ${op.action === 'send' ? 'ServerMessage' : 'ClientMessage'}`);
        }
      }
    }
  }

  return {
    ok: errors.length === 0,
    errors,
    stats: {
      messages: Object.keys(doc?.components?.messages ?? {}).length,
      schemas: Object.keys(doc?.components?.schemas ?? {}).length,
      examples,
    },
  };
}
