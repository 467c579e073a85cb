import type { PriceUpdate, ServerMessage } from './protocol.js';

/** The numeric fields of a tick as the source wrote them ("190.00", not 190). */
export interface ExactQuote {
  price: string;
  bid?: string;
  ask?: string;
  bid_size?: string;
  ask_size?: string;
  size?: string;
  volume?: string;
  change?: string;
  change_percent?: string;
}

const QUOTE_KEYS = ['price', 'bid', 'ask', 'bid_size', 'ask_size', 'size', 'volume', 'change', 'change_percent'] as const;
type QuoteKey = (typeof QUOTE_KEYS)[number];

// A quote key followed by a bare JSON number. Inside a JSON string every quote is escaped, so an
// unescaped `"price":` followed by a digit is always a member of an object, never string content.
const QUOTE_NUMBER = new RegExp(`"(${QUOTE_KEYS.join('|')})":(-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)`, 'g');

const exactByUpdate = new WeakMap<PriceUpdate, ExactQuote>();

/** Thrown by parseServerFrame for text that is not a JSON object with a string `type`. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
}

/**
 * Parses one edge frame (or a REST body). Ticks keep their numbers as JSON numbers (the wire
 * shape), and the digits as sent are kept aside for exactQuote().
 */
export function parseServerFrame(text: string): ServerMessage {
  const hasTicks = text.includes('"price_update"');
  // The digits become a string marked with a leading NUL (which a JSON text can only carry
  // escaped), so every converted value is found and turned back into a number after parsing.
  const source = hasTicks ? text.replace(QUOTE_NUMBER, '"$1":"\\u0000$2"') : text;
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (err) {
    throw new FrameError(`not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FrameError('not a JSON object');
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') throw new FrameError("no string 'type'");
  if (hasTicks) restoreTicks(value as Record<string, unknown>);
  return value as ServerMessage;
}

/** The digits of a tick as the source wrote them; String(number) for a tick built in code. */
export function exactQuote(update: PriceUpdate): ExactQuote {
  const known = exactByUpdate.get(update);
  if (known) return known;
  const out: ExactQuote = { price: String(update.price) };
  for (const key of QUOTE_KEYS) {
    const v = update[key];
    if (typeof v === 'number') out[key] = String(v);
  }
  return out;
}

// Turns every marked string back into its number, anywhere in the tree, and records the digits of
// each tick.
function restoreTicks(node: unknown): void {
  if (typeof node !== 'object' || node === null) return;
  if (Array.isArray(node)) {
    for (const member of node) restoreTicks(member);
    return;
  }
  const obj = node as Record<string, unknown>;
  const isTick = obj.type === 'price_update';
  const exact: Partial<Record<QuoteKey, string>> = {};
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (typeof v === 'string') {
      if (v.charCodeAt(0) === 0 && (QUOTE_KEYS as readonly string[]).includes(key)) {
        const digits = v.slice(1);
        obj[key] = Number(digits);
        if (isTick) exact[key as QuoteKey] = digits;
      }
    } else if (typeof v === 'object' && v !== null) {
      restoreTicks(v);
    }
  }
  if (isTick && typeof exact.price === 'string') exactByUpdate.set(obj as unknown as PriceUpdate, exact as ExactQuote);
}
