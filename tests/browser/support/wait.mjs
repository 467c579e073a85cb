// Polling with a deadline: the browser tests wait on conditions, never for a fixed time.

/**
 * Resolves with the first truthy value of `check()` (sync or async), polled every `everyMs`;
 * throws after `timeoutMs`, with what `explain()` (if given) says about the state then.
 */
export async function waitFor(check, { timeoutMs = 5000, everyMs = 25, what = 'a condition', explain = null } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const detail = explain ? await Promise.resolve().then(explain).catch((e) => `explain failed: ${e.message}`) : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}${detail ? `; ${detail}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
