/**
 * Joins recorded fMP4 segments into one progressive fast-start MP4 (ftyp, moov, mdat) by
 * streaming copy, so memory does not grow with the recording's length beyond per-sample tables
 * (the moov's, ~17 bytes a sample, and the copy plan's, 16): no media is held.
 *  1. read each segment's moofs (segment-scan.ts) and put the samples in the order the new mdat
 *     will hold them: runs of at most 0.5 s of one track, the tracks taking turns
 *     (interleave.ts), each run one chunk; every sample goes to a SampleTableBuilder at the
 *     place it will have;
 *  2. plan ftyp + moov + mdat header (movie.ts layoutFastStart, co64 when needed);
 *  3. write them, then copy the samples in that order (the plan: 16 bytes a sample, the same order
 *     of size as the tables) through fixed-size buffers.
 * Written as `{out}.tmp` and renamed, so a reader never sees half a file and a crash leaves none.
 */
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { EstuaryError } from '../../errors.js';
import type { ParsedSample } from '../../formats/mp4/fragment-parser.js';
import { layoutFastStart, type MovieTrackTables } from '../../formats/mp4/movie.js';
import { SampleTableBuilder } from '../../formats/mp4/sample-table-builder.js';
import { Interleaver, type Run } from './interleave.js';
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

/** Where a sample's bytes are. */
interface SampleSource {
  path: string;
  offset: number;
  size: number;
  sample: ParsedSample;
}

/**
 * One track's samples on their way into the tables. The last sample is held back until the next
 * one's decode time is known, so its duration closes the gap to it exactly: the tables then keep
 * every fragment's tfdt, and the tracks stay in sync however the last duration was guessed.
 */
class TrackCollector {
  readonly builder: SampleTableBuilder;
  firstDts: number | undefined;
  /** Earliest composition time (dts + offset), track ticks: when the track's first picture shows. */
  firstPts = Number.POSITIVE_INFINITY;
  private held: { s: ParsedSample; at: number } | undefined;
  endDts = 0;

  constructor(init: InitInfo['tracks'][number]) {
    this.builder = new SampleTableBuilder(init.track, init.trackId, init.timescale);
  }

