import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram } from '../../../../bench/lib/histogram.js';

test('percentiles are nearest-rank over 1 ms buckets', () => {
  const h = new Histogram();
  for (let v = 1; v <= 100; v++) h.record(v);
  assert.deepEqual(
    [h.percentile(50), h.percentile(95), h.percentile(99), h.percentile(100)],
    [50, 95, 99, 100],
  );
  assert.equal(h.mean, 50.5);
  assert.ok(Number.isNaN(new Histogram().percentile(50)));
});

test('sparse form and merge keep every count', () => {
  const a = new Histogram();
  const b = new Histogram();
  a.record(3.4);
  a.record(3.6);
  b.record(70_000); // past the last bucket: counted as 60 s
  b.record(-5);
  const m = Histogram.fromSparse(a.toSparse());
  m.merge(b);
  assert.deepEqual(m.toSparse(), [
    [0, 1],
    [3, 1],
    [4, 1],
    [60_000, 1],
  ]);
  assert.equal(m.summary().n, 4);
});
