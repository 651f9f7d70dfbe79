import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import { parseMediaPlaylist } from '../../../../src/formats/m3u8/parse-playlist.js';
import { type MediaPlaylist, renderMediaPlaylist } from '../../../../src/formats/m3u8/playlist.js';

test('parseMediaPlaylist reads back what renderMediaPlaylist writes', () => {
  const input: MediaPlaylist = {
    version: 6,
    targetDuration: 2,
    mediaSequence: 41,
    discontinuitySequence: 2,
    playlistType: 'EVENT',
    independentSegments: true,
    map: { uri: 'init.mp4' },
    segments: [
      { uri: '41.m4s', duration: 2, programDateTime: new Date(Date.UTC(2024, 5, 1)) },
      { uri: '42.m4s', duration: 1.5, discontinuity: true },
    ],
    ended: true,
  };
  assert.deepEqual(parseMediaPlaylist(renderMediaPlaylist(input)), input);
});

test('parseMediaPlaylist: defaults, CRLF, titles, comments and unknown tags', () => {
  const text = [
    '#EXTM3U',
    '#EXT-X-TARGETDURATION:6',
    '# a comment',
    '#EXT-X-ALLOW-CACHE:YES',
    '#EXTINF:5,Title, with comma',
    'http://example.com/a.ts',
    '',
    '#EXTINF:5.5,',
    'b.ts',
  ].join('\r\n');
  const p = parseMediaPlaylist(text);
  assert.equal(p.version, 1);
  assert.equal(p.mediaSequence, 0);
  assert.equal(p.discontinuitySequence, 0);
  assert.equal(p.targetDuration, 6);
  assert.equal(p.ended, false);
  assert.deepEqual(p.segments, [
    { uri: 'http://example.com/a.ts', duration: 5 },
    { uri: 'b.ts', duration: 5.5 },
  ]);
});

const MALFORMED: { name: string; text: string }[] = [
  { name: 'no #EXTM3U', text: '#EXT-X-TARGETDURATION:2\n' },
  { name: 'no target duration', text: '#EXTM3U\n#EXTINF:2,\na.ts\n' },
  { name: 'URI without EXTINF', text: '#EXTM3U\n#EXT-X-TARGETDURATION:2\na.ts\n' },
  { name: 'EXTINF without URI at the end', text: '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n' },
  { name: 'two EXTINF in a row', text: '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n#EXTINF:2,\na.ts\n' },
  { name: 'negative duration', text: '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:-2,\na.ts\n' },
  { name: 'non-numeric sequence', text: '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:x\n' },
  { name: 'EXT-X-MAP without URI', text: '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:BYTERANGE="1@0"\n' },
  { name: 'bad playlist type', text: '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:LIVE\n' },
  { name: 'bad date', text: '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PROGRAM-DATE-TIME:soon\n' },
];

for (const c of MALFORMED) {
  test(`parseMediaPlaylist refuses ${c.name}`, () => {
    assert.throws(
      () => parseMediaPlaylist(c.text),
      (err) => isEstuaryError(err, 'ERR_M3U8_FORMAT'),
    );
  });
}
