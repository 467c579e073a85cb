// The connection: one WebSocket at a time, reconnected with full-jitter backoff by PROTOCOL.md's
// close-code table, resumed by seq, falling back to REST polling ("backup") after a retry budget,
// reconciled with REST while connected. All I/O, timers and randomness are injected.

import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { closeVerdict, httpVerdict, type CloseVerdict } from './close_policy.js';
import { Emitter } from './emitter.js';
import { FrameError, parseServerFrame } from './parse.js';
import {
  ALL_CHANNELS,
  isAppEvent,
  type AppEvent,
  type AuthenticatedMessage,
  type BroadcastMessage,
  type Channel,
  type ClientMessage,
  type ConflatedMarker,
  type ErrorMessage,
  type FreshMessage,
  type Rejection,
  type RefreshedMessage,
  type ServerMessage,
  type SnapshotMessage,
  type StaleMessage,
  type StreamEvent,
  type SubscribedMessage,
  type TokenExpiringMessage,
  type TopicMessage,
} from './protocol.js';
import { reconcileSection, type Reconciliation, type StateSection } from './reconcile.js';
import { restBaseFromStreamUrl, RestClient, type CredentialsMode, type FetchLike, type RestResult } from './rest.js';
import { isStateSection, PortfolioStore, type Section } from './store.js';
import { MAX_LIST_ENTRIES, normalizeSpec, SubscriptionBook, type SubscriptionSpec } from './subscriptions.js';
import { systemTimers, Timer, type Timers } from './timers.js';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'backup' | 'offline';

/** The subset of the WebSocket API the client uses (the browser's, `ws`, or a test fake). */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason?: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Where the browser's `online`/`offline` events come from (globalThis in a browser). */
export interface NetworkEvents {
  addEventListener(type: 'online' | 'offline', listener: () => void): void;
  removeEventListener(type: 'online' | 'offline', listener: () => void): void;
}

export interface StaleSource {
  readonly source: string;
  readonly since: string;
  readonly sinceUs: number;
}

export interface ConnectionStatus {
  readonly state: ConnectionState;
  /** Why: 'connection_lost', 'draining', 'network', 'unauthorized', 'closed', 'not_started', … */
  readonly reason: string | null;
  /** Attempts made since the last stable connection. */
  readonly failures: number;
  /** When the next attempt is due (client clock, ms), while one is scheduled. */
  readonly nextAttemptAt: number | null;
  /** The last application-ping round trip, ms. */
  readonly latencyMs: number | null;
  /** The edge the connection is (or was last) on. */
  readonly node: string | null;
  readonly userId: string | null;
  /** Sources the edge reported stale, by name. */
  readonly staleSources: ReadonlyMap<string, StaleSource>;
  /** The last error the edge or the REST API reported. */
  readonly lastError: { readonly code: string; readonly message: string } | null;
  /** When the last REST poll succeeded (backup), client clock ms. */
  readonly lastPollAt: number | null;
  /** When `state` was entered, client clock ms. */
  readonly stateSince: number;
}

export interface StateChange {
  readonly state: ConnectionState;
  readonly previous: ConnectionState;
  readonly reason: string | null;
}

/**
 * The local state may not follow from the events seen: it was replaced (resync, REST repair) or
 * events may be missing (a gap, the time spent on REST polling).
 */
export interface Discontinuity {
  readonly reason: 'history_truncated' | 'history_unreadable' | 'sequence_reset' | 'gap' | 'reconciliation' | 'missed_event' | 'backup';
  readonly section?: Section;
  readonly detail?: string;
}

export interface ClientError {
  readonly code: string;
  readonly message: string;
  /** 'server': an error frame; 'rest': a REST answer; 'client': this client (a frame it could not read, getToken failing). */
  readonly origin: 'server' | 'rest' | 'client';
}

export interface ClientEvents {
  status: ConnectionStatus;
  state: StateChange;
  /** Every frame as received. */
  message: ServerMessage;
  /** Every event as received, batches unpacked (duplicates included: the store drops them); app events too. */
  event: StreamEvent | AppEvent;
  /** Seqs the edge conflated (superseded app events): counted as received, no gap. */
  conflated: ConflatedMarker;
  latency: number;
  node: string;
  authenticated: AuthenticatedMessage;
  subscribed: SubscribedMessage;
  rejected: readonly Rejection[];
  stale: StaleMessage;
  fresh: FreshMessage;
  token_expiring: TokenExpiringMessage;
  refreshed: RefreshedMessage;
  topic: TopicMessage;
  broadcast: BroadcastMessage;
  discontinuity: Discontinuity;
  reconciled: Reconciliation;
  error: ClientError;
}

export interface TokenRequest {
  /** 'connect': a new connection; 'expiring': the edge warned; 'token_expired', 'authentication_failed', 'revoked', 'unauthorized': the last one was refused. */
  readonly reason: string;
}

export type { SubscriptionSpec };

export interface Subscription {
  /** Releases this subscription; the edge is told once nothing else holds the symbol/channel. */
  unsubscribe(): void;
}

