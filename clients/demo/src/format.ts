import { compareDecimal, decimalSign, groupDecimal, isDecimal } from '@tickstream/client';

/** "just now", "12s ago", "3m ago", "2h ago". */
export function ago(thenMs: number | null, nowMs: number): string {
  if (thenMs === null) return '—';
  const s = Math.max(0, Math.floor((nowMs - thenMs) / 1000));
  if (s < 1) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  return `${Math.floor(s / 3600)}h ago`;
}

/** A decimal string as money: "101,913.70"; "—" when absent. */
export function money(value: string | undefined): string {
  return value !== undefined && isDecimal(value) ? groupDecimal(value, 2) : '—';
}

/** A signed decimal: "+19.70", "-120.55", "0.00". */
export function signed(value: string | undefined, places = 2): string {
  if (value === undefined || !isDecimal(value)) return '—';
  const text = groupDecimal(value, places);
  return decimalSign(value) > 0 && text !== groupDecimal('0', places) ? `+${text}` : text;
}

/** 'up', 'down' or null: how a decimal moved. */
export function direction(previous: string | undefined, next: string | undefined): 'up' | 'down' | null {
  if (previous === undefined || next === undefined || !isDecimal(previous) || !isDecimal(next)) return null;
  const c = compareDecimal(next, previous);
  return c > 0 ? 'up' : c < 0 ? 'down' : null;
}

/** 'pos', 'neg' or 'zero' for colouring. */
export function tone(value: string | undefined): 'pos' | 'neg' | 'zero' {
  if (value === undefined || !isDecimal(value)) return 'zero';
  const s = decimalSign(value);
  return s > 0 ? 'pos' : s < 0 ? 'neg' : 'zero';
}
