import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import { box, fullBox, u32s, u64 } from '../../../../src/formats/mp4/box-writer.js';

test('box: size field counts the 8-byte header and every payload part', () => {
  const b = box('free', Buffer.from([1, 2]), Buffer.from([3]));
  assert.deepEqual(b, Buffer.from([0, 0, 0, 11, 0x66, 0x72, 0x65, 0x65, 1, 2, 3]));
});

test('fullBox: version(8) and flags(24) follow the header (14496-12 4.2)', () => {
  const b = fullBox('tfhd', 1, 0x020000, u32s(7));
  assert.deepEqual(b, Buffer.from('00000010' + '74666864' + '01020000' + '00000007', 'hex'));
});

test('u64 splits values above 2^32 into high and low words', () => {
  assert.deepEqual(u64(2 ** 32 + 5), Buffer.from('0000000100000005', 'hex'));
  assert.throws(
    () => u64(-1),
    (e) => isEstuaryError(e, 'ERR_MP4_FORMAT'),
  );
});

test('box rejects a type that is not four characters', () => {
  assert.throws(
    () => box('abc'),
    (e) => isEstuaryError(e, 'ERR_MP4_FORMAT'),
  );
});
