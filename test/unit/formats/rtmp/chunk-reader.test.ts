import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import { ChunkReader, type ChunkReaderOptions } from '../../../../src/formats/rtmp/chunk-reader.js';
import type { RtmpMessage } from '../../../../src/formats/rtmp/message.js';
import { feedingStyles, hex, oneByteAtATime, readAll } from './test-helpers.js';

const isChunkError = (e: unknown) => isEstuaryError(e, 'ERR_RTMP_CHUNK');

function msg(type: number, streamId: number, timestamp: number, chunkStreamId: number, payload: Buffer) {
  return { type, streamId, timestamp, chunkStreamId, payload } satisfies RtmpMessage;
}

const bytes = (n: number, seed: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));
const A200 = bytes(200, 1);
const V200 = bytes(200, 2);
const X300 = bytes(300, 3);
const SET_CHUNK_4096 = '02 000000 000004 01 00000000 00001000';

/** [name, input bytes, expected messages, reader options?]: every case is fed in every style. */
const cases: [string, Buffer, RtmpMessage[], ChunkReaderOptions?][] = [
  [
    'fmt 0, 1, 2, 3 headers (5.3.1.2) with timestamp deltas accumulated',
    hex(
      '04 0003e8 000003 09 01000000 616263' + // fmt 0: ts 1000, len 3, video, stream 1
        '44 000028 000002 08 6465' + // fmt 1: delta 40, len 2, audio
        '84 000014 6667' + // fmt 2: delta 20
        'c4 6869', // fmt 3: new message, same delta
    ),
    [
      msg(9, 1, 1000, 4, Buffer.from('abc')),
      msg(8, 1, 1040, 4, Buffer.from('de')),
      msg(8, 1, 1060, 4, Buffer.from('fg')),
      msg(8, 1, 1080, 4, Buffer.from('hi')),
    ],
  ],
  [
    'a 200-byte message in two chunks of the default size 128',
    Buffer.concat([
      hex('03 000000 0000c8 14 00000000'),
      A200.subarray(0, 128),
      hex('c3'),
      A200.subarray(128),
    ]),
    [msg(20, 0, 0, 3, A200)],
  ],
  [
    '2- and 3-byte basic headers (5.3.1.1): csid 64, 319, 320, 65599',
    hex(
      '00 00 000001 000001 14 00000000 61' +
        '00 ff 000002 000001 14 00000000 62' +
        '01 0001 000003 000001 14 00000000 63' +
        '01 ffff 000004 000001 14 00000000 64',
    ),
    [
      msg(20, 0, 1, 64, Buffer.from('a')),
      msg(20, 0, 2, 319, Buffer.from('b')),
      msg(20, 0, 3, 320, Buffer.from('c')),
      msg(20, 0, 4, 65599, Buffer.from('d')),
    ],
  ],
  [
    'extended timestamp repeated in fmt 3 chunks (FFmpeg, librtmp)',
    Buffer.concat([
      hex('06 ffffff 00012c 09 01000000 01000000'),
      X300.subarray(0, 128),
      hex('c6 01000000'),
      X300.subarray(128, 256),
      hex('c6 01000000'),
      X300.subarray(256),
      hex('c6 01000000'), // fmt 3 starting a new message: delta = the fmt 0 timestamp
      X300.subarray(0, 128),
      hex('c6 01000000'),
      X300.subarray(128, 256),
      hex('c6 01000000'),
      X300.subarray(256),
    ]),
    [msg(9, 1, 0x01000000, 6, X300), msg(9, 1, 0x02000000, 6, X300)],
  ],
  [
    'extended timestamp not repeated in fmt 3 chunks (some encoders)',
    Buffer.concat([
      hex('06 ffffff 00012c 09 01000000 01000000'),
      X300.subarray(0, 128),
      hex('c6'),
      X300.subarray(128, 256),
      hex('c6'),
      X300.subarray(256),
    ]),
    [msg(9, 1, 0x01000000, 6, X300)],
  ],
  [
    'extended timestamp delta on fmt 1 (5.3.1.3)',
    hex('06 000010 000001 09 01000000 61  46 ffffff 000001 09 01000000 62'),
    [msg(9, 1, 0x10, 6, Buffer.from('a')), msg(9, 1, 0x01000010, 6, Buffer.from('b'))],
  ],
  [
    'timestamps wrap at 2^32',
    hex('06 ffffff 000001 09 01000000 fffffff0 61  86 000020 62'),
    [msg(9, 1, 0xfffffff0, 6, Buffer.from('a')), msg(9, 1, 0x10, 6, Buffer.from('b'))],
  ],
  [
    'Set Chunk Size (5.4.1) applies to the very next chunk',
    Buffer.concat([hex(SET_CHUNK_4096), hex('03 000000 00012c 14 00000000'), X300]),
    [msg(1, 0, 0, 2, hex('00001000')), msg(20, 0, 0, 3, X300)],
  ],
  [
    'Abort (5.4.2) drops the partial message on that chunk stream',
    Buffer.concat([
      hex('06 000000 00012c 09 01000000'),
      X300.subarray(0, 128),
      hex('02 000000 000004 02 00000000 00000006'),
      hex('06 000005 000001 09 01000000 7a'),
    ]),
    [msg(2, 0, 0, 2, hex('00000006')), msg(9, 1, 5, 6, Buffer.from('z'))],
  ],
  [
    'messages interleaved on two chunk streams',
    Buffer.concat([
      hex('06 000000 0000c8 08 01000000'),
      A200.subarray(0, 128),
      hex('07 000000 0000c8 09 01000000'),
      V200.subarray(0, 128),
      hex('c6'),
      A200.subarray(128),
      hex('c7'),
      V200.subarray(128),
    ]),
    [msg(8, 1, 0, 6, A200), msg(9, 1, 0, 7, V200)],
  ],
  ['an empty message', hex('03 000000 000000 14 00000000'), [msg(20, 0, 0, 3, Buffer.alloc(0))]],
  [
    'a fmt 0 header in the middle of a message drops the unfinished one',
    Buffer.concat([
      hex('06 000000 0000c8 08 01000000'),
      A200.subarray(0, 128),
      hex('06 000001 000001 08 01000000 41'),
    ]),
    [msg(8, 1, 1, 6, Buffer.from('A'))],
  ],
];

