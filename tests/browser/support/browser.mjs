// Debian's Chromium driven by playwright-core (which never downloads a browser), with a fresh
// profile per launch; a recorder of every WebSocket frame the pages exchange, validated against
// docs/asyncapi.yaml with clients/contract; and the demo page's DOM read through its test ids.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { chromium } from 'playwright-core';

import { createValidators } from '../../../clients/contract/lib.mjs';

export const CHROMIUM = process.env.TICKSTREAM_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A browser with a fresh profile (--user-data-dir in a new temporary folder); close() removes it. */
export async function launch(options = {}) {
  const profile = mkdtempSync(path.join(tmpdir(), 'tickstream-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
    ...options,
  });
  const frames = new FrameLog();
  for (const p of context.pages()) frames.attach(p);
  context.on('page', (p) => frames.attach(p));
  return {
    context,
    frames,
    /** The profile's first page (a persistent context opens with one). */
    page: context.pages()[0] ?? (await context.newPage()),
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const validators = createValidators();

/** Every WebSocket frame of every page, in both directions, with the socket it came on. */
export class FrameLog {
  constructor() {
    this.frames = [];
    this.sockets = [];
  }

  attach(page) {
    page.on('websocket', (ws) => {
      const socket = { url: ws.url(), id: this.sockets.length, page, openedAt: Date.now(), closedAt: null };
      this.sockets.push(socket);
      ws.on('framereceived', (f) => this.frames.push({ dir: 'in', socket: socket.id, t: Date.now(), payload: String(f.payload) }));
      ws.on('framesent', (f) => this.frames.push({ dir: 'out', socket: socket.id, t: Date.now(), payload: String(f.payload) }));
      ws.on('close', () => {
        socket.closedAt = Date.now();
      });
    });
  }

  received(type) {
    return this.frames.filter((f) => f.dir === 'in').map((f) => ({ ...f, msg: safeParse(f.payload) })).filter((f) => !type || f.msg?.type === type);
  }

  sent(type) {
    return this.frames.filter((f) => f.dir === 'out').map((f) => ({ ...f, msg: safeParse(f.payload) })).filter((f) => !type || f.msg?.type === type);
  }

  /**
   * Validates every frame: from the edge against ServerMessage, from the page against
   * ClientMessage. Returns { count, byType, invalid: [{ dir, errors, payload }] }.
   */
  validate() {
    const byType = {};
    const invalid = [];
    for (const f of this.frames) {
      const r = f.dir === 'in' ? validators.validateServerFrame(f.payload) : validators.validateClientFrame(f.payload);
      const key = `${f.dir === 'in' ? '<-' : '->'} ${r.type ?? '?'}`;
      byType[key] = (byType[key] ?? 0) + 1;
      if (!r.ok) invalid.push({ dir: f.dir, errors: r.errors, payload: f.payload.slice(0, 600) });
    }
    return { count: this.frames.length, byType, invalid };
  }
}

function safeParse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * Installed before the page's scripts: records, with Date.now(), every change of the connection
 * badge and every trade row added to the page (so a test can tell what was on screen and in
 * which order, not only what is there at the end).
 */
export async function installRecorder(page) {
  await page.addInitScript(() => {
    const rec = { badge: [], tradesAdded: [] };
    window.__rec = rec;
    const look = (mutations) => {
      const b = document.querySelector('[data-testid=connection-badge]');
      if (b) {
        const last = rec.badge.at(-1);
        const now = { t: Date.now(), text: b.textContent, state: b.getAttribute('data-state') };
        if (!last || last.text !== now.text || last.state !== now.state) rec.badge.push(now);
      }
      for (const m of mutations) {
        for (const n of m.addedNodes) {
          if (n.nodeType !== 1) continue;
          const rows = [n, ...n.querySelectorAll('[data-testid^="trade-row-"]')].filter((x) => x.getAttribute('data-testid')?.startsWith('trade-row-'));
          for (const r of rows) rec.tradesAdded.push({ t: Date.now(), id: r.getAttribute('data-testid').slice('trade-row-'.length) });
        }
      }
    };
    new MutationObserver(look).observe(document, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['data-state'] });
  });
}

/** The page's connection and portfolio in one line, for failure messages. */
export const describePage = (page) =>
  page.evaluate(() => {
    const q = (id) => document.querySelector(`[data-testid="${id}"]`);
    const c = window.__tickstream;
    return JSON.stringify({
      badge: q('connection-badge')?.textContent,
      node: q('node')?.textContent,
      signin: q('signin-status')?.textContent,
      positions: q('positions')?.textContent?.slice(0, 200),
      status: c ? { ...c.getStatus(), staleSources: undefined } : null,
    });
  });

export const badge = (page) =>
  page.evaluate(() => {
    const b = document.querySelector('[data-testid=connection-badge]');
    return b ? { text: b.textContent, state: b.getAttribute('data-state'), node: document.querySelector('[data-testid=node]')?.textContent ?? null } : null;
  });

/** The prices on the watchlist, by symbol ('—' before the first tick). */
export const prices = (page) =>
  page.evaluate(() => Object.fromEntries([...document.querySelectorAll('[data-testid^="price-"]')].filter((e) => /^price-[A-Z.]+$/.test(e.getAttribute('data-testid'))).map((e) => [e.getAttribute('data-testid').slice(6), e.textContent])));

/**
 * What the page shows, by test id: text plus data-value, data-seq and data-state, without what
 * changes with the clock or the connection (ages, latency, node, a flash in progress) and without
 * the recent executions (they have no snapshot: a fresh page starts with none).
 */
export const domState = (page) =>
  page.evaluate(() => {
    const skip = (id) =>
      id === 'latency' || id === 'node' || id.includes('updated') || id === 'trades' || id.startsWith('trade-row-');
    const out = {};
    for (const e of document.querySelectorAll('[data-testid]')) {
      const id = e.getAttribute('data-testid');
      if (skip(id) || e.closest('[data-testid=trades]')) continue;
      const v = { text: e.children.length === 0 ? e.textContent : undefined };
      for (const a of ['data-value', 'data-seq', 'data-state']) if (e.hasAttribute(a)) v[a] = e.getAttribute(a);
      out[id] = v;
    }
    return out;
  });
