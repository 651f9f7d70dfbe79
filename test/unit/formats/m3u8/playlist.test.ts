import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import {
  type MediaPlaylist,
  renderMasterPlaylist,
  renderMediaPlaylist,
} from '../../../../src/formats/m3u8/playlist.js';

const RENDER_CASES: { name: string; input: MediaPlaylist; text: string[] }[] = [
  {
    name: 'live TS playlist, target from the longest segment (2.04 rounds to 2; 2.6 would make it 3)',
    input: {
      version: 3,
      mediaSequence: 7,
      segments: [
        { uri: 'seg7.ts', duration: 2 },
        { uri: 'seg8.ts', duration: 2.04 },
      ],
      ended: false,
    },
    text: [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-MEDIA-SEQUENCE:7',
      '#EXTINF:2.000,',
      'seg7.ts',
      '#EXTINF:2.040,',
      'seg8.ts',
    ],
  },
  {
    name: 'ended recording with a configured target, discontinuity and date',
    input: {
      version: 3,
      targetDuration: 4,
      mediaSequence: 0,
      discontinuitySequence: 1,
      playlistType: 'EVENT',
      independentSegments: true,
      segments: [
        { uri: '0.ts', duration: 3.9996, programDateTime: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)) },
        { uri: '1.ts', duration: 1.2345, discontinuity: true },
      ],
      ended: true,
    },
    text: [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      '#EXT-X-TARGETDURATION:4',
      '#EXT-X-MEDIA-SEQUENCE:0',
      '#EXT-X-DISCONTINUITY-SEQUENCE:1',
      '#EXT-X-PLAYLIST-TYPE:EVENT',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-PROGRAM-DATE-TIME:2024-01-02T03:04:05.006Z',
      '#EXTINF:4.000,',
      '0.ts',
      '#EXT-X-DISCONTINUITY',
      '#EXTINF:1.234,',
      '1.ts',
      '#EXT-X-ENDLIST',
    ],
  },
  {
    name: 'fMP4 with EXT-X-MAP at version 6; 2.0004 s shows as 2.000 so the target stays 2',
    input: {
      version: 6,
      targetDuration: 2,
      mediaSequence: 3,
      map: { uri: 'init.mp4' },
      segments: [{ uri: 'part3.m4s', duration: 2.0004 }],
      ended: false,
    },
    text: [
      '#EXTM3U',
      '#EXT-X-VERSION:6',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-MEDIA-SEQUENCE:3',
      '#EXT-X-MAP:URI="init.mp4"',
      '#EXTINF:2.000,',
      'part3.m4s',
    ],
  },
  {
    name: 'version 2 writes integer durations',
    input: { version: 2, mediaSequence: 0, segments: [{ uri: 'a.ts', duration: 2.6 }], ended: true },
    text: [
      '#EXTM3U',
      '#EXT-X-VERSION:2',
      '#EXT-X-TARGETDURATION:3',
      '#EXT-X-MEDIA-SEQUENCE:0',
      '#EXTINF:3,',
      'a.ts',
      '#EXT-X-ENDLIST',
    ],
  },
  {
    name: 'an empty live playlist still has a target duration of at least 1',
    input: { version: 3, mediaSequence: 0, segments: [], ended: false },
    text: ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:1', '#EXT-X-MEDIA-SEQUENCE:0'],
  },
];

for (const c of RENDER_CASES) {
  test(`renderMediaPlaylist: ${c.name}`, () => {
    assert.equal(renderMediaPlaylist(c.input), `${c.text.join('\n')}\n`);
  });
}

const INVALID: { name: string; input: MediaPlaylist }[] = [
  {
    name: 'EXT-X-MAP below version 6',
    input: { version: 5, mediaSequence: 0, map: { uri: 'init.mp4' }, segments: [], ended: false },
  },
  {
    name: 'a URI with a newline',
    input: {
      version: 3,
      mediaSequence: 0,
      segments: [{ uri: 'a.ts\n#EXT-X-ENDLIST', duration: 1 }],
      ended: false,
    },
  },
  {
    name: 'an empty URI',
    input: { version: 3, mediaSequence: 0, segments: [{ uri: '', duration: 1 }], ended: false },
  },
  {
    name: 'a negative duration',
    input: { version: 3, mediaSequence: 0, segments: [{ uri: 'a.ts', duration: -1 }], ended: false },
  },
  {
    name: 'a NaN duration',
    input: { version: 3, mediaSequence: 0, segments: [{ uri: 'a.ts', duration: Number.NaN }], ended: false },
  },
  {
    name: 'a fractional media sequence',
    input: { version: 3, mediaSequence: 1.5, segments: [], ended: false },
  },
  { name: 'version 0', input: { version: 0, mediaSequence: 0, segments: [], ended: false } },
];

for (const c of INVALID) {
  test(`renderMediaPlaylist refuses ${c.name}`, () => {
    assert.throws(
      () => renderMediaPlaylist(c.input),
      (err) => isEstuaryError(err, 'ERR_M3U8_FORMAT'),
    );
  });
}

test('renderMasterPlaylist: one STREAM-INF per variant', () => {
  const text = renderMasterPlaylist({
    version: 3,
    independentSegments: true,
    variants: [
      {
        uri: 'live/index.m3u8',
        bandwidth: 800000,
        averageBandwidth: 600000,
        codecs: ['avc1.64001f', 'mp4a.40.2'],
        resolution: { width: 320, height: 240 },
        frameRate: 25,
      },
      { uri: 'audio/index.m3u8', bandwidth: 128000, codecs: ['mp4a.40.2'] },
    ],
  });
  assert.equal(
    text,
    [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-STREAM-INF:BANDWIDTH=800000,AVERAGE-BANDWIDTH=600000,CODECS="avc1.64001f,mp4a.40.2",' +
        'RESOLUTION=320x240,FRAME-RATE=25.000',
      'live/index.m3u8',
      '#EXT-X-STREAM-INF:BANDWIDTH=128000,CODECS="mp4a.40.2"',
      'audio/index.m3u8',
      '',
    ].join('\n'),
  );
  assert.throws(
    () => renderMasterPlaylist({ variants: [{ uri: 'a', bandwidth: 1, codecs: ['x"y'] }] }),
    (err) => isEstuaryError(err, 'ERR_M3U8_FORMAT'),
  );
});
