import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { backoffCeiling, backoffDelay } from '../src/index.js';

describe('full-jitter backoff', () => {
  it('doubles the ceiling from the base up to the cap: 1, 2, 4, 8, 16, then 30 s', () => {
    const ceilings = [0, 1, 2, 3, 4, 5, 6, 10, 100, 5000].map((n) => backoffCeiling(n));
    assert.deepEqual(ceilings, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000, 30000]);
  });

  it('draws each delay uniformly in [0, ceiling): the bounds with the extreme random values', () => {
    for (let n = 0; n < 12; n++) {
      assert.equal(backoffDelay(n, () => 0), 0);
      const top = backoffDelay(n, () => 0.999999);
      assert.ok(top < backoffCeiling(n) && top >= backoffCeiling(n) - 1, `attempt ${n}: ${top}`);
    }
    assert.equal(backoffDelay(2, () => 0.5), 2000);
  });

  it('stays within its bounds for many random draws, and spreads over the window', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const delays = Array.from({ length: 2000 }, () => backoffDelay(7, random));
    assert.ok(delays.every((d) => d >= 0 && d < 30000));
    assert.ok(Math.min(...delays) < 3000 && Math.max(...delays) > 27000, 'full jitter covers the window');
  });

  it('honours a configured base and cap', () => {
    const opts = { baseMs: 100, capMs: 500 };
    assert.deepEqual([0, 1, 2, 3, 9].map((n) => backoffCeiling(n, opts)), [100, 200, 400, 500, 500]);
  });
});
