import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePlayOptions, sourceRequest, upstreamQuery } from '../../../src/flv/play-options.js';

/** [query, audio, video, join] */
const OPTIONS: [string, boolean, boolean, 'gop' | 'next-keyframe'][] = [
  ['', true, true, 'gop'],
  ['?', true, true, 'gop'],
  ['?sign=123-abc', true, true, 'gop'],
  ['?disableAudio=1', false, true, 'gop'],
  ['?disableVideo=1', true, false, 'gop'],
  ['?disableGop=1', true, true, 'next-keyframe'],
  ['?disableAudio=true&disableGop=1', false, true, 'next-keyframe'],
  ['?disableAudio', false, true, 'gop'],
  ['?disableAudio=0&disableVideo=false&disableGop=0', true, true, 'gop'],
  ['?sign=1-ab&disableVideo=1', true, false, 'gop'],
];

for (const [query, audio, video, join] of OPTIONS) {
  test(`parsePlayOptions(${JSON.stringify(query)})`, () => {
    assert.deepEqual({ ...parsePlayOptions(query) }, { audio, video, join });
  });
}

test('a value other than 1/0/true/false, or nothing left to play, is ERR_PLAY_OPTION', () => {
  assert.throws(() => parsePlayOptions('?disableAudio=yes'), { code: 'ERR_PLAY_OPTION' });
  assert.throws(() => parsePlayOptions('?disableGop=2'), { code: 'ERR_PLAY_OPTION' });
  assert.throws(() => parsePlayOptions('?disableAudio=1&disableVideo=1'), {
    code: 'ERR_PLAY_OPTION',
    message: /nothing to play/,
  });
});

/** [viewer's query, what goes upstream] */
const UPSTREAM: [string, string][] = [
  ['', ''],
  ['?disableGop=1', ''],
  ['?sign=1700000000-9f%2Bab&disableAudio=1', '?sign=1700000000-9f%2Bab'],
  ['?disableVideo=1&key=a+b&disableGop', '?key=a+b'],
  ['?a=1&&b=2', '?a=1&b=2'],
  ['?%64isableAudio=1&x=%zz', '?x=%zz'],
];

for (const [query, up] of UPSTREAM) {
  test(`upstreamQuery(${JSON.stringify(query)}) keeps everything but our switches, byte for byte`, () => {
    assert.equal(upstreamQuery(query), up);
  });
}

test('sourceRequest takes the query from the URL and passes Via on', () => {
  assert.deepEqual(sourceRequest('/live/s.flv?sign=x&disableGop=1', '1.1 edge-a'), {
    query: '?sign=x',
    via: '1.1 edge-a',
  });
  assert.deepEqual(sourceRequest('/live/s.flv', undefined), { query: '' });
});
