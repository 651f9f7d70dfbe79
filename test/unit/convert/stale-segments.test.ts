import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { playlistUris, staleFiles } from '../../../src/convert/stale-segments.js';

const OLD = [
  '#EXTM3U',
  '#EXT-X-VERSION:7',
  '#EXT-X-MAP:URI="out_init.mp4"',
  '#EXTINF:2.000,',
  'out_00000.m4s',
  '#EXTINF:2.000,',
  'out_00001.m4s',
  '',
  '  out_00002.m4s  ',
  '../elsewhere.ts',
  'sub/x.ts',
  '/abs/y.ts',
  'http://host/z.ts',
  'q.ts?x=1',
  '..',
  '#EXT-X-ENDLIST',
].join('\r\n');

describe('stale segments after --force', () => {
  it('reads URI lines and the EXT-X-MAP URI', () => {
    assert.deepEqual(playlistUris(OLD), [
      'out_init.mp4',
      'out_00000.m4s',
      'out_00001.m4s',
      'out_00002.m4s',
      '../elsewhere.ts',
      'sub/x.ts',
      '/abs/y.ts',
      'http://host/z.ts',
      'q.ts?x=1',
      '..',
    ]);
  });

  it('names only bare files beside the playlist that the new conversion did not write', () => {
    const dir = '/data/hls';
    const written = [join(dir, 'out.m3u8'), join(dir, 'out_00000.m4s')];
    assert.deepEqual(staleFiles(OLD, dir, written), [
      resolve(dir, 'out_init.mp4'),
      resolve(dir, 'out_00001.m4s'),
      resolve(dir, 'out_00002.m4s'),
    ]);
  });
});
