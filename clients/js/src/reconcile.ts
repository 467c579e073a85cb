// Reconciling with REST (PROTOCOL.md, "Reconciling with REST"): compares a REST body of one
// section with the store by seq, and says whether the local state is right, wrong at this seq
// (replace it), or missed an event (subscribe the channel again for a fresh snapshot).

import { compareDecimal, isDecimal } from './decimal.js';
import type { AccountData, OrderData, PositionData, SnapshotMessage } from './protocol.js';
import type { Entry, PortfolioState } from './store.js';

export type StateSection = 'positions' | 'orders' | 'account';

/**
 * - `stale_read`: the body predates events already applied; ignored;
 * - `match`: at the same seq, the stored fields agree;
 * - `ahead`: the body is newer, and every entry it has at or below held agrees with ours;
 * - `replace`: at the same seq, they differ: the local section is wrong, REST's replaces it;
 * - `resubscribe`: the body is newer and an entry at or below held differs: an event was missed;
 *   the channel's snapshot must replace the section.
 */
export type ReconcileOutcome = 'stale_read' | 'match' | 'ahead' | 'replace' | 'resubscribe';

export interface Reconciliation {
  readonly section: StateSection;
  readonly outcome: ReconcileOutcome;
  readonly restSeq: number | null;
  readonly held: number | null;
  /** What differed, for logs: "AAPL quantity: 10 (local) vs 14 (REST)". */
  readonly differences: readonly string[];
}

interface Keyed<T> {
  key: string;
  seq: number | null;
  data: T;
}

export function reconcileSection(section: StateSection, body: SnapshotMessage, state: PortfolioState): Reconciliation {
  const held = state.held;
  const restSeq = typeof body.seq === 'number' ? body.seq : null;
  const result = (outcome: ReconcileOutcome, differences: string[] = []): Reconciliation => ({
    section,
    outcome,
    restSeq,
    held,
    differences,
  });
  if (restSeq === null || held === null || restSeq < held) return result('stale_read');

  let rest: Keyed<unknown>[];
  let local: Map<string, Entry<unknown>>;
  let diff: (a: unknown, b: unknown) => string[];
  if (section === 'positions') {
    rest = (body.positions ?? []).map((p) => ({ key: p.data.symbol, seq: p.seq, data: p.data }));
    local = new Map(state.positions);
    diff = (a, b) => differ(a as PositionData, b as PositionData, ['quantity', 'entryPrice', 'side']);
  } else if (section === 'orders') {
    rest = (body.orders ?? []).map((o) => ({ key: o.data.orderId, seq: o.seq, data: o.data }));
    local = new Map(state.orders);
    diff = (a, b) =>
      differ(a as OrderData, b as OrderData, ['symbol', 'side', 'status', 'qty', 'filledQty', 'filledAvgPrice']);
  } else {
    rest = body.account ? [{ key: 'account', seq: body.account.seq, data: body.account.data }] : [];
    local = new Map(state.account ? [['account', state.account as Entry<unknown>]] : []);
    diff = (a, b) => differ(a as AccountData, b as AccountData, ['cash', 'buyingPower']);
  }
  // REST lists open entries only (quantity ≠ 0, open orders), like the snapshot.
  rest = rest.filter((r) => !isClosed(section, r.data));

  const differences: string[] = [];
  if (restSeq === held) {
    const restKeys = new Set(rest.map((r) => r.key));
    for (const r of rest) {
      const mine = local.get(r.key);
      if (!mine) differences.push(`${r.key}: missing locally`);
      else differences.push(...diff(mine.data, r.data).map((d) => `${r.key} ${d}`));
    }
    for (const key of local.keys()) if (!restKeys.has(key)) differences.push(`${key}: not in REST`);
    return result(differences.length === 0 ? 'match' : 'replace', differences);
  }
  for (const r of rest) {
    if (r.seq === null || r.seq > held) continue;
    const mine = local.get(r.key);
    if (!mine) differences.push(`${r.key}: missing locally (REST seq ${r.seq})`);
    else differences.push(...diff(mine.data, r.data).map((d) => `${r.key} ${d} (REST seq ${r.seq})`));
  }
  return result(differences.length === 0 ? 'ahead' : 'resubscribe', differences);
}

function isClosed(section: StateSection, data: unknown): boolean {
  if (section === 'positions') {
    const q = (data as PositionData).quantity;
    return isDecimal(q) && compareDecimal(q, '0') === 0;
  }
  return false;
}

function differ<T extends object>(local: T, rest: T, keys: readonly (keyof T)[]): string[] {
  const out: string[] = [];
  for (const k of keys) {
    const a = local[k];
    const b = rest[k];
    if (a === b) continue;
    if (typeof a === 'string' && typeof b === 'string' && isDecimal(a) && isDecimal(b) && compareDecimal(a, b) === 0) {
      continue;
    }
    out.push(`${String(k)}: ${String(a)} (local) vs ${String(b)} (REST)`);
  }
  return out;
}
