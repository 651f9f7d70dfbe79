import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isEstuaryError } from '../../../../src/errors.js';
import { FlvToFrames } from '../../../../src/formats/flv/flv-to-frame.js';
import { encodeFlvHeader } from '../../../../src/formats/flv/header.js';
import { encodeFlvTag, type FlvTag, FlvTagType } from '../../../../src/formats/flv/tag.js';
import { FlvTagReader } from '../../../../src/formats/flv/tag-reader.js';

const TAGS: FlvTag[] = [
  { type: FlvTagType.Script, timestamp: 0, body: Buffer.from('020a6f6e4d65746144617461050000000009', 'hex') },
  { type: FlvTagType.Video, timestamp: 0, body: Buffer.from('1701000000aabbcc', 'hex') },
  { type: FlvTagType.Audio, timestamp: 23, body: Buffer.from('af01', 'hex') },
  { type: FlvTagType.Audio, timestamp: 46, body: Buffer.alloc(0) },
  { type: FlvTagType.Video, timestamp: 0x01000000 + 40, body: Buffer.alloc(300, 7) },
];
const STREAM = Buffer.concat([
  encodeFlvHeader({ audio: true, video: true }),
  ...TAGS.map((t) => encodeFlvTag(t.type, t.timestamp, t.body)),
]);

function readInPieces(buf: Buffer, cuts: number[], reader = new FlvTagReader()): FlvTag[] {
  const out: FlvTag[] = [];
  let prev = 0;
  for (const cut of [...cuts, buf.length]) {
    out.push(...reader.push(buf.subarray(prev, cut)));
    prev = cut;
  }
  return out;
}

/** Deterministic pseudo-random cut points (a linear congruential generator), so failures replay. */
function cutsFor(seed: number, length: number): number[] {
  const cuts: number[] = [];
  let s = seed;
  for (let at = 0; ; ) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    at += 1 + (s % 40);
    if (at >= length) return cuts;
    cuts.push(at);
  }
}

test('reads every tag from one chunk', () => {
  const reader = new FlvTagReader();
  assert.deepEqual(reader.push(STREAM), TAGS);
  assert.equal(reader.bytesConsumed, STREAM.length);
  assert.equal(reader.bytesBuffered, 0);
});

test('reads the same tags whatever the split: byte by byte and random cuts', () => {
  const everyByte = Array.from({ length: STREAM.length - 1 }, (_, i) => i + 1);
  assert.deepEqual(readInPieces(STREAM, everyByte), TAGS);
  for (let seed = 1; seed <= 50; seed++)
    assert.deepEqual(readInPieces(STREAM, cutsFor(seed, STREAM.length)), TAGS);
});

test('a body within one chunk is a subarray; a body across chunks is a copy', () => {
  const whole = new FlvTagReader().push(STREAM);
  assert.equal(whole[1].body.buffer, STREAM.buffer);
  const input = Buffer.from(STREAM);
  const split = readInPieces(input, [13 + 11 + 10]); // inside the script tag body
  input.fill(0);
  assert.deepEqual(split[0].body, TAGS[0].body, 'survives the input being reused');
});

test('bytesConsumed excludes a partial tag', () => {
  const reader = new FlvTagReader();
  reader.push(STREAM.subarray(0, 20));
  assert.equal(reader.bytesConsumed, 13);
  assert.equal(reader.bytesBuffered, 7);
});

test('honours a DataOffset beyond 9 and expectHeader: false', () => {
  const header = Buffer.from('464c56010500000010' + '00'.repeat(7) + '00000000', 'hex');
  const body = STREAM.subarray(13);
  assert.deepEqual(readInPieces(Buffer.concat([header, body]), [5, 12, 17]), TAGS);
  assert.deepEqual(new FlvTagReader({ expectHeader: false }).push(body), TAGS);
});

test('rejects a bad signature, unknown or encrypted tag types and oversized tags', () => {
  const bad = (buf: Buffer, re: RegExp, opts?: { maxTagSize?: number }) =>
    assert.throws(
      () => new FlvTagReader(opts).push(buf),
      (e) => isEstuaryError(e, 'ERR_FLV_FORMAT') && re.test(e.message),
    );
  bad(Buffer.from('464c5801050000000900000000', 'hex'), /signature/);
  const head = encodeFlvHeader({ audio: true, video: true });
  bad(Buffer.concat([head, Buffer.from('0a00000100000000000000', 'hex')]), /tag type 10/);
  bad(Buffer.concat([head, Buffer.from('2800000100000000000000', 'hex')]), /encrypted/);
  bad(
    Buffer.concat([head, Buffer.from('0900100100000000000000', 'hex')]),
    /4097 bytes exceeds the limit of 4096/,
    {
      maxTagSize: 4096,
    },
  );
});

test('an announced huge tag allocates nothing before its bytes arrive', () => {
  const reader = new FlvTagReader();
  const head = Buffer.concat([
    encodeFlvHeader({ audio: false, video: true }),
    Buffer.from('09fffff0000000000000001701', 'hex'),
  ]);
  assert.deepEqual(reader.push(head), []);
  assert.equal(reader.bytesBuffered, 2, 'only the bytes received are held');
});

const FUZZ_DIR = fileURLToPath(new URL('../../../fixtures/fuzz/flv/', import.meta.url));

test('fuzz corpus: every input parses or throws an EstuaryError', () => {
  const files = readdirSync(FUZZ_DIR).filter((f) => f.endsWith('.bin'));
  assert.ok(files.length > 0);
  for (const file of files) {
    const input = readFileSync(join(FUZZ_DIR, file));
    try {
      const demux = new FlvToFrames();
      for (const tag of new FlvTagReader({ maxTagSize: 1 << 20 }).push(input)) demux.push(tag, tag.timestamp);
    } catch (err) {
      assert.ok(isEstuaryError(err), `${file}: ${String(err)}`);
    }
  }
});
