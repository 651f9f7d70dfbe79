import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outputKindFor } from '../../../src/convert/output-kind.js';

describe('outputKindFor', () => {
  const table: [string, { fragmented?: boolean; fmp4?: boolean }, string][] = [
    ['out.mp4', {}, 'mp4'],
    ['OUT.MP4', {}, 'mp4'],
    ['out.mp4', { fragmented: true }, 'fmp4'],
    ['a/b/out.flv', {}, 'flv'],
    ['out.m3u8', {}, 'hls-ts'],
    ['out.m3u8', { fmp4: true }, 'hls-fmp4'],
  ];
  for (const [name, flags, kind] of table) {
    it(`${name} ${JSON.stringify(flags)} → ${kind}`, () => assert.equal(outputKindFor(name, flags), kind));
  }

  it('refuses names it cannot tell and flags that do not fit the name', () => {
    assert.throws(() => outputKindFor('out.avi'), /\.mp4, \.flv or \.m3u8 \(not \.avi\)/);
    assert.throws(() => outputKindFor('out'), /cannot tell the output format/);
    assert.throws(() => outputKindFor('out.flv', { fragmented: true }), /do not apply to an \.flv/);
    assert.throws(() => outputKindFor('out.mp4', { fmp4: true }), /use --fragmented/);
    assert.throws(() => outputKindFor('out.m3u8', { fragmented: true }), /use --fmp4/);
  });
});
