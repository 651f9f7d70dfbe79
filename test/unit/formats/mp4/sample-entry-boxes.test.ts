import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import { parseBoxHeader } from '../../../../src/formats/mp4/box-reader.js';
import { mdhd, mvhd, tkhd } from '../../../../src/formats/mp4/boxes.js';
import { dOps, esds, OBJECT_TYPE_AAC } from '../../../../src/formats/mp4/sample-entry-boxes.js';
import { opusHeadFromDops, parseEsds } from '../../../../src/formats/mp4/sample-entry-parser.js';
import { ASC } from './tracks.js';

test('esds: ES_Descriptor > DecoderConfigDescriptor (0x40, audio) > DecSpecificInfo, SLConfig 2', () => {
  const b = esds(OBJECT_TYPE_AAC, ASC);
  assert.deepEqual(
    b,
    Buffer.from(
      (
        '00000027 65736473 00000000' + // size 39, 'esds', version/flags
        '03 19 0000 00' + // ES_Descriptor, 25 bytes: ES_ID 0, flags 0
        '04 11 40 15 000000 00000000 00000000' + // DecoderConfigDescriptor, 17 bytes
        '05 02 1210' + // DecSpecificInfo = AudioSpecificConfig
        '06 01 02'
      ).replace(/ /g, ''), // SLConfigDescriptor predefined 2
      'hex',
    ),
  );
  const parsed = parseEsds(b, parseBoxHeader(b, 0, b.length));
  assert.equal(parsed.objectType, 0x40);
  assert.deepEqual(parsed.decSpecificInfo, ASC);
});

test('dOps <-> OpusHead: big-endian box fields, little-endian header (RFC 7845 5.1)', () => {
  const head = Buffer.from('4f707573486561640102380180bb000000000000', 'hex').subarray(0, 19);
  const box = dOps(head);
  assert.deepEqual(box.subarray(8), Buffer.from('0002013800 00bb80 0000 00'.replace(/ /g, ''), 'hex'));
  assert.deepEqual(opusHeadFromDops(box.subarray(8)), head);
  assert.throws(
    () => dOps(Buffer.from('nothead')),
    (e) => isEstuaryError(e, 'ERR_CODEC_CONFIG'),
  );
});

test('header boxes have their spec sizes: mvhd 108, tkhd 92, mdhd 32 (version 0)', () => {
  assert.equal(mvhd(1000, 10000, 3).length, 108);
  assert.equal(tkhd({ trackId: 1, duration: 0, kind: 'video', width: 320, height: 240 }).length, 92);
  assert.equal(mdhd(90000, 0).length, 32);
  // Durations that overflow 32 bits switch to version 1 (64-bit times): +12 bytes.
  const v1 = mdhd(90000, 2 ** 32);
  assert.equal(v1[8], 1);
  assert.equal(v1.length, 44);
});
