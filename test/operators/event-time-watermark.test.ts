import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventTimeWatermark, MAX_WATERMARK_CHANNEL } from '../../operators/event-time-watermark.js';
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

describe('EventTimeWatermark with several channels', () => {
  it('closes boundaries by the minimum of the channels\' maxima and answers maxEventTime as the maximum', () => {
    const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 0 });
    w.observe(T0 + 100, 0);
    w.observe(T0 + 5500, 0);
    assert.equal(w.lastClosedBoundary, T0 + 5000, 'alone, channel 0 closes by its own time');
    w.declareChannels([0, 1]);
    w.observe(T0 + 6500, 0);
    assert.equal(w.eventTime, T0 + 5500, 'channel 1 has delivered nothing: nothing moves');
    assert.equal(w.maxEventTime, T0 + 6500);
    w.observe(T0 + 5200, 1);
    assert.equal(w.eventTime, T0 + 5500, 'the combined time never goes back');
    w.observe(T0 + 6100, 1);
    assert.equal(w.eventTime, T0 + 6100);
    assert.equal(w.lastClosedBoundary, T0 + 6000);
    w.observe(T0 + 9000, 1);
    assert.equal(w.eventTime, T0 + 6500, 'now channel 0 is the slowest');
    assert.equal(w.maxEventTime, T0 + 9000);
    assert.deepEqual(w.takeClosedBoundaries(), [1, 2, 3, 4, 5, 6].map((i) => T0 + i * 1000));
  });

  it('a lagging channel\'s events are not late while it holds the watermark back', () => {
    const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 500 });
    w.declareChannels([0, 1]);
    for (let t = 0; t < 60_000; t += 100) assert.equal(w.observe(T0 + t, 0), true);
    assert.equal(w.lastClosedBoundary, -Infinity);
    for (let t = 0; t < 60_000; t += 100) assert.equal(w.observe(T0 + t, 1), true, `channel 1 at +${t}`);
    assert.equal(w.lateCount, 0);
    assert.equal(w.lastClosedBoundary, T0 + 59_000);
  });

  it('without declared channels a channel that starts after another has run ahead finds its windows closed', () => {
    const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 500 });
    w.observe(T0 + 10_000, 0);
    assert.equal(w.observe(T0 + 1000, 1), false);
    assert.equal(w.lateCount, 1);
    assert.deepEqual(
      w.channelStates().map((c) => c.channel),
      [0, 1],
      'an unknown channel registers itself on its first event',
    );
  });

  it('a declared channel that never delivers holds everything back until it is marked idle', () => {
    const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 0 });
    w.declareChannels([0, 1, 2]);
    w.observe(T0 + 3500, 0);
    w.observe(T0 + 4500, 1);
    assert.equal(w.eventTime, -Infinity);
    assert.equal(w.lastClosedBoundary, -Infinity);
    w.markIdle(2);
    assert.equal(w.eventTime, T0 + 3500);
    assert.equal(w.lastClosedBoundary, T0 + 3000);
    assert.deepEqual(w.channelStates(), [
      { channel: 0, maxEventTime: T0 + 3500, idle: false },
      { channel: 1, maxEventTime: T0 + 4500, idle: false },
      { channel: 2, maxEventTime: -Infinity, idle: true },
    ]);
  });

  it('an idle channel rejoins the minimum when it delivers again, and the clock does not go back', () => {
    const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 1000 });
    w.declareChannels([0, 1]);
    w.observe(T0 + 2000, 1);
    w.observe(T0 + 5000, 0);
    w.markIdle(1);
    assert.equal(w.eventTime, T0 + 5000);
    assert.equal(w.lastClosedBoundary, T0 + 4000);
    assert.equal(w.observe(T0 + 4200, 1), true, 'within its open sub-window: on time');
    assert.equal(w.channelStates()[1].idle, false);
    w.observe(T0 + 9000, 0);
    assert.equal(w.eventTime, T0 + 5000, 'channel 1, at +4.2 s, holds it again');
    assert.equal(w.observe(T0 + 3900, 1), false, 'before the closed boundary: late');
    w.observe(T0 + 7000, 1);
    assert.equal(w.eventTime, T0 + 7000);
    assert.equal(w.lastClosedBoundary, T0 + 6000);
  });

  it('when every channel is idle the combined time is the largest channel maximum', () => {
    const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 0 });
    w.observe(T0 + 1500, 0);
    w.observe(T0 + 7500, 1);
    assert.equal(w.eventTime, T0 + 1500);
    w.markIdle(0);
    w.markIdle(1);
    assert.equal(w.eventTime, T0 + 7500);
    assert.equal(w.lastClosedBoundary, T0 + 7000);
    w.markIdle(1);
    w.markIdle(5);
    assert.equal(w.eventTime, T0 + 7500, 'marking an idle or unknown channel changes nothing');
  });

  it('declaring channels keeps the known ones, adds new ones unseen and drops the rest, which can close boundaries', () => {
    const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 0 });
    w.observe(T0 + 1500, 0);
    w.observe(T0 + 4500, 1);
    w.observe(T0 + 8500, 2);
    assert.equal(w.eventTime, T0 + 1500);
    w.declareChannels([2, 1, 3, 1]);
    assert.equal(w.eventTime, T0 + 1500, 'channel 3 has not delivered: held where it was');
    assert.deepEqual(
      w.channelStates().map((c) => [c.channel, c.maxEventTime]),
      [
        [1, T0 + 4500],
        [2, T0 + 8500],
        [3, -Infinity],
      ],
    );
    w.declareChannels([1, 2]);
    assert.equal(w.eventTime, T0 + 4500);
    assert.equal(w.lastClosedBoundary, T0 + 4000);
    assert.equal(w.maxEventTime, T0 + 8500);
    w.declareChannels([]);
    assert.deepEqual(w.channelStates(), []);
    assert.equal(w.eventTime, T0 + 4500, 'no channels: the clock stays');
  });

  it('markSilentChannelsIdle marks the channels that got nothing since the previous call and tells when all are idle', () => {
    const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 0 });
    assert.equal(w.markSilentChannelsIdle(), true, 'no channels: all idle');
    w.declareChannels([0, 1]);
    assert.equal(w.markSilentChannelsIdle(), false, 'declared since the last call: heard from');
    w.observe(T0 + 2500, 0);
    assert.equal(w.markSilentChannelsIdle(), false);
    assert.deepEqual(w.channelStates().map((c) => c.idle), [false, true]);
    assert.equal(w.lastClosedBoundary, T0 + 2000, 'the silent channel no longer holds channel 0 back');
    w.observe(T0 + 2600, 0);
    w.observe(T0 + 2700, 0);
    assert.equal(w.markSilentChannelsIdle(), false, 'a cached channel still counts as heard from');
    assert.equal(w.markSilentChannelsIdle(), true);
    w.observe(T0 + 100, 1);
    assert.equal(w.lateCount, 1);
    assert.deepEqual(w.channelStates().map((c) => c.idle), [true, false], 'a late event still counts as delivering');
  });

  it('advanceTo moves the whole clock past every channel', () => {
    const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 0 });
    w.declareChannels([0, 1]);
    w.observe(T0 + 500, 0);
    w.advanceTo(T0 + 3000);
    assert.equal(w.eventTime, T0 + 3000);
    assert.equal(w.maxEventTime, T0 + 3000);
    assert.deepEqual(w.takeClosedBoundaries(), [T0 + 1000, T0 + 2000, T0 + 3000]);
    assert.deepEqual(w.channelStates().map((c) => c.maxEventTime), [T0 + 500, -Infinity], 'channel maxima are their own');
  });

  it('keeps the combined time equal to a brute-force minimum over random channel traffic', () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const w = new EventTimeWatermark({ slideMs: 10, allowedLatenessMs: 25 });
    w.declareChannels([0, 1, 2, 3]);
    const max = [-Infinity, -Infinity, -Infinity, -Infinity];
    const idle = [false, false, false, false];
    let expected = -Infinity;
    const pos = [0, 0, 0, 0];
    for (let step = 0; step < 5000; step++) {
      const c = rand(4);
      if (rand(50) === 0) {
        w.markIdle(c);
        idle[c] = true;
      } else {
        pos[c] += rand(7);
        const t = pos[c] - rand(20);
        idle[c] = false;
        if (w.observe(t, c)) max[c] = Math.max(max[c], t);
      }
      const active = max.filter((_, i) => !idle[i]);
      expected = Math.max(expected, active.length > 0 ? Math.min(...active) : Math.max(...max));
      assert.equal(w.eventTime, expected, `step ${step}`);
      assert.equal(w.lastClosedBoundary, Number.isFinite(expected) ? Math.floor((expected - 25) / 10) * 10 : -Infinity);
    }
  });

  it('rejects a channel that is not an integer in [0, MAX_WATERMARK_CHANNEL]', () => {
    for (const channel of [-1, 1.5, Number.NaN, MAX_WATERMARK_CHANNEL + 1]) {
      const w = new EventTimeWatermark({ slideMs: 1000, allowedLatenessMs: 0 });
      assert.throws(() => w.observe(T0, channel), (err) => isVigilError(err, 'VIGIL_CONFIG_INVALID'), String(channel));
      assert.throws(() => w.declareChannels([0, channel]), (err) => isVigilError(err, 'VIGIL_CONFIG_INVALID'));
      assert.deepEqual(w.channelStates(), [], 'a rejected declaration changes nothing');
    }
  });
});

