import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, DEFAULT_BACKOFF } from '../../../src/pusher/backoff.js';

test('backoff doubles from 0.5 s and stops at 8 s', () => {
  const delays = [1, 2, 3, 4, 5, 6, 7, 100, 5000].map((n) => backoffDelay(n));
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 8000, 8000, 8000, 8000]);
  assert.deepEqual(DEFAULT_BACKOFF, { initialMs: 500, maxMs: 8000 });
});

test('backoff: custom bounds; attempt 0 or fractions count as the first', () => {
  const opts = { initialMs: 100, maxMs: 350 };
  assert.deepEqual(
    [0, 1, 1.5, 2, 3].map((n) => backoffDelay(n, opts)),
    [100, 100, 100, 200, 350],
  );
});
