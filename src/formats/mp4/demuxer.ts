/**
 * MP4 → MediaFrames for the pusher, over random-access reads so a file is never loaded whole:
 * top-level box headers are read one by one, moov (and each moof) is read whole but bounded,
 * and sample data is read through a small read-ahead window. Works with moov before or after
 * mdat, progressive (stbl) and fragmented (moof/traf/trun) files.
 */
import { EstuaryError } from '../../errors.js';
import type { MediaFrame } from '../../media/frame.js';
import type { Track } from '../../media/track.js';
import { mp4Error, parseBoxHeader } from './box-reader.js';
import { type ParsedSample, parseMovieFragment } from './fragment-parser.js';
import { type ParsedMovie, type ParsedTrack, parseMovie } from './movie-parser.js';

export interface RandomAccessReader {
  /** Total size in bytes. */
  readonly size: number;
  /** `length` bytes at `offset` (fewer only when the file ends first). */
  read(offset: number, length: number): Promise<Buffer> | Buffer;
}

/** A reader over a Buffer already in memory (tests, small files). */
export function bufferReader(buf: Buffer): RandomAccessReader {
  return { size: buf.length, read: (offset, length) => buf.subarray(offset, offset + length) };
}

export interface DemuxerOptions {
  /** Largest moov or moof read whole (default 64 MiB: a 24 h progressive moov is ~25 MB). */
  maxBoxBytes?: number;
  /** Most samples per track (default 2^23: 24 h of 48 kHz AAC is 4.05 M frames). */
  maxSamples?: number;
  /** Largest single sample (default 32 MiB). */
  maxSampleBytes?: number;
  /** Read-ahead window for sample data (default 1 MiB). */
  readAhead?: number;
}

export interface DemuxedTrack {
  trackId: number;
  timescale: number;
  track: Track;
  /** Samples in the moov's tables (0 for a fragmented file, whose samples are in moofs). */
  sampleCount: number;
}

/** Where one sample lives and its times in ms. */
interface PendingSample {
  t: ParsedTrack;
  dtsMs: number;
  ptsMs: number;
  offset: number;
  size: number;
  sync: boolean;
}

function toMs(t: ParsedTrack, ticks: number): number {
  return Math.round(((ticks - t.mediaTimeOffset) * 1000) / t.timescale + t.emptyEditMs);
}

export class Mp4Demuxer {
  readonly tracks: DemuxedTrack[];
  readonly skipped: readonly string[];
  readonly fragmented: boolean;
  private windowStart = 0;
  private window: Buffer = Buffer.alloc(0);

  private constructor(
    private readonly reader: RandomAccessReader,
    private readonly movie: ParsedMovie,
    private readonly opts: Required<DemuxerOptions>,
  ) {
    this.tracks = movie.tracks.map((t) => ({
      trackId: t.trackId,
      timescale: t.timescale,
      track: t.track,
      sampleCount: t.table.count,
    }));
    this.skipped = movie.skipped;
    this.fragmented = movie.fragmented;
  }

  /** Finds and parses the moov, wherever it is among the top-level boxes. */
  static async open(reader: RandomAccessReader, options: DemuxerOptions = {}): Promise<Mp4Demuxer> {
    const opts: Required<DemuxerOptions> = {
      maxBoxBytes: options.maxBoxBytes ?? 64 * 1024 * 1024,
      maxSamples: options.maxSamples ?? 2 ** 23,
      maxSampleBytes: options.maxSampleBytes ?? 32 * 1024 * 1024,
      readAhead: options.readAhead ?? 1024 * 1024,
    };
    for await (const box of topLevelBoxes(reader)) {
      if (box.type !== 'moov') continue;
      const buf = await readBox(reader, box.start, box.size, opts.maxBoxBytes);
      return new Mp4Demuxer(reader, parseMovie(buf, opts.maxSamples), opts);
    }
    throw mp4Error('no moov box in the file');
  }

