import assert from 'node:assert/strict';
import { test } from 'node:test';
import { msToTimescale, TimestampUnwrapper, wrap32 } from '../../../src/media/time.js';

const W = 2 ** 32;

/** [what, 32-bit wire timestamps in order, the monotonic ms each becomes] */
const UNWRAP_CASES: [string, number[], number[]][] = [
  ['plain increasing', [0, 40, 80], [0, 40, 80]],
  ['starts late, as a republish can', [3_000_000, 3_000_040], [3_000_000, 3_000_040]],
  ['wraps past 2^32 (FLV E.4.1: 49.7 days)', [W - 40, W - 1, 0, 40], [W - 40, W - 1, W, W + 40]],
  [
    'wraps twice, going forward all along',
    [W - 10, 5, 2 ** 31, W - 10, 5],
    [W - 10, W + 5, W + 2 ** 31, 2 * W - 10, 2 * W + 5],
  ],
  ['small steps back (B-frame order, reordered audio) are not wraps', [1000, 960, 1040], [1000, 960, 1040]],
  [
    'a step back across the wrap returns to the earlier epoch',
    [W - 10, 10, W - 20],
    [W - 10, W + 10, W - 20],
  ],
  ['a step back of more than 2^31 is a wrap', [2 ** 31 + 100, 50], [2 ** 31 + 100, W + 50]],
  ['negative (signed) wire values are read as unsigned', [-1, 0], [W - 1, W]],
];

for (const [what, wire, expected] of UNWRAP_CASES) {
  test(`TimestampUnwrapper: ${what}`, () => {
    const u = new TimestampUnwrapper();
    assert.deepEqual(
      wire.map((t) => u.unwrap(t)),
      expected,
    );
  });
}

test('wrap32 is the inverse on the wire', () => {
  const cases: [number, number][] = [
    [0, 0],
    [W - 1, W - 1],
    [W, 0],
    [W + 40, 40],
    [3 * W + 7, 7],
  ];
  for (const [ms, wire] of cases) assert.equal(wrap32(ms), wire, `${ms}`);
  const u = new TimestampUnwrapper();
  for (const ms of [W - 80, W - 40, W, W + 40]) assert.equal(u.unwrap(wrap32(ms)), ms);
});

test('msToTimescale rounds to the nearest tick', () => {
  const cases: [number, number, number][] = [
    [1000, 90_000, 90_000],
    [40, 90_000, 3600],
    [23, 44_100, 1014], // 1014.3
    [1, 48_000, 48],
    [0.5, 1000, 1], // rounds half up
  ];
  for (const [ms, scale, ticks] of cases)
    assert.equal(msToTimescale(ms, scale), ticks, `${ms} ms @ ${scale}`);
});