export interface ClientOptions {
  /** The stream, e.g. "wss://example.com/ws". */
  url: string;
  /** The REST origin; default: the stream URL's, over http(s). */
  restUrl?: string;
  /** Subscribed for the client's lifetime. */
  symbols?: readonly string[];
  channels?: readonly Channel[];
  topics?: readonly string[];
  /**
   * A JWT for the connection, asked for before every connection and when the edge warns of
   * expiry. With it, the client authenticates in-band (`auth` message) and sends the token as a
   * bearer to REST; without it, the credential is the browser's cookie.
   */
  getToken?: (request: TokenRequest) => Promise<string> | string;
  /** How a token reaches the edge: an `auth` message (default) or `?token=` (where the operator enabled it). */
  tokenTransport?: 'message' | 'query';
  /**
   * Called when the credential was refused (HTTP 401, close 4001/4003/4010) and there is no
   * getToken; resolve true once a fresh credential is in place (e.g. after a login) to reconnect.
   */
  onAuthRequired?: (request: TokenRequest) => Promise<boolean> | boolean;
  /** Cookies on REST requests: 'include' for a cookie session. Default 'same-origin'. */
  credentials?: CredentialsMode;
  /** Default: globalThis.WebSocket (browsers, Node ≥ 22); in Node 20 pass the `ws` package's. */
  WebSocket?: WebSocketConstructor;
  /** Default: globalThis.fetch. */
  fetch?: FetchLike;
  timers?: Timers;
  /** In [0, 1). Default Math.random. */
  random?: () => number;
  /** `online`/`offline` events; default globalThis where it has addEventListener; null: none. */
  network?: NetworkEvents | null;
  store?: PortfolioStore;
  /** Default { baseMs: 1000, capMs: 30000 }. */
  backoff?: Partial<BackoffOptions>;
  /** Failed attempts in a row before REST polling starts (10 by default). */
  maxReconnectAttempts?: number;
  /** A connection up this long resets the backoff, ms. Default 5000. */
  stableAfterMs?: number;
  /** Application pings, ms (default 10000): a healthy link always has traffic both ways. */
  pingIntervalMs?: number;
  /** No frame from the edge for this long: the link is dead, ms. Default 25000. */
  deadAfterMs?: number;
  /** Opening the WebSocket may take this long, ms. Default 10000 (the edge's handshake timeout). */
  connectTimeoutMs?: number;
  /** `authenticated` must answer `auth` within this, ms. Default 10000. */
  authTimeoutMs?: number;
  /** REST polling period in the backup state, ms (5 s by default). */
  backupPollMs?: number;
  /** REST reconciliation period while connected, ms (60 s by default); 0 disables it. */
  reconcileMs?: number;
  /** At the connection limit (close 4009), wait at least this long before trying again, ms. Default 30000 (the lease TTL). */
  slotWaitMs?: number;
  /** Ask REST why an upgrade failed before it opened (browsers hide the HTTP status). Default true. */
  probeRefusals?: boolean;
  /** A wider batching window to ask for, ms. */
  batchMs?: number;
}

type Phase = 'idle' | 'opening' | 'authenticating' | 'open';

export class TickstreamClient {
  readonly store: PortfolioStore;

  private readonly emitter_ = new Emitter<ClientEvents>();
  private readonly url_: string;
  private readonly rest_: RestClient;
  private readonly timers_: Timers;
  private readonly random_: () => number;
  private readonly WebSocket_: WebSocketConstructor | null;
  private readonly network_: NetworkEvents | null;
  private readonly backoff_: BackoffOptions;
  private readonly maxAttempts_: number;
  private readonly stableAfterMs_: number;
  private readonly pingIntervalMs_: number;
  private readonly deadAfterMs_: number;
  private readonly connectTimeoutMs_: number;
  private readonly authTimeoutMs_: number;
  private readonly backupPollMs_: number;
  private readonly reconcileMs_: number;
  private readonly slotWaitMs_: number;
  private readonly probe_: boolean;
  private readonly options_: ClientOptions;

  private status_: ConnectionStatus;

  private readonly book_ = new SubscriptionBook();
  private readonly accepted_ = new Set<Channel>();
  private flushQueued_ = false;

  private ws_: WebSocketLike | null = null;
  private phase_: Phase = 'idle';
  private gen_ = 0;
  private pollGen_ = 0;
  private started_ = false;
  private everConnected_ = false;
  private networkDown_ = false;
  private retries_ = 0;
  private reauths_ = 0;
  private probed_ = false;
  private needsSnapshot_ = false;
  private discarding_ = false;
  private token_: string | null = null;
  private rejectedToken_: string | null = null;
  private tokenReason_ = 'connect';
  private authError_: string | null = null;
  private pingSeq_ = 0;
  private readonly pings_ = new Map<number, number>();

  private readonly retryTimer_: Timer;
  private readonly connectTimer_: Timer;
  private readonly authTimer_: Timer;
  private readonly pingTimer_: Timer;
  private readonly deadTimer_: Timer;
  private readonly stableTimer_: Timer;
  private readonly drainTimer_: Timer;
  private readonly pollTimer_: Timer;
  private readonly reconcileTimer_: Timer;

  private readonly onOnline_ = (): void => this.handleOnline();
  private readonly onOffline_ = (): void => this.handleOffline();

