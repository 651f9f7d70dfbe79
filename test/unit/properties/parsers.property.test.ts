/**
 * Property-based tests (fast-check) of every parser that reads bytes from the network or a file:
 * AMF0/AMF3, the RTMP chunk stream, FLV tags, MP4 boxes, and the HTTP-FLV ingest pipeline (FLV
 * tags → tracks and frames). On random bytes and on real input with random mutations each one
 * returns or throws one of the catalogue's errors — never anything else, never a hang — and the
 * incremental ones give the same result whatever the bytes' split, holding no more than the bytes
 * that actually arrived. Runs are bounded (numRuns) and seeded by fast-check (a failure prints the
 * seed and the shrunk input to replay it).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { ERROR_CODES, EstuaryError } from '../../../src/errors.js';
import { decodeAmf0, encodeAmf0 } from '../../../src/formats/amf/amf0.js';
import { decodeAmf3Value } from '../../../src/formats/amf/amf3.js';
import type { AmfValue } from '../../../src/formats/amf/value.js';
import { FlvToFrames } from '../../../src/formats/flv/flv-to-frame.js';
import { FlvTagReader } from '../../../src/formats/flv/tag-reader.js';
import { bufferReader, Mp4Demuxer } from '../../../src/formats/mp4/demuxer.js';
import { ChunkReader } from '../../../src/formats/rtmp/chunk-reader.js';
import { fixture } from '../../helpers/media.js';

const RUNS = Number(process.env.ESTUARY_PROPERTY_RUNS ?? 300);
/** Any single parse of these small inputs finishing slower than this counts as a hang. */
const HANG_MS = 2000;

const FLV = readFileSync(fixture('h264-aac-3s.flv'));
const MP4 = readFileSync(fixture('h264-aac-bframes-10s.mp4'));
const RTMP = readFileSync(new URL('../../fixtures/rtmp/ffmpeg-publish-chunks.bin', import.meta.url));

/** Passes when `fn` returns or throws a catalogued EstuaryError, within HANG_MS. */
function onlyCatalogued(fn: () => unknown): void {
  const t0 = performance.now();
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof EstuaryError, `not an EstuaryError: ${String(err)}`);
    assert.ok(err.code in ERROR_CODES, err.code);
  }
  assert.ok(performance.now() - t0 < HANG_MS, 'took too long');
}

async function onlyCataloguedAsync(fn: () => Promise<unknown>): Promise<void> {
  const t0 = performance.now();
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof EstuaryError, `not an EstuaryError: ${String(err)}`);
    assert.ok(err.code in ERROR_CODES, err.code);
  }
  assert.ok(performance.now() - t0 < HANG_MS, 'took too long');
}

/** A real input with a few random edits: flipped bits, overwritten, inserted or deleted runs. */
function mutated(src: Buffer, window = src.length): fc.Arbitrary<Buffer> {
  const edit = fc.oneof(
    fc.record({
      kind: fc.constant('set' as const),
      at: fc.nat(window - 1),
      byte: fc.integer({ min: 0, max: 255 }),
    }),
    fc.record({
      kind: fc.constant('flip' as const),
      at: fc.nat(window - 1),
      bit: fc.integer({ min: 0, max: 7 }),
    }),
    fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(window - 1),
      bytes: fc.uint8Array({ maxLength: 16 }),
    }),
    fc.record({
      kind: fc.constant('cut' as const),
      at: fc.nat(window - 1),
      len: fc.integer({ min: 1, max: 64 }),
    }),
  );
  return fc.array(edit, { minLength: 1, maxLength: 6 }).map((edits) => {
    let b = Buffer.from(src);
    for (const e of edits) {
      const at = Math.min(e.at, Math.max(0, b.length - 1));
      if (e.kind === 'set') b[at] = e.byte;
      else if (e.kind === 'flip') b[at] = (b[at] ?? 0) ^ (1 << e.bit);
      else if (e.kind === 'insert')
        b = Buffer.concat([b.subarray(0, at), Buffer.from(e.bytes), b.subarray(at)]);
      else b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.len)]);
    }
    return b;
  });
}

/** Cut points for feeding `b` in pieces. */
function splitsOf(b: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of points) {
    out.push(b.subarray(at, p));
    at = p;
  }
  out.push(b.subarray(at));
  return out;
}

// ------------------------------------------------------------------------------------ AMF

/** AMF0 values that round-trip exactly (no undefined inside objects, no -0, no NaN, no Dates). */
const amfValue = fc.letrec<{ value: AmfValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.double({ noNaN: true }).filter((d) => !Object.is(d, -0)),
    fc.boolean(),
    fc.string({ maxLength: 40 }),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(
      fc.string({ minLength: 1, maxLength: 10 }).filter((k) => k !== '__proto__'),
      tie('value'),
      {
        maxKeys: 5,
        noNullPrototype: true,
      },
    ),
  ),
})).value;

