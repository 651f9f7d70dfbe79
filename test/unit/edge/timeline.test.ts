import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ContinuousTimeline, GAP_MS } from '../../../src/edge/timeline.js';

/** A frame: track, upstream dts and (B-frames) pts; or a reconnect on a new or the same clock. */
type Step = ['v' | 'a', number] | ['v' | 'a', number, number] | 'reconnect' | 'resume';

/**
 * [what, upstream frames (track, dts) with reconnects between (a new clock, or a resume of the
 * same one), the times viewers get (null: dropped as a repeat)]
 */
const CASES: [string, Step[], (number | null)[]][] = [
  [
    'one connection passes through unchanged',
    [
      ['v', 0],
      ['a', 10],
      ['v', 40],
    ],
    [0, 10, 40],
  ],
  [
    'an upstream that starts late keeps its times',
    [
      ['v', 5000],
      ['v', 5040],
    ],
    [5000, 5040],
  ],
  [
    'a restarted origin (clock back near 0) follows on after a short gap',
    [['v', 9000], ['a', 9010], 'reconnect', ['v', 0], ['a', 5], ['v', 40]],
    [9000, 9010, 9010 + GAP_MS, 9015 + GAP_MS, 9050 + GAP_MS],
  ],
  [
    'a clock that jumps forward does not leave a hole',
    [['v', 100], 'reconnect', ['v', 7_000_000], ['v', 7_000_040]],
    [100, 100 + GAP_MS, 140 + GAP_MS],
  ],
  [
    'audio from before the keyframe that opened the new connection still moves forward',
    [['v', 1000], ['a', 1050], 'reconnect', ['v', 500], ['a', 300], ['a', 323]],
    [1000, 1050, 1050 + GAP_MS, 1051, 1074],
  ],
  [
    'a cut after a P frame whose B frames never came: the new keyframe is shown after it',
    // The last frame decodes at 2760 and is shown at 2920 (two B frames were to come).
    [['v', 2720, 2760], ['v', 2760, 2920], 'reconnect', ['v', 0, 80], ['v', 40, 200]],
    [2720, 2760, 2920 + GAP_MS - 80, 2960 + GAP_MS - 80],
  ],
  [
    'a resume on the same clock drops what the upstream sends again and keeps the offset',
    [
      ['v', 0],
      ['v', 40],
      ['a', 50],
      ['v', 80],
      'resume',
      ['v', 0],
      ['v', 40],
      ['a', 50],
      ['v', 80],
      ['a', 73],
      ['v', 120],
      ['a', 96],
    ],
    [0, 40, 50, 80, null, null, null, null, 73, 120, 96],
  ],
  [
    "a resume after a new clock keeps that clock's offset",
    [['v', 9000], 'reconnect', ['v', 0], ['v', 40], 'resume', ['v', 0], ['v', 40], ['v', 80]],
    [9000, 9000 + GAP_MS, 9040 + GAP_MS, null, null, 9080 + GAP_MS],
  ],
];

for (const [what, steps, expected] of CASES) {
  test(`ContinuousTimeline: ${what}`, () => {
    const t = new ContinuousTimeline();
    const out: (number | null)[] = [];
    for (const s of steps) {
      if (s === 'reconnect') t.reanchor();
      else if (s === 'resume') t.resume();
      else out.push(t.map(s[0], s[1], s[2]) ?? null);
    }
    assert.deepEqual(out, expected);
  });
}

test('ContinuousTimeline: every track stays strictly increasing over many reconnects', () => {
  const t = new ContinuousTimeline();
  const last = { v: Number.NEGATIVE_INFINITY, a: Number.NEGATIVE_INFINITY };
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let c = 0; c < 50; c++) {
    t.reanchor();
    let base = Math.floor(rnd() * 1e7);
    for (let i = 0; i < 30; i++) {
      const track = rnd() < 0.5 ? 'v' : 'a';
      base += Math.floor(rnd() * 40) - 5; // loose interleaving, small steps back
      const out = t.map(track, base)!;
      assert.ok(out > last[track], `${track} ${out} after ${last[track]}`);
      last[track] = out;
    }
  }
});
