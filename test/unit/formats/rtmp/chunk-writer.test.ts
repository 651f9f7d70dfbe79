import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import { ChunkReader } from '../../../../src/formats/rtmp/chunk-reader.js';
import { encodeMessage, encodeMessages } from '../../../../src/formats/rtmp/chunk-writer.js';
import { setChunkSize } from '../../../../src/formats/rtmp/control.js';
import type { RtmpMessage } from '../../../../src/formats/rtmp/message.js';
import { hex, prng, randomSplits } from './test-helpers.js';

const msg = (over: Partial<RtmpMessage>): RtmpMessage => ({
  type: 20,
  streamId: 0,
  timestamp: 0,
  chunkStreamId: 3,
  payload: Buffer.alloc(0),
  ...over,
});

test('a short message is one fmt 0 chunk (5.3.1.2.1: stream id little-endian)', () => {
  const out = encodeMessage(
    msg({ type: 9, streamId: 1, timestamp: 1000, chunkStreamId: 7, payload: hex('aabb') }),
    128,
  );
  assert.deepEqual(out, hex('07 0003e8 000002 09 01000000 aabb'));
});

test('an empty payload is the header alone', () => {
  assert.deepEqual(encodeMessage(msg({}), 128), hex('03 000000 000000 14 00000000'));
});

test('a long message continues in fmt 3 chunks of chunkSize bytes', () => {
  const payload = Buffer.alloc(300, 0x11);
  const out = encodeMessage(msg({ payload }), 128);
  assert.equal(out.length, 12 + 300 + 2);
  assert.deepEqual(out.subarray(0, 12), hex('03 000000 00012c 14 00000000'));
  assert.equal(out[12 + 128], 0xc3);
  assert.equal(out[12 + 128 + 1 + 128], 0xc3);
});

test('extended timestamps are written after every header, fmt 3 included (5.3.1.3)', () => {
  const payload = Buffer.alloc(5, 0x22);
  const out = encodeMessage(msg({ timestamp: 0x01020304, payload }), 2);
  assert.deepEqual(out, hex('03 ffffff 000005 14 00000000 01020304 2222 c3 01020304 2222 c3 01020304 22'));
  // 0xFFFFFF itself already needs the extended field; 0xFFFFFE does not.
  assert.deepEqual(encodeMessage(msg({ timestamp: 0xffffff }), 128).subarray(1, 4), hex('ffffff'));
  assert.deepEqual(encodeMessage(msg({ timestamp: 0xfffffe }), 128).length, 12);
});

test('basic header forms for csid 63, 64, 319, 320, 65599 (5.3.1.1)', () => {
  const head = (csid: number, fmtBytes: number) =>
    encodeMessage(msg({ chunkStreamId: csid, payload: Buffer.alloc(3) }), 2).subarray(0, fmtBytes);
  assert.deepEqual(head(63, 1), hex('3f'));
  assert.deepEqual(head(64, 2), hex('00 00'));
  assert.deepEqual(head(319, 2), hex('00 ff'));
  assert.deepEqual(head(320, 3), hex('01 00 01'));
  assert.deepEqual(head(65599, 3), hex('01 ff ff'));
  // continuation chunk of csid 320: fmt 3 with the 3-byte form
  const out = encodeMessage(msg({ chunkStreamId: 320, payload: Buffer.alloc(3) }), 2);
  assert.deepEqual(out.subarray(3 + 11 + 2, 3 + 11 + 5), hex('c1 00 01'));
});

test('invalid arguments throw ERR_RTMP_CHUNK', () => {
  const isChunk = (e: unknown) => isEstuaryError(e, 'ERR_RTMP_CHUNK');
  assert.throws(() => encodeMessage(msg({}), 0), isChunk);
  assert.throws(() => encodeMessage(msg({ chunkStreamId: 1 }), 128), isChunk);
  assert.throws(() => encodeMessage(msg({ chunkStreamId: 65600 }), 128), isChunk);
  assert.throws(() => encodeMessage(msg({ payload: Buffer.alloc(0x1000000) }), 128), isChunk);
});

test('encodeMessage -> ChunkReader round trip across chunk size boundaries', () => {
  const rnd = prng(42);
  const sizes = [1, 2, 127, 128, 129, 4095, 4096, 65535, 65536];
  const timestamps = [0, 1, 0xfffffe, 0xffffff, 0x1000000, 0xffffffff];
  for (const size of sizes) {
    const lengths = [0, 1, size - 1, size, size + 1, 2 * size + 1].filter((n) => n >= 0 && n <= 140_000);
    const msgs: RtmpMessage[] = lengths.map((n, i) =>
      msg({
        type: 9,
        streamId: 1,
        chunkStreamId: [3, 64, 320, 65599][i % 4],
        timestamp: timestamps[i % timestamps.length],
        payload: Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256))),
      }),
    );
    const wire = Buffer.concat([encodeMessage(setChunkSize(size), 128), encodeMessages(msgs, size)]);
    const reader = new ChunkReader();
    const got = randomSplits(wire, rnd, 5000).flatMap((p) => reader.push(p));
    assert.equal(got.length, msgs.length + 1, `chunk size ${size}`);
    assert.deepEqual(got.slice(1), msgs, `chunk size ${size}`);
  }
});

test('the same message encodes to the same bytes every time (safe to share across viewers)', () => {
  const m = msg({ type: 8, streamId: 1, timestamp: 5, payload: Buffer.alloc(500, 7) });
  assert.deepEqual(encodeMessage(m, 128), encodeMessage(m, 128));
});
