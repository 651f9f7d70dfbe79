/**
 * Seeded mutation fuzzing of the RTMP chunk reader, the command/data/control decoders and the AMF0
 * decoder, starting from the captured client bytes. The only acceptable failure is an
 * EstuaryError. Bounded by time (about 2 s in all), reproducible by seed.
 *
 * Inputs that once broke a parser live in test/fixtures/fuzz/{rtmp-chunk,amf0}/ and are replayed
 * below (fuzz/flv/ is replayed by the FLV tag-reader test). Run with ESTUARY_FUZZ_RECORD=1 to have a new crashing input written there.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { EstuaryError } from '../../../../src/errors.js';
import { decodeAmf0 } from '../../../../src/formats/amf/amf0.js';
import { encodeFlvHeader } from '../../../../src/formats/flv/header.js';
import { encodeFlvTag } from '../../../../src/formats/flv/tag.js';
import { ChunkReader } from '../../../../src/formats/rtmp/chunk-reader.js';
import { encodeMessage } from '../../../../src/formats/rtmp/chunk-writer.js';
import { decodeCommand, decodeData } from '../../../../src/formats/rtmp/command.js';
import { parseControl } from '../../../../src/formats/rtmp/control.js';
import { RtmpServerHandshake } from '../../../../src/formats/rtmp/handshake.js';
import type { RtmpMessage } from '../../../../src/formats/rtmp/message.js';
import {
  metadataReferenceBomb,
  metadataSelfReference,
  setDataFrameReferenceBomb,
} from '../../../helpers/hostile-amf.js';
import { hex, prng, randomSplits } from './test-helpers.js';

const FIXTURES = new URL('../../../fixtures/', import.meta.url);
const CAPTURES = ['ffmpeg-publish', 'ffmpeg-play', 'rtmpdump-play'].map((n) =>
  readFileSync(new URL(`rtmp/${n}-chunks.bin`, FIXTURES)),
);
/** Per fuzz target (three targets). ESTUARY_FUZZ_MS / ESTUARY_FUZZ_SEED allow longer hunts. */
const BUDGET_MS = Number(process.env.ESTUARY_FUZZ_MS ?? 600);
const FIRST_SEED = Number(process.env.ESTUARY_FUZZ_SEED ?? 1);

/** Bytes that sit on parser edges: zero, markers, 0xFF lengths, the chunk fmt bits, top bit. */
const INTERESTING = [
  0x00, 0x01, 0x02, 0x03, 0x07, 0x08, 0x09, 0x0a, 0x11, 0x3f, 0x40, 0x7f, 0x80, 0xc3, 0xff,
];

function mutate(src: Buffer, rnd: () => number): Buffer {
  let b = Buffer.from(src);
  const pos = () => Math.floor(rnd() * Math.max(1, b.length));
  for (let n = 1 + Math.floor(rnd() * 4); n > 0; n--) {
    const op = Math.floor(rnd() * 6);
    const at = pos();
    if (op === 0 && b.length) b[at] ^= 1 << Math.floor(rnd() * 8);
    else if (op === 1 && b.length) b[at] = INTERESTING[Math.floor(rnd() * INTERESTING.length)];
    else if (op === 2)
      b = Buffer.concat([b.subarray(0, at), Buffer.from([Math.floor(rnd() * 256)]), b.subarray(at)]);
    else if (op === 3)
      b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + pos() / 8))]);
    else if (op === 4)
      b = b.subarray(0, at); // truncation
    else b = Buffer.concat([b, b.subarray(at, at + 64)]); // duplicated run
  }
  return b;
}

/** Decodes a message the way a session would; control, command and data types only. */
function decodeAny(m: RtmpMessage): void {
  if (m.type >= 1 && m.type <= 6) parseControl(m);
  else if (m.type === 20 || m.type === 17) decodeCommand(m);
  else if (m.type === 18 || m.type === 15) decodeData(m);
}

