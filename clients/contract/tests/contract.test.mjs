import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { checkDocument, createValidators, loadDocument, validateClientFrame, validateServerFrame } from '../lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const PROTOCOL_MD = path.resolve(here, '../../../docs/PROTOCOL.md');
const CLI = path.resolve(here, '../validate-frames.mjs');
const CLIENT_TYPES = new Set(['subscribe', 'unsubscribe', 'refresh', 'ping', 'auth']);

/** Every complete JSON object in PROTOCOL.md's code blocks (those shortened with … do not parse). */
function protocolSamples() {
  const text = readFileSync(PROTOCOL_MD, 'utf8');
  const blocks = [...text.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]);
  const parsed = [];
  let skipped = 0;
  for (const block of blocks) {
    // Split into top-level {...} by brace depth, outside strings.
    let depth = 0;
    let start = -1;
    let inString = false;
    for (let i = 0; i < block.length; i++) {
      const c = block[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '{') {
        if (depth === 0) start = i;
        depth++;
      } else if (c === '}' && depth > 0) {
        depth--;
        if (depth === 0) {
          const candidate = block.slice(start, i + 1);
          try {
            const v = JSON.parse(candidate);
            if (v && typeof v.type === 'string') parsed.push(v);
          } catch {
            skipped++;
          }
        }
      }
    }
  }
  return { parsed, skipped };
}

