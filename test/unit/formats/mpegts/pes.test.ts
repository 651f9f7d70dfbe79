import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import {
  buildPesHeader,
  STREAM_ID_AUDIO,
  STREAM_ID_VIDEO,
  writeTimestamp,
} from '../../../../src/formats/mpegts/pes.js';

/**
 * Expected bytes worked out from the bit layout of 2.4.3.7: '0010'/'0011'/'0001' prefix,
 * PTS[32..30], marker, PTS[29..15], marker, PTS[14..0], marker.
 * 126000 (1.4 s) = 3 << 15 | 0x6C30 → 21 0007 D861 (FFmpeg's familiar first audio PTS).
 * 129600 (1.44 s) = 3 << 15 | 0x7A40 → 31 0007 F481.
 */
const HEADER_CASES = [
  {
    name: 'audio, PTS only, bounded length',
    opts: { streamId: STREAM_ID_AUDIO, pts: 126000, dataLength: 100 },
    // PES_packet_length = 3 flag bytes + 5 PTS bytes + 100 = 108 = 0x006C.
    hex: '000001c0006c8480052100 07d861',
  },
  {
    name: 'video, PTS and DTS, unbounded',
    opts: { streamId: STREAM_ID_VIDEO, pts: 129600, dts: 126000, dataLength: 70000, unbounded: true },
    hex: '000001e000008 4c00a310007f481 110007d861',
  },
  {
    name: 'video with dts === pts writes PTS only',
    opts: { streamId: STREAM_ID_VIDEO, pts: 126000, dts: 126000, dataLength: 10, unbounded: true },
    hex: '000001e0000084800521 0007d861',
  },
  {
    name: '33-bit wrap: 2^33 + 5 is written as 5',
    opts: { streamId: STREAM_ID_AUDIO, pts: 2 ** 33 + 5, dataLength: 0 },
    hex: '000001c000088480052100 01000b',
  },
  {
    name: 'largest timestamp 2^33 - 1 sets every value bit',
    opts: { streamId: STREAM_ID_AUDIO, pts: 2 ** 33 - 1, dataLength: 0 },
    hex: '000001c00008848005 2fffffffff',
  },
];

for (const c of HEADER_CASES) {
  test(`PES header: ${c.name}`, () => {
    assert.equal(buildPesHeader(c.opts).toString('hex'), c.hex.replace(/ /g, ''));
  });
}

test('negative timestamps wrap modulo 2^33 instead of corrupting the marker bits', () => {
  const a = Buffer.alloc(5);
  const b = Buffer.alloc(5);
  writeTimestamp(a, 0, 0b0010, -1);
  writeTimestamp(b, 0, 0b0010, 2 ** 33 - 1);
  assert.deepEqual(a, b);
});

test('an audio access unit too big for PES_packet_length throws a coded error', () => {
  assert.throws(
    () => buildPesHeader({ streamId: STREAM_ID_AUDIO, pts: 0, dataLength: 65536 }),
    (err) => isEstuaryError(err, 'ERR_MPEGTS_MUX'),
  );
  // The largest that fits: 65535 - 8 header bytes after the length field.
  assert.equal(
    buildPesHeader({ streamId: STREAM_ID_AUDIO, pts: 0, dataLength: 65527 }).readUInt16BE(4),
    65535,
  );
});
