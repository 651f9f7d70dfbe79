import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import { buildFragment } from '../../../../src/formats/mp4/fragment.js';
import { mdatHeader } from '../../../../src/formats/mp4/fragment-boxes.js';
import { body, find, walk } from './box-walk.js';

const sample = (bytes: number[], keyframe: boolean, duration = 3600, compositionOffset = 0) => ({
  duration,
  size: bytes.length,
  flags: { keyframe },
  compositionOffset,
  data: Buffer.from(bytes),
});

const frag = buildFragment(7, [
  {
    trackId: 1,
    baseMediaDecodeTime: 2 ** 33,
    samples: [sample([1, 1, 1], true, 3600, 7200), sample([2, 2], false)],
  },
  { trackId: 2, baseMediaDecodeTime: 1024, samples: [sample([9, 9, 9, 9], true, 1024)] },
]);

test('fragment: moof then mdat, sizes add up, mfhd carries the sequence number', () => {
  const top = walk(frag).filter((b) => !b.path.includes('/'));
  assert.deepEqual(
    top.map((b) => b.type),
    ['moof', 'mdat'],
  );
  assert.equal(top[0].size + top[1].size, frag.length);
  assert.equal(body(frag, find(frag, 'moof/mfhd')).readUInt32BE(4), 7);
});

test('fragment: each trun data_offset (from the moof start) points at its first sample byte', () => {
  const moofStart = find(frag, 'moof').start;
  const expectFirst = [1, 9];
  for (const n of [0, 1]) {
    const trun = body(frag, find(frag, 'moof/traf/trun', n));
    const offset = trun.readInt32BE(8);
    assert.equal(frag[moofStart + offset], expectFirst[n]);
  }
  const mdat = find(frag, 'mdat');
  assert.equal(moofStart + body(frag, find(frag, 'moof/traf/trun', 0)).readInt32BE(8), mdat.start + 8);
});

test('fragment: tfhd default-base-is-moof, tfdt version 1 64-bit, trun flags and sample fields', () => {
  const tfhd = body(frag, find(frag, 'moof/traf/tfhd'));
  assert.equal(tfhd.readUInt32BE(0), 0x00020000);
  assert.equal(tfhd.readUInt32BE(4), 1);
  const tfdt = body(frag, find(frag, 'moof/traf/tfdt'));
  assert.equal(tfdt[0], 1);
  assert.equal(tfdt.readUInt32BE(4) * 2 ** 32 + tfdt.readUInt32BE(8), 2 ** 33);
  const trun = body(frag, find(frag, 'moof/traf/trun'));
  assert.equal(trun.readUInt32BE(0), 0x00000f01); // version 0, flags 0xf01
  assert.equal(trun.readUInt32BE(4), 2);
  // sample 1: duration, size, flags (sync), cts
  assert.deepEqual(
    [12, 16, 20, 24].map((o) => trun.readUInt32BE(o)),
    [3600, 3, 0x02000000, 7200],
  );
  assert.equal(trun.readUInt32BE(36), 0x01010000); // non-sync sample flags
});

test('trun switches to version 1 for a negative composition offset', () => {
  const f = buildFragment(1, [
    { trackId: 1, baseMediaDecodeTime: 0, samples: [sample([1], true, 3600, -3600)] },
  ]);
  const trun = body(f, find(f, 'moof/traf/trun'));
  assert.equal(trun[0], 1);
  assert.equal(trun.readInt32BE(24), -3600);
});

test('mdat header: 8 bytes below 4 GiB, 16 with largesize at and above', () => {
  assert.deepEqual(mdatHeader(10), Buffer.from('000000126d646174', 'hex'));
  assert.equal(mdatHeader(2 ** 32 - 9).readUInt32BE(0), 2 ** 32 - 1);
  const big = mdatHeader(2 ** 32 - 8);
  assert.equal(big.length, 16);
  assert.equal(big.readUInt32BE(0), 1);
  assert.equal(big.readUInt32BE(8) * 2 ** 32 + big.readUInt32BE(12), 2 ** 32 + 8);
});

test('fragment: size/data mismatch and sequence number 0 are rejected', () => {
  const bad = { ...sample([1, 2], true), size: 3 };
  assert.throws(
    () => buildFragment(1, [{ trackId: 1, baseMediaDecodeTime: 0, samples: [bad] }]),
    (e) => isEstuaryError(e, 'ERR_MP4_FORMAT'),
  );
  assert.throws(
    () => buildFragment(0, [{ trackId: 1, baseMediaDecodeTime: 0, samples: [sample([1], true)] }]),
    (e) => isEstuaryError(e, 'ERR_MP4_FORMAT'),
  );
});
