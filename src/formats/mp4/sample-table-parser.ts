/**
 * Expands a SampleTableBox (ISO/IEC 14496-12 8.5.1) into per-sample typed arrays: file offset,
 * size, decode time, composition offset and sync flag (~25 bytes a sample). Every count is
 * checked against the box that holds it and against `maxSamples`, so a hostile table cannot make
 * us allocate more than that.
 */
import { BoxCursor, type BoxHeader, childBoxes, mp4Error } from './box-reader.js';

export interface SampleTable {
  count: number;
  offsets: Float64Array;
  sizes: Uint32Array;
  /** Decode times in the media timescale, from 0. */
  dts: Float64Array;
  /** Composition offsets (pts − dts); undefined when the track has no ctts. */
  cts?: Int32Array;
  /** 1 for sync samples; undefined when there is no stss (every sample is sync, 8.6.2.1). */
  sync?: Uint8Array;
}

function sizes(buf: Buffer, h: BoxHeader, maxSamples: number): Uint32Array {
  const c = BoxCursor.of(buf, h);
  c.versionFlags();
  if (h.type === 'stsz') {
    // 8.7.3.2: sample_size, sample_count, then a table only when sample_size is 0.
    const constant = c.u32();
    const count = c.u32();
    if (count > maxSamples) throw mp4Error(`stsz: ${count} samples exceed the limit of ${maxSamples}`);
    if (constant !== 0) return new Uint32Array(count).fill(constant);
    c.need(count * 4);
    const out = new Uint32Array(count);
    for (let i = 0; i < count; i++) out[i] = c.u32();
    return out;
  }
  // 8.7.3.3 CompactSampleSizeBox: reserved(24), field_size(8), sample_count, packed entries.
  c.skip(3);
  const fieldSize = c.u8();
  if (fieldSize !== 4 && fieldSize !== 8 && fieldSize !== 16)
    throw mp4Error(`stz2: bad field_size ${fieldSize}`);
  const count = c.u32();
  if (count > maxSamples) throw mp4Error(`stz2: ${count} samples exceed the limit of ${maxSamples}`);
  c.need(Math.ceil((count * fieldSize) / 8));
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    if (fieldSize === 16) out[i] = c.u16();
    else if (fieldSize === 8) out[i] = c.u8();
    else out[i] = i % 2 === 0 ? buf[c.pos] >> 4 : buf[c.pos++] & 0x0f;
  }
  return out;
}

/** Expands (count, value) runs (stts, ctts) into `out`; the runs must cover every sample. */
function expandRuns(
  buf: Buffer,
  h: BoxHeader,
  out: { length: number },
  put: (i: number, v: number) => void,
): void {
  const c = BoxCursor.of(buf, h);
  c.versionFlags();
  const entries = c.count(8);
  let i = 0;
  for (let e = 0; e < entries && i < out.length; e++) {
    const n = c.u32();
    // ctts v1 is signed; v0 is unsigned but FFmpeg and others write negative values into it, so
    // reading both as int32 is what every demuxer does. stts deltas are unsigned.
    const v = h.type === 'stts' ? c.u32() : c.i32();
    for (let k = 0; k < n && i < out.length; k++) put(i++, v);
  }
  if (i < out.length) throw mp4Error(`${h.type} covers ${i} of ${out.length} samples`);
}

function syncFlags(buf: Buffer, h: BoxHeader, count: number): Uint8Array {
  const c = BoxCursor.of(buf, h);
  c.versionFlags();
  const n = c.count(4);
  const out = new Uint8Array(count);
  for (let i = 0; i < n; i++) {
    const num = c.u32();
    if (num >= 1 && num <= count) out[num - 1] = 1; // 1-based (8.6.2.3); others are ignored
  }
  return out;
}

function chunkOffsets(buf: Buffer, h: BoxHeader): Float64Array {
  const c = BoxCursor.of(buf, h);
  c.versionFlags();
  const wide = h.type === 'co64';
  const n = c.count(wide ? 8 : 4);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = wide ? c.u64() : c.u32();
  return out;
}

/** Places every sample: stsc runs map chunks to sample counts (8.7.4), stco/co64 give chunk starts. */
function sampleOffsets(buf: Buffer, stsc: BoxHeader, chunks: Float64Array, sz: Uint32Array): Float64Array {
  const c = BoxCursor.of(buf, stsc);
  c.versionFlags();
  const entries = c.count(12);
  const runs: Array<{ first: number; perChunk: number }> = [];
  for (let e = 0; e < entries; e++) {
    const first = c.u32();
    const perChunk = c.u32();
    c.skip(4); // sample_description_index: we read only the first entry
    if (first < 1 || (runs.length > 0 && first <= runs[runs.length - 1].first)) {
      throw mp4Error(`stsc: first_chunk ${first} out of order`);
    }
    runs.push({ first, perChunk });
  }
  const out = new Float64Array(sz.length);
  let s = 0;
  for (let r = 0; r < runs.length && s < sz.length; r++) {
    const lastChunk = r + 1 < runs.length ? runs[r + 1].first - 1 : chunks.length;
    for (let chunk = runs[r].first; chunk <= lastChunk && s < sz.length; chunk++) {
      if (chunk > chunks.length) throw mp4Error(`stsc refers to chunk ${chunk} of ${chunks.length}`);
      let off = chunks[chunk - 1];
      for (let k = 0; k < runs[r].perChunk && s < sz.length; k++) {
        out[s] = off;
        off += sz[s++];
      }
    }
  }
  if (s < sz.length) throw mp4Error(`stsc/stco place ${s} of ${sz.length} samples`);
  return out;
}

export function parseSampleTable(buf: Buffer, stbl: BoxHeader, maxSamples: number): SampleTable {
  const kids = new Map<string, BoxHeader>();
  for (const k of childBoxes(buf, stbl.start + stbl.headerSize, stbl.start + stbl.size)) {
    if (!kids.has(k.type)) kids.set(k.type, k);
  }
  const need = (type: string): BoxHeader => {
    const h = kids.get(type);
    if (!h) throw mp4Error(`stbl has no ${type}`);
    return h;
  };
  const sizeBox = kids.get('stsz') ?? kids.get('stz2');
  const sz = sizeBox ? sizes(buf, sizeBox, maxSamples) : new Uint32Array(0);
  const count = sz.length;
  // A fragmented file's moov has empty tables, which some writers leave out entirely.
  if (count === 0) return { count, sizes: sz, dts: new Float64Array(0), offsets: new Float64Array(0) };
  const dts = new Float64Array(count);
  let t = 0;
  expandRuns(buf, need('stts'), dts, (i, v) => {
    dts[i] = t;
    t += v;
  });
  const cttsBox = kids.get('ctts');
  let cts: Int32Array | undefined;
  if (cttsBox) {
    const arr = new Int32Array(count);
    expandRuns(buf, cttsBox, arr, (i, v) => {
      arr[i] = v;
    });
    cts = arr;
  }
  const stssBox = kids.get('stss');
  const chunks = chunkOffsets(buf, kids.get('stco') ?? need('co64'));
  return {
    count,
    sizes: sz,
    dts,
    cts,
    sync: stssBox ? syncFlags(buf, stssBox, count) : undefined,
    offsets: sampleOffsets(buf, need('stsc'), chunks, sz),
  };
}
