import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  annexBToAvcc,
  h264NaluType,
  NaluType,
  nalusToAnnexB,
  removeEmulationPrevention,
  splitAnnexB,
  splitAvcc,
} from '../../../../src/codecs/h264/nalu.js';
import { isEstuaryError } from '../../../../src/errors.js';

const sps = Buffer.from('6764000dacd94141fb0110', 'hex');
const pps = Buffer.from('68ebe3cb22c0', 'hex');
const idr = Buffer.from('65888400ff', 'hex');

test('splitAvcc with 4-, 2- and 1-byte lengths returns subarrays', () => {
  const avcc = Buffer.concat([Buffer.from([0, 0, 0, 6]), pps, Buffer.from([0, 0, 0, 5]), idr]);
  const units = splitAvcc(avcc);
  assert.deepEqual(units, [pps, idr]);
  assert.equal(units[0].buffer, avcc.buffer, 'no copy');
  assert.deepEqual(splitAvcc(Buffer.concat([Buffer.from([0, 6]), pps]), 2), [pps]);
  assert.deepEqual(splitAvcc(Buffer.concat([Buffer.from([5]), idr]), 1), [idr]);
  assert.deepEqual(splitAvcc(Buffer.alloc(0)), []);
});

test('splitAvcc throws on a truncated length or unit', () => {
  const bad = (b: Buffer) =>
    assert.throws(
      () => splitAvcc(b),
      (e) => isEstuaryError(e, 'ERR_CODEC_CONFIG'),
    );
  bad(Buffer.from([0, 0, 0]));
  bad(Buffer.from([0, 0, 0, 9, 1, 2]));
  bad(Buffer.from([0xff, 0xff, 0xff, 0xff]));
});

test('splitAnnexB handles 3- and 4-byte start codes and trailing zeros', () => {
  const stream = Buffer.concat([
    Buffer.from([0, 0, 0, 1]),
    sps,
    Buffer.from([0, 0, 1]),
    pps,
    Buffer.from([0, 0]),
    Buffer.from([0, 0, 0, 1]),
    idr,
  ]);
  assert.deepEqual(splitAnnexB(stream), [sps, pps, idr]);
  assert.deepEqual(splitAnnexB(Buffer.from([1, 2, 3])), [], 'no start code, no units');
});

test('annexBToAvcc and nalusToAnnexB round-trip', () => {
  const avcc = annexBToAvcc([sps, pps]);
  assert.equal(avcc.readUInt32BE(0), sps.length);
  assert.deepEqual(splitAvcc(avcc), [sps, pps]);
  assert.deepEqual(splitAnnexB(nalusToAnnexB([sps, pps, idr])), [sps, pps, idr]);
});

test('h264NaluType reads the low 5 bits', () => {
  assert.equal(h264NaluType(sps), NaluType.Sps);
  assert.equal(h264NaluType(pps), NaluType.Pps);
  assert.equal(h264NaluType(idr), NaluType.Idr);
  assert.equal(h264NaluType(Buffer.from([0x09, 0xf0])), NaluType.Aud);
});

test('removeEmulationPrevention drops 0x03 after two zeros (H.264 7.4.1)', () => {
  assert.deepEqual(
    removeEmulationPrevention(Buffer.from([0x11, 0, 0, 3, 1, 0, 0, 3, 0, 0, 0, 3])),
    Buffer.from([0x11, 0, 0, 1, 0, 0, 0, 0, 0]),
  );
  const plain = Buffer.from([1, 2, 3, 0, 3]);
  assert.equal(removeEmulationPrevention(plain), plain, 'untouched input is returned as is');
});
