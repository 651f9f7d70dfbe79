import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ifRangeHolds } from '../../../src/http/static-files.js';

test('If-Range: strong entity-tag comparison, and a date only as a strong validator (RFC 9110 13.1.5)', () => {
  const etag = '"1a5-18c2f3e4a10"';
  const mtimeMs = Date.parse('Wed, 02 Dec 2026 05:00:00 GMT') + 250;
  const later = mtimeMs + 5_000;
  assert.equal(ifRangeHolds(etag, etag, mtimeMs, later), true);
  assert.equal(ifRangeHolds(` ${etag} `, etag, mtimeMs, later), true);
  assert.equal(ifRangeHolds(`W/${etag}`, etag, mtimeMs, later), false);
  assert.equal(ifRangeHolds(etag, `W/${etag}`, mtimeMs, later), false);
  assert.equal(ifRangeHolds('"1a5-18c2f3e4a11"', etag, mtimeMs, later), false);
  assert.equal(ifRangeHolds('Wed, 02 Dec 2026 05:00:00 GMT', etag, mtimeMs, later), true);
  assert.equal(ifRangeHolds('Wed, 02 Dec 2026 04:59:59 GMT', etag, mtimeMs, later), false);
  // Changed within the last second: another write in the same second would show the same date.
  assert.equal(ifRangeHolds('Wed, 02 Dec 2026 05:00:00 GMT', etag, mtimeMs, mtimeMs + 400), false);
  assert.equal(ifRangeHolds('yesterday', etag, mtimeMs, later), false);
});
