import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { signPath, verifySignedPath } from '../../../src/auth/sign.js';

const SECRET = 's3cret';
const NOW = 1_800_000_000;

test('a signature is expires-HMAC-SHA256(secret, path:expires) and verifies', () => {
  const sign = signPath('/live/cam1', SECRET, NOW + 60);
  const hmac = createHmac('sha256', SECRET)
    .update(`/live/cam1:${NOW + 60}`)
    .digest('hex');
  assert.equal(sign, `${NOW + 60}-${hmac}`);
  verifySignedPath('/live/cam1', `?sign=${sign}`, SECRET, NOW);
  verifySignedPath('/live/cam1', `sign=${sign}&x=1`, SECRET, NOW);
});

test('missing, malformed, expired, wrong-path and wrong-secret signatures are refused', () => {
  const good = signPath('/live/cam1', SECRET, NOW + 60);
  const cases: [string, string, string, RegExp][] = [
    ['/live/cam1', '', SECRET, /needs a signed URL/],
    ['/live/cam1', '?sign=abc', SECRET, /malformed/],
    ['/live/cam1', `?sign=${signPath('/live/cam1', SECRET, NOW - 1)}`, SECRET, /expired/],
    ['/live/cam2', `?sign=${good}`, SECRET, /wrong/],
    ['/live/cam1', `?sign=${good}`, 'other', /wrong/],
  ];
  for (const [path, query, secret, msg] of cases) {
    assert.throws(
      () => verifySignedPath(path, query, secret, NOW),
      { code: query === '' ? 'ERR_AUTH_REQUIRED' : 'ERR_AUTH', message: msg },
      query,
    );
  }
});

test('only the canonical form is accepted: expires without leading zeros, lowercase hex', () => {
  const expires = NOW + 60;
  const hmac = signPath('/live/cam1', SECRET, expires).split('-')[1]!;
  for (const sign of [
    `0${expires}-${hmac}`,
    `00${expires}-${hmac}`,
    `${expires}-${hmac.toUpperCase()}`,
    `+${expires}-${hmac}`,
  ]) {
    assert.throws(
      () => verifySignedPath('/live/cam1', `?sign=${sign}`, SECRET, NOW),
      { code: 'ERR_AUTH', message: /malformed/ },
      sign,
    );
  }
  verifySignedPath('/live/cam1', `?sign=${expires}-${hmac}`, SECRET, NOW);
});
