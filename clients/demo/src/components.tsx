import type { ConnectionState } from '@tickstream/client';
import {
  useConnectionStatus,
  usePrices,
  useRealtimeAccount,
  useRealtimeOrders,
  useRealtimePositions,
  useRealtimeTrades,
} from '@tickstream/react';
import { useEffect, useRef, useState, type ReactNode } from 'react';

import { ago, direction, money, signed, tone } from './format.js';
import type { SignInState } from './session.js';

/** Re-renders every `ms` with the current time (for "updated Xs ago"). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

const BADGE: Record<ConnectionState, string> = {
  connected: 'LIVE',
  connecting: 'CONNECTING',
  reconnecting: 'RECONNECTING',
  backup: 'BACKUP',
  offline: 'OFFLINE',
};

export function ConnectionBadge(): ReactNode {
  const s = useConnectionStatus();
  return (
    <div className="connection">
      <span className={`badge badge-${s.state}`} data-testid="connection-badge" data-state={s.state} title={s.reason ?? ''}>
        {BADGE[s.state]}
      </span>
      <span className="latency" data-testid="latency">
        {s.latency === null ? '— ms' : `${s.latency} ms`}
      </span>
      <span className="node" data-testid="node">
        {s.node ?? '—'}
      </span>
    </div>
  );
}

export function SignInStatus({ state }: { state: SignInState }): ReactNode {
  const text =
    state.kind === 'checking' ? 'Signing in…' : state.kind === 'signed_in' ? `Signed in${state.userId ? ` as ${state.userId}` : ''}` : 'Not signed in';
  return (
    <span className={`signin signin-${state.kind}`} data-testid="signin-status" data-state={state.kind} title={state.kind === 'signed_out' ? state.why : ''}>
      {text}
    </span>
  );
}

export function StaleBanner(): ReactNode {
  const s = useConnectionStatus();
  if (s.staleSources.size === 0) return null;
  const list = [...s.staleSources.values()];
  return (
    <div className="banner banner-stale" role="status" data-testid="stale-banner" data-sources={list.map((x) => x.source).join(',')}>
      Data may be out of date: {list.map((x) => `${x.source} (since ${x.since.slice(11, 19)} UTC)`).join(', ')}
    </div>
  );
}

export function BackupNotice(): ReactNode {
  const s = useConnectionStatus();
  const now = useNow();
  if (s.state !== 'backup') return null;
  return (
    <div className="banner banner-backup" role="status" data-testid="backup-notice">
      Using backup connection — refreshed {ago(s.lastPollAt, now)}; reconnecting in the background.
    </div>
  );
}

export function OfflineNotice(): ReactNode {
  const s = useConnectionStatus();
  if (s.state !== 'offline' || s.reason === 'not_started') return null;
  const why = s.reason === 'network' ? 'Your device is offline.' : s.reason === 'unauthorized' ? 'Sign-in was refused.' : `Disconnected (${s.reason ?? 'unknown'}).`;
  return (
    <div className="banner banner-offline" role="status" data-testid="offline-notice">
      {why}
    </div>
  );
}

/** A P&L value that flashes green or red for 500 ms when it rises or falls (colour only under reduced motion). */
export function PnlValue({ value, testId }: { value: string | undefined; testId: string }): ReactNode {
  const previous = useRef(value);
  const [flash, setFlash] = useState<{ dir: 'up' | 'down'; n: number } | null>(null);
  useEffect(() => {
    const dir = direction(previous.current, value);
    previous.current = value;
    if (!dir) return undefined;
    setFlash((f) => ({ dir, n: (f?.n ?? 0) + 1 }));
    const id = setTimeout(() => setFlash(null), 500);
    return () => clearTimeout(id);
  }, [value]);
  return (
    <span
      // A new key restarts the animation when the value moves again within 500 ms.
      key={flash?.n ?? 0}
      className={`pnl ${tone(value)}${flash ? ` flash flash-${flash.dir}` : ''}`}
      data-testid={testId}
      data-flash={flash?.dir ?? 'none'}
      data-value={value ?? ''}
    >
      {signed(value)}
    </span>
  );
}

function Section({ title, children, testId, empty }: { title: string; children: ReactNode; testId: string; empty?: string | null }): ReactNode {
  return (
    <section className="card" data-testid={testId}>
      <h2>{title}</h2>
      {empty ? <p className="empty">{empty}</p> : children}
    </section>
  );
}

