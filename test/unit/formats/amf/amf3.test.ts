import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import { decodeAmf3Value } from '../../../../src/formats/amf/amf3.js';
import type { AmfValue } from '../../../../src/formats/amf/value.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const isAmfError = (e: unknown) => isEstuaryError(e, 'ERR_AMF_DECODE');
const isLimit = (e: unknown) => isEstuaryError(e, 'ERR_AMF_LIMIT');
const decode = (s: string): AmfValue => {
  const b = hex(s);
  const { value, offset } = decodeAmf3Value(b, 0);
  assert.equal(offset, b.length, `all of ${s} consumed`);
  return value;
};

// AMF3 spec sections 1.3.1 and 3.x: [name, bytes, value].
const cases: [string, string, AmfValue][] = [
  ['undefined (3.2)', '00', undefined],
  ['null (3.3)', '01', null],
  ['false (3.4)', '02', false],
  ['true (3.5)', '03', true],
  ['integer 0 (3.6)', '04 00', 0],
  ['integer 127, one byte', '04 7f', 127],
  ['integer 128, two bytes', '04 81 00', 128],
  ['integer 16383', '04 ff 7f', 16383],
  ['integer 16384, three bytes', '04 81 80 00', 16384],
  ['integer 2^28-1, four bytes', '04 bf ff ff ff', 0x0fffffff],
  ['integer -1 (29-bit two complement)', '04 ff ff ff ff', -1],
  ['integer -2^28', '04 c0 80 80 00', -0x10000000],
  ['double 1.5 (3.7)', '05 3ff8000000000000', 1.5],
  ['string "foo" (3.8)', '06 07 666f6f', 'foo'],
  ['empty string', '06 01', ''],
  ['xml document (3.9)', '07 09 3c612f3e', '<a/>'],
  ['date (3.10)', '08 01 40b0000000000000', new Date(4096)],
  ['dense array (3.11)', '09 05 01 04 01 04 02', [1, 2]],
  ['mixed array', '09 03 03 61 04 01 01 04 02', { a: 1, '0': 2 }],
  ['anonymous dynamic object (3.12)', '0a 0b 01 03 61 04 01 01', { a: 1 }],
  ['sealed typed object', '0a 13 07 466f6f 03 78 04 05', { x: 5 }],
  ['sealed + dynamic members', '0a 1b 01 03 78 04 05 03 79 03 01', { x: 5, y: true }],
  ['xml (3.13)', '0b 09 3c622f3e', '<b/>'],
  ['byte array (3.14)', '0c 07 010203', [1, 2, 3]],
  ['vector of int (3.15)', '0d 05 00 ffffffff 00000002', [-1, 2]],
  ['vector of uint', '0e 03 00 ffffffff', [0xffffffff]],
  ['vector of double', '0f 03 01 3ff0000000000000', [1]],
  ['vector of object', '10 05 00 01 06 03 61 03', ['a', true]],
  ['dictionary (3.16)', '11 03 00 06 03 6b 04 07', { k: 7 }],
];

test('decodeAmf3Value reads every marker', () => {
  for (const [name, bytes, value] of cases) assert.deepEqual(decode(bytes), value, name);
});

test('string references (3.8) resolve; the empty string is not referenced', () => {
  // ["foo", "", ref 0 -> "foo"]
  assert.deepEqual(decode('09 07 01 06 07 666f6f 06 01 06 00'), ['foo', '', 'foo']);
  // object keys share the same table: key "a" then value ref 0
  assert.deepEqual(decode('0a 0b 01 03 61 06 00 01'), { a: 'a' });
});

test('object and traits references (3.12) resolve', () => {
  // [ {x:1} sealed Foo, second object reusing traits 0 -> {x:2}, object ref 1 -> the first ]
  const v = decode('09 07 01 0a 13 07 466f6f 03 78 04 01 0a 01 04 02 0a 02') as AmfValue[];
  assert.deepEqual(v.slice(0, 2), [{ x: 1 }, { x: 2 }]);
  assert.equal(v[2], v[0]);
});

test('offset: decoding starts and ends where told', () => {
  const b = hex('ff ff 04 7f 06 03 61');
  assert.deepEqual(decodeAmf3Value(b, 2), { value: 127, offset: 4 });
  assert.deepEqual(decodeAmf3Value(b, 4), { value: 'a', offset: 7 });
});

test('every truncation throws ERR_AMF_DECODE', () => {
  for (const [name, bytes] of cases) {
    const full = hex(bytes);
    for (let n = 0; n < full.length; n++) {
      assert.throws(() => decodeAmf3Value(full.subarray(0, n), 0), isAmfError, `${name} cut at ${n}`);
    }
  }
});

test('malformed input throws ERR_AMF_DECODE', () => {
  const bad: [string, string][] = [
    ['unknown marker', '12'],
    ['string reference out of range', '06 02'],
    ['object reference out of range', '0a 00'],
    ['traits reference out of range', '0a 01'],
    ['externalizable object', '0a 07 07 466f6f'],
    ['array count larger than the buffer', '09 ff ff ff ff 01'],
    ['vector count larger than the buffer', '0f 0b 00 00'],
    ['string length larger than the buffer', '06 ff ff ff 7f 61'],
    ['sealed member count larger than the buffer', '0a ff ff ff f3 01'],
  ];
  for (const [name, bytes] of bad) assert.throws(() => decodeAmf3Value(hex(bytes), 0), isAmfError, name);
  assert.throws(() => decodeAmf3Value(hex('01'), 2), isAmfError, 'offset past the end');
});

test('deep nesting throws instead of overflowing the stack', () => {
  const deep = Buffer.concat(Array.from({ length: 50_000 }, () => hex('09 03 01')));
  assert.throws(() => decodeAmf3Value(deep, 0), isLimit);
});

test('an object referring to itself (a cycle) is refused', () => {
  // Dynamic anonymous object {a: <object reference 0>}: itself.
  assert.throws(() => decodeAmf3Value(hex('0a 0b 01 03 61 0a 00 01'), 0), /a cycle/);
  // Dense array [<object reference 0>]: itself.
  assert.throws(() => decodeAmf3Value(hex('09 03 01 09 00'), 0), isLimit);
});

test('object and string references count as what they refer to', () => {
  // A dense array of 20 arrays, each holding two references to the one before (2^20 values).
  const parts = [hex('09 29 01'), hex('09 01 01')];
  for (let i = 1; i < 20; i++)
    parts.push(
      hex(`09 05 01 09 ${(i * 2).toString(16).padStart(2, '0')} 09 ${(i * 2).toString(16).padStart(2, '0')}`),
    );
  assert.throws(() => decodeAmf3Value(Buffer.concat(parts), 0), /more than 65536 values/);
  // A 100-byte string, then 20,000 references to it: 2 MB written out.
  const s = Buffer.concat([
    hex('09'),
    Buffer.from([0x80 | (20001 >> 13), 0x80 | ((20001 >> 6) & 0x7f), ((20001 << 1) & 0x7f) | 1]),
    hex('01 06 81 49'),
    Buffer.alloc(100, 0x61),
  ]);
  const refs = Buffer.concat(Array.from({ length: 20_000 }, () => hex('06 00')));
  assert.throws(() => decodeAmf3Value(Buffer.concat([s, refs]), 0), /expands to more than 1048576 bytes/);
});
