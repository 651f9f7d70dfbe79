/** Shared helpers for the RTMP wire-format tests: a seeded PRNG and ways to split a byte stream. */
import { ChunkReader, type ChunkReaderOptions } from '../../../../src/formats/rtmp/chunk-reader.js';
import type { RtmpMessage } from '../../../../src/formats/rtmp/message.js';

/** mulberry32: tiny, seedable, good enough to pick split points and mutations reproducibly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cuts `buf` into pieces of 1..maxPiece bytes chosen by `rnd`. */
export function randomSplits(buf: Buffer, rnd: () => number, maxPiece = 64): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < buf.length; ) {
    const n = 1 + Math.floor(rnd() * maxPiece);
    out.push(buf.subarray(off, off + n));
    off += n;
  }
  return out;
}

export function oneByteAtATime(buf: Buffer): Buffer[] {
  return Array.from({ length: buf.length }, (_, i) => buf.subarray(i, i + 1));
}

/** Feeds the pieces to a fresh reader and returns every message, in order. */
export function readAll(pieces: Buffer[], opts?: ChunkReaderOptions): RtmpMessage[] {
  const reader = new ChunkReader(opts);
  return pieces.flatMap((p) => reader.push(p));
}

/** The three feeding styles every stream test uses: whole, one byte at a time, random splits. */
export function feedingStyles(buf: Buffer, seed = 1): { name: string; pieces: Buffer[] }[] {
  return [
    { name: 'whole', pieces: [buf] },
    { name: 'one byte at a time', pieces: oneByteAtATime(buf) },
    { name: `random splits (seed ${seed})`, pieces: randomSplits(buf, prng(seed)) },
    { name: `random splits (seed ${seed + 1})`, pieces: randomSplits(buf, prng(seed + 1), 7) },
  ];
}

export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}
