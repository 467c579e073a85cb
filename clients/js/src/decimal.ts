// A tiny exact decimal: enough to compare, add, subtract and format the decimal strings of private
// events without binary floating point. Values are a BigInt of units at a power-of-ten scale.

const PLAIN_DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

interface Parsed {
  units: bigint;
  scale: number;
}

/** True for the plain decimals the edge writes: an optional '-', digits, an optional fraction. */
export function isDecimal(text: string): boolean {
  return PLAIN_DECIMAL.test(text);
}

function parse(text: string): Parsed {
  const m = PLAIN_DECIMAL.exec(text);
  if (!m) throw new RangeError(`not a decimal: ${JSON.stringify(text)}`);
  const frac = m[3] ?? '';
  const units = BigInt(`${m[2] ?? '0'}${frac}`);
  return { units: m[1] === '-' ? -units : units, scale: frac.length };
}

function align(a: Parsed, b: Parsed): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [a.units * 10n ** BigInt(scale - a.scale), b.units * 10n ** BigInt(scale - b.scale), scale];
}

function render(units: bigint, scale: number): string {
  const negative = units < 0n;
  let digits = (negative ? -units : units).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return negative ? `-${digits}` : digits;
}

/** -1, 0 or 1 as a is below, equal to or above b ("10" equals "10.00"). */
export function compareDecimal(a: string, b: string): -1 | 0 | 1 {
  const [x, y] = align(parse(a), parse(b));
  return x < y ? -1 : x > y ? 1 : 0;
}

/** -1, 0 or 1 for a negative, zero or positive value ("-0.00" is zero). */
export function decimalSign(a: string): -1 | 0 | 1 {
  const { units } = parse(a);
  return units < 0n ? -1 : units > 0n ? 1 : 0;
}

export function isZeroDecimal(a: string): boolean {
  return decimalSign(a) === 0;
}

/** a + b, exactly, at the larger of the two scales. */
export function addDecimal(a: string, b: string): string {
  const [x, y, scale] = align(parse(a), parse(b));
  return render(x + y, scale);
}

/** a − b, exactly, at the larger of the two scales. */
export function subtractDecimal(a: string, b: string): string {
  const [x, y, scale] = align(parse(a), parse(b));
  return render(x - y, scale);
}

/** a written with exactly `places` decimals, rounded half away from zero (as the edge rounds). */
export function formatDecimal(a: string, places: number): string {
  if (!Number.isInteger(places) || places < 0) throw new RangeError('places must be a non-negative integer');
  const { units, scale } = parse(a);
  if (places >= scale) return render(units * 10n ** BigInt(places - scale), places);
  const divisor = 10n ** BigInt(scale - places);
  const negative = units < 0n;
  const magnitude = negative ? -units : units;
  let q = magnitude / divisor;
  if ((magnitude % divisor) * 2n >= divisor) q += 1n;
  return render(negative ? -q : q, places);
}

/** a with thousands separators and `places` decimals, e.g. "-1,234.50", for display. */
export function groupDecimal(a: string, places: number): string {
  const fixed = formatDecimal(a, places);
  const negative = fixed.startsWith('-');
  const body = negative ? fixed.slice(1) : fixed;
  const [int = '0', frac] = body.split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const out = frac === undefined ? grouped : `${grouped}.${frac}`;
  return negative && decimalSign(fixed) !== 0 ? `-${out}` : out;
}
