/**
 * What the server takes on at once: requests beyond --max-pending are refused at once, and
 * decoding stays within the pixel budget (later requests wait in arrival order).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Admission, BusyError } from './admission.js';

/** Whether a promise has settled, after pending callbacks ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('Admission', () => {
  it('refuses requests beyond maxPending with a clear message, and admits again once one leaves', () => {
    const a = new Admission({ maxPending: 2, pixelBudget: 100 });
    const leave1 = a.enter();
    a.enter();
    assert.throws(
      () => a.enter(),
      (err: Error) => err instanceof BusyError && /busy: 2 recognition requests are in progress/.test(err.message),
    );
    leave1();
    leave1(); // twice counts once
    assert.equal(a.inProgress, 1);
    a.enter();
    assert.throws(() => a.enter(), BusyError);
  });

  it('keeps the pixels decoding within the budget, in arrival order; an image over the whole budget runs alone', async () => {
    const a = new Admission({ maxPending: 10, pixelBudget: 100 });
    const r1 = await a.reserve(60);
    const second = a.reserve(60);
    const third = a.reserve(10); // fits, but waits behind the earlier request
    assert.equal(await settled(second), false);
    assert.equal(await settled(third), false);
    assert.equal(a.pixelsInFlight, 60);
    r1();
    const r2 = await second;
    const r3 = await third;
    assert.equal(a.pixelsInFlight, 70);
    const huge = a.reserve(1000);
    assert.equal(await settled(huge), false);
    r2();
    r3();
    const rh = await huge;
    assert.equal(a.pixelsInFlight, 100);
    assert.equal(await settled(a.reserve(1)), false, 'nothing runs beside an image over the whole budget');
    rh();
    assert.ok(a.peakPixels <= 100, `peak ${a.peakPixels}`);
  });

  it('rejects limits that are not whole positive numbers', () => {
    assert.throws(() => new Admission({ maxPending: 0, pixelBudget: 100 }), /maxPending must be a whole number of at least 1/);
    assert.throws(() => new Admission({ maxPending: 1, pixelBudget: 1.5 }), /pixelBudget/);
  });
});