function runChunks(input: Buffer, splitSeed: number): void {
  const reader = new ChunkReader({ maxMessageSize: 1 << 20, maxChunkStreams: 16 });
  for (const piece of randomSplits(input, prng(splitSeed), 32)) {
    for (const m of reader.push(piece)) {
      try {
        decodeAny(m);
      } catch (e) {
        if (!(e instanceof EstuaryError)) throw e;
      }
    }
  }
}

function runAmf0(input: Buffer): void {
  decodeAmf0(input);
}

function runHandshake(input: Buffer): void {
  const hs = new RtmpServerHandshake();
  for (const piece of randomSplits(input, prng(input.length), 600)) hs.feed(piece);
}

/** Runs `fn`, accepting only EstuaryError; records the input when asked to. */
function expectOnlyEstuaryErrors(folder: string, input: Buffer, fn: () => void, seed: number): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof EstuaryError) return;
    if (process.env.ESTUARY_FUZZ_RECORD === '1') {
      const id = createHash('sha1').update(input).digest('hex').slice(0, 10);
      writeFileSync(new URL(`fuzz/${folder}/crash-${id}.bin`, FIXTURES), input);
    }
    assert.fail(
      `seed ${seed}: non-Estuary error ${String(e)} for input ${input.toString('hex').slice(0, 400)}`,
    );
  }
}

function fuzz(seeds: Buffer[], folder: string, fn: (input: Buffer, seed: number) => void): number {
  const start = Date.now();
  let runs = 0;
  const maxRuns = process.env.ESTUARY_FUZZ_MS ? Number.POSITIVE_INFINITY : 100_000;
  for (let seed = FIRST_SEED; Date.now() - start < BUDGET_MS && runs < maxRuns; seed++, runs++) {
    const rnd = prng(seed);
    const input = mutate(seeds[seed % seeds.length], rnd);
    expectOnlyEstuaryErrors(folder, input, () => fn(input, seed), seed);
  }
  if (process.env.ESTUARY_FUZZ_MS) console.log(`${folder}: ${runs} runs`);
  return runs;
}

test('fuzz: mutated captured chunk streams only ever throw EstuaryError', () => {
  const runs = fuzz(CAPTURES, 'rtmp-chunk', runChunks);
  assert.ok(runs > 50, `only ${runs} runs in the time budget`);
});

test('fuzz: mutated captured AMF0 payloads only ever throw EstuaryError', () => {
  const payloads: Buffer[] = [];
  for (const c of CAPTURES) {
    for (const m of new ChunkReader().push(c)) if (m.type === 20 || m.type === 18) payloads.push(m.payload);
  }
  const runs = fuzz(payloads, 'amf0', runAmf0);
  assert.ok(runs > 50, `only ${runs} runs in the time budget`);
});

test('fuzz: mutated handshakes only ever throw EstuaryError', () => {
  const c0c1 = readFileSync(new URL('rtmp/ffmpeg-publish-c0c1.bin', FIXTURES));
  const runs = fuzz(
    [Buffer.concat([c0c1, Buffer.alloc(1536), CAPTURES[0].subarray(0, 64)])],
    'rtmp-chunk',
    (i) => runHandshake(i),
  );
  assert.ok(runs > 10, `only ${runs} runs in the time budget`);
});

const repeat = (h: string, n: number) => Buffer.concat(Array.from({ length: n }, () => hex(h)));
const command = (payload: Buffer) =>
  encodeMessage({ type: 20, streamId: 0, timestamp: 0, chunkStreamId: 3, payload }, 128);

/**
 * Hand-made hostile inputs, kept in the fuzz folders beside any crash the fuzzer finds; written
 * there by ESTUARY_FUZZ_RECORD=1 (the committed source of those files).
 */