  constructor(options: ClientOptions) {
    this.options_ = options;
    this.url_ = options.url;
    this.timers_ = options.timers ?? systemTimers();
    this.random_ = options.random ?? Math.random;
    this.store = options.store ?? new PortfolioStore({ now: () => this.timers_.now() });
    this.WebSocket_ = options.WebSocket ?? globalWebSocket();
    this.network_ = options.network === undefined ? globalNetwork() : options.network;
    this.backoff_ = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.maxAttempts_ = options.maxReconnectAttempts ?? 10;
    this.stableAfterMs_ = options.stableAfterMs ?? 5_000;
    this.pingIntervalMs_ = options.pingIntervalMs ?? 10_000;
    this.deadAfterMs_ = options.deadAfterMs ?? 25_000;
    this.connectTimeoutMs_ = options.connectTimeoutMs ?? 10_000;
    this.authTimeoutMs_ = options.authTimeoutMs ?? 10_000;
    this.backupPollMs_ = options.backupPollMs ?? 5_000;
    this.reconcileMs_ = options.reconcileMs ?? 60_000;
    this.slotWaitMs_ = options.slotWaitMs ?? 30_000;
    this.probe_ = options.probeRefusals ?? true;
    const fetchImpl = options.fetch ?? globalFetch();
    this.rest_ = new RestClient({
      baseUrl: options.restUrl ?? restBaseFromStreamUrl(options.url),
      fetch: fetchImpl ?? (() => Promise.reject(new TypeError('no fetch: pass options.fetch'))),
      credentials: options.credentials ?? 'same-origin',
      authorization: () => (this.token_ ? `Bearer ${this.token_}` : null),
    });
    const t = this.timers_;
    this.retryTimer_ = new Timer(t);
    this.connectTimer_ = new Timer(t);
    this.authTimer_ = new Timer(t);
    this.pingTimer_ = new Timer(t);
    this.deadTimer_ = new Timer(t);
    this.stableTimer_ = new Timer(t);
    this.drainTimer_ = new Timer(t);
    this.pollTimer_ = new Timer(t);
    this.reconcileTimer_ = new Timer(t);
    this.status_ = {
      state: 'offline',
      reason: 'not_started',
      failures: 0,
      nextAttemptAt: null,
      latencyMs: null,
      node: null,
      userId: null,
      staleSources: new Map(),
      lastError: null,
      lastPollAt: null,
      stateSince: t.now(),
    };
    this.book_.add(normalizeSpec({ symbols: options.symbols ?? [], channels: options.channels ?? [], topics: options.topics ?? [] }));
    this.book_.settle();
  }

  // -------------------------------------------------------------------------------------------
  // Public API

  get state(): ConnectionState {
    return this.status_.state;
  }

  /** The current status; the same object until something in it changes. */
  getStatus = (): ConnectionStatus => this.status_;

  /** The REST API with this client's credentials. */
  get rest(): RestClient {
    return this.rest_;
  }

  on<K extends keyof ClientEvents>(type: K, listener: (payload: ClientEvents[K]) => void): () => void {
    return this.emitter_.on(type, listener);
  }

  /** Starts connecting (again, after close() or a stop). */
  connect(): void {
    if (this.started_) return;
    if (!this.WebSocket_) throw new TypeError('no WebSocket: pass options.WebSocket (in Node 20, the ws package)');
    this.started_ = true;
    this.retries_ = 0;
    this.reauths_ = 0;
    this.rejectedToken_ = null;
    this.network_?.addEventListener('online', this.onOnline_);
    this.network_?.addEventListener('offline', this.onOffline_);
    this.setState(this.everConnected_ ? 'reconnecting' : 'connecting', null);
    this.openSocket();
  }

  /** Closes the connection and stops: state `offline`, reason 'closed'. */
  close(): void {
    if (!this.started_) return;
    this.halt();
    this.setState('offline', 'closed');
  }

  /** Drops the current connection (if any) and connects again at once. */
  reconnect(): void {
    if (!this.started_) {
      this.connect();
      return;
    }
    this.dropSocket('reconnect');
    this.retryTimer_.cancel();
    this.setState(this.state === 'backup' ? 'backup' : 'reconnecting', 'reconnect');
    this.openSocket();
  }

  /** Adds symbols, channels and topics; they are kept across reconnects until released. */
  subscribe(spec: SubscriptionSpec): Subscription {
    const normalized = normalizeSpec(spec);
    this.book_.add(normalized);
    this.queueFlush();
    let released = false;
    return {
      unsubscribe: () => {
        if (released) return;
        released = true;
        this.book_.remove(normalized);
        this.queueFlush();
      },
    };
  }

  /** What the client keeps subscribed. */
  subscriptions(): { symbols: string[]; channels: Channel[]; topics: string[] } {
    const w = this.book_.wanted();
    return { symbols: [...w.symbols], channels: [...w.channels], topics: [...w.topics] };
  }

  /** Runs a REST reconciliation now (it also runs every `reconcileMs` while connected). */
  reconcileNow(): Promise<readonly Reconciliation[]> {
    return this.reconcile();
  }

  // -------------------------------------------------------------------------------------------
  // Connection lifecycle