for (const [name, input, expected, opts] of cases) {
  test(`ChunkReader: ${name}`, () => {
    for (const style of feedingStyles(input, name.length)) {
      assert.deepEqual(readAll(style.pieces, opts), expected, style.name);
    }
  });
}

test('bytesReceived counts every byte pushed; chunkSize follows Set Chunk Size', () => {
  const r = new ChunkReader();
  assert.equal(r.chunkSize, 128);
  const input = Buffer.concat([hex(SET_CHUNK_4096), hex('03 000000')]);
  for (const b of oneByteAtATime(input)) r.push(b);
  assert.equal(r.bytesReceived, input.length);
  assert.equal(r.chunkSize, 4096);
});

test('the extended timestamp decision waits only while the bytes still match', () => {
  // Not repeated, and the 2 payload bytes left differ from the timestamp: decided at once, so a
  // client that sends a short last chunk and then waits for an answer is not left hanging.
  const r = new ChunkReader();
  const out = r.push(
    Buffer.concat([hex('03 ffffff 000082 14 00000000 01000000'), X300.subarray(0, 128), hex('c3 aabb')]),
  );
  assert.equal(out.length, 1);
  assert.deepEqual(out[0].payload, Buffer.concat([X300.subarray(0, 128), hex('aabb')]));
});

/** [name, input, options]: each must throw ERR_RTMP_CHUNK, whole or one byte at a time. */
const errors: [string, string, ChunkReaderOptions?][] = [
  ['chunk size 0', '02 000000 000004 01 00000000 00000000'],
  ['chunk size with the top bit set (> 0x7FFFFFFF)', '02 000000 000004 01 00000000 80000000'],
  ['Set Chunk Size payload too short', '02 000000 000002 01 00000000 0010'],
  ['Abort payload too short', '02 000000 000001 02 00000000 06'],
  [
    'message above maxMessageSize (checked at the header)',
    '03 000000 0003e9 14 00000000',
    { maxMessageSize: 1000 },
  ],
  [
    'fmt 1 message above maxMessageSize',
    '03 000000 000001 14 00000000 61 43 000000 0003e9 14',
    { maxMessageSize: 1000 },
  ],
  ['fmt 1 on a chunk stream never started', '45 000000 000001 08 61'],
  ['fmt 2 on a chunk stream never started', '85 000000 61'],
  ['fmt 3 on a chunk stream never started', 'c5 61'],
  [
    'too many chunk streams',
    '03 000000 000000 14 00000000 04 000000 000000 14 00000000 05 000000 000000 14 00000000',
    { maxChunkStreams: 2 },
  ],
];

