import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import { encodeFlvHeader, FLV_HEADER_SIZE, parseFlvHeader } from '../../../../src/formats/flv/header.js';

test('encodeFlvHeader: 9-byte header (E.2) + PreviousTagSize0', () => {
  assert.equal(FLV_HEADER_SIZE, 9);
  assert.deepEqual(
    encodeFlvHeader({ audio: true, video: true }),
    Buffer.from('464c5601050000000900000000', 'hex'),
  );
  assert.deepEqual(
    encodeFlvHeader({ audio: false, video: true }),
    Buffer.from('464c5601010000000900000000', 'hex'),
  );
  assert.deepEqual(
    encodeFlvHeader({ audio: true, video: false }),
    Buffer.from('464c5601040000000900000000', 'hex'),
  );
});

test('parseFlvHeader reads the flags and DataOffset', () => {
  assert.deepEqual(parseFlvHeader(encodeFlvHeader({ audio: true, video: false })), {
    version: 1,
    audio: true,
    video: false,
    dataOffset: 9,
  });
});

test('parseFlvHeader rejects a bad signature, a short buffer and a DataOffset below 9', () => {
  const bad = (hex: string) =>
    assert.throws(
      () => parseFlvHeader(Buffer.from(hex, 'hex')),
      (e) => isEstuaryError(e, 'ERR_FLV_FORMAT'),
      hex,
    );
  bad('464c560105000000');
  bad('464c5801050000000900000000');
  bad('464c5601050000000800000000');
});