  private openSocket(): void {
    const gen = ++this.gen_;
    this.phase_ = 'opening';
    this.authError_ = null;
    this.discarding_ = false;
    this.patchStatus({ nextAttemptAt: null });
    if (this.options_.getToken) {
      const reason = this.tokenReason_;
      Promise.resolve()
        .then(() => this.options_.getToken?.({ reason }))
        .then(
          (token) => {
            if (gen !== this.gen_) return;
            if (typeof token !== 'string' || token === '' || token === this.rejectedToken_) {
              this.stop('unauthorized');
              return;
            }
            this.token_ = token;
            this.tokenReason_ = 'connect';
            this.createSocket(gen, token);
          },
          (err: unknown) => {
            if (gen !== this.gen_) return;
            this.reportError({ code: 'token_unavailable', message: String(err), origin: 'client' });
            this.phase_ = 'idle';
            this.scheduleRetry('token_unavailable');
          },
        );
      return;
    }
    this.createSocket(gen, null);
  }

  private createSocket(gen: number, token: string | null): void {
    const viaQuery = token !== null && this.options_.tokenTransport === 'query';
    const url = viaQuery ? `${this.url_}${this.url_.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : this.url_;
    let ws: WebSocketLike;
    try {
      ws = new (this.WebSocket_ as WebSocketConstructor)(url);
    } catch (err) {
      this.reportError({ code: 'connect_failed', message: String(err), origin: 'client' });
      this.phase_ = 'idle';
      this.scheduleRetry('connect_failed');
      return;
    }
    this.ws_ = ws;
    ws.onopen = () => {
      if (gen === this.gen_) this.handleOpen(token !== null && !viaQuery ? token : null);
    };
    ws.onmessage = (ev) => {
      if (gen === this.gen_) this.handleFrame(ev.data);
    };
    ws.onclose = (ev) => {
      if (gen === this.gen_) this.handleClose(ev.code);
    };
    ws.onerror = () => {
      // A close event follows every error event; it carries what there is to know.
    };
    this.connectTimer_.arm(this.connectTimeoutMs_, () => {
      if (gen !== this.gen_) return;
      this.dropSocket('connect_timeout');
      this.afterSocket(closeVerdict(1006), false, 'connect_timeout');
    });
  }

  private handleOpen(authToken: string | null): void {
    this.connectTimer_.cancel();
    this.armDead();
    if (authToken !== null) {
      this.phase_ = 'authenticating';
      this.send({ type: 'auth', token: authToken });
      const gen = this.gen_;
      this.authTimer_.arm(this.authTimeoutMs_, () => {
        if (gen !== this.gen_) return;
        this.dropSocket('auth_timeout');
        this.afterSocket(closeVerdict(1006), true, 'auth_timeout');
      });
      return;
    }
    this.handleReady();
  }

  /** The connection is usable: subscribe, ping, and start the timers of a live connection. */
  private handleReady(): void {
    const gen = this.gen_;
    this.phase_ = 'open';
    this.authTimer_.cancel();
    this.everConnected_ = true;
    this.probed_ = false;
    this.stopPolling();
    this.accepted_.clear();
    this.store.detectGaps = false;
    this.setState('connected', null);
    this.sendPing();
    this.sendInitialSubscribes();
    this.stableTimer_.arm(this.stableAfterMs_, () => {
      if (gen !== this.gen_) return;
      this.retries_ = 0;
      this.reauths_ = 0;
      this.patchStatus({ failures: 0 });
    });
    if (this.reconcileMs_ > 0) this.armReconcile();
  }

  private handleClose(code: number): void {
    const opened = this.phase_ === 'authenticating' || this.phase_ === 'open';
    this.releaseSocket();
    let verdict = closeVerdict(code);
    // An edge that refused the in-band token says why in an error frame before the close.
    if (this.authError_ !== null && verdict.action === 'backoff') verdict = { action: 'reauthenticate', reason: 'authentication_failed' };
    this.afterSocket(verdict, opened, verdict.reason);
  }

  /** Decides what follows a connection (or an attempt) that ended. */
  private afterSocket(verdict: CloseVerdict, opened: boolean, reason: string): void {
    if (!this.started_) return;
    if (this.networkDown_) {
      this.setState('offline', 'network');
      return;
    }
    switch (verdict.action) {
      case 'stop':
        this.stop(verdict.reason);
        return;
      case 'reauthenticate':
        this.reauthenticate(verdict.reason);
        return;
      case 'reconnect_now':
        this.scheduleRetry(reason, { now: true });
        return;
      case 'wait_for_slot':
        this.scheduleRetry(reason, { minDelayMs: Math.max(this.backoff_.capMs, this.slotWaitMs_) });
        return;
      case 'backoff':
        if (!opened && this.probe_ && !this.probed_) {
          this.probeRefusal(reason);
          return;
        }
        this.scheduleRetry(reason);
        return;
    }
  }

  /**
   * Browsers hide why an upgrade failed; the REST API runs the same credential and origin checks,
   * so one GET tells a refused credential (401), a foreign origin (403) or a busy edge (429, 503)
   * from a network failure. Once per run of failures.
   */
  private probeRefusal(reason: string): void {
    this.probed_ = true;
    const gen = this.gen_;
    this.setState(this.state === 'backup' ? 'backup' : this.everConnected_ ? 'reconnecting' : 'connecting', reason);
    const symbol = this.book_.wanted().symbols.values().next().value ?? 'SPY';
    void this.rest_.prices([symbol]).then((res) => {
      if (gen !== this.gen_ || !this.started_ || this.phase_ !== 'idle') return;
      if (res.ok || res.status === 0 || res.status === 400 || res.status === 404) {
        this.scheduleRetry(reason);
        return;
      }
      this.reportRestError(res);
      const verdict = httpVerdict(res.status);
      if (verdict.action === 'backoff') this.scheduleRetry(verdict.reason, { minDelayMs: res.retryAfterMs ?? 0 });
      else this.afterSocket(verdict, true, verdict.reason);
    });
  }

  private scheduleRetry(reason: string, opts: { now?: boolean; minDelayMs?: number } = {}): void {
    if (!this.started_) return;
    if (this.retries_ >= this.maxAttempts_ && this.state !== 'backup') this.enterBackup();
    let delay = opts.now && this.retries_ === 0 ? 0 : backoffDelay(this.retries_, this.random_, this.backoff_);
    delay = Math.max(delay, opts.minDelayMs ?? 0);
    this.retries_ += 1;
    const at = this.timers_.now() + delay;
    if (this.state === 'backup') this.patchStatus({ failures: this.retries_, nextAttemptAt: at });
    else {
      this.setState(this.everConnected_ ? 'reconnecting' : 'connecting', reason);
      this.patchStatus({ failures: this.retries_, nextAttemptAt: at });
    }
    this.retryTimer_.arm(delay, () => this.openSocket());
  }

  private reauthenticate(reason: string): void {
    this.reauths_ += 1;
    // A credential refused again and again (a login that does not stick) is not retried forever.
    if (this.reauths_ > 3) {
      this.stop('unauthorized');
      return;
    }
    if (this.options_.getToken) {
      this.rejectedToken_ = this.token_;
      this.tokenReason_ = reason;
      this.scheduleRetry(reason);
      return;
    }
    const onAuthRequired = this.options_.onAuthRequired;
    if (!onAuthRequired) {
      this.stop('unauthorized');
      return;
    }
    const gen = ++this.gen_;
    this.setState(this.everConnected_ ? 'reconnecting' : 'connecting', reason);
    Promise.resolve()
      .then(() => onAuthRequired({ reason }))
      .then(
        (ok) => {
          if (gen !== this.gen_ || !this.started_) return;
          if (ok) this.scheduleRetry(reason, { now: true });
          else this.stop('unauthorized');
        },
        (err: unknown) => {
          if (gen !== this.gen_ || !this.started_) return;
          this.reportError({ code: 'auth_required_failed', message: String(err), origin: 'client' });
          this.stop('unauthorized');
        },
      );
  }

  /** Do not retry: state offline with the reason; connect() starts again. */
  private stop(reason: string): void {
    this.halt();
    this.setState('offline', reason);
  }

  private halt(): void {
    this.started_ = false;
    this.dropSocket('closed');
    this.gen_ += 1;
    this.retryTimer_.cancel();
    this.stopPolling();
    this.network_?.removeEventListener('online', this.onOnline_);
    this.network_?.removeEventListener('offline', this.onOffline_);
    this.networkDown_ = false;
    this.patchStatus({ nextAttemptAt: null });
  }

  private handleOffline(): void {
    if (!this.started_ || this.networkDown_) return;
    this.networkDown_ = true;
    this.dropSocket('offline');
    this.retryTimer_.cancel();
    this.stopPolling();
    this.patchStatus({ nextAttemptAt: null });
    this.setState('offline', 'network');
  }

  private handleOnline(): void {
    if (!this.started_ || !this.networkDown_) return;
    this.networkDown_ = false;
    this.setState(this.everConnected_ ? 'reconnecting' : 'connecting', 'network_restored');
    this.openSocket();
  }

  /** Detaches and closes the current socket (if any); its events are ignored from now on. */
  private dropSocket(reason: string): void {
    const ws = this.ws_;
    this.releaseSocket();
    if (!ws) return;
    try {
      ws.close(1000, reason);
    } catch {
      // Closing a socket that is still connecting may throw in some implementations.
    }
  }

  /** Forgets the current socket and its timers; pending work of that connection (a reconciliation, a token refresh) is void from now on. */
  private releaseSocket(): void {
    this.gen_ += 1;
    const ws = this.ws_;
    if (ws) {
      ws.onopen = null;
      ws.onmessage = null;
      ws.onclose = null;
      ws.onerror = null;
    }
    this.ws_ = null;
    this.phase_ = 'idle';
    this.connectTimer_.cancel();
    this.authTimer_.cancel();
    this.pingTimer_.cancel();
    this.deadTimer_.cancel();
    this.stableTimer_.cancel();
    this.drainTimer_.cancel();
    this.reconcileTimer_.cancel();
    this.pings_.clear();
    this.accepted_.clear();
    this.store.detectGaps = false;
  }

  private armDead(): void {
    const gen = this.gen_;
    this.deadTimer_.arm(this.deadAfterMs_, () => {
      if (gen !== this.gen_) return;
      this.dropSocket('no_traffic');
      this.afterSocket(closeVerdict(1006), true, 'no_traffic');
    });
  }

  // -------------------------------------------------------------------------------------------
  // Backup: REST polling

  private enterBackup(): void {
    // REST bodies of different sections are read at different seqs: once back on the stream,
    // start from a snapshot rather than resume.
    this.needsSnapshot_ = true;
    this.setState('backup', 'retry_budget_exhausted');
    this.emitter_.emit('discontinuity', { reason: 'backup' });
    const gen = ++this.pollGen_;
    this.poll(gen);
  }

  private stopPolling(): void {
    this.pollGen_ += 1;
    this.pollTimer_.cancel();
  }

  private poll(gen: number): void {
    const requests: Promise<RestResult>[] = [];
    const wanted = this.book_.wanted();
    for (const c of wanted.channels) {
      if (c === 'positions') requests.push(this.rest_.positions());
      if (c === 'orders') requests.push(this.rest_.orders());
      if (c === 'account') requests.push(this.rest_.account());
    }
    const symbols = [...wanted.symbols];
    for (let i = 0; i < symbols.length; i += MAX_LIST_ENTRIES) {
      requests.push(this.rest_.prices(symbols.slice(i, i + MAX_LIST_ENTRIES)));
    }
    void Promise.all(requests).then((results) => {
      // An answer that arrives after the stream is back would overwrite newer state: dropped.
      if (gen !== this.pollGen_) return;
      let ok = results.length > 0;
      for (const res of results) {
        if (res.ok) {
          // A read older than what the stream already applied would step the state back.
          const held = this.store.getState().held;
          if (typeof res.body.seq !== 'number' || held === null || res.body.seq >= held) this.store.applyRest(res.body);
        } else {
          ok = false;
          this.reportRestError(res);
        }
      }
      if (ok) this.patchStatus({ lastPollAt: this.timers_.now() });
      this.pollTimer_.arm(this.backupPollMs_, () => {
        if (gen === this.pollGen_) this.poll(gen);
      });
    });
  }

  // -------------------------------------------------------------------------------------------
  // Reconciliation

  private armReconcile(): void {
    const gen = this.gen_;
    this.reconcileTimer_.arm(this.reconcileMs_, () => {
      if (gen !== this.gen_) return;
      void this.reconcile().finally(() => {
        if (gen === this.gen_ && this.phase_ === 'open') this.armReconcile();
      });
    });
  }

  private async reconcile(): Promise<readonly Reconciliation[]> {
    if (this.phase_ !== 'open' || this.store.getState().held === null) return [];
    const gen = this.gen_;
    const sections = [...this.accepted_].filter(isStateSection);
    const results = await Promise.all(sections.map((s) => this.fetchSection(s)));
    if (gen !== this.gen_) return [];
    const out: Reconciliation[] = [];
    sections.forEach((section, i) => {
      const res = results[i];
      if (!res || !res.ok) {
        if (res) this.reportRestError(res);
        return;
      }
      const r = reconcileSection(section, res.body, this.store.getState());
      out.push(r);
      this.emitter_.emit('reconciled', r);
      if (r.outcome === 'replace') {
        this.store.applyRest(onlySection(res.body, section));
        this.emitter_.emit('discontinuity', { reason: 'reconciliation', section, detail: r.differences.join('; ') });
      } else if (r.outcome === 'resubscribe') {
        // The channel's snapshot replaces the section; events due before it arrive first.
        this.send({ type: 'subscribe', channels: [section] });
        this.emitter_.emit('discontinuity', { reason: 'missed_event', section, detail: r.differences.join('; ') });
      }
    });
    return out;
  }

  private fetchSection(section: StateSection): Promise<RestResult> {
    if (section === 'positions') return this.rest_.positions();
    if (section === 'orders') return this.rest_.orders();
    return this.rest_.account();
  }

  // -------------------------------------------------------------------------------------------
  // Frames

  private handleFrame(data: unknown): void {
    this.armDead();
    let msg: ServerMessage;
    try {
      msg = parseServerFrame(frameText(data));
    } catch (err) {
      const message = err instanceof FrameError ? err.message : String(err);
      this.reportError({ code: 'invalid_frame', message, origin: 'client' });
      return;
    }
    // After a gap the socket is being replaced; nothing more from it may be applied.
    if (this.discarding_) return;
    this.emitter_.emit('message', msg);
    if (this.phase_ === 'authenticating') {
      if (msg.type === 'authenticated') {
        this.noteAuthenticated(msg);
        this.handleReady();
        return;
      }
      if (msg.type === 'error') {
        if (msg.code === 'unknown_type') {
          // An edge without in-band authentication: go on with what the upgrade carried.
          this.handleReady();
          return;
        }
        this.authError_ = msg.code;
        this.reportServerError(msg);
        return;
      }
    }
    switch (msg.type) {
      case 'subscribed':
        for (const c of msg.channels) this.accepted_.add(c);
        this.store.detectGaps = ALL_CHANNELS.every((c) => this.accepted_.has(c));
        this.emitter_.emit('subscribed', msg);
        if (msg.rejected.length > 0) this.emitter_.emit('rejected', msg.rejected);
        return;
      case 'unsubscribed':
        for (const c of msg.channels) this.accepted_.delete(c);
        this.store.detectGaps = ALL_CHANNELS.every((c) => this.accepted_.has(c));
        if (msg.reason === 'not_entitled') {
          // The edge dropped them (entitlements narrowed): reported like a refused subscribe.
          const why = 'the connection is no longer entitled to this';
          const gone = [...msg.symbols, ...(msg.topics ?? [])].map((name) => ({ name, code: 'not_entitled', reason: why }));
          if (gone.length > 0) this.emitter_.emit('rejected', gone);
        }
        return;
      case 'pong':
        this.handlePong(msg.id, msg.node);
        return;
      case 'authenticated':
        this.noteAuthenticated(msg);
        return;
      case 'error':
        this.reportServerError(msg);
        if (msg.code === 'auth_required' && !this.options_.getToken) {
          // An edge that takes in-band authentication accepts an upgrade without a credential
          // and refuses everything private until an `auth` message. A cookie client sends none:
          // its cookie was missing (not signed in yet, or the session is gone). Treat it as a
          // refused credential now rather than at the edge's auth deadline (4003).
          this.dropSocket('auth_required');
          this.afterSocket({ action: 'reauthenticate', reason: 'unauthorized' }, true, 'unauthorized');
        }
        return;
      case 'token_expiring':
        this.emitter_.emit('token_expiring', msg);
        this.refreshToken();
        return;
      case 'refreshed':
        this.emitter_.emit('refreshed', msg);
        return;
      case 'stale': {
        const stale = new Map(this.status_.staleSources);
        stale.set(msg.source, { source: msg.source, since: msg.since, sinceUs: msg.since_us });
        this.patchStatus({ staleSources: stale });
        this.emitter_.emit('stale', msg);
        return;
      }
      case 'fresh': {
        if (this.status_.staleSources.has(msg.source)) {
          const stale = new Map(this.status_.staleSources);
          stale.delete(msg.source);
          this.patchStatus({ staleSources: stale });
        }
        this.emitter_.emit('fresh', msg);
        return;
      }
      case 'reconnect':
        this.handleDrainHint(msg.delay_ms);
        return;
      default:
        this.applyStream(msg);
    }
  }

  private applyStream(msg: ServerMessage): void {
    const events: (StreamEvent | AppEvent)[] =
      msg.type === 'batch' ? msg.events : isStreamEvent(msg) ? [msg] : isAppEvent(msg) ? [msg] : [];
    const result = this.store.apply(msg);
    for (const ev of events) {
      if (ev.type === 'conflated') {
        this.emitter_.emit('conflated', ev as ConflatedMarker);
        continue;
      }
      this.emitter_.emit('event', ev);
      if (ev.type === 'topic_message') this.emitter_.emit('topic', ev as TopicMessage);
      else if (ev.type === 'broadcast') this.emitter_.emit('broadcast', ev as BroadcastMessage);
    }
    const state = this.store.getState();
    if (state.userId !== null && state.userId !== this.status_.userId) this.patchStatus({ userId: state.userId });
    if ((msg.type === 'snapshot' || msg.type === 'resync') && typeof msg.seq === 'number') this.needsSnapshot_ = false;
    if (result.resync) this.emitter_.emit('discontinuity', { reason: result.resync });
    if (result.gap) {
      // The edge fills its own gaps, so this should not happen; when it does, a new connection
      // resumed from held gets exactly the missing events (or a resync).
      this.discarding_ = true;
      this.emitter_.emit('discontinuity', { reason: 'gap', detail: `held ${result.gap.held}, got ${result.gap.seq}` });
      this.dropSocket('gap');
      this.scheduleRetry('gap', { now: true });
    }
  }

  private handleDrainHint(delayMs: number): void {
    const gen = this.gen_;
    // The edge closes with 1001 after delay_ms (spread over its drain window so its clients do
    // not all move at once); reconnect then, whichever comes first.
    this.drainTimer_.arm(Math.min(Math.max(0, delayMs), 60_000), () => {
      if (gen !== this.gen_) return;
      this.dropSocket('draining');
      this.scheduleRetry('draining', { now: true });
    });
  }

  private noteAuthenticated(msg: AuthenticatedMessage): void {
    this.patchStatus({ userId: msg.user_id, node: msg.node });
    this.emitter_.emit('authenticated', msg);
    this.emitter_.emit('node', msg.node);
  }

  private refreshToken(): void {
    const getToken = this.options_.getToken;
    if (!getToken) return;
    const gen = this.gen_;
    Promise.resolve()
      .then(() => getToken({ reason: 'expiring' }))
      .then(
        (token) => {
          if (gen !== this.gen_ || this.phase_ !== 'open' || typeof token !== 'string' || token === '') return;
          this.token_ = token;
          this.send({ type: 'refresh', token });
        },
        (err: unknown) => this.reportError({ code: 'token_unavailable', message: String(err), origin: 'client' }),
      );
  }

  private sendPing(): void {
    const id = ++this.pingSeq_;
    this.pings_.set(id, this.timers_.now());
    // Pongs that never came are forgotten after a few newer pings.
    for (const old of this.pings_.keys()) if (old < id - 5) this.pings_.delete(old);
    this.send({ type: 'ping', id });
    const gen = this.gen_;
    this.pingTimer_.arm(this.pingIntervalMs_, () => {
      if (gen === this.gen_ && this.phase_ === 'open') this.sendPing();
    });
  }

  private handlePong(id: unknown, node: string | undefined): void {
    if (typeof id === 'number') {
      const sentAt = this.pings_.get(id);
      if (sentAt !== undefined) {
        this.pings_.delete(id);
        const latency = Math.max(0, this.timers_.now() - sentAt);
        this.patchStatus({ latencyMs: latency });
        this.emitter_.emit('latency', latency);
      }
    }
    if (typeof node === 'string' && node !== this.status_.node) {
      this.patchStatus({ node });
      this.emitter_.emit('node', node);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Subscriptions

  private sendInitialSubscribes(): void {
    for (const msg of this.book_.openingMessages(this.store.getState(), this.needsSnapshot_, this.options_.batchMs)) this.send(msg);
  }

  private queueFlush(): void {
    if (this.flushQueued_) return;
    this.flushQueued_ = true;
    // Changes made in one turn (a React render, a StrictMode unmount+mount) go out together.
    void Promise.resolve().then(() => this.flush());
  }

  private flush(): void {
    this.flushQueued_ = false;
    const { removedSymbols, removedChannels, messages } = this.book_.flush(this.phase_ === 'open');
    if (removedSymbols.length > 0) this.store.removePrices(removedSymbols);
    // The events channel has no section to forget.
    const sections = removedChannels.filter((c): c is Exclude<Channel, 'events'> => c !== 'events');
    if (sections.length > 0) this.store.clear(sections);
    for (const msg of messages) this.send(msg);
  }

  // -------------------------------------------------------------------------------------------
  // Helpers

  private send(msg: ClientMessage): void {
    const ws = this.ws_;
    if (!ws) return;
    try {
      ws.send(JSON.stringify(msg));
    } catch (err) {
      this.reportError({ code: 'send_failed', message: String(err), origin: 'client' });
    }
  }

  private setState(state: ConnectionState, reason: string | null): void {
    const previous = this.status_.state;
    if (previous === state && this.status_.reason === reason) return;
    const patch: { -readonly [K in keyof ConnectionStatus]?: ConnectionStatus[K] } = { state, reason };
    if (previous !== state) patch.stateSince = this.timers_.now();
    if (state === 'connected') patch.nextAttemptAt = null;
    this.patchStatus(patch);
    if (previous !== state) this.emitter_.emit('state', { state, previous, reason });
  }

  private patchStatus(patch: Partial<ConnectionStatus>): void {
    let changed = false;
    for (const key of Object.keys(patch) as (keyof ConnectionStatus)[]) {
      if (patch[key] !== this.status_[key]) changed = true;
    }
    if (!changed) return;
    this.status_ = { ...this.status_, ...patch };
    this.emitter_.emit('status', this.status_);
  }

  private reportServerError(msg: ErrorMessage): void {
    this.reportError({ code: msg.code, message: msg.message, origin: 'server' });
  }

  private reportRestError(res: Extract<RestResult, { ok: false }>): void {
    this.reportError({ code: res.code ?? (res.status === 0 ? 'network' : `http_${res.status}`), message: res.message, origin: 'rest' });
  }

  private reportError(err: ClientError): void {
    this.patchStatus({ lastError: { code: err.code, message: err.message } });
    this.emitter_.emit('error', err);
  }
}

function onlySection(body: SnapshotMessage, section: StateSection): SnapshotMessage {
  const out: SnapshotMessage = { type: 'snapshot' };
  if (body.seq !== undefined) out.seq = body.seq;
  if (section === 'positions' && body.positions) out.positions = body.positions;
  if (section === 'orders' && body.orders) out.orders = body.orders;
  if (section === 'account' && body.account !== undefined) out.account = body.account;
  return out;
}

function isStreamEvent(msg: ServerMessage): msg is StreamEvent {
  switch (msg.type) {
    case 'price_update':
    case 'order_update':
    case 'trade_executed':
    case 'position_update':
    case 'account_update':
    case 'topic_message':
    case 'broadcast':
      return true;
    default:
      return false;
  }
}

interface TextDecoderLike {
  decode(input: unknown): string;
}

function frameText(data: unknown): string {
  if (typeof data === 'string') return data;
  const g = globalThis as unknown as { TextDecoder?: new () => TextDecoderLike };
  if (g.TextDecoder && (data instanceof ArrayBuffer || ArrayBuffer.isView(data))) return new g.TextDecoder().decode(data);
  return String(data);
}

function globalWebSocket(): WebSocketConstructor | null {
  const g = globalThis as unknown as { WebSocket?: WebSocketConstructor };
  return typeof g.WebSocket === 'function' ? g.WebSocket : null;
}

function globalFetch(): FetchLike | null {
  const g = globalThis as unknown as { fetch?: FetchLike };
  const f = g.fetch;
  return typeof f === 'function' ? (url, init) => f.call(globalThis, url, init) : null;
}

function globalNetwork(): NetworkEvents | null {
  const g = globalThis as unknown as Partial<NetworkEvents>;
  return typeof g.addEventListener === 'function' && typeof g.removeEventListener === 'function'
    ? (globalThis as unknown as NetworkEvents)
    : null;
}
