import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32Mpeg2 } from '../../../../src/formats/mpegts/crc32.js';

/** Sections copied from a TS file FFmpeg 5.1 wrote (`-f mpegts`, H.264 + AAC), CRC_32 last. */
const FFMPEG_SECTIONS = [
  { name: 'PAT', hex: '00b00d0001c100000001f000 2ab104b2' },
  { name: 'PMT', hex: '02b0170001c10000e100f0001be100f0000fe101f000 2f44b99b' },
  {
    name: 'SDT',
    hex: '42f0250001c10000ff01ff0001fc80144812010646466d70656709536572766963653031 777c43ca',
  },
];

for (const { name, hex } of FFMPEG_SECTIONS) {
  test(`CRC-32/MPEG-2 reproduces FFmpeg's ${name} CRC`, () => {
    const section = Buffer.from(hex.replace(/ /g, ''), 'hex');
    const body = section.length - 4;
    assert.equal(crc32Mpeg2(section, 0, body), section.readUInt32BE(body));
    // Annex A.1: over the whole section including CRC_32 the register ends at zero.
    assert.equal(crc32Mpeg2(section), 0);
  });
}

test('CRC-32/MPEG-2 catalogue check value and edge cases', () => {
  // The standard check value of CRC-32/MPEG-2 for the ASCII string "123456789".
  assert.equal(crc32Mpeg2(Buffer.from('123456789')), 0x0376e6e7);
  assert.equal(crc32Mpeg2(Buffer.alloc(0)), 0xffffffff);
  // Range arguments select a subarray.
  const padded = Buffer.concat([Buffer.from([9, 9]), Buffer.from('123456789'), Buffer.from([9])]);
  assert.equal(crc32Mpeg2(padded, 2, 11), 0x0376e6e7);
});
