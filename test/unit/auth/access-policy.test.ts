import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { type AccessAction, AccessPolicy, type AccessRules } from '../../../src/auth/access-policy.js';
import { signPath } from '../../../src/auth/sign.js';
import { makeStreamName } from '../../../src/hub/stream-name.js';

const NAME = makeStreamName('live', 'cam');
const SOON = Math.floor(Date.now() / 1000) + 600;
const PAST = Math.floor(Date.now() / 1000) - 10;
const nms = (path: string, exp: number, secret: string) =>
  `${exp}-${createHash('md5').update(`${path}-${exp}-${secret}`).digest('hex')}`;

/** [what, rules, action, query, address, expected: 'ok' or a fragment of the refusal] */
const CASES: [string, AccessRules, AccessAction, string, string, string][] = [
  ['no rules: anyone may do anything', {}, 'publish', '', '203.0.113.9', 'ok'],
  ['a secret guards publishing only', { secret: 's' }, 'play', '', '203.0.113.9', 'ok'],
  ['publishing without a signature', { secret: 's' }, 'publish', '', '1.2.3.4', 'needs a signed URL'],
  [
    'a valid signature',
    { secret: 's' },
    'publish',
    `?sign=${signPath('/live/cam', 's', SOON)}`,
    '1.2.3.4',
    'ok',
  ],
  [
    'a signature for another stream',
    { secret: 's' },
    'publish',
    `?sign=${signPath('/live/other', 's', SOON)}`,
    '1.2.3.4',
    'is wrong',
  ],
  [
    'an expired signature',
    { secret: 's' },
    'publish',
    `?sign=${signPath('/live/cam', 's', PAST)}`,
    '1.2.3.4',
    'expired',
  ],
  [
    'signed play when asked',
    { secret: 's', signPlay: true },
    'play',
    '',
    '1.2.3.4',
    'playing /live/cam needs a signed URL',
  ],
  [
    'NMS MD5 form refused unless enabled',
    { secret: 's' },
    'publish',
    `?sign=${nms('/live/cam', SOON, 's')}`,
    '1.2.3.4',
    'malformed',
  ],
  [
    'NMS MD5 form when enabled',
    { secret: 's', nmsMd5: true },
    'publish',
    `?sign=${nms('/live/cam', SOON, 's')}`,
    '1.2.3.4',
    'ok',
  ],
  [
    'NMS MD5 form expired',
    { secret: 's', nmsMd5: true },
    'publish',
    `?sign=${nms('/live/cam', PAST, 's')}`,
    '1.2.3.4',
    'expired',
  ],
  ['an app key, as ?key=', { keys: { live: 'k1' } }, 'publish', '?key=k1', '1.2.3.4', 'ok'],
  [
    'an app key, as ?streamKey= and ?secret=',
    { keys: { live: 'k1' } },
    'publish',
    '?secret=k1',
    '1.2.3.4',
    'ok',
  ],
  [
    'a wrong key',
    { keys: { live: 'k1' } },
    'publish',
    '?streamKey=k2',
    '1.2.3.4',
    'stream key for live/cam is wrong',
  ],
  ['a missing key', { keys: { live: 'k1' } }, 'publish', '', '1.2.3.4', 'needs its stream key'],
  ['a publish key does not guard play', { keys: { live: 'k1' } }, 'play', '', '1.2.3.4', 'ok'],
  ['a play key', { playKeys: { 'live/cam': 'v1' } }, 'play', '?key=v1', '1.2.3.4', 'ok'],
  ['a play key is not a publish key', { playKeys: { live: 'v1' } }, 'publish', '', '1.2.3.4', 'ok'],
  [
    'an NMS signature for another stream',
    { secret: 's', nmsMd5: true },
    'publish',
    `?sign=${nms('/live/other', SOON, 's')}`,
    '1.2.3.4',
    'is wrong',
  ],
  [
    'a stream key wins over its app key',
    { keys: { live: 'k1', 'live/cam': 'k2' } },
    'publish',
    '?key=k1',
    '1.2.3.4',
    'is wrong',
  ],
  ['another app is not guarded by this app key', { keys: { other: 'k1' } }, 'publish', '', '1.2.3.4', 'ok'],
  [
    'a key or a signature: a valid key will do',
    { secret: 's', keys: { live: 'k' } },
    'publish',
    '?key=k',
    '1.2.3.4',
    'ok',
  ],
  ['allow list: inside', { publishAllow: { live: ['10.0.0.0/8'] } }, 'publish', '', '10.1.2.3', 'ok'],
  [
    'allow list: outside',
    { publishAllow: { live: ['10.0.0.0/8'] } },
    'publish',
    '',
    '11.1.2.3',
    'not allowed from this address',
  ],
  [
    'allow list: an IPv4-mapped IPv6 address',
    { publishAllow: { '*': ['127.0.0.1'] } },
    'publish',
    '',
    '::ffff:127.0.0.1',
    'ok',
  ],
  [
    'deny wins over allow',
    { playAllow: { live: ['10.0.0.0/8'] }, playDeny: { live: ['10.9.0.0/16'] } },
    'play',
    '',
    '10.9.1.1',
    'denied',
  ],
  ['deny for every app', { playDeny: { '*': ['2001:db8::/32'] } }, 'play', '', '2001:db8::5', 'denied'],
  [
    'publish lists do not apply to play',
    { publishAllow: { live: ['10.0.0.0/8'] } },
    'play',
    '',
    '11.1.2.3',
    'ok',
  ],
];

for (const [what, rules, action, query, address, expected] of CASES) {
  test(`AccessPolicy: ${what}`, () => {
    const p = new AccessPolicy(rules);
    const run = () => p.check({ action, name: NAME, query, address });
    if (expected === 'ok') run();
    else
      assert.throws(run, (err: Error & { code?: string }) => {
        // No credentials at all is ERR_AUTH_REQUIRED (HTTP 401), bad ones ERR_AUTH (403).
        const missing = /needs (its stream key|a signed URL)/.test(expected);
        assert.equal(err.code, missing ? 'ERR_AUTH_REQUIRED' : 'ERR_AUTH');
        assert.ok(err.message.includes(expected), err.message);
        // No credential is ever repeated back.
        for (const secretish of ['k1', 'k2', 's3', query.slice(6)])
          if (secretish.length > 3) assert.ok(!err.message.includes(secretish));
        return true;
      });
  });
}

test('AccessPolicy: a bad address list is a configuration error', () => {
  assert.throws(() => new AccessPolicy({ playAllow: { live: ['10.0.0.0/40'] } }), { code: 'ERR_CONFIG' });
  assert.throws(() => new AccessPolicy({ playAllow: { live: ['not-an-ip'] } }), {
    code: 'ERR_CONFIG',
    message: /playAllow\.live/,
  });
});

test('AccessPolicy: guards() says whether anything applies', () => {
  assert.equal(new AccessPolicy({}).guards('publish'), false);
  assert.equal(new AccessPolicy({ secret: 's' }).guards('publish'), true);
  assert.equal(new AccessPolicy({ secret: 's' }).guards('play'), false);
  assert.equal(new AccessPolicy({ secret: 's', signPlay: true }).guards('play'), true);
});