describe('docs/asyncapi.yaml', () => {
  it('is a valid AsyncAPI 3.0.0 document whose schemas compile and whose examples validate', () => {
    const r = checkDocument();
    assert.deepEqual(r.errors, []);
    assert.ok(r.stats.messages >= 27 && r.stats.examples >= 15, JSON.stringify(r.stats));
  });

  it('a broken document is caught: a wrong action, a dangling $ref, a bad example', () => {
    const doc = loadDocument();
    doc.operations.sendServerMessages.action = 'emit';
    doc.channels.stream.messages.pong = { $ref: '#/components/messages/nope' };
    doc.components.messages.stale.examples[0].payload.since_us = 'yesterday';
    const { ok, errors } = checkDocument(doc);
    assert.equal(ok, false);
    const all = errors.join('\n');
    assert.match(all, /action must be equal to one of the allowed values/);
    assert.match(all, /\$ref #\/components\/messages\/nope does not resolve/);
    assert.match(all, /messages\/stale example 0/);
  });
});

describe('the frames in PROTOCOL.md', () => {
  it('every complete sample validates, in its direction', () => {
    const { parsed } = protocolSamples();
    assert.ok(parsed.length >= 25, `found only ${parsed.length} samples`);
    const seen = new Set();
    for (const frame of parsed) {
      const r = CLIENT_TYPES.has(frame.type) ? validateClientFrame(frame) : validateServerFrame(frame);
      assert.ok(r.ok, `${JSON.stringify(frame).slice(0, 200)}\n${r.errors.join('\n')}`);
      seen.add(frame.type);
    }
    for (const t of ['subscribe', 'subscribed', 'price_update', 'position_update', 'snapshot', 'pong', 'stale', 'fresh', 'reconnect', 'error']) {
      assert.ok(seen.has(t), `no complete ${t} sample found in PROTOCOL.md`);
    }
  });

  it("the real edge's transcript of the trading story validates frame by frame", () => {
    const lines = readFileSync(path.join(here, 'fixtures/trading-story.txt'), 'utf8').trim().split('\n');
    for (const line of lines) {
      const json = line.slice(3);
      const r = line.startsWith('-> ') ? validateClientFrame(json) : validateServerFrame(json);
      assert.ok(r.ok, `${line}\n${r.errors.join('\n')}`);
    }
  });
});

describe('wrong frames are refused', () => {
  const good = {
    position: {
      type: 'position_update', userId: 'trader', seq: 5, timestamp: '2026-11-23T14:30:01.000000Z',
      data: { symbol: 'AAPL', quantity: '4', entryPrice: '189.25', side: 'long' }, recv_us: 1795463641287482, source: 'alpaca-trading',
    },
    tick: { type: 'price_update', symbol: 'AAPL', price: 191.37, timestamp: '2026-11-20T14:30:00.000000Z', recv_us: 1795463641339406, source: 'finnhub' },
  };
  const variants = (base, patch) => ({ ...structuredClone(base), ...patch });

  it('accepts the good ones', () => {
    assert.deepEqual(validateServerFrame(good.position).errors, []);
    assert.deepEqual(validateServerFrame(good.tick).errors, []);
  });

  const cases = [
    ['money as a number', variants(good.position, { data: { ...good.position.data, quantity: 4 } }), /\/data\/quantity must be string/],
    ['money with an exponent', variants(good.position, { data: { ...good.position.data, entryPrice: '1e2' } }), /\/data\/entryPrice must match pattern/],
    ['a negative quantity', variants(good.position, { data: { ...good.position.data, quantity: '-4' } }), /quantity must match pattern/],
    ['an unknown field', variants(good.position, { extra: 1 }), /must NOT have additional properties: 'extra'/],
    ['a timestamp without microseconds', variants(good.position, { timestamp: '2026-11-23T14:30:01Z' }), /\/timestamp must match pattern/],
    ['a mark without its price fields', (() => { const m = structuredClone(good.position); delete m.seq; return m; })(), /\/data must have required property 'currentPrice'/],
    ['an order without seq', { type: 'order_update', userId: 'u', timestamp: '2026-11-23T14:30:01.000000Z', data: { orderId: 'o', brokerOrderId: 'b', symbol: 'AAPL', side: 'buy', type: 'limit', status: 'new', submittedAt: '2026-11-23T14:30:01.000000Z' }, recv_us: 1795463641287482, source: 's' }, /must have required property 'seq'/],
    ['a tick with a price as a string', variants(good.tick, { price: '191.37' }), /\/price must be number/],
    ['a tick with a zero price', variants(good.tick, { price: 0 }), /\/price must be > 0/],
    ['a lower-case symbol from the edge', variants(good.tick, { symbol: 'aapl' }), /\/symbol must match pattern/],
    ['a bad member inside a batch', { type: 'batch', events: [good.tick, variants(good.tick, { recv_us: 5 })] }, /\/events\/1\/recv_us must be >= /],
    ['a snapshot with a mark in positions', { type: 'snapshot', seq: 1, positions: [(() => { const m = structuredClone(good.position); delete m.seq; return m; })()] }, /\/positions\/0 must have required property 'seq'/],
    ['a resync without reason', { type: 'resync', seq: 3, positions: [] }, /must have required property 'reason'/],
    // Any lower-case name is an application's own event type (AppEvent), which must carry the envelope.
    ['an application event without its envelope', { type: 'position' }, /must have required property 'userId'/],
    ['a type no schema knows', { type: 'Position!' }, /\/type must/],
    ['no type at all', { data: {} }, /must have required property 'type'/],
    ['pong with a misspelt node', { type: 'pong', server_time: '2026-11-20T14:30:00.123456Z', server_time_us: 1, nodes: 'x' }, /additional properties: 'nodes'/],
    ['reconnect without delay', { type: 'reconnect', reason: 'draining' }, /required property 'delay_ms'/],
    ['a conflated marker without its end', { type: 'batch', events: [{ type: 'conflated', fromSeq: 3 }, good.position] }, /\/events\/0 must have required property 'toSeq'/],
    ['a conflated marker outside a batch', { type: 'conflated', fromSeq: 3, toSeq: 4 }, /\/type must/],
  ];
  for (const [name, frame, expected] of cases) {
    it(`edge → client: ${name}`, () => {
      const r = validateServerFrame(frame);
      assert.equal(r.ok, false);
      assert.match(r.errors.join('\n'), expected);
    });
  }

  const clientCases = [
    ['subscribe with nothing to subscribe', { type: 'subscribe' }, /must have required property 'symbols'/],
    ['subscribe with empty lists', { type: 'subscribe', symbols: [], channels: [] }, /must NOT have fewer than 1 items/],
    ['an unknown channel', { type: 'subscribe', channels: ['position'] }, /\/channels\/0 must be equal to one of the allowed values/],
    ['a negative since', { type: 'subscribe', channels: ['orders'], since: -1 }, /\/since must be >= 0/],
    ['batch_ms out of range', { type: 'subscribe', symbols: ['A'], batch_ms: 60001 }, /\/batch_ms must be <= 60000/],
    ['a ping id that is an object', { type: 'ping', id: { n: 1 } }, /\/id must be string/],
    ['auth without a token', { type: 'auth' }, /required property 'token'/],
    ['an edge message sent by a client', { type: 'pong', server_time: 'x', server_time_us: 1 }, /\/type must be equal to one of the allowed values/],
  ];
  for (const [name, frame, expected] of clientCases) {
    it(`client → edge: ${name}`, () => {
      const r = validateClientFrame(frame);
      assert.equal(r.ok, false);
      assert.match(r.errors.join('\n'), expected);
    });
  }

  it('JSON text that does not parse', () => {
    const r = validateServerFrame('{"type":');
    assert.equal(r.ok, false);
    assert.match(r.errors[0], /^not JSON/);
  });

  it('createValidators takes another document', () => {
    const doc = loadDocument();
    doc.components.schemas.Pong.required.push('node');
    const v = createValidators(doc);
    assert.equal(v.validateServerFrame({ type: 'pong', server_time: '2026-11-20T14:30:00.123456Z', server_time_us: 1 }).ok, false);
  });
});

describe('validate-frames CLI', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'frames-'));
  const run = (...args) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

  it('exits 0 on a transcript of valid frames, counting them', () => {
    const r = run(path.join(here, 'fixtures/trading-story.txt'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /14 frames valid/);
  });

  it('exits 1 naming the first bad frame by file and line', () => {
    const file = path.join(dir, 'bad.txt');
    writeFileSync(
      file,
      [
        '# a comment',
        '-> {"type":"ping","id":1}',
        '',
        '<- {"type":"pong","id":1,"server_time":"2026-11-20T14:30:00.123456Z","server_time_us":1}',
        '<- {"type":"stale","source":"finnhub","since":"yesterday","since_us":1}',
        '{"type":"fresh"}',
      ].join('\n'),
    );
    const r = run(file);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /bad\.txt:5: invalid edge → client frame of type "stale"/);
    assert.match(r.stderr, /\/since must match pattern/);
    assert.doesNotMatch(r.stderr, /bad\.txt:6/, 'only the first in detail');
    assert.match(r.stderr, /2 of 4 frames invalid/);
    const every = run('--all', file);
    assert.match(every.stderr, /bad\.txt:6: invalid edge → client frame of type "fresh"/);
  });

  it('plain lines are edge frames unless --plain=client', () => {
    const file = path.join(dir, 'plain.txt');
    writeFileSync(file, '{"type":"subscribe","symbols":["AAPL"]}\n');
    assert.equal(run(file).status, 1);
    assert.equal(run('--plain=client', file).status, 0);
  });

  it('exits 2 without files or with an unreadable one', () => {
    assert.equal(run().status, 2);
    assert.equal(run(path.join(dir, 'missing.txt')).status, 2);
  });

  it('is fast: 20,000 frames in one run', () => {
    const file = path.join(dir, 'many.txt');
    const tick = '<- {"type":"batch","events":[{"type":"price_update","symbol":"AAPL","price":191.37,"size":100,"timestamp":"2026-11-20T14:30:00.000000Z","recv_us":1795463641339406,"source":"finnhub"}]}';
    writeFileSync(file, `${Array.from({ length: 20000 }, () => tick).join('\n')}\n`);
    const r = run(file);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /20000 frames valid/);
  });
});
