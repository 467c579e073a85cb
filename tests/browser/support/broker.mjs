// Broker events for the demo user, as a backend posts them to ingest's webhook (the shapes of
// PROTOCOL.md's private events). Ids carry a per-run prefix so no two runs or tests collide.

const SOURCE = 'test-broker';
let counter = 0;
const run = `${Date.now().toString(36)}-${process.pid}`;

export const uid = (what) => `${what}-${run}-${++counter}`;

function envelope(type, userId, data) {
  const now = Date.now();
  return { type, userId, timestamp: new Date(now).toISOString(), recv_us: now * 1000, source: SOURCE, data };
}

export const position = (userId, symbol, quantity, entryPrice) =>
  envelope('position_update', userId, { symbol, quantity: String(quantity), entryPrice: String(entryPrice), side: 'long' });

export const account = (userId, cash) =>
  envelope('account_update', userId, {
    equity: cash,
    buyingPower: cash,
    cash,
    portfolioValue: cash,
    dayPnl: '0.00',
    dayPnlPercent: '0.00',
  });

export const order = (userId, orderId, symbol, status, qty, filledQty, avg) =>
  envelope('order_update', userId, {
    orderId,
    symbol,
    side: 'buy',
    type: 'limit',
    status,
    qty: String(qty),
    filledQty: String(filledQty),
    ...(avg ? { filledAvgPrice: avg } : {}),
    submittedAt: new Date().toISOString(),
  });

export const trade = (userId, executionId, orderId, symbol, qty, price) =>
  envelope('trade_executed', userId, { executionId, orderId, symbol, side: 'buy', qty: String(qty), price });

/** An account with positions in symbols the replay ticks (so marks move their P&L). */
export const opening = (userId) => [
  position(userId, 'AAPL', 20, '270.00'),
  position(userId, 'NVDA', 50, '187.00'),
  position(userId, 'TSLA', 10, '410.00'),
  account(userId, '50000.00'),
];