  /** Every sample of every track as a MediaFrame, in DTS order across tracks. */
  async *frames(): AsyncGenerator<MediaFrame> {
    yield* this.emit(this.tableSamples());
    if (!this.fragmented) return;
    const byId = new Map(this.movie.tracks.map((t) => [t.trackId, t]));
    const trex = new Map(this.movie.tracks.map((t) => [t.trackId, t.defaults]));
    const nextDts = new Map<number, number>();
    for await (const box of topLevelBoxes(this.reader)) {
      if (box.type !== 'moof') continue;
      const buf = await readBox(this.reader, box.start, box.size, this.opts.maxBoxBytes);
      const pending: PendingSample[] = [];
      for (const traf of parseMovieFragment(buf, box.start, trex, nextDts)) {
        const t = byId.get(traf.trackId);
        if (t) for (const s of traf.samples) pending.push(fromFragment(t, s));
      }
      // Stable sort: samples of one track keep decode order, tracks interleave by time.
      pending.sort((a, b) => a.dtsMs - b.dtsMs);
      yield* this.emit(pending);
    }
  }

  /** The moov tables' samples merged across tracks by decode time (lazily, one head per track). */
  private *tableSamples(): Generator<PendingSample> {
    const heads = this.movie.tracks.map(() => 0);
    for (;;) {
      let best = -1;
      let bestTime = Number.POSITIVE_INFINITY;
      this.movie.tracks.forEach((t, k) => {
        const i = heads[k];
        if (i >= t.table.count) return;
        const time = toMs(t, t.table.dts[i]);
        if (time < bestTime) {
          best = k;
          bestTime = time;
        }
      });
      if (best < 0) return;
      const t = this.movie.tracks[best];
      const i = heads[best]++;
      const { table } = t;
      yield {
        t,
        dtsMs: bestTime,
        ptsMs: toMs(t, table.dts[i] + (table.cts ? table.cts[i] : 0)),
        offset: table.offsets[i],
        size: table.sizes[i],
        sync: table.sync ? table.sync[i] === 1 : true,
      };
    }
  }

  private async *emit(samples: Iterable<PendingSample>): AsyncGenerator<MediaFrame> {
    for (const s of samples) {
      const data = await this.sampleData(s.offset, s.size);
      yield {
        track: s.t.track,
        dts: s.dtsMs,
        pts: s.ptsMs,
        keyframe: s.t.track.kind === 'audio' || s.sync,
        data,
      };
    }
  }

  /** A copy of the sample's bytes (frames outlive the window), via the read-ahead window. */
  private async sampleData(offset: number, size: number): Promise<Buffer> {
    if (size > this.opts.maxSampleBytes) throw mp4Error(`sample of ${size} bytes exceeds the limit`);
    if (offset + size > this.reader.size)
      throw mp4Error(`sample at ${offset} (+${size}) is past the file end`);
    const inWindow = offset >= this.windowStart && offset + size <= this.windowStart + this.window.length;
    if (!inWindow) {
      const length = Math.min(Math.max(size, this.opts.readAhead), this.reader.size - offset);
      this.window = await readExactly(this.reader, offset, length);
      this.windowStart = offset;
    }
    const start = offset - this.windowStart;
    return Buffer.from(this.window.subarray(start, start + size));
  }
}

function fromFragment(t: ParsedTrack, s: ParsedSample): PendingSample {
  return {
    t,
    dtsMs: toMs(t, s.dts),
    ptsMs: toMs(t, s.dts + s.compositionOffset),
    offset: s.offset,
    size: s.size,
    sync: s.sync,
  };
}

async function readExactly(reader: RandomAccessReader, offset: number, length: number): Promise<Buffer> {
  const buf = await reader.read(offset, length);
  if (buf.length < length) throw mp4Error(`file truncated: wanted ${length} bytes at ${offset}`);
  return buf.length === length ? buf : buf.subarray(0, length);
}

async function readBox(
  reader: RandomAccessReader,
  start: number,
  size: number,
  max: number,
): Promise<Buffer> {
  if (size > max) {
    throw new EstuaryError(
      'ERR_MP4_FORMAT',
      `box of ${size} bytes at ${start} exceeds the ${max}-byte limit`,
    );
  }
  return readExactly(reader, start, size);
}

/** Top-level box headers, one small read each; mdat payloads are skipped, never read. */
async function* topLevelBoxes(
  reader: RandomAccessReader,
): AsyncGenerator<{ type: string; start: number; size: number }> {
  let off = 0;
  while (reader.size - off >= 8) {
    const head = await readExactly(reader, off, Math.min(16, reader.size - off));
    const h = parseBoxHeader(head, 0, reader.size - off, off);
    yield { type: h.type, start: off, size: h.size };
    off += h.size;
  }
}
