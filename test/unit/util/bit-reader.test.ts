import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../src/errors.js';
import { BitReader } from '../../../src/util/bit-reader.js';
import { BitWriter } from '../../../src/util/bit-writer.js';

test('readBits reads MSB first across byte boundaries', () => {
  const r = new BitReader(Buffer.from([0b1010_1100, 0b0101_0011, 0xff, 0xff, 0xff, 0xff]));
  assert.equal(r.readBit(), 1);
  assert.equal(r.readBits(3), 0b010);
  assert.equal(r.readBits(8), 0b1100_0101);
  assert.equal(r.bitsLeft, 36);
  r.skipBits(4);
  assert.equal(r.readBits(32), 0xffffffff, '32-bit reads stay unsigned');
  assert.equal(r.bitsLeft, 0);
});

// H.264 9.1 Table 9-2: bit strings and their ue(v) / se(v) values.
const expGolomb: [string, number, number][] = [
  ['1', 0, 0],
  ['010', 1, 1],
  ['011', 2, -1],
  ['00100', 3, 2],
  ['00101', 4, -2],
  ['00110', 5, 3],
  ['00111', 6, -3],
  ['0001000', 7, 4],
];

function bitsToBuffer(bits: string): Buffer {
  const padded = bits.padEnd(Math.ceil(bits.length / 8) * 8, '0');
  const out: number[] = [];
  for (let i = 0; i < padded.length; i += 8) out.push(Number.parseInt(padded.slice(i, i + 8), 2));
  return Buffer.from(out);
}

test('readUE / readSE follow H.264 Table 9-2', () => {
  for (const [bits, ue, se] of expGolomb) {
    assert.equal(new BitReader(bitsToBuffer(bits)).readUE(), ue, bits);
    assert.equal(new BitReader(bitsToBuffer(bits)).readSE(), se, bits);
  }
});

test('BitWriter.writeUE is the inverse of readUE', () => {
  const w = new BitWriter();
  for (const v of [0, 1, 2, 7, 255, 65535]) w.writeUE(v);
  const r = new BitReader(w.toBuffer());
  for (const v of [0, 1, 2, 7, 255, 65535]) assert.equal(r.readUE(), v);
});

test('reading past the end throws ERR_CODEC_CONFIG', () => {
  const r = new BitReader(Buffer.from([0xff]));
  r.readBits(5);
  assert.throws(
    () => r.readBits(4),
    (e) => isEstuaryError(e, 'ERR_CODEC_CONFIG'),
  );
  assert.throws(
    () => new BitReader(Buffer.alloc(0)).readBit(),
    (e) => isEstuaryError(e, 'ERR_CODEC_CONFIG'),
  );
  assert.throws(
    () => new BitReader(Buffer.alloc(1)).skipBits(9),
    (e) => isEstuaryError(e, 'ERR_CODEC_CONFIG'),
  );
});

test('an all-zero Exp-Golomb prefix is rejected, not read as a huge value', () => {
  assert.throws(
    () => new BitReader(Buffer.alloc(16)).readUE(),
    (e) => isEstuaryError(e, 'ERR_CODEC_CONFIG'),
  );
  assert.throws(
    () => new BitReader(Buffer.from([0, 0])).readUE(),
    (e) => isEstuaryError(e, 'ERR_CODEC_CONFIG'),
  );
});
