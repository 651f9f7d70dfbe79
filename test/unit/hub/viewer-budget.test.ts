import assert from 'node:assert/strict';
import { test } from 'node:test';
import { viewerBudget } from '../../../src/hub/viewer.js';

const settings = { viewerMaxBufferedBytes: 1 << 22, viewerStallTimeoutMs: 15_000, fanoutWritesPerMs: 32 };

test('one process keeps the whole fan-out write rate', () => {
  const b = viewerBudget(settings, 1);
  assert.equal(b.writesPerMs, 32);
  assert.equal(b.maxBufferedBytes, 1 << 22);
  assert.equal(b.stallTimeoutMs, 15_000);
});

test('N workers split it, never below one write per ms', () => {
  assert.equal(viewerBudget(settings, 2).writesPerMs, 16);
  assert.equal(viewerBudget(settings, 4).writesPerMs, 8);
  assert.equal(viewerBudget({ ...settings, fanoutWritesPerMs: 2 }, 8).writesPerMs, 1);
});
