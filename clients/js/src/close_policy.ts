import { CloseCode } from './protocol.js';

/**
 * What to do when a connection ends, from PROTOCOL.md's table:
 * - `reconnect_now`: the edge is going away (drain); any other edge will do, at once;
 * - `backoff`: a network failure or a transient refusal; retry after the backoff delay;
 * - `stop`: the client is at fault; retrying cannot help;
 * - `reauthenticate`: the credential is spent; get a fresh one (getToken / onAuthRequired) first;
 * - `wait_for_slot`: the user is at the tier-wide connection limit; a slot frees when another of
 *   the user's connections closes, or within the lease TTL (30 s) when an edge died holding it.
 */
export type CloseAction = 'reconnect_now' | 'backoff' | 'stop' | 'reauthenticate' | 'wait_for_slot';

export interface CloseVerdict {
  action: CloseAction;
  /** A short machine-readable reason, shown in the connection status. */
  reason: string;
}

/**
 * The verdict for a WebSocket close code. `byClient` is true when this client started the close
 * (the edge only echoes 1000 for a close the client started, so a 1000 it did not start is
 * treated as a network failure).
 */
export function closeVerdict(code: number, byClient = false): CloseVerdict {
  switch (code) {
    case CloseCode.normal:
      return byClient ? { action: 'stop', reason: 'closed' } : { action: 'backoff', reason: 'closed_by_server' };
    case CloseCode.goingAway:
      return { action: 'reconnect_now', reason: 'draining' };
    case CloseCode.protocolError:
      return { action: 'stop', reason: 'protocol_error' };
    case CloseCode.policyViolation:
      return { action: 'stop', reason: 'rate_limited' };
    case CloseCode.messageTooBig:
      return { action: 'stop', reason: 'message_too_big' };
    case CloseCode.tokenExpired:
      return { action: 'reauthenticate', reason: 'token_expired' };
    case CloseCode.authenticationFailed:
      return { action: 'reauthenticate', reason: 'authentication_failed' };
    case CloseCode.slowConsumer:
      return { action: 'backoff', reason: 'slow_consumer' };
    case CloseCode.tooManyConnections:
      return { action: 'wait_for_slot', reason: 'max_connections' };
    case CloseCode.revoked:
      return { action: 'reauthenticate', reason: 'revoked' };
    case CloseCode.abnormal:
      return { action: 'backoff', reason: 'connection_lost' };
    default:
      // 1011 (server error), 1012/1013 (restart, try later), 1015 (TLS) and codes this client does
      // not know: retrying later is the safe reading.
      return { action: 'backoff', reason: `close_${code}` };
  }
}

/**
 * The verdict for an HTTP refusal of the upgrade. Browsers do not expose the status of a refused
 * upgrade, so the client learns it by asking the REST API with the same credentials (the same
 * checks run there); a `ws`-style socket that reports it can pass it too.
 */
export function httpVerdict(status: number): CloseVerdict {
  if (status === 401) return { action: 'reauthenticate', reason: 'unauthorized' };
  if (status === 403) return { action: 'stop', reason: 'forbidden_origin' };
  if (status === 429) return { action: 'backoff', reason: 'too_many_connections' };
  if (status === 503) return { action: 'backoff', reason: 'unavailable' };
  return { action: 'backoff', reason: `http_${status}` };
}
