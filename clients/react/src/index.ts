export { TickstreamProvider, configureTickstream, useTickstreamClient, type TickstreamProviderProps } from './context.js';
export {
  useConnectionStatus,
  usePortfolioState,
  usePortfolioStream,
  usePortfolioWebSocket,
  usePrices,
  useRealtimeAccount,
  useRealtimeOrders,
  useRealtimePositions,
  useRealtimeTrades,
  useSubscription,
  useTickstreamEvent,
  useWebSocket,
  type ConnectionStatusView,
  type PortfolioStream,
  type PriceStreamResult,
  type RealtimeAccount,
  type RealtimeOptions,
  type RealtimeOrders,
  type RealtimePositions,
  type SimpleConnectionState,
  type SimpleConnectionStatus,
  type SubscriptionRequest,
} from './hooks.js';
export { bindQueryClient, DEFAULT_QUERY_KEYS, type BindQueryOptions, type QueryClientLike, type QueryKey, type QueryKeys } from './query.js';
export type { AccountView, OrderView, PositionView, PriceView, TradeView } from './views.js';
