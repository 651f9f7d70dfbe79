import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatBitrate,
  formatClock,
  formatProgressLine,
  formatProgressLog,
  ProgressDisplay,
  RateMeter,
} from '../../../src/pusher/progress.js';
import type { PushProgress } from '../../../src/pusher/pusher.js';

const base: PushProgress = {
  state: 'sending',
  positionMs: 75_000,
  durationMs: 300_000,
  pass: 1,
  sentMs: 75_000,
  bytes: 0,
  frames: 1875,
  reconnects: 0,
};

test('formatClock and formatBitrate', () => {
  assert.equal(formatClock(0), '0:00');
  assert.equal(formatClock(75_400), '1:15');
  assert.equal(formatClock(3_725_000), '1:02:05');
  assert.equal(formatClock(-5), '0:00');
  assert.equal(formatBitrate(250_400), '250 kbit/s');
  assert.equal(formatBitrate(2_500_000), '2.50 Mbit/s');
});

test('RateMeter: bitrate and speed over the window', () => {
  const m = new RateMeter();
  assert.deepEqual(m.add(0, 0, 0), { bitrate: 0, speed: 0 });
  const r = m.add(1000, 125_000, 2000);
  assert.equal(r.bitrate, 1_000_000);
  assert.equal(r.speed, 2);
  // After 3 s the oldest samples leave the window.
  m.add(2000, 250_000, 4000);
  m.add(3500, 250_000, 5000);
  const late = m.add(5000, 250_000, 6000);
  assert.equal(late.bitrate, 0);
  assert.equal(late.speed, 2000 / 3000);
});

test('formatProgressLine: bar, position / duration, rates, loop and reconnects', () => {
  const line = formatProgressLine(base, { bitrate: 1_200_000, speed: 1 });
  assert.equal(line, '[######------------------] 1:15 / 5:00  1.20 Mbit/s  speed 1.00x');
  const other = formatProgressLine(
    { ...base, durationMs: undefined, pass: 3, reconnects: 2, state: 'reconnecting' },
    { bitrate: 0, speed: 0 },
  );
  assert.equal(other, '1:15 (loop 3)  0 kbit/s  speed 0.00x  2 reconnects  reconnecting…');
  assert.equal(
    formatProgressLog(base, { bitrate: 300_000, speed: 1 }),
    'push: 1:15 / 5:00  300 kbit/s  speed 1.00x, 1875 frames sent',
  );
});

function sink() {
  const out: string[] = [];
  return { out, write: (s: string) => out.push(s) };
}

test('ProgressDisplay on a terminal: redrawn in place at most every 250 ms; messages clear it', () => {
  let now = 0;
  const s = sink();
  const d = new ProgressDisplay(s, true, () => now);
  d.update(base);
  now = 100;
  d.update(base);
  now = 300;
  d.update(base);
  assert.equal(s.out.length, 2);
  assert.ok(s.out.every((l) => l.startsWith('\r') && l.endsWith('\x1b[K')));
  d.log('reconnecting');
  assert.deepEqual(s.out.slice(2), ['\r\x1b[K', 'reconnecting\n']);
  d.update({ ...base, state: 'done' });
  assert.equal(s.out.at(-1), '\n');
});

test('ProgressDisplay without a terminal: one line every 10 s', () => {
  let now = 0;
  const s = sink();
  const d = new ProgressDisplay(s, false, () => now);
  for (now = 0; now <= 25_000; now += 500) d.update(base);
  assert.equal(s.out.length, 2);
  assert.ok(s.out.every((l) => l.startsWith('push: ') && l.endsWith('\n')));
  d.log('done');
  assert.equal(s.out.at(-1), 'done\n');
});

test('ProgressDisplay: no rate until it means something — not at the start, not across a reconnect', () => {
  let now = 0;
  const s = sink();
  const d = new ProgressDisplay(s, true, () => now);
  const at = (ms: number, p: Partial<PushProgress>) => {
    now = ms;
    d.update({ ...base, ...p });
    return s.out.at(-1) ?? '';
  };
  // The first second goes out at once (the burst): 1 s of media, then real time.
  assert.match(at(0, { bytes: 0, sentMs: 0 }), /measuring rate…/);
  assert.doesNotMatch(at(300, { bytes: 125_000, sentMs: 1300 }), /speed/);
  at(1000, { bytes: 150_000, sentMs: 2000 });
  const steady = at(2500, { bytes: 150_000 + 187_500, sentMs: 3500 });
  assert.match(steady, /1\.00 Mbit\/s {2}speed 1\.00x/);
  // A reconnect that took 5 s: the rate after it counts from its end, not across the gap.
  assert.doesNotMatch(at(3000, { state: 'reconnecting', bytes: 400_000, sentMs: 4000 }), /speed/);
  assert.match(at(8000, { state: 'sending', bytes: 400_000, sentMs: 4000 }), /measuring rate…/);
  at(9000, { bytes: 500_000, sentMs: 5000 });
  assert.match(at(10_000, { bytes: 625_000, sentMs: 6000 }), /1\.00 Mbit\/s {2}speed 1\.00x/);
});
