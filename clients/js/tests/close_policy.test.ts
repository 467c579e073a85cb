import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { closeVerdict, httpVerdict } from '../src/index.js';

describe('close-code table', () => {
  const table: [number, boolean, string, string][] = [
    [1000, true, 'stop', 'closed'],
    [1000, false, 'backoff', 'closed_by_server'],
    [1001, false, 'reconnect_now', 'draining'],
    [1002, false, 'stop', 'protocol_error'],
    [1006, false, 'backoff', 'connection_lost'],
    [1008, false, 'stop', 'rate_limited'],
    [1009, false, 'stop', 'message_too_big'],
    [4001, false, 'reauthenticate', 'token_expired'],
    [4003, false, 'reauthenticate', 'authentication_failed'],
    [4008, false, 'backoff', 'slow_consumer'],
    [4009, false, 'wait_for_slot', 'max_connections'],
    [4010, false, 'reauthenticate', 'revoked'],
    [1011, false, 'backoff', 'close_1011'],
    [4999, false, 'backoff', 'close_4999'],
  ];
  for (const [code, byClient, action, reason] of table) {
    it(`${code}${byClient ? ' (client-initiated)' : ''} → ${action}`, () => {
      assert.deepEqual(closeVerdict(code, byClient), { action, reason });
    });
  }

  it('maps HTTP refusals: 401 reauthenticate, 403 stop, 429/503 back off', () => {
    assert.equal(httpVerdict(401).action, 'reauthenticate');
    assert.deepEqual(httpVerdict(403), { action: 'stop', reason: 'forbidden_origin' });
    assert.equal(httpVerdict(429).action, 'backoff');
    assert.equal(httpVerdict(503).action, 'backoff');
    assert.equal(httpVerdict(500).action, 'backoff');
  });
});