  add(s: ParsedSample, mdatOffset: number): void {
    this.firstDts ??= s.dts;
    this.firstPts = Math.min(this.firstPts, s.dts + s.compositionOffset);
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

/**
 * Every sample of `segments` in the order the merged mdat holds them, as runs: the one
 * interleaving both passes of the merge share.
 */
async function forEachRun(
  init: InitInfo,
  segments: readonly string[],
  onRun: (run: Run<SampleSource>) => Promise<void> | void,
): Promise<void> {
  const timescale = new Map(init.tracks.map((t) => [t.trackId, t.timescale]));
  const interleaver = new Interleaver<SampleSource>(init.tracks.map((t) => t.trackId));
  const nextDts = new Map<number, number>();
  for (const path of segments) {
    for (const frag of await scanSegment(path, init.trex, nextDts)) {
      for (const tf of frag.tracks) {
        const ts = timescale.get(tf.trackId);
        if (ts === undefined) continue; // a traf for a track the init does not declare: not merged
        for (const s of tf.samples) {
          const item = { path, offset: s.offset, size: s.size, sample: s };
          for (const run of interleaver.push({
            trackId: tf.trackId,
            dts: s.dts / ts,
            duration: s.duration / ts,
            item,
          }))
            await onRun(run);
        }
      }
    }
  }
  for (const run of interleaver.end()) await onRun(run);
}

/** Merges `segments` (in order, all described by `initPath`) into `outPath`. */
export async function mergeFragments(
  initPath: string,
  segments: readonly string[],
  outPath: string,
): Promise<MergeResult> {
  const init = await readInit(initPath);
  const tracks = new Map(init.tracks.map((t) => [t.trackId, new TrackCollector(t)]));
  const fileIndex = new Map(segments.map((p, i) => [p, i]));
  const plan = new CopyPlan();
  let payload = 0;
  await forEachRun(init, segments, (run) => {
    const c = tracks.get(run.trackId)!;
    for (const s of run.items) {
      c.add(s.sample, payload);
      plan.add(fileIndex.get(s.path)!, s.offset, s.size);
      payload += s.size;
    }
  });
  const used = [...tracks.values()].filter((c) => c.firstDts !== undefined);
  if (used.length === 0) throw new EstuaryError('ERR_MP4_FORMAT', 'no samples to merge');
  for (const c of used) c.finish();
  // Both tracks count from the same origin. The track whose first picture or sound comes first
  // starts the movie; the other gets an empty edit (14496-12 8.6.6) of the difference, and each
  // track's edit starts at its first composition time, so A/V keep the source's offsets.
  const startSec = Math.min(...used.map((c) => c.firstPts / c.builder.timescale));
  const tables: MovieTrackTables[] = used.map((c) => {
    c.builder.startTime = Math.max(0, Math.round(c.firstPts - startSec * c.builder.timescale));
    c.builder.mediaTime = Math.max(0, c.firstPts - c.firstDts!);
    return c.builder.finish();
  });
  const layout = layoutFastStart(tables, payload);
  await writeMovie(outPath, [layout.ftyp, layout.moov, layout.mdatHeader], segments, plan, payload);
  const samples: Record<number, number> = {};
  for (const c of used) samples[c.builder.trackId] = c.builder.sampleCount;
  const seconds = Math.max(...used.map((c) => (c.endDts - c.firstDts!) / c.builder.timescale));
  return { samples, bytes: layout.mdatPayloadOffset + payload, seconds };
}

async function writeMovie(
  outPath: string,
  headers: Buffer[],
  segments: readonly string[],
  plan: CopyPlan,
  payload: number,
): Promise<void> {
  const tmp = `${outPath}.tmp`;
  const out = await open(tmp, 'w');
  const copier = new SampleCopier(out, segments);
  try {
    await out.writev(headers);
    for (let i = 0; i < plan.count; i++) {
      // Most samples are in the current window and fit the write buffer: no await for those.
      if (!copier.copyBuffered(plan.file[i], plan.offset[i], plan.size[i]))
        await copier.copy(plan.file[i], plan.offset[i], plan.size[i]);
    }
    await copier.finish();
    if (copier.copied !== payload) {
      throw new EstuaryError(
        'ERR_MP4_FORMAT',
        `copied ${copier.copied} bytes of ${payload}: the segments changed`,
      );
    }
    await out.close();
  } catch (err) {
    await copier.finish().catch(() => {});
    await out.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
  await rename(tmp, outPath);
}

/** A short write is continued, not dropped. */
async function writeFully(out: FileHandle, bytes: Buffer): Promise<void> {
  for (let off = 0; off < bytes.length; ) {
    const { bytesWritten } = await out.write(bytes, off, bytes.length - off);
    off += bytesWritten;
  }
}

/**
 * Where each sample of the new mdat comes from, in mdat order: 16 bytes a sample in growable
 * typed arrays (like the sample tables the moov needs anyway), so the copy needs no second scan.
 */
class CopyPlan {
  count = 0;
  file = new Uint32Array(4096);
  offset = new Float64Array(4096);
  size = new Uint32Array(4096);

  add(file: number, offset: number, size: number): void {
    if (this.count === this.file.length) {
      const grow = <T extends Uint32Array | Float64Array>(a: T): T => {
        const next = new (a.constructor as new (n: number) => T)(a.length * 2);
        next.set(a);
        return next;
      };
      this.file = grow(this.file);
      this.offset = grow(this.offset);
      this.size = grow(this.size);
    }
    this.file[this.count] = file;
    this.offset[this.count] = offset;
    this.size[this.count] = size;
    this.count++;
  }
}

interface Window {
  file: number;
  handle: FileHandle;
  buf: Buffer;
  start: number;
  end: number;
}

/** Read windows kept open at once: a run near a segment's end alternates with one in the next. */
const WINDOWS = 2;

/**
 * Copies sample bytes from the segments to the output through fixed buffers: a read window over
 * each of the last two segments read (samples of a run sit close together in one) and a write
 * buffer, so runs of many small samples cost few syscalls.
 */
class SampleCopier {
  private windows: Window[] = [];
  private readonly pending = Buffer.allocUnsafe(COPY_CHUNK);
  private pendingBytes = 0;
  copied = 0;

  constructor(
    private readonly out: FileHandle,
    private readonly paths: readonly string[],
  ) {}

  async copy(file: number, offset: number, size: number): Promise<void> {
    let pos = offset;
    const end = offset + size;
    while (pos < end) {
      const w = await this.window(file, pos);
      const n = Math.min(end, w.end) - pos;
      await this.put(w.buf.subarray(pos - w.start, pos - w.start + n));
      pos += n;
    }
    this.copied += size;
  }

  /** Copies without I/O when the bytes are in the current window and fit the write buffer. */
  copyBuffered(file: number, offset: number, size: number): boolean {
    const w = this.windows[0];
    if (!w || w.file !== file || offset < w.start || offset + size > w.end) return false;
    if (this.pendingBytes + size > this.pending.length) return false;
    w.buf.copy(this.pending, this.pendingBytes, offset - w.start, offset - w.start + size);
    this.pendingBytes += size;
    this.copied += size;
    return true;
  }

  async finish(): Promise<void> {
    if (this.pendingBytes > 0) await writeFully(this.out, this.pending.subarray(0, this.pendingBytes));
    this.pendingBytes = 0;
    for (const w of this.windows.splice(0)) await w.handle.close();
  }

  /** A window holding byte `pos` of segment `file` (most recently used first). */
  private async window(file: number, pos: number): Promise<Window> {
    let w = this.windows.find((x) => x.file === file);
    if (!w) {
      if (this.windows.length >= WINDOWS) await this.windows.pop()!.handle.close();
      w = {
        file,
        handle: await open(this.paths[file], 'r'),
        buf: Buffer.allocUnsafe(COPY_CHUNK),
        start: 0,
        end: 0,
      };
    }
    this.windows = [w, ...this.windows.filter((x) => x !== w)];
    if (pos < w.start || pos >= w.end) {
      const { bytesRead } = await w.handle.read(w.buf, 0, w.buf.length, pos);
      if (bytesRead === 0)
        throw new EstuaryError('ERR_MP4_FORMAT', `${this.paths[file]} shrank while being merged`);
      w.start = pos;
      w.end = pos + bytesRead;
    }
    return w;
  }

  private async put(bytes: Buffer): Promise<void> {
    if (this.pendingBytes + bytes.length > this.pending.length) {
      await writeFully(this.out, this.pending.subarray(0, this.pendingBytes));
      this.pendingBytes = 0;
    }
    if (bytes.length >= this.pending.length) {
      await writeFully(this.out, bytes);
      return;
    }
    bytes.copy(this.pending, this.pendingBytes);
    this.pendingBytes += bytes.length;
  }
}
