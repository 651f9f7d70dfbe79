import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import {
  decodeAmf0,
  decodeAmf0Value,
  encodeAmf0,
  encodeAmf0EcmaArray,
} from '../../../../src/formats/amf/amf0.js';
import type { AmfValue } from '../../../../src/formats/amf/value.js';
import { metadataReferenceBomb, metadataSelfReference } from '../../../helpers/hostile-amf.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const isAmfError = (e: unknown) => isEstuaryError(e, 'ERR_AMF_DECODE');
const isLimit = (e: unknown) => isEstuaryError(e, 'ERR_AMF_LIMIT');

// Byte literals following AMF0 spec sections 2.2 - 2.12: [name, value, bytes]. Used both ways.
const cases: [string, AmfValue, string][] = [
  ['number 1.0 (2.2)', 1, '00 3ff0000000000000'],
  ['number -0.5', -0.5, '00 bfe0000000000000'],
  ['boolean true (2.3)', true, '01 01'],
  ['boolean false', false, '01 00'],
  ['string "foo" (2.4)', 'foo', '02 0003 666f6f'],
  ['empty string', '', '02 0000'],
  ['utf-8 string', 'é', '02 0002 c3a9'],
  ['null (2.7)', null, '05'],
  ['undefined (2.8)', undefined, '06'],
  ['object {a: 1} (2.5)', { a: 1 }, '03 0001 61 00 3ff0000000000000 000009'],
  ['nested object', { o: { b: true } }, '03 0001 6f 03 0001 62 0101 000009 000009'],
  ['strict array (2.12)', [1, 'x'], '0a 00000002 00 3ff0000000000000 02 0001 78'],
  ['date (2.13)', new Date(0x1000), '0b 40b0000000000000 0000'],
];

test('encodeAmf0 produces the spec bytes', () => {
  for (const [name, value, bytes] of cases) assert.deepEqual(encodeAmf0(value), hex(bytes), name);
});

test('decodeAmf0 reads the spec bytes', () => {
  for (const [name, value, bytes] of cases) assert.deepEqual(decodeAmf0(hex(bytes)), [value], name);
});

test('several values in a row decode in order', () => {
  const values: AmfValue[] = [
    'connect',
    1,
    { app: 'live', tcUrl: 'rtmp://h/live' },
    null,
    undefined,
    [1, [2]],
  ];
  assert.deepEqual(decodeAmf0(encodeAmf0(...values)), values);
});

test('strings over 65535 bytes use Long String (2.14)', () => {
  const long = 'a'.repeat(70000);
  const b = encodeAmf0(long);
  assert.equal(b[0], 0x0c);
  assert.equal(b.readUInt32BE(1), 70000);
  assert.equal(b.length, 5 + 70000);
  assert.deepEqual(decodeAmf0(b), [long]);
  assert.equal(encodeAmf0('a'.repeat(65535))[0], 0x02, '65535 bytes still fit the short form');
});

test('ECMA array (2.10) encodes with a count and decodes to a plain object', () => {
  const b = encodeAmf0EcmaArray({ duration: 0, encoder: 'x' });
  assert.deepEqual(
    b,
    hex('08 00000002 0008 6475726174696f6e 00 0000000000000000 0007 656e636f646572 02 0001 78 000009'),
  );
  assert.deepEqual(decodeAmf0(b), [{ duration: 0, encoder: 'x' }]);
  // The count is a hint: a wrong one must not matter.
  const wrongCount = Buffer.from(b);
  wrongCount.writeUInt32BE(99, 1);
  assert.deepEqual(decodeAmf0(wrongCount), [{ duration: 0, encoder: 'x' }]);
});

test('ECMA array without its end marker at the end of the buffer is accepted', () => {
  const b = hex('08 00000001 0001 61 0101');
  assert.deepEqual(decodeAmf0(b), [{ a: true }]);
});

test('typed object (2.18) decodes to a plain object; XML document (2.17) to a string', () => {
  assert.deepEqual(decodeAmf0(hex('10 0003 466f6f 0001 78 00 4000000000000000 000009')), [{ x: 2 }]);
  assert.deepEqual(decodeAmf0(hex('0f 00000004 3c612f3e')), ['<a/>']);
});

test('references (2.9) resolve to the same object', () => {
  // strict array [ {a: true}, ref 1 ]: index 0 is the array itself, 1 the object.
  const [arr] = decodeAmf0(hex('0a 00000002 03 0001 61 0101 000009 07 0001')) as [AmfValue[]];
  assert.deepEqual(arr[0], { a: true });
  assert.equal(arr[1], arr[0]);
});

test('unsupported marker (2.15) decodes to undefined', () => {
  assert.deepEqual(decodeAmf0(hex('0d')), [undefined]);
});

test('AVM+ marker (3.1) switches to AMF3 for one value', () => {
  // 0x11, then AMF3 dynamic anonymous object {a: 1 (integer)}, then a plain AMF0 number.
  assert.deepEqual(decodeAmf0(hex('11 0a 0b 01 03 61 04 01 01 00 4000000000000000')), [{ a: 1 }, 2]);
});

