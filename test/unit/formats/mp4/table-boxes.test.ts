import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chunkOffsetBox, ctts, stsc, stss, stsz, stts } from '../../../../src/formats/mp4/table-boxes.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('stts run-length encodes equal durations (8.6.1.2)', () => {
  const b = stts(new Uint32Array([3600, 3600, 3600, 1800]));
  assert.deepEqual(b, hex('00000020 73747473 00000000 00000002 00000003 00000e10 00000001 00000708'));
});

test('ctts is version 0 for non-negative offsets and version 1 when one is negative', () => {
  const v0 = ctts(new Int32Array([7200, 0, 0]));
  assert.equal(v0[8], 0);
  assert.deepEqual(v0.subarray(12), hex('00000002 00000001 00001c20 00000002 00000000'));
  const v1 = ctts(new Int32Array([-3600, 3600]));
  assert.equal(v1[8], 1);
  assert.equal(v1.readInt32BE(20), -3600);
});

test('stss lists 1-based sync sample numbers', () => {
  assert.deepEqual(
    stss(new Uint32Array([1, 51])),
    hex('00000018 73747373 00000000 00000002 00000001 00000033'),
  );
});

test('stsz: constant sample_size when all equal, else a per-sample table', () => {
  assert.deepEqual(stsz(new Uint32Array([4, 4])), hex('00000014 7374737a 00000000 00000004 00000002'));
  const t = stsz(new Uint32Array([4, 5]));
  assert.equal(t.readUInt32BE(0), t.length);
  assert.equal(t.readUInt32BE(12), 0);
  assert.equal(t.readUInt32BE(16), 2);
  assert.equal(t.readUInt32BE(24), 5);
});

test('stsc has one entry per run of equal chunk sizes, first_chunk 1-based', () => {
  const b = stsc(new Uint32Array([10, 10, 4, 10]));
  assert.equal(b.readUInt32BE(12), 3);
  assert.deepEqual([b.readUInt32BE(16), b.readUInt32BE(20), b.readUInt32BE(24)], [1, 10, 1]);
  assert.deepEqual([b.readUInt32BE(28), b.readUInt32BE(32)], [3, 4]);
  assert.deepEqual([b.readUInt32BE(40), b.readUInt32BE(44)], [4, 10]);
});

test('empty tables for an init segment carry entry_count 0', () => {
  const none = new Uint32Array(0);
  for (const b of [stts(none), stsc(none), stss(none)]) assert.equal(b.readUInt32BE(12), 0);
  assert.equal(stsz(none).readUInt32BE(16), 0);
});

const boundary = [
  { name: 'last byte addressable in 32 bits', offset: 2 ** 32 - 1, type: 'stco', size: 20 },
  { name: 'first byte past 32 bits', offset: 2 ** 32, type: 'co64', size: 24 },
  { name: 'far past 32 bits (12 GB)', offset: 12e9, type: 'co64', size: 24 },
];
for (const c of boundary) {
  test(`chunk offsets: ${c.name} -> ${c.type}`, () => {
    const b = chunkOffsetBox(new Float64Array([c.offset]));
    assert.equal(b.toString('latin1', 4, 8), c.type);
    assert.equal(b.length, c.size);
    const read = c.type === 'stco' ? b.readUInt32BE(16) : b.readUInt32BE(16) * 2 ** 32 + b.readUInt32BE(20);
    assert.equal(read, c.offset);
  });
}