describe('EventTimeWatermark with per-channel lateness', () => {
  it('an event late by its own channel is late even while another channel holds its sub-window open', () => {
    const perChannel = new EventTimeWatermark({ slideMs: 10, allowedLatenessMs: 5, perChannelLateness: true });
    const combined = new EventTimeWatermark({ slideMs: 10, allowedLatenessMs: 5 });
    for (const wm of [perChannel, combined]) {
      wm.declareChannels([0, 1]);
      assert.equal(wm.observe(100, 0), true);
    }
    // Channel 1 has not delivered: nothing is closed, yet 80 lies before channel 0's own cut (90).
    assert.equal(perChannel.observe(80, 0), false);
    assert.equal(combined.observe(80, 0), true);
    // Within the allowed lateness of its own channel it still counts.
    assert.equal(perChannel.observe(96, 0), true);
    assert.equal(perChannel.observe(91, 0), true);
    assert.equal(perChannel.lateCount, 1);
  });

  it('whether an event counts does not depend on how the channels interleave', () => {
    const a = new EventTimeWatermark({ slideMs: 10, allowedLatenessMs: 5, perChannelLateness: true });
    const b = new EventTimeWatermark({ slideMs: 10, allowedLatenessMs: 5, perChannelLateness: true });
    const ch0 = [10, 30, 22, 50, 31, 60];
    const ch1 = [5, 12, 40, 33, 70];
    a.declareChannels([0, 1]);
    b.declareChannels([0, 1]);
    const first = [...ch0.map((t) => a.observe(t, 0)), ...ch1.map((t) => a.observe(t, 1))];
    const second: boolean[] = new Array<boolean>(ch0.length + ch1.length);
    ch1.forEach((t, i) => (second[ch0.length + i] = b.observe(t, 1)));
    ch0.forEach((t, i) => (second[i] = b.observe(t, 0)));
    assert.deepEqual(second, first);
  });
});