const HOSTILE: Record<string, Record<string, Buffer>> = {
  'rtmp-chunk': {
    'message-length-16m-then-silence': hex('03 000000 ffffff 09 01000000 00'),
    'set-chunk-size-zero': hex('02 000000 000004 01 00000000 00000000'),
    'set-chunk-size-top-bit': hex('02 000000 000004 01 00000000 80000000'),
    'fmt3-on-unknown-csid': hex('c5 61'),
    'chunk-stream-flood': Buffer.concat(
      Array.from({ length: 70 }, (_, i) =>
        hex(`${(i + 3).toString(16).padStart(2, '0')} 000000 000000 14 00000000`),
      ),
    ),
    'extended-ts-not-repeated-payload-half-matches': hex(
      `03 ffffff 000082 14 00000000 01000000 ${'00'.repeat(128)} c3 0100`,
    ),
    'command-amf0-nesting-2000': command(repeat('0a 00000001', 2000)),
    'command-amf3-object-nesting-2000': command(
      Buffer.concat([hex('02 0001 61 00 0000000000000000 11'), repeat('0a 0b 01 03 61', 2000)]),
    ),
    // Set Chunk Size 8 MiB - 1, then 63 chunk streams each starting an 8 MiB - 1 message it never
    // finishes (the report sent ~8 MiB on each; 64 bytes here keep the file small).
    'partial-messages-on-63-chunk-streams': Buffer.concat([
      hex('02 000000 000004 01 00000000 007fffff'),
      ...Array.from({ length: 63 }, (_, i) =>
        Buffer.concat([
          i + 3 < 64 ? Buffer.from([i + 3]) : Buffer.from([0, i + 3 - 64]),
          hex('000000 7fffff 09 01000000'),
          Buffer.alloc(64, 0x55),
        ]),
      ),
    ]),
    'set-data-frame-reference-bomb-2e30': encodeMessage(
      { type: 18, streamId: 1, timestamp: 0, chunkStreamId: 4, payload: setDataFrameReferenceBomb(30) },
      128,
    ),
  },
  amf0: {
    'strict-array-nesting-2000': repeat('0a 00000001', 2000),
    'strict-array-count-4g': hex('0a ffffffff 05'),
    'long-string-length-4g': hex('0c ffffffff 61'),
    'reference-out-of-range': hex('03 0001 61 07 ffff 000009'),
    'amf3-object-nesting-2000': Buffer.concat([hex('11'), repeat('0a 0b 01 03 61', 2000)]),
    'amf3-array-count-u29-max': hex('11 09 ff ff ff ff 01'),
    'amf3-object-references-itself': hex('11 0a 0b 01 03 61 0a 00 01'),
    'metadata-reference-bomb-2e30': metadataReferenceBomb(30),
    'ecma-array-references-itself': metadataSelfReference(),
  },
  flv: {
    'script-metadata-reference-bomb-2e30': Buffer.concat([
      encodeFlvHeader({ audio: false, video: true }),
      encodeFlvTag(18, 0, metadataReferenceBomb(30)),
    ]),
  },
};

test('hostile seed inputs are in the fuzz folders', () => {
  for (const [folder, inputs] of Object.entries(HOSTILE)) {
    for (const [name, bytes] of Object.entries(inputs)) {
      const file = new URL(`fuzz/${folder}/${name}.bin`, FIXTURES);
      if (process.env.ESTUARY_FUZZ_RECORD === '1') writeFileSync(file, bytes);
      assert.deepEqual(readFileSync(file), bytes, `${folder}/${name}.bin`);
    }
  }
});

function corpus(folder: string): { name: string; bytes: Buffer }[] {
  const dir = new URL(`fuzz/${folder}/`, FIXTURES);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bin'))
    .map((name) => ({ name, bytes: readFileSync(new URL(name, dir)) }));
}

test('replay: inputs that once broke the chunk reader or command decoders', () => {
  for (const { name, bytes } of corpus('rtmp-chunk')) {
    for (const splitSeed of [1, 2, 3])
      expectOnlyEstuaryErrors('rtmp-chunk', bytes, () => runChunks(bytes, splitSeed), 0);
    expectOnlyEstuaryErrors('rtmp-chunk', bytes, () => runHandshake(bytes), 0);
    assert.ok(name.length > 0);
  }
});

test('replay: inputs that once broke the AMF0 decoder', () => {
  for (const { bytes } of corpus('amf0')) expectOnlyEstuaryErrors('amf0', bytes, () => runAmf0(bytes), 0);
});
