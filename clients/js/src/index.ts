export * from './protocol.js';
export { parseServerFrame, exactQuote, FrameError, type ExactQuote } from './parse.js';
export {
  compareDecimal,
  decimalSign,
  isDecimal,
  isZeroDecimal,
  addDecimal,
  subtractDecimal,
  formatDecimal,
  groupDecimal,
} from './decimal.js';
export { backoffCeiling, backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { closeVerdict, httpVerdict, type CloseAction, type CloseVerdict } from './close_policy.js';
export { Emitter } from './emitter.js';
export { systemTimers, type Timers } from './timers.js';
export {
  PortfolioStore,
  isStateSection,
  type ApplyResult,
  type Entry,
  type PortfolioState,
  type PriceEntry,
  type Section,
  type StoreChange,
  type StoreOptions,
} from './store.js';
export {
  RestClient,
  restBaseFromStreamUrl,
  type CredentialsMode,
  type FetchInit,
  type FetchLike,
  type FetchResponseLike,
  type RestClientOptions,
  type RestResult,
} from './rest.js';
export { reconcileSection, type ReconcileOutcome, type Reconciliation, type StateSection } from './reconcile.js';
export {
  TickstreamClient,
  type ClientError,
  type ClientEvents,
  type ClientOptions,
  type ConnectionState,
  type ConnectionStatus,
  type Discontinuity,
  type NetworkEvents,
  type StaleSource,
  type StateChange,
  type Subscription,
  type SubscriptionSpec,
  type TokenRequest,
  type WebSocketConstructor,
  type WebSocketLike,
} from './client.js';
