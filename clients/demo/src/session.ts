// Signing in for the demo: the development-only login of the local tier, and the fallback to
// public data when it is off.

import { TickstreamClient, type Channel, type FetchLike, type Subscription, type Timers, type WebSocketConstructor } from '@tickstream/client';

import type { DemoConfig } from './config.js';

export type SignInState =
  | { readonly kind: 'checking' }
  | { readonly kind: 'signed_in'; readonly userId: string | null; readonly via: 'dev_login' | 'existing' }
  | { readonly kind: 'signed_out'; readonly why: string };

export type DevLoginResult = { ok: true; userId: string } | { ok: false; off: boolean; status: number };

const PRIVATE: Channel[] = ['positions', 'orders', 'account', 'trades'];
const MAX_LOGINS = 3;

/** POST /api/dev/login {"user":"demo"}: sets the session cookie (200), or 404 when the endpoint is off. */
export async function devLogin(fetchImpl: FetchLike, restUrl: string): Promise<DevLoginResult> {
  try {
    const res = await fetchImpl(`${restUrl}/api/dev/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      credentials: 'include',
      body: JSON.stringify({ user: 'demo' }),
    });
    if (res.ok) {
      let userId = 'demo';
      try {
        const body = JSON.parse(await res.text()) as { user_id?: unknown };
        if (typeof body.user_id === 'string') userId = body.user_id;
      } catch {
        // The cookie is what matters; the body only names the user.
      }
      return { ok: true, userId };
    }
    return { ok: false, off: res.status === 404, status: res.status };
  } catch {
    return { ok: false, off: false, status: 0 };
  }
}

export interface DemoSession {
  readonly client: TickstreamClient;
  getSignIn(): SignInState;
  onSignIn(listener: () => void): () => void;
  /** Signs in first when the URL asked for it, then connects. */
  start(): Promise<void>;
}

export interface DemoDeps {
  fetch: FetchLike;
  WebSocket?: WebSocketConstructor;
  /** A token source for in-band authentication (a page that has one sets it; see README). */
  getToken?: () => Promise<string> | string;
  /** Tests only. */
  timers?: Timers;
  random?: () => number;
}

/**
 * The dashboard's client: the watchlist and every private channel, with cookies. A refused
 * credential (HTTP 401 at the upgrade, learned through REST, or `auth_required` from an edge that
 * got no cookie) or private channels refused as `unauthenticated` try the development login (once
 * per refusal, three times at most); when it is off (404), the dashboard goes on with public data
 * and says "not signed in".
 */
export function createDemoSession(config: DemoConfig, deps: DemoDeps): DemoSession {
  let signIn: SignInState = { kind: 'checking' };
  const listeners = new Set<() => void>();
  const setSignIn = (s: SignInState): void => {
    signIn = s;
    for (const l of [...listeners]) l();
  };
  let logins = 0;
  let privateSub: Subscription | null = null;

  // One login per refusal, three at most: a session may expire or be removed while the page is
  // open; a login that never sticks is not tried again and again.
  const tryLogin = async (): Promise<'ok' | 'off' | 'failed'> => {
    if (logins >= MAX_LOGINS) return 'failed';
    logins += 1;
    const r = await devLogin(deps.fetch, config.restUrl);
    if (r.ok) {
      setSignIn({ kind: 'signed_in', userId: r.userId, via: 'dev_login' });
      return 'ok';
    }
    return r.off ? 'off' : 'failed';
  };
  const goPublic = (why: string): void => {
    privateSub?.unsubscribe();
    privateSub = null;
    setSignIn({ kind: 'signed_out', why });
  };

  const options: ConstructorParameters<typeof TickstreamClient>[0] = {
    url: config.streamUrl,
    restUrl: config.restUrl,
    symbols: config.symbols,
    credentials: 'include',
    fetch: deps.fetch,
  };
  if (deps.WebSocket) options.WebSocket = deps.WebSocket;
  if (deps.timers) options.timers = deps.timers;
  if (deps.random) options.random = deps.random;
  if (config.maxReconnectAttempts !== undefined) options.maxReconnectAttempts = config.maxReconnectAttempts;
  if (config.backoff) options.backoff = config.backoff;
  if (config.backupPollMs !== undefined) options.backupPollMs = config.backupPollMs;
  if (config.reconcileMs !== undefined) options.reconcileMs = config.reconcileMs;
  if (deps.getToken) {
    const getToken = deps.getToken;
    options.getToken = () => getToken();
  } else {
    options.onAuthRequired = async () => {
      const r = await tryLogin();
      if (r === 'ok') return true;
      if (privateSub) {
        // No login to be had: public data only, if the edge serves it without a credential.
        goPublic(r === 'off' ? 'The development login is off' : 'Sign-in failed');
        return true;
      }
      return false;
    };
  }
  const client = new TickstreamClient(options);
  privateSub = client.subscribe({ channels: PRIVATE });

  client.on('authenticated', (m) => setSignIn({ kind: 'signed_in', userId: m.user_id, via: 'existing' }));
  client.on('subscribed', (m) => {
    const refused = m.rejected.some((r) => r.code === 'unauthenticated');
    if (!refused) {
      if (m.channels.length > 0 && signIn.kind !== 'signed_in') {
        setSignIn({ kind: 'signed_in', userId: client.store.getState().userId, via: 'existing' });
      }
      return;
    }
    // An open edge: anonymous connections get public data; sign in if the development login is on.
    void tryLogin().then((r) => {
      if (r === 'ok') client.reconnect();
      else goPublic(r === 'off' ? 'The development login is off' : 'Sign-in failed');
    });
  });
  client.store.subscribe((c) => {
    if (c.state.userId !== null && signIn.kind === 'signed_in' && signIn.userId === null) {
      setSignIn({ ...signIn, userId: c.state.userId });
    }
  });

  return {
    client,
    getSignIn: () => signIn,
    onSignIn: (l) => {
      listeners.add(l);
      return () => {
        listeners.delete(l);
      };
    },
    start: async () => {
      if (config.devLogin && !deps.getToken) {
        const r = await tryLogin();
        if (r !== 'ok') goPublic(r === 'off' ? 'The development login is off' : 'Sign-in failed');
      }
      client.connect();
    },
  };
}
