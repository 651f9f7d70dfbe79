import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LimitHits } from '../../../src/net/limit-hits.js';
import { captureLog } from '../../helpers/edge.js';

test('every hit is counted; the log has one line per bound per interval, saying how many since', async () => {
  const cap = captureLog();
  const hits = new LimitHits(cap.log, 50);
  for (let i = 0; i < 5; i++) hits.hit('max_connections', { port: 'http' }, 'full');
  hits.hit('headers_timeout', {}, 'slow');
  assert.equal(hits.count('max_connections'), 5);
  assert.equal(hits.count('headers_timeout'), 1);
  assert.equal(hits.count('never'), 0);
  let lines = cap.lines().filter((l) => l.limit === 'max_connections');
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.hits, 1);
  assert.equal(lines[0]!.msg, 'limit reached: full');
  await new Promise((r) => setTimeout(r, 60));
  hits.hit('max_connections', { port: 'http' }, 'full');
  lines = cap.lines().filter((l) => l.limit === 'max_connections');
  assert.equal(lines.length, 2);
  assert.equal(lines[1]!.hits, 5, 'this one and the four not logged');
  assert.deepEqual(
    new Map(hits.entries()),
    new Map([
      ['max_connections', 6],
      ['headers_timeout', 1],
    ]),
  );
});
