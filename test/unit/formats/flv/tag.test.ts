import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import { encodeFlvTag, FlvTagType } from '../../../../src/formats/flv/tag.js';

test('encodeFlvTag: header, body, PreviousTagSize (E.3, E.4.1)', () => {
  const tag = encodeFlvTag(FlvTagType.Audio, 0x12345678, Buffer.from([0xaf, 0x01, 0x21]));
  assert.deepEqual(
    tag,
    Buffer.from(
      '08' + // TagType audio
        '000003' + // DataSize
        '345678' + // Timestamp, low 24 bits
        '12' + // TimestampExtended, the upper 8 bits
        '000000' + // StreamID
        'af0121' + // body
        '0000000e', // PreviousTagSize = 11 + 3
      'hex',
    ),
  );
});

test('encodeFlvTag: empty body and a timestamp past 2^31', () => {
  const tag = encodeFlvTag(FlvTagType.Script, 0xfffffffe, Buffer.alloc(0));
  assert.deepEqual(tag, Buffer.from('12000000fffffeff0000000000000b', 'hex'));
});

test('encodeFlvTag rejects a body over the UI24 DataSize', () => {
  assert.throws(
    () => encodeFlvTag(FlvTagType.Video, 0, Buffer.alloc(0x1000000)),
    (e) => isEstuaryError(e, 'ERR_FLV_FORMAT'),
  );
});
