import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventTimeWatermark } from '../../operators/event-time-watermark.js';
import { isVigilError } from '../../src/errors.js';

const T0 = 1_700_000_000_000; // a multiple of 1000

describe('EventTimeWatermark', () => {
  it('closes a boundary once the newest event time minus the lateness reaches it', () => {
    const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 500 });
    assert.equal(w.observe(T0 + 100), true);
    assert.deepEqual(w.takeClosedBoundaries(), []);
    assert.equal(w.observe(T0 + 1499), true);
    assert.deepEqual(w.takeClosedBoundaries(), []);
    assert.equal(w.observe(T0 + 1500), true);
    assert.equal(w.lastClosedBoundary, T0 + 1000);
    assert.deepEqual(w.takeClosedBoundaries(), [T0 + 1000]);
    assert.deepEqual(w.takeClosedBoundaries(), [], 'a boundary is handed out once');
  });

  it('hands out consecutive boundaries in order when the clock moves several slides at once', () => {
    const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 0 });
    w.observe(T0 + 10);
    w.observe(T0 + 3010);
    assert.deepEqual(w.takeClosedBoundaries(), [T0 + 1000, T0 + 2000, T0 + 3000]);
  });

  it('starts handing out at the end of the earliest sub-window that received an event', () => {
    const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 5000 });
    w.observe(T0 + 3200);
    w.observe(T0 + 400); // within the lateness, and earlier than the first event
    w.observe(T0 + 8000);
    assert.deepEqual(w.takeClosedBoundaries(), [T0 + 1000, T0 + 2000, T0 + 3000]);
  });

  it('a late event within the allowed lateness still counts', () => {
    const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 2000 });
    w.observe(T0 + 5000);
    assert.equal(w.lastClosedBoundary, T0 + 3000);
    assert.equal(w.observe(T0 + 3000), true, 'exactly at the watermark');
    assert.equal(w.observe(T0 + 3999), true);
    assert.equal(w.lateCount, 0);
  });

  it('an event later than the allowed lateness is counted as late and not added', () => {
    const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 2000 });
    w.observe(T0 + 5000);
    assert.equal(w.observe(T0 + 2999), false);
    assert.equal(w.observe(T0), false);
    assert.equal(w.lateCount, 2);
    assert.equal(w.maxEventTime, T0 + 5000, 'a late event does not move the clock');
  });

  it('treats an event before the watermark but in a still-open sub-window as on time', () => {
    const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 500 });
    w.observe(T0 + 1700); // watermark T0+1200, last closed boundary T0+1000
    assert.equal(w.observe(T0 + 1100), true, 'before the watermark, but [T0+1000, T0+2000) is open');
    assert.equal(w.observe(T0 + 999), false);
    assert.equal(w.lateCount, 1);
  });

  it('rejects non-finite event times without moving the clock', () => {
    const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 0 });
    assert.equal(w.observe(Number.NaN), false);
    assert.equal(w.observe(Infinity), false);
    assert.equal(w.observe(-Infinity), false);
    assert.equal(w.invalidCount, 3);
    assert.equal(w.lateCount, 0);
    assert.equal(w.maxEventTime, -Infinity);
  });

  it('advanceTo closes boundaries on an idle stream as if an event had come', () => {
    const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 1000 });
    w.observe(T0 + 500);
    assert.deepEqual(w.takeClosedBoundaries(), []);
    w.advanceTo(T0 + 3000);
    assert.equal(w.maxEventTime, T0 + 3000);
    assert.deepEqual(w.takeClosedBoundaries(), [T0 + 1000, T0 + 2000]);
    w.advanceTo(T0 + 2500); // backwards: ignored
    assert.equal(w.maxEventTime, T0 + 3000);
    assert.equal(w.observe(T0 + 1500), false, 'the advanced clock makes older events late');
  });

  it('flush closes every sub-window holding an event, ignoring the lateness', () => {
    const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 10_000 });
    w.observe(T0 + 200);
    w.observe(T0 + 2000); // exactly on a boundary: opens [T0+2000, T0+3000)
    assert.deepEqual(w.takeClosedBoundaries(), []);
    w.flush();
    assert.deepEqual(w.takeClosedBoundaries(), [T0 + 1000, T0 + 2000, T0 + 3000]);
    assert.equal(w.lastClosedBoundary, T0 + 3000);
  });

  it('flush before any event closes nothing', () => {
    const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 0 });
    w.flush();
    assert.equal(w.lastClosedBoundary, -Infinity);
    assert.equal(w.pollClosedBoundary(), undefined);
  });

  it('without a retention hands out every boundary of a long jump', () => {
    const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 0 });
    w.observe(T0);
    w.observe(T0 + 100_000);
    assert.equal(w.takeClosedBoundaries().length, 100);
    assert.equal(w.skippedBoundaryCount, 0);
  });

  it('with a retention skips the guaranteed-empty boundaries of a long jump but the first and last', () => {
    const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 0, retentionMs: 5000 });
    w.observe(T0 + 100);
    w.observe(T0 + 1_000_000);
    // Data lies in [T0, T0+1000): windows of up to 5 s still see it at boundaries T0+1000 … T0+5000;
    // T0+6000 is the first empty one, T0+1_000_000 the current one.
    assert.deepEqual(w.takeClosedBoundaries(), [
      T0 + 1000,
      T0 + 2000,
      T0 + 3000,
      T0 + 4000,
      T0 + 5000,
      T0 + 6000,
      T0 + 1_000_000,
    ]);
    assert.equal(w.skippedBoundaryCount, 1_000_000 / 1000 - 7);
    assert.equal(w.observe(T0 + 1_000_500), true);
    w.observe(T0 + 1_001_000);
    assert.deepEqual(w.takeClosedBoundaries(), [T0 + 1_001_000], 'back to one boundary per slide');
  });

  it('does not skip when a jump is shorter than the retention', () => {
    const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 0, retentionMs: 10_000 });
    w.observe(T0 + 100);
    w.observe(T0 + 8000);
    assert.equal(w.takeClosedBoundaries().length, 8);
    assert.equal(w.skippedBoundaryCount, 0);
  });

  it('polls boundaries one at a time without allocating an array', () => {
    const w = new EventTimeWatermark({ slideMs: 10, allowedLatenessMs: 0 });
    w.observe(5);
    w.observe(35);
    const seen: number[] = [];
    for (let b = w.pollClosedBoundary(); b !== undefined; b = w.pollClosedBoundary()) seen.push(b);
    assert.deepEqual(seen, [10, 20, 30]);
  });

  it('rejects a bad configuration with VIGIL_CONFIG_INVALID', () => {
    for (const options of [
      { slideMs: 0, allowedLatenessMs: 0 },
      { slideMs: 1.5, allowedLatenessMs: 0 },
      { slideMs: 1000, allowedLatenessMs: -1 },
      { slideMs: 1000, allowedLatenessMs: 0, retentionMs: 1500 },
    ]) {
      assert.throws(() => new EventTimeWatermark(options), (err) => isVigilError(err, 'VIGIL_CONFIG_INVALID'));
    }
  });
});
