/**
 * copyFrameRanges (convert/frame-ranges.ts): every range's bytes, in order, whatever the ranges
 * are — inside one read, across the end of a read, larger than the read buffer, going backwards —
 * and an error when the file is shorter than the ranges say.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { copyFrameRanges, FrameRanges } from '../../../src/convert/frame-ranges.js';

/** A file of pseudo-random bytes (no two ranges alike), read as a RangeReader reads. */
function file(size: number): {
  bytes: Buffer;
  reads: number[];
  read: (b: Buffer, n: number, at: number) => number;
} {
  const bytes = Buffer.alloc(size);
  let x = 12345;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  const reads: number[] = [];
  return {
    bytes,
    reads,
    read: (b, n, at) => {
      reads.push(at);
      return bytes.copy(b, 0, at, Math.min(size, at + n));
    },
  };
}

async function copy(
  f: ReturnType<typeof file>,
  list: Array<[number, number]>,
  bufferBytes: number,
): Promise<{ out: Buffer; pauses: number[] }> {
  const ranges = new FrameRanges();
  for (const [i, [at, len]] of list.entries()) ranges.add(at, len, i * 40);
  const parts: Buffer[] = [];
  const pauses: number[] = [];
  await copyFrameRanges(
    ranges,
    f.read,
    (src, start, end) => parts.push(Buffer.from(src.subarray(start, end))),
    Buffer.alloc(bufferBytes),
    (done, dts) => {
      pauses.push(done, dts);
      return undefined;
    },
  );
  return { out: Buffer.concat(parts), pauses };
}

const expected = (f: ReturnType<typeof file>, list: Array<[number, number]>): Buffer =>
  Buffer.concat(list.map(([at, len]) => f.bytes.subarray(at, at + len)));

describe('copyFrameRanges', () => {
  it('writes each range once, in order, reading again only when a range leaves the buffer', async () => {
    const f = file(10_000);
    // FLV-like: payloads with gaps (tag headers) between them, one crossing the first read's end.
    const list: Array<[number, number]> = [
      [13, 100],
      [130, 500],
      [650, 300],
      [970, 60],
      [1050, 2000],
      [3070, 7],
    ];
    const { out, pauses } = await copy(f, list, 1024);
    assert.deepEqual(out, expected(f, list));
    // 4 frames fit the first read (13..1037); the 2000-byte one gets a buffer of its size.
    assert.deepEqual(f.reads, [13, 1050, 3070]);
    assert.deepEqual(pauses, [4, 120, 5, 160]);
  });

  it('copies ranges that go backwards or repeat, and empty ones', async () => {
    const f = file(5000);
    const list: Array<[number, number]> = [
      [4000, 900],
      [10, 50],
      [10, 50],
      [3000, 0],
      [4999, 1],
    ];
    const { out } = await copy(f, list, 256);
    assert.deepEqual(out, expected(f, list));
  });

  it('grows its ranges past their first capacity', async () => {
    const f = file(200_000);
    const list: Array<[number, number]> = [];
    for (let at = 0; at + 20 <= f.bytes.length; at += 23) list.push([at, 20]);
    assert.ok(list.length > 4096);
    const { out } = await copy(f, list, 64 * 1024);
    assert.deepEqual(out, expected(f, list));
  });

  it('throws when the file is shorter than a range', async () => {
    const f = file(1000);
    await assert.rejects(
      copy(
        f,
        [
          [0, 10],
          [990, 20],
        ],
        512,
      ),
      /changed between the two passes/,
    );
  });
});