export function Watchlist({ symbols }: { symbols: readonly string[] }): ReactNode {
  const prices = usePrices(symbols);
  const now = useNow();
  return (
    <Section title="Watchlist" testId="watchlist">
      <table>
        <thead>
          <tr>
            <th>Symbol</th>
            <th className="num">Price</th>
            <th className="num">Change</th>
            <th className="num">Updated</th>
          </tr>
        </thead>
        <tbody>
          {symbols.map((symbol) => {
            const p = prices.get(symbol);
            const change = p?.exact.change;
            return (
              <tr key={symbol} data-testid={`price-row-${symbol}`}>
                <td className="sym">{symbol}</td>
                <td className="num" data-testid={`price-${symbol}`}>
                  {p ? p.exact.price : '—'}
                </td>
                <td className={`num ${tone(change)}`}>
                  {change !== undefined ? `${signed(change)} (${signed(p?.exact.change_percent)}%)` : '—'}
                </td>
                <td className="num ago" data-testid={`price-updated-${symbol}`}>
                  {ago(p?.updatedAt ?? null, now)}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Section>
  );
}

export function Positions(): ReactNode {
  const { positions, isLoading } = useRealtimePositions();
  const now = useNow();
  return (
    <Section title="Positions" testId="positions" empty={isLoading ? 'Loading…' : positions.length === 0 ? 'No open positions' : null}>
      <table>
        <thead>
          <tr>
            <th>Symbol</th>
            <th className="num">Qty</th>
            <th className="num">Entry</th>
            <th className="num">Price</th>
            <th className="num">Value</th>
            <th className="num">Unrealized P&amp;L</th>
            <th className="num">%</th>
            <th className="num">Updated</th>
          </tr>
        </thead>
        <tbody>
          {positions.map((p) => (
            <tr key={p.symbol} data-testid={`position-row-${p.symbol}`} data-seq={p.seq ?? ''}>
              <td className="sym">
                {p.symbol} <span className="side">{p.side}</span>
              </td>
              <td className="num" data-testid={`position-qty-${p.symbol}`}>
                {p.quantity}
              </td>
              <td className="num">{money(p.entryPrice)}</td>
              <td className="num">{money(p.currentPrice)}</td>
              <td className="num">{money(p.marketValue)}</td>
              <td className="num">
                <PnlValue value={p.unrealizedPnl} testId={`position-pnl-${p.symbol}`} />
              </td>
              <td className={`num ${tone(p.unrealizedPnlPercent)}`}>{signed(p.unrealizedPnlPercent)}</td>
              <td className="num ago" data-testid={`position-updated-${p.symbol}`}>
                {ago(p.updatedAt, now)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

export function Orders(): ReactNode {
  const { orders, isLoading } = useRealtimeOrders();
  const now = useNow();
  return (
    <Section title="Open orders" testId="orders" empty={isLoading ? 'Loading…' : orders.length === 0 ? 'No open orders' : null}>
      <table>
        <thead>
          <tr>
            <th>Symbol</th>
            <th>Side</th>
            <th>Type</th>
            <th>Status</th>
            <th className="num">Filled</th>
            <th className="num">Avg price</th>
            <th className="num">Updated</th>
          </tr>
        </thead>
        <tbody>
          {orders.map((o) => (
            <tr key={o.orderId} data-testid={`order-row-${o.orderId}`}>
              <td className="sym">{o.symbol}</td>
              <td className={o.side === 'buy' ? 'pos' : 'neg'}>{o.side}</td>
              <td>{o.type}</td>
              <td data-testid={`order-status-${o.orderId}`}>{o.status}</td>
              <td className="num">
                {o.filledQty ?? '0'} / {o.qty ?? '—'}
              </td>
              <td className="num">{money(o.filledAvgPrice)}</td>
              <td className="num ago">{ago(o.updatedAt, now)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

export function Account(): ReactNode {
  const { account, isLoading } = useRealtimeAccount();
  const now = useNow();
  return (
    <Section title="Account" testId="account" empty={isLoading ? 'Loading…' : account === null ? 'No account report yet' : null}>
      {account && (
        <dl className="account">
          <div>
            <dt>Equity</dt>
            <dd data-testid="equity" data-value={account.equity}>
              {money(account.equity)}
            </dd>
          </div>
          <div>
            <dt>Day P&amp;L</dt>
            <dd>
              <PnlValue value={account.dayPnl} testId="day-pnl" /> <span className={tone(account.dayPnlPercent)}>({signed(account.dayPnlPercent)}%)</span>
            </dd>
          </div>
          <div>
            <dt>Cash</dt>
            <dd data-testid="cash">{money(account.cash)}</dd>
          </div>
          <div>
            <dt>Buying power</dt>
            <dd data-testid="buying-power">{money(account.buyingPower)}</dd>
          </div>
          <div>
            <dt>Updated</dt>
            <dd className="ago" data-testid="account-updated">
              {ago(account.updatedAt, now)}
            </dd>
          </div>
        </dl>
      )}
    </Section>
  );
}

export function Trades(): ReactNode {
  const trades = useRealtimeTrades();
  return (
    <Section title="Recent executions" testId="trades" empty={trades.length === 0 ? 'None yet' : null}>
      <table>
        <tbody>
          {trades.slice(0, 20).map((t) => (
            <tr key={t.executionId} data-testid={`trade-row-${t.executionId}`}>
              <td className="sym">{t.symbol}</td>
              <td className={t.side === 'buy' ? 'pos' : 'neg'}>{t.side}</td>
              <td className="num">{t.qty}</td>
              <td className="num">@ {money(t.price)}</td>
              <td className="num ago">{t.timestamp.slice(11, 19)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}