test('AMF0: every value encodes and decodes to itself', () => {
  fc.assert(
    fc.property(fc.array(amfValue, { minLength: 1, maxLength: 4 }), (values) => {
      assert.deepEqual(decodeAmf0(encodeAmf0(...values)), values);
    }),
    { numRuns: RUNS },
  );
});

test('AMF0 and AMF3: random and mutated bytes give values or ERR_AMF_*, nothing else', () => {
  const real = encodeAmf0('onMetaData', {
    duration: 10,
    width: 320,
    encoder: 'Lavf',
    nested: { a: [1, 2, 'x'] },
  });
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 512 }).map((u) => Buffer.from(u)),
        mutated(real),
      ),
      (b) => {
        onlyCatalogued(() => decodeAmf0(b));
        onlyCatalogued(() => {
          for (let off = 0; off < b.length; ) off = decodeAmf3Value(b, off).offset;
        });
      },
    ),
    { numRuns: RUNS },
  );
});

// ------------------------------------------------------------------------------------ RTMP chunks

test('RTMP chunk stream: a real capture decodes the same in any split', () => {
  const whole = new ChunkReader().push(RTMP);
  fc.assert(
    fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
      const r = new ChunkReader();
      const msgs = splitsOf(RTMP, cuts).flatMap((piece) => r.push(piece));
      assert.equal(msgs.length, whole.length);
      msgs.forEach((m, i) => {
        assert.equal(m.type, whole[i]!.type);
        assert.equal(m.timestamp, whole[i]!.timestamp);
        assert.ok(m.payload.equals(whole[i]!.payload));
      });
    }),
    { numRuns: RUNS },
  );
});

test('RTMP chunk stream: random and mutated bytes give messages or ERR_RTMP_CHUNK, memory bounded', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 4096 }).map((u) => Buffer.from(u)),
        mutated(RTMP, 4096),
      ),
      (b) => {
        onlyCatalogued(() => {
          const r = new ChunkReader({ maxMessageSize: 64 * 1024, maxPartialBytes: 64 * 1024 });
          for (const piece of splitsOf(b, [b.length >> 2, b.length >> 1])) {
            r.push(piece);
            // Unfinished messages never hold more than the budget, whatever the headers claim.
            assert.ok(r.partialBytes <= 64 * 1024, `${r.partialBytes} bytes held`);
          }
        });
      },
    ),
    { numRuns: RUNS },
  );
});

// ------------------------------------------------------------------------------------ FLV

test('FLV tags: a real file reads the same in any split, and the reader holds only what arrived', () => {
  const whole = new FlvTagReader().push(FLV);
  fc.assert(
    fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
      const r = new FlvTagReader();
      const tags = [];
      for (const piece of splitsOf(FLV, cuts)) {
        tags.push(...r.push(piece));
        assert.ok(r.bytesBuffered <= FLV.length);
      }
      assert.equal(tags.length, whole.length);
      assert.equal(r.bytesBuffered, 0);
      for (const [i, t] of tags.entries()) assert.ok(t.body.equals(whole[i]!.body));
    }),
    { numRuns: RUNS },
  );
});

test('HTTP-FLV ingest (FLV tags → tracks and frames): mutated uploads give frames or a catalogued error', () => {
  fc.assert(
    fc.property(mutated(FLV, 8192), fc.array(fc.nat(), { maxLength: 8 }), (b, cuts) => {
      onlyCatalogued(() => {
        const reader = new FlvTagReader({ maxTagSize: 1024 * 1024 });
        const demux = new FlvToFrames();
        let ms = 0;
        for (const piece of splitsOf(b, cuts)) {
          for (const tag of reader.push(piece)) {
            ms = Math.max(ms, tag.timestamp);
            demux.push(tag, ms);
          }
        }
      });
    }),
    { numRuns: RUNS },
  );
});

// ------------------------------------------------------------------------------------ MP4

test('MP4 boxes: mutated files open and demux, or fail with ERR_MP4_FORMAT / a codec error', async () => {
  // The moov of the fixture sits at its end (FFmpeg's default): aim most edits there.
  const moovAt = MP4.lastIndexOf(Buffer.from('moov')) - 4;
  const tail = MP4.subarray(moovAt);
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        mutated(tail),
        fc.uint8Array({ maxLength: 2048 }).map((u) => Buffer.from(u)),
      ),
      async (t) => {
        const file = Buffer.concat([MP4.subarray(0, moovAt), t]);
        await onlyCataloguedAsync(async () => {
          const d = await Mp4Demuxer.open(bufferReader(file));
          let n = 0;
          for await (const _f of d.frames()) if (++n > 5000) break;
        });
      },
    ),
    { numRuns: Math.min(RUNS, 150) },
  );
});
