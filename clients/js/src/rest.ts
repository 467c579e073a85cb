import { parseServerFrame } from './parse.js';
import type { SnapshotMessage } from './protocol.js';

/** How fetch sends cookies: 'include' for a cookie session (also cross-origin), as in fetch(). */
export type CredentialsMode = 'include' | 'same-origin' | 'omit';

/** The part of a fetch() Response the client reads. */
export interface FetchResponseLike {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

export interface FetchInit {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  credentials: CredentialsMode;
  body?: string;
}

/** fetch(), or anything shaped like it. */
export type FetchLike = (url: string, init: FetchInit) => Promise<FetchResponseLike>;

export type RestResult =
  | { readonly ok: true; readonly status: number; readonly body: SnapshotMessage }
  | {
      readonly ok: false;
      /** The HTTP status, or 0 when the request did not get an answer. */
      readonly status: number;
      /** The body's `code`, when it had one. */
      readonly code: string | null;
      /** `Retry-After`, in ms. */
      readonly retryAfterMs: number | null;
      readonly message: string;
    };

export interface RestClientOptions {
  /** Origin (and path prefix) of the REST API, e.g. "https://example.com". */
  baseUrl: string;
  fetch: FetchLike;
  credentials: CredentialsMode;
  /** The Authorization header value to send, if any (a bearer token). */
  authorization: () => string | null;
}

/** The REST fallback of PROTOCOL.md ("REST"): the same state as the stream's snapshot. */
export class RestClient {
  constructor(private readonly options: RestClientOptions) {}

  positions(): Promise<RestResult> {
    return this.get('/api/positions');
  }

  orders(): Promise<RestResult> {
    return this.get('/api/orders');
  }

  account(): Promise<RestResult> {
    return this.get('/api/account');
  }

  /** The last tick of each symbol (at most 1,000 a request, as the edge allows). */
  prices(symbols: readonly string[]): Promise<RestResult> {
    return this.get(`/api/prices?symbols=${symbols.map(encodeURIComponent).join(',')}`);
  }

  async get(path: string): Promise<RestResult> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const auth = this.options.authorization();
    if (auth) headers.Authorization = auth;
    let res: FetchResponseLike;
    let text: string;
    try {
      res = await this.options.fetch(this.options.baseUrl + path, {
        method: 'GET',
        headers,
        credentials: this.options.credentials,
      });
      text = await res.text();
    } catch (err) {
      return { ok: false, status: 0, code: null, retryAfterMs: null, message: String(err) };
    }
    let body: unknown = null;
    try {
      body = parseServerFrame(text);
    } catch {
      body = null;
    }
    if (res.ok && body !== null && (body as { type?: unknown }).type === 'snapshot') {
      return { ok: true, status: res.status, body: body as SnapshotMessage };
    }
    const code = body !== null && typeof (body as { code?: unknown }).code === 'string' ? (body as { code: string }).code : null;
    return {
      ok: false,
      status: res.ok ? 0 : res.status,
      code,
      retryAfterMs: retryAfterMs(res.headers.get('Retry-After')),
      message: res.ok ? 'unexpected body' : `HTTP ${res.status}`,
    };
  }
}

function retryAfterMs(header: string | null): number | null {
  if (header === null) return null;
  const s = Number(header.trim());
  return Number.isFinite(s) && s >= 0 ? s * 1000 : null;
}

/** The REST origin of a stream URL: ws://host:8080/ws → http://host:8080 (the same origin). */
export function restBaseFromStreamUrl(url: string): string {
  const m = /^(wss?):\/\/([^/?#]+)([^?#]*)/i.exec(url);
  if (!m) throw new TypeError(`not a ws:// or wss:// URL: ${url}`);
  const scheme = (m[1] ?? 'ws').toLowerCase() === 'wss' ? 'https' : 'http';
  const path = (m[3] ?? '').replace(/\/ws\/?$/, '').replace(/\/$/, '');
  return `${scheme}://${m[2] ?? ''}${path}`;
}