for (const [name, input, opts] of errors) {
  test(`ChunkReader throws ERR_RTMP_CHUNK: ${name}`, () => {
    assert.throws(() => new ChunkReader(opts).push(hex(input)), isChunkError, 'whole');
    assert.throws(() => readAll(oneByteAtATime(hex(input)), opts), isChunkError, 'one byte at a time');
  });
}

test('a huge declared message buffers only what has arrived', () => {
  const r = new ChunkReader();
  // 16 MiB - 1 declared, 1 byte sent: nothing is emitted, nothing large is allocated up front.
  const before = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 100; i++) new ChunkReader().push(hex('03 000000 ffffff 09 01000000 00'));
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024);
  assert.deepEqual(r.push(hex('03 000000 ffffff 09 01000000 00')), []);
});

test('payloads are copies: reusing the pushed buffer cannot change them', () => {
  const input = Buffer.concat([
    hex('03 000000 0000c8 14 00000000'),
    A200.subarray(0, 128),
    hex('c3'),
    A200.subarray(128),
  ]);
  const r = new ChunkReader();
  const [first] = r.push(input.subarray(0, 100));
  assert.equal(first, undefined);
  const [m] = r.push(input.subarray(100));
  input.fill(0);
  assert.deepEqual(m.payload, A200);
});

/**
 * Set Chunk Size `sent`, then on each chunk stream in `csids` a message declaring `length` bytes
 * whose first chunk (`sent` bytes) is all that is sent: each is left unfinished.
 */
function partialMessages(csids: number[], length: number, sent: number): Buffer {
  const size = sent;
  const setSize = Buffer.concat([hex('02 000000 000004 01 00000000'), Buffer.alloc(4)]);
  setSize.writeUInt32BE(size, 12);
  const parts = [setSize];
  for (const csid of csids) {
    const h = Buffer.alloc(12);
    h[0] = csid;
    h.writeUIntBE(length, 4, 3);
    h[7] = 9;
    h.writeUInt32LE(1, 8);
    parts.push(h, Buffer.alloc(sent, csid));
  }
  return Buffer.concat(parts);
}

test('unfinished messages over every chunk stream share one budget', () => {
  const csids = Array.from({ length: 63 }, (_, i) => i + 3);
  // 63 chunk streams with a 1 MiB message each under way, at a chunk size of 8 MiB - 1.
  const flood = partialMessages(csids, 0x7fffff, 1024 * 1024);
  const r = new ChunkReader({ maxMessageSize: 8 * 1024 * 1024, maxPartialBytes: 9 * 1024 * 1024 });
  assert.throws(
    () => r.push(flood),
    (e) =>
      isChunkError(e) &&
      /unfinished messages would hold \d+ bytes .* over the limit of 9437184/.test(String(e)),
  );
  assert.ok(r.partialBytes <= 9 * 1024 * 1024, `${r.partialBytes} bytes held`);
  // Whole messages and aborted ones give their bytes back.
  const ok = new ChunkReader({ maxPartialBytes: 300 });
  const whole = Buffer.concat([
    hex('03 000000 0000c8 14 00000000'),
    A200.subarray(0, 128),
    hex('c3'),
    A200.subarray(128),
  ]);
  for (let i = 0; i < 5; i++) assert.equal(ok.push(whole).length, 1);
  assert.equal(ok.partialBytes, 0);
  ok.push(Buffer.concat([hex('04 000000 0000c8 09 01000000'), A200.subarray(0, 128)]));
  assert.equal(ok.partialBytes, 200);
  ok.push(hex('02 000000 000004 02 00000000 00000004')); // Abort chunk stream 4 (5.4.2)
  assert.equal(ok.partialBytes, 0);
});

test('limits can be raised during a connection, and their errors say when they apply', () => {
  const r = new ChunkReader({
    maxMessageSize: 65536,
    maxPartialBytes: 65536,
    limitContext: 'before a publish starts',
  });
  const big = partialMessages([4], 1024 * 1024, 10);
  assert.throws(
    () => new ChunkReader({ maxMessageSize: 65536, limitContext: 'before a publish starts' }).push(big),
    /message of 1048576 bytes on chunk stream 4 exceeds 65536 before a publish starts/,
  );
  r.setLimits({ maxMessageSize: 8 * 1024 * 1024, maxPartialBytes: 9 * 1024 * 1024 });
  assert.deepEqual(
    r.push(big).map((m) => m.type),
    [1],
    'only the Set Chunk Size is complete',
  );
  assert.equal(r.partialBytes, 64 * 1024, 'the first allocation, not the declared length');
});
