import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pacer } from '../../../src/pusher/pacer.js';

test('pacer: the first second bursts, then media time / speed', () => {
  const p = new Pacer({ speed: 1 });
  assert.equal(p.delay(0, 5000), 0); // anchors at wall 5000, media 0
  assert.equal(p.delay(500, 5001), 0);
  assert.equal(p.delay(999, 5002), 0);
  assert.equal(p.delay(1000, 5003), 997); // due at 5000 + 1000
  assert.equal(p.delay(4000, 6000), 3000);
  assert.equal(p.delay(4000, 9000), 0);
});

test('pacer: speed 4 divides the schedule; the anchor is the first dts given', () => {
  const p = new Pacer({ speed: 4, burstMs: 0 });
  assert.equal(p.delay(2000, 0), 0);
  assert.equal(p.delay(2400, 0), 100);
  assert.equal(p.delay(10_000, 1000), 1000); // (10000 - 2000) / 4 = 2000 after the anchor
});

test('pacer: falling far behind moves the schedule instead of racing', () => {
  const p = new Pacer({ speed: 1, burstMs: 0, maxLagMs: 2000 });
  p.delay(0, 0);
  assert.equal(p.delay(1000, 1500), 0); // 500 ms late: within the lag, send now
  assert.equal(p.delay(2000, 6000), 0); // 4 s late: the schedule moves by 4 s
  assert.equal(p.delay(3000, 6000), 1000); // and the next frame is paced from there
});

test('pacer: reanchor starts a new burst at the next frame', () => {
  const p = new Pacer({ speed: 1 });
  p.delay(0, 0);
  assert.equal(p.delay(5000, 100), 4900);
  p.reanchor();
  assert.equal(p.delay(5000, 100), 0);
  assert.equal(p.delay(5900, 100), 0);
  assert.equal(p.delay(6500, 100), 1500);
});

test('pacer: a speed that is not a positive number is refused', () => {
  for (const speed of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => new Pacer({ speed }), RangeError);
  }
});
