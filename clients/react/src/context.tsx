import { TickstreamClient, type ClientOptions } from '@tickstream/client';
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';

import { bindQueryClient, type QueryClientLike, type QueryKeys } from './query.js';

const ClientContext = createContext<TickstreamClient | null>(null);

export interface TickstreamProviderProps {
  /** A client you made (and own: the provider connects it, unless `autoConnect` is false, but does not close it). */
  client?: TickstreamClient;
  /**
   * Connect on mount (default true). False for an app that connects the client itself once it
   * is ready, e.g. after a sign-in has set the session cookie.
   */
  autoConnect?: boolean;
  /** Or the options of one the provider makes, connects on mount and closes on unmount. */
  options?: ClientOptions;
  /** A TanStack Query client (or anything with setQueryData) to write the state into. */
  queryClient?: QueryClientLike;
  queryKeys?: Partial<QueryKeys>;
  /** The user of the query keys; default: the user the stream is for. */
  userId?: string;
  children?: ReactNode;
}

/** Shares one connection with every hook below it. */
export function TickstreamProvider(props: TickstreamProviderProps): ReactNode {
  const { queryClient, queryKeys, userId } = props;
  const autoConnect = props.autoConnect ?? true;
  const [owned] = useState(() => props.client === undefined);
  const [client] = useState(() => {
    if (props.client) return props.client;
    if (!props.options) throw new TypeError('TickstreamProvider needs a client or options');
    return new TickstreamClient(props.options);
  });
  useEffect(() => {
    if (autoConnect) client.connect();
    return () => {
      if (owned) client.close();
    };
  }, [client, owned, autoConnect]);
  useEffect(() => {
    if (!queryClient) return undefined;
    const bindOptions: { userId?: string; keys?: Partial<QueryKeys> } = {};
    if (userId !== undefined) bindOptions.userId = userId;
    if (queryKeys !== undefined) bindOptions.keys = queryKeys;
    return bindQueryClient(client, queryClient, bindOptions);
  }, [client, queryClient, queryKeys, userId]);
  return <ClientContext.Provider value={client}>{props.children}</ClientContext.Provider>;
}

let defaultOptions: Partial<ClientOptions> = {};
let defaultClient: TickstreamClient | null = null;

/**
 * Options of the client hooks use when no TickstreamProvider is above them (the apps these hooks replace had
 * no provider): by default the page's own origin, `ws(s)://<host>/ws`, with cookies.
 */
export function configureTickstream(options: Partial<ClientOptions>): void {
  defaultOptions = options;
}

function sameOriginStreamUrl(): string | null {
  const loc = (globalThis as { location?: { protocol: string; host: string } }).location;
  if (!loc || !loc.host) return null;
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

function getDefaultClient(): TickstreamClient {
  if (defaultClient) return defaultClient;
  const url = defaultOptions.url ?? sameOriginStreamUrl();
  if (!url) {
    throw new TypeError('Tickstream hooks need a <TickstreamProvider> (or configureTickstream({ url }) outside a browser)');
  }
  defaultClient = new TickstreamClient({ credentials: 'include', ...defaultOptions, url });
  defaultClient.connect();
  return defaultClient;
}

/** The client of the nearest provider, or the page's default client. */
export function useTickstreamClient(): TickstreamClient {
  return useContext(ClientContext) ?? getDefaultClient();
}
