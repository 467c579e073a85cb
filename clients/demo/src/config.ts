// How the dashboard connects, from the page's URL: same origin as the page, cookies included.
// Query parameters (for trying things and for browser tests):
//   symbols=AAPL,MSFT   the watchlist (default below)
//   login=dev           sign in with the development login before connecting
//   retries=N           failed attempts before the backup state (default 10)
//   backoff_ms, cap_ms  backoff base and cap (default 1000, 30000)
//   poll_ms             REST polling period in backup (default 5000)
//   reconcile_ms        REST reconciliation period (default 60000)

export const DEFAULT_SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'GOOGL', 'AMZN', 'META', 'TSLA', 'SPY'];

export interface DemoConfig {
  streamUrl: string;
  restUrl: string;
  symbols: string[];
  devLogin: boolean;
  maxReconnectAttempts?: number;
  backoff?: { baseMs?: number; capMs?: number };
  backupPollMs?: number;
  reconcileMs?: number;
}

function positiveInt(v: string | null): number | undefined {
  if (v === null) return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

export function demoConfig(location: { protocol: string; host: string; search: string }): DemoConfig {
  const q = new URLSearchParams(location.search);
  const symbols = (q.get('symbols') ?? '')
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s !== '');
  const config: DemoConfig = {
    streamUrl: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`,
    restUrl: `${location.protocol}//${location.host}`,
    symbols: symbols.length > 0 ? symbols : DEFAULT_SYMBOLS,
    devLogin: q.get('login') === 'dev',
  };
  const retries = positiveInt(q.get('retries'));
  if (retries !== undefined) config.maxReconnectAttempts = retries;
  const base = positiveInt(q.get('backoff_ms'));
  const cap = positiveInt(q.get('cap_ms'));
  if (base !== undefined || cap !== undefined) {
    config.backoff = {};
    if (base !== undefined) config.backoff.baseMs = base;
    if (cap !== undefined) config.backoff.capMs = cap;
  }
  const poll = positiveInt(q.get('poll_ms'));
  if (poll !== undefined) config.backupPollMs = poll;
  const reconcile = positiveInt(q.get('reconcile_ms'));
  if (reconcile !== undefined) config.reconcileMs = reconcile;
  return config;
}
