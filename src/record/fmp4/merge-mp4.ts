/**
 * Joins recorded fMP4 segments into one progressive fast-start MP4 (ftyp, moov, mdat) by
 * streaming copy, so memory does not grow with the recording's length:
 *  1. read each segment's moofs (segment-scan.ts) and feed every sample to a SampleTableBuilder
 *     (~17 bytes a sample) at the place it will have in the new mdat: each fragment's mdat payload
 *     is copied whole, in order, so a sample keeps its position relative to its payload;
 *  2. plan ftyp + moov + mdat header (movie.ts layoutFastStart, co64 when needed);
 *  3. write them, then copy the payloads through one fixed-size buffer.
 * Written as `{out}.tmp` and renamed, so a reader never sees half a file and a crash leaves none.
 */
import { open, rename, rm } from 'node:fs/promises';
import { EstuaryError } from '../../errors.js';
import type { ParsedSample } from '../../formats/mp4/fragment-parser.js';
import { layoutFastStart, type MovieTrackTables } from '../../formats/mp4/movie.js';
import { SampleTableBuilder } from '../../formats/mp4/sample-table-builder.js';
import { type InitInfo, readInit, scanSegment } from './segment-scan.js';

/** Copy buffer: large enough for few syscalls, small enough not to matter. */
const COPY_CHUNK = 1024 * 1024;

export interface MergeResult {
  /** Samples per track ID. */
  samples: Record<number, number>;
  bytes: number;
  /** Longest track, s. */
  seconds: number;
}

interface CopyRange {
  path: string;
  start: number;
  end: number;
}

/**
 * One track's samples on their way into the tables. The last sample is held back until the next
 * one's decode time is known, so its duration closes the gap to it exactly: the tables then keep
 * every fragment's tfdt, and the tracks stay in sync however the last duration was guessed.
 */
class TrackCollector {
  readonly builder: SampleTableBuilder;
  firstDts: number | undefined;
  private held: { s: ParsedSample; at: number } | undefined;
  endDts = 0;

  constructor(init: InitInfo['tracks'][number]) {
    this.builder = new SampleTableBuilder(init.track, init.trackId, init.timescale);
  }

  add(s: ParsedSample, mdatOffset: number): void {
    this.firstDts ??= s.dts;
    if (this.held) this.release(Math.max(0, s.dts - this.held.s.dts));
    this.held = { s, at: mdatOffset };
  }

  finish(): void {
    if (this.held) this.release(this.held.s.duration);
  }

  private release(duration: number): void {
    const { s, at } = this.held!;
    this.builder.add(
      { size: s.size, duration, compositionOffset: s.compositionOffset, keyframe: s.sync },
      at,
    );
    this.endDts = s.dts + duration;
    this.held = undefined;
  }
}

/** Merges `segments` (in order, all described by `initPath`) into `outPath`. */
export async function mergeFragments(
  initPath: string,
  segments: readonly string[],
  outPath: string,
): Promise<MergeResult> {
  const init = await readInit(initPath);
  const tracks = new Map(init.tracks.map((t) => [t.trackId, new TrackCollector(t)]));
  const ranges: CopyRange[] = [];
  const nextDts = new Map<number, number>();
  let payload = 0;
  for (const path of segments) {
    for (const frag of await scanSegment(path, init.trex, nextDts)) {
      for (const tf of frag.tracks) {
        const c = tracks.get(tf.trackId);
        if (!c) continue; // a traf for a track the init does not declare: its bytes are copied, unused
        for (const s of tf.samples) c.add(s, payload + (s.offset - frag.payloadStart));
      }
      ranges.push({ path, start: frag.payloadStart, end: frag.payloadEnd });
      payload += frag.payloadEnd - frag.payloadStart;
    }
  }
  const used = [...tracks.values()].filter((c) => c.firstDts !== undefined);
  if (used.length === 0) throw new EstuaryError('ERR_MP4_FORMAT', 'no samples to merge');
  for (const c of used) c.finish();
  // Both tracks count from the same origin; the earlier one starts the movie, the later one gets
  // an empty edit (14496-12 8.6.6) of the difference.
  const startSec = Math.min(...used.map((c) => c.firstDts! / c.builder.timescale));
  const tables: MovieTrackTables[] = used.map((c) => {
    c.builder.startTime = Math.max(0, Math.round(c.firstDts! - startSec * c.builder.timescale));
    return c.builder.finish();
  });
  const layout = layoutFastStart(tables, payload);
  await writeMovie(outPath, [layout.ftyp, layout.moov, layout.mdatHeader], ranges);
  const samples: Record<number, number> = {};
  for (const c of used) samples[c.builder.trackId] = c.builder.sampleCount;
  const seconds = Math.max(...used.map((c) => (c.endDts - c.firstDts!) / c.builder.timescale));
  return { samples, bytes: layout.mdatPayloadOffset + payload, seconds };
}

async function writeMovie(outPath: string, headers: Buffer[], ranges: readonly CopyRange[]): Promise<void> {
  const tmp = `${outPath}.tmp`;
  const out = await open(tmp, 'w');
  try {
    await out.writev(headers);
    const chunk = Buffer.allocUnsafe(COPY_CHUNK);
    for (const r of ranges) await copyRange(r, chunk, out);
    await out.close();
  } catch (err) {
    await out.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
  await rename(tmp, outPath);
}

async function copyRange(r: CopyRange, chunk: Buffer, out: Awaited<ReturnType<typeof open>>): Promise<void> {
  const src = await open(r.path, 'r');
  try {
    for (let pos = r.start; pos < r.end; ) {
      const want = Math.min(chunk.length, r.end - pos);
      const { bytesRead } = await src.read(chunk, 0, want, pos);
      if (bytesRead !== want) throw new EstuaryError('ERR_MP4_FORMAT', `${r.path} shrank while being merged`);
      await out.write(chunk, 0, want);
      pos += want;
    }
  } finally {
    await src.close();
  }
}
