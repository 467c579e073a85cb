// prefers-reduced-motion: a P&L that moves flashes its colour only, with no animation or
// transition; without the preference the same flash also animates (so the check can tell).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as broker from './support/broker.mjs';
import { describePage, launch } from './support/browser.mjs';
import { assertFramesValid, note } from './support/report.mjs';
import { Tier } from './support/tier.mjs';

/** The computed style of the first P&L caught flashing (marks move P&L with every tick). */
async function flashStyle(page) {
  const handle = await page.waitForFunction(
    () => {
      const el = document.querySelector('.pnl[data-flash=up], .pnl[data-flash=down]');
      if (!el) return null;
      const cs = getComputedStyle(el);
      return {
        id: el.getAttribute('data-testid'),
        flash: el.getAttribute('data-flash'),
        animationName: cs.animationName,
        animationDuration: cs.animationDuration,
        transitionDuration: cs.transitionDuration,
        transform: cs.transform,
        backgroundColor: cs.backgroundColor,
        running: el.getAnimations().length,
      };
    },
    null,
    { timeout: 15000, polling: 'raf' },
  );
  return handle.jsonValue();
}

test('prefers-reduced-motion: the P&L flash is colour only, no animation', async (t) => {
  const tier = await new Tier('reduced-motion').start();
  t.after(() => tier.stop());
  await tier.post(broker.opening('demo'));
  const b = await launch();
  t.after(() => b.close());

  const reduced = b.page;
  await reduced.emulateMedia({ reducedMotion: 'reduce' });
  await reduced.goto(`${tier.origin}/?login=dev`);
  assert.equal(await reduced.evaluate(() => matchMedia('(prefers-reduced-motion: reduce)').matches), true);
  const still = await flashStyle(reduced).catch(async (e) => assert.fail(`no flash: ${e.message}; ${await describePage(reduced)}`));
  note(t, `reduced motion: ${still.id} flashed ${still.flash}: background ${still.backgroundColor}, animation ${still.animationName}, ${still.running} running`);
  assert.equal(still.animationName, 'none');
  assert.equal(still.running, 0, 'no animation runs');
  assert.equal(still.transform, 'none');
  assert.match(still.transitionDuration, /^0s(, 0s)*$/);
  assert.match(still.backgroundColor, still.flash === 'up' ? /^rgba\(63, 185, 80, 0\.35\)$/ : /^rgba\(248, 81, 73, 0\.35\)$/, 'the colour still shows');

  // The same page without the preference animates: the check above is not vacuous.
  const moving = await b.context.newPage();
  await moving.emulateMedia({ reducedMotion: 'no-preference' });
  await moving.goto(`${tier.origin}/?login=dev`);
  const pop = await flashStyle(moving);
  note(t, `no preference: ${pop.id} flashed ${pop.flash}: animation ${pop.animationName} ${pop.animationDuration}`);
  assert.equal(pop.animationName, 'pnl-pop');
  assertFramesValid(t, b.frames);
});