test('decodeAmf0Value reports the offset after the value', () => {
  const b = encodeAmf0('ab', 3);
  assert.deepEqual(decodeAmf0Value(b, 0), { value: 'ab', offset: 5 });
  assert.deepEqual(decodeAmf0Value(b, 5), { value: 3, offset: 14 });
});

test('__proto__ keys become own properties, not a prototype change', () => {
  const [obj] = decodeAmf0(hex('03 0009 5f5f70726f746f5f5f 03 0001 78 0101 000009 000009')) as [object];
  assert.equal(Object.getPrototypeOf(obj), Object.prototype);
  assert.deepEqual(Object.keys(obj), ['__proto__']);
});

test('every truncation of a value throws ERR_AMF_DECODE', () => {
  for (const [name, , bytes] of cases) {
    const full = hex(bytes);
    for (let n = 1; n < full.length; n++) {
      assert.throws(() => decodeAmf0(full.subarray(0, n)), isAmfError, `${name} cut at ${n}`);
    }
  }
});

test('malformed input throws ERR_AMF_DECODE', () => {
  const bad: [string, string][] = [
    ['movie clip marker (reserved)', '04'],
    ['record set marker (reserved)', '0e'],
    ['unknown marker', '12'],
    ['object end in value position', '09'],
    ['reference out of range', '07 0000'],
    ['empty key not followed by object end', '03 0000 05'],
    ['strict array count larger than the buffer', '0a ffffffff 05'],
    ['long string length larger than the buffer', '0c ffffffff 61'],
    ['xml length larger than the buffer', '0f 00010000 61'],
    ['amf3 switch to nothing', '11'],
  ];
  for (const [name, bytes] of bad) assert.throws(() => decodeAmf0(hex(bytes)), isAmfError, name);
});

test('nesting deeper than the limit throws instead of overflowing the stack', () => {
  const deep = Buffer.concat(Array.from({ length: 100_000 }, () => hex('0a 00000001')));
  assert.throws(() => decodeAmf0(deep), isLimit);
  const objects = Buffer.concat(Array.from({ length: 100_000 }, () => hex('03 0001 61')));
  assert.throws(() => decodeAmf0(objects), isLimit);
  // 64 levels are fine.
  let v: AmfValue = 1;
  for (let i = 0; i < 60; i++) v = [v];
  assert.deepEqual(decodeAmf0(encodeAmf0(v)), [v]);
});

test('encoding a cycle throws an EstuaryError, not a RangeError', () => {
  const o: { self?: unknown } = {};
  o.self = o;
  assert.throws(() => encodeAmf0(o as AmfValue), isAmfError);
});

test('references count as what they refer to: a reference bomb is refused at once', () => {
  // 30 objects, each with two references to the one before: 641 bytes, 2^30 values expanded.
  const bomb = metadataReferenceBomb(30);
  const t0 = performance.now();
  assert.throws(() => decodeAmf0(bomb), /more than 65536 values/);
  assert.throws(() => decodeAmf0(bomb), isLimit);
  assert.ok(performance.now() - t0 < 100, 'the refusal took long');
  // 12 levels (4,096 values expanded) are within the bounds, and the references share objects.
  const [name, small] = decodeAmf0(metadataReferenceBomb(12)) as [
    string,
    Record<string, { a: unknown; b: unknown }>,
  ];
  assert.equal(name, 'onMetaData');
  assert.equal(small.o5!.a, small.o4);
  assert.equal(small.o5!.a, small.o5!.b);
});

test('a reference to an object still being decoded (a cycle) is refused', () => {
  assert.throws(() => decodeAmf0(metadataSelfReference()), /refers to an object that contains it/);
  assert.throws(() => decodeAmf0(hex('03 0001 61 07 0000 000009')), isLimit, 'object holding itself');
  assert.throws(() => decodeAmf0(hex('0a 00000001 07 0000')), isLimit, 'array holding itself');
  // A reference to a finished object is no cycle.
  const [a, b] = decodeAmf0(hex('03 0001 61 05 000009 07 0000'));
  assert.equal(a, b);
});

test('the bounds can be set per decode, and cover expanded bytes', () => {
  assert.throws(() => decodeAmf0(encodeAmf0([1, 2, 3]), { maxNodes: 3 }), isLimit);
  assert.deepEqual(decodeAmf0(encodeAmf0([1, 2, 3]), { maxNodes: 4 }), [[1, 2, 3]]);
  // An object holding a 1,000-byte string, referenced 10 times: ~11 KB written out.
  const big = Buffer.concat([
    encodeAmf0({ s: 'x'.repeat(1000) }),
    ...Array.from({ length: 10 }, () => hex('07 0000')),
  ]);
  assert.equal(decodeAmf0(big).length, 11);
  assert.throws(() => decodeAmf0(big, { maxExpandedBytes: 5000 }), /expands to more than 5000 bytes/);
});
