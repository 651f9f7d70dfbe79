import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import { buildInitSegment } from '../../../../src/formats/mp4/init-segment.js';
import { body, find, walk } from './box-walk.js';
import { AVCC, audio, video } from './tracks.js';

test('init segment: ftyp iso5 then moov with mvhd, two traks and mvex/trex', () => {
  const init = buildInitSegment({ video, audio });
  const top = walk(init).filter((b) => !b.path.includes('/'));
  assert.deepEqual(
    top.map((b) => b.type),
    ['ftyp', 'moov'],
  );
  assert.equal(top[0].size + top[1].size, init.length);
  assert.equal(init.toString('latin1', 8, 12), 'iso5');
  assert.equal(walk(init).filter((b) => b.path === 'moov/trak').length, 2);
  const trex = walk(init).filter((b) => b.path === 'moov/mvex/trex');
  assert.deepEqual(
    trex.map((b) => body(init, b).readUInt32BE(4)),
    [1, 2],
  );
  // mvhd next_track_ID = 3 (last 4 bytes of the version 0 payload).
  const mvhd = body(init, find(init, 'moov/mvhd'));
  assert.equal(mvhd.readUInt32BE(mvhd.length - 4), 3);
});

test('init segment: video timescale 90 kHz, audio at its sample rate; handlers vide/soun', () => {
  const init = buildInitSegment({ video, audio });
  const mdhd = (n: number) => body(init, find(init, 'moov/trak/mdia/mdhd', n));
  assert.equal(mdhd(0).readUInt32BE(12), 90000);
  assert.equal(mdhd(1).readUInt32BE(12), 44100);
  assert.equal(body(init, find(init, 'moov/trak/mdia/hdlr', 0)).toString('latin1', 8, 12), 'vide');
  assert.equal(body(init, find(init, 'moov/trak/mdia/hdlr', 1)).toString('latin1', 8, 12), 'soun');
  // tkhd width/height 16.16 at the end of the payload.
  const tkhd = body(init, find(init, 'moov/trak/tkhd', 0));
  assert.equal(tkhd.readUInt32BE(tkhd.length - 8), 320 * 65536);
  assert.equal(tkhd.readUInt32BE(tkhd.length - 4), 240 * 65536);
});

test('init segment: avc1 entry carries the avcC verbatim; mp4a entry carries esds with the ASC', () => {
  const init = buildInitSegment({ video, audio });
  assert.ok(init.includes(Buffer.concat([Buffer.from('avcC', 'latin1'), AVCC])));
  const esdsAt = init.indexOf('esds');
  assert.ok(esdsAt > 0);
  // DecSpecificInfo: tag 5, length 2, then the ASC.
  assert.ok(init.subarray(esdsAt).includes(Buffer.from([0x05, 0x02, 0x12, 0x10])));
});

test('single-track init keeps the stable track id (audio = 2)', () => {
  const init = buildInitSegment({ audio });
  assert.equal(walk(init).filter((b) => b.path === 'moov/trak').length, 1);
  const tkhd = body(init, find(init, 'moov/trak/tkhd'));
  assert.equal(tkhd.readUInt32BE(12), 2);
});

test('init segment: no track, or a legacy codec, is an EstuaryError', () => {
  assert.throws(
    () => buildInitSegment({}),
    (e) => isEstuaryError(e, 'ERR_MP4_FORMAT'),
  );
  assert.throws(
    () => buildInitSegment({ video: { kind: 'video', codec: 'legacy', width: 0, height: 0 } }),
    (e) => isEstuaryError(e, 'ERR_CODEC_UNSUPPORTED') && /H\.264/.test(e.message),
  );
});
