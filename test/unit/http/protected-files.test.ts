import assert from 'node:assert/strict';
import { test } from 'node:test';
import { playlistWithQuery, streamOfFile } from '../../../src/http/protected-files.js';

test('streamOfFile: a recording path names its stream; a former session folder its stream too', () => {
  assert.equal(streamOfFile('/hls/live/cam/index.m3u8')?.path, 'live/cam');
  assert.equal(streamOfFile('/mp4/live/cam/output_merge/cam_full.mp4')?.path, 'live/cam');
  assert.equal(streamOfFile('/hls/live/cam.20261202_010203/segment_00001.ts')?.path, 'live/cam');
  assert.equal(streamOfFile('/flv/live/cam/20261202_010203.flv')?.path, 'live/cam');
  for (const bad of [
    '/hls/live/cam',
    '/hls/live',
    '/hls/l%ive/cam/x.ts',
    '/hls/li ve/cam/x',
    '/hls/%zz/cam/x',
  ]) {
    assert.equal(streamOfFile(bad), undefined, bad);
  }
});

test('playlistWithQuery: every URI line and URI attribute carries the query; tags and blanks stay', () => {
  const playlist = [
    '#EXTM3U',
    '#EXT-X-MAP:URI="init.mp4"',
    '#EXTINF:2.000,',
    'seg1.m4s',
    '',
    '#EXT-X-STREAM-INF:BANDWIDTH=1',
    'video.m3u8?x=1',
    '#EXT-X-ENDLIST',
  ].join('\n');
  assert.equal(
    playlistWithQuery(playlist, '?sign=1-ab'),
    [
      '#EXTM3U',
      '#EXT-X-MAP:URI="init.mp4?sign=1-ab"',
      '#EXTINF:2.000,',
      'seg1.m4s?sign=1-ab',
      '',
      '#EXT-X-STREAM-INF:BANDWIDTH=1',
      'video.m3u8?x=1&sign=1-ab',
      '#EXT-X-ENDLIST',
    ].join('\n'),
  );
  assert.equal(playlistWithQuery(playlist, ''), playlist);
});
