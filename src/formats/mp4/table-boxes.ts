/**
 * Sample table boxes (ISO/IEC 14496-12 8.6 and 8.7), built from typed arrays so a 30-minute
 * recording (~120k samples) costs a few bytes per sample, not an object per sample. With empty
 * arrays they give the empty tables an fMP4 init segment needs.
 */
import { checkU32, fullBox, TWO_POW_32, writeU64 } from './box-writer.js';

type Numbers = ArrayLike<number>;

/** Run-length pairs (count, value) over a sequence, the shape of stts and ctts entries. */
function runs(values: Numbers): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < values.length; i++) {
    const last = out[out.length - 1];
    if (last && last[1] === values[i]) last[0]++;
    else out.push([1, values[i]]);
  }
  return out;
}

/** entry_count then (count, value) pairs; `signed` writes the value as int32. */
function pairTable(pairs: Array<[number, number]>, signed: boolean): Buffer {
  const body = Buffer.allocUnsafe(4 + pairs.length * 8);
  body.writeUInt32BE(pairs.length, 0);
  pairs.forEach(([count, value], i) => {
    body.writeUInt32BE(count, 4 + i * 8);
    if (signed) body.writeInt32BE(value, 8 + i * 8);
    else body.writeUInt32BE(checkU32(value, 'sample delta'), 8 + i * 8);
  });
  return body;
}

/** 8.6.1.2 TimeToSampleBox: run-length of sample durations (decode deltas). */
export function stts(durations: Numbers): Buffer {
  return fullBox('stts', 0, 0, pairTable(runs(durations), false));
}

/**
 * 8.6.1.3 CompositionOffsetBox. Version 0 (unsigned offsets) whenever every offset is >= 0, which
 * is always the case for MediaFrames (pts >= dts) and is what every player reads; version 1
 * (signed, 8.6.1.3.1) only when a caller passes a negative offset.
 */
export function ctts(offsets: Numbers): Buffer {
  let negative = false;
  for (let i = 0; i < offsets.length && !negative; i++) negative = offsets[i] < 0;
  return fullBox('ctts', negative ? 1 : 0, 0, pairTable(runs(offsets), negative));
}

/** 8.6.2 SyncSampleBox: 1-based numbers of the sync samples. */
export function stss(syncSampleNumbers: Numbers): Buffer {
  const body = Buffer.allocUnsafe(4 + syncSampleNumbers.length * 4);
  body.writeUInt32BE(syncSampleNumbers.length, 0);
  for (let i = 0; i < syncSampleNumbers.length; i++) body.writeUInt32BE(syncSampleNumbers[i], 4 + i * 4);
  return fullBox('stss', 0, 0, body);
}

/** 8.7.3.2 SampleSizeBox: a constant sample_size when all samples are equal, else one entry each. */
export function stsz(sizes: Numbers): Buffer {
  let constant = sizes.length > 0 ? sizes[0] : 0;
  for (let i = 1; i < sizes.length && constant !== 0; i++) if (sizes[i] !== constant) constant = 0;
  const table = constant === 0 ? sizes.length : 0;
  const body = Buffer.allocUnsafe(8 + table * 4);
  body.writeUInt32BE(checkU32(constant, 'sample size'), 0);
  body.writeUInt32BE(sizes.length, 4);
  for (let i = 0; i < table; i++) body.writeUInt32BE(checkU32(sizes[i], 'sample size'), 8 + i * 4);
  return fullBox('stsz', 0, 0, body);
}

/**
 * 8.7.4 SampleToChunkBox from the number of samples in each chunk: one entry per run of chunks
 * with the same count (first_chunk is 1-based), all with sample_description_index 1.
 */
export function stsc(samplesPerChunk: Numbers): Buffer {
  const entries: Array<[number, number]> = [];
  for (let i = 0; i < samplesPerChunk.length; i++) {
    const last = entries[entries.length - 1];
    if (!last || last[1] !== samplesPerChunk[i]) entries.push([i + 1, samplesPerChunk[i]]);
  }
  const body = Buffer.allocUnsafe(4 + entries.length * 12);
  body.writeUInt32BE(entries.length, 0);
  entries.forEach(([first, count], i) => {
    body.writeUInt32BE(first, 4 + i * 12);
    body.writeUInt32BE(count, 8 + i * 12);
    body.writeUInt32BE(1, 12 + i * 12);
  });
  return fullBox('stsc', 0, 0, body);
}

/** True when some chunk offset needs 64 bits, i.e. the track needs co64 instead of stco. */
export function needsCo64(chunkOffsets: Numbers): boolean {
  for (let i = 0; i < chunkOffsets.length; i++) if (chunkOffsets[i] >= TWO_POW_32) return true;
  return false;
}

/** 8.7.5 ChunkOffsetBox (stco, 32-bit). */
export function stco(chunkOffsets: Numbers): Buffer {
  const body = Buffer.allocUnsafe(4 + chunkOffsets.length * 4);
  body.writeUInt32BE(chunkOffsets.length, 0);
  for (let i = 0; i < chunkOffsets.length; i++) {
    body.writeUInt32BE(checkU32(chunkOffsets[i], 'stco offset'), 4 + i * 4);
  }
  return fullBox('stco', 0, 0, body);
}

/** 8.7.5 ChunkLargeOffsetBox (co64). */
export function co64(chunkOffsets: Numbers): Buffer {
  const body = Buffer.allocUnsafe(4 + chunkOffsets.length * 8);
  body.writeUInt32BE(chunkOffsets.length, 0);
  for (let i = 0; i < chunkOffsets.length; i++) writeU64(body, chunkOffsets[i], 4 + i * 8);
  return fullBox('co64', 0, 0, body);
}

/** stco, or co64 when `large` (the caller decides so the moov size stays predictable). */
export function chunkOffsetBox(chunkOffsets: Numbers, large = needsCo64(chunkOffsets)): Buffer {
  return large ? co64(chunkOffsets) : stco(chunkOffsets);
}
