/**
 * A media file (FLV or MP4/MOV) as a stream of tracks, metadata and frames in decode order, read
 * in small pieces through one file handle: a multi-gigabyte file is never loaded whole. Each
 * `events()` call is one pass over the file, so `--loop` simply asks again.
 */
import { readSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { setImmediate } from 'node:timers/promises';
import { errorMessage } from '../errors.js';
import { isCodedFrameBody } from '../formats/flv/coded-frame-body.js';
import { FlvToFrames } from '../formats/flv/flv-to-frame.js';
import { type FlvTag, FlvTagType } from '../formats/flv/tag.js';
import { FlvTagReader } from '../formats/flv/tag-reader.js';
import { Mp4Demuxer, type RandomAccessReader } from '../formats/mp4/demuxer.js';
import type { MediaFrame } from '../media/frame.js';
import { TimestampUnwrapper } from '../media/time.js';
import type { Track } from '../media/track.js';
import { FlvSizeScan } from './flv-size-scan.js';
import { flvReadyTrack } from './flv-track.js';
import { readMp4DurationMs } from './mp4-duration.js';
import { PushError } from './push-error.js';
import { type ContainerKind, SNIFF_BYTES, sniffContainer } from './sniff.js';
import { metadataFor } from './source-metadata.js';

export type SourceEvent =
  | { kind: 'metadata'; values: Readonly<Record<string, unknown>>; body: Buffer }
  | { kind: 'track'; track: Track }
  | { kind: 'frame'; frame: MediaFrame };

/** FLV is read in pieces this big (tags are cut out of them without copies when they fit). */
const FLV_READ_BYTES = 64 * 1024;
/** Most bytes given to the tag reader at once (see FlvFileSource.batches). */
const SLICE_BYTES = 256 * 1024;
/** Tags per batch of a sizes-only pass: a few ms of synchronous reads between turns of the event loop. */
const SCAN_BATCH_TAGS = 2048;

export interface OpenOptions {
  /**
   * FLV read size (default 64 KiB: a paced push needs little at a time; a converter wants more),
   * also the sizes-only scan's window (default 1 MiB there, flv-size-scan.ts).
   */
  readBytes?: number;
  /**
   * FLV: read into a few buffers used in turn instead of a new one per read, so a fast reader makes
   * no garbage (fresh Buffers are external memory, which V8 lets pile up by tens of MB before it
   * collects). Then a frame's data is only valid until the next event is asked for: a caller that
   * keeps frames must copy them. Default false.
   */
  reuseBuffers?: boolean;
  /**
   * FLV: read with synchronous preads, yielding to the event loop after each read, instead of
   * through the thread pool (see convert/file-sink.ts for why a converter wants that: a pread of a
   * few MiB from the page cache costs a fraction of the thread pool round trip). Default false.
   */
  syncReads?: boolean;
}
export interface BatchOptions {
  /**
   * For a pass that needs only each frame's size, times and flags (fast-start MP4's sample
   * tables): frames then carry a `data` of the right length whose bytes are unspecified, and an
   * FLV file is read only at its tag headers (flv-size-scan.ts). Tracks and metadata are real.
   * MP4 files give their real frames either way.
   */
  sizesOnly?: boolean;
}

/** The pre-flight check reads events until a frame of each track, or this many events. */
const PREFLIGHT_EVENTS = 200;

export interface MediaFileSource {
  readonly path: string;
  readonly format: ContainerKind;
  readonly size: number;
  /** From onMetaData (FLV) or mvhd (MP4); undefined when the file does not say. */
  readonly durationMs: number | undefined;
  /** Tracks the file has and the pusher leaves out, with why (MP4 only). */
  readonly skipped: readonly string[];
  /**
   * After a pass that read to the end: bytes at the end that were not a whole FLV tag (a file cut
   * short by a crash or a copy), left out of the pass. 0 for MP4, whose damage the demuxer reports.
   */
  readonly trailingBytes: number;
  events(): AsyncGenerator<SourceEvent>;
  /**
   * Reads `length` bytes at `position` of the file into `buffer` (from its start), synchronously;
   * returns how many there were (fewer only at the end of the file). For a pass that copies byte
   * ranges of the file itself (MediaFrame.fileOffset).
   */
  readAt(buffer: Buffer, length: number, position: number): number;
  /** The same events, several at a time (in order); frame data lent until the next batch is asked for. */
  batches(options?: BatchOptions): AsyncGenerator<SourceEvent[]>;
  close(): Promise<void>;
}

function fileReader(fh: FileHandle, size: number): RandomAccessReader {
  return {
    size,
    read: async (offset, length) => {
      const n = Math.max(0, Math.min(length, size - offset));
      const buf = Buffer.allocUnsafe(n);
      const { bytesRead } = await fh.read(buf, 0, n, offset);
      return buf.subarray(0, bytesRead);
    },
  };
}

function readFullySync(fd: number, buffer: Buffer, length: number, position: number): number {
  let got = 0;
  while (got < length) {
    const r = readSync(fd, buffer, got, length - got, position + got);
    if (r === 0) break; // the end of the file (or it shrank while we read it)
    got += r;
  }
  return got;
}

/**
 * Opens and checks a file: it must exist, be FLV or MP4, and its first frames must parse (so a
 * bad file or an unsupported codec fails before any connection is made).
 */
export async function openMediaFile(path: string, options: OpenOptions = {}): Promise<MediaFileSource> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : errorMessage(err);
    throw new PushError('file-missing', `cannot open ${path}: ${why}`, { cause: err });
  }
  try {
    const stat = await fh.stat();
    if (!stat.isFile()) throw new PushError('file-missing', `${path} is not a regular file`);
    const reader = fileReader(fh, stat.size);
    const head = await reader.read(0, SNIFF_BYTES);
    const format = sniffContainer(head);
    if (!format) {
      throw new PushError(
        'not-media',
        `${path} is not a media file Estuary can push (neither FLV nor MP4/MOV; it starts with ${head.toString('hex') || 'nothing'})`,
      );
    }
    const source =
      format === 'flv'
        ? new FlvFileSource(path, fh, reader, options)
        : await Mp4FileSource.open(path, fh, reader);
    await preflight(source);
    return source;
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/** Reads the start of the file through the real parser; throws what a push would hit there. */
async function preflight(source: MediaFileSource): Promise<void> {
  let n = 0;
  let frames = 0;
  const gen = source.events();
  try {
    for await (const ev of gen) {
      if (ev.kind === 'frame') frames++;
      if (++n >= PREFLIGHT_EVENTS || frames >= 2) break;
    }
  } finally {
    await gen.return(undefined);
  }
  if (frames === 0) throw new PushError('not-media', `${source.path} holds no audio or video frame`);
}

/**
 * A tag whose bytes end up in a Track or in metadata rather than in one frame: script data, AVC /
 * HEVC sequence headers (AVCPacketType 0, E.4.3.1), AAC AudioSpecificConfig (AACPacketType 0,
 * E.4.2.1) and every Enhanced RTMP packet that is not coded frames (SequenceStart, ModEx, …).
 */
function describesStream(tag: FlvTag): boolean {
  if (tag.type === FlvTagType.Script) return true;
  if (tag.body.length < 2 || (tag.type !== FlvTagType.Video && tag.type !== FlvTagType.Audio)) return false;
  return !isCodedFrameBody(tag.type, tag.body[0]!, tag.body[1]!);
}

/**
 * Where `data` starts inside `body` when it is the body's tail (the FLV parsers cut a frame's
 * payload off the end of its tag body, after the codec header: E.4.2.1, E.4.3.1, Enhanced RTMP
 * ExVideoTagHeader / ExAudioTagHeader), else undefined.
 */
function tailOffset(body: Buffer, data: Buffer): number | undefined {
  if (data.buffer !== body.buffer) return undefined;
  const at = data.byteOffset - body.byteOffset;
  return at >= 0 && at + data.length === body.length ? at : undefined;
}

class FlvFileSource implements MediaFileSource {
  readonly format = 'flv' as const;
  readonly skipped: readonly string[] = [];
  durationMs: number | undefined;
  trailingBytes = 0;

  constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private readonly reader: RandomAccessReader,
    private readonly options: OpenOptions = {},
  ) {}

  get size(): number {
    return this.reader.size;
  }

  /**
   * The next piece of the file. With reuseBuffers, a buffer is read into again only once the tag
   * reader has consumed every byte of it (bytesConsumed counts from the file's first byte; a tag
   * larger than a read keeps several buffers); the frames cut from it were all handed out before
   * this read, since each chunk's tags are yielded before the next read. The slot is marked taken
   * before the read starts, so the read of the next piece can run while this one is parsed.
   */
  private readChunk(
    pool: { buf: Buffer; end: number }[],
    tags: FlvTagReader,
    off: number,
    want: number,
  ): Promise<Buffer> {
    if (!this.options.reuseBuffers) return Promise.resolve(this.reader.read(off, want));
    let slot = pool.find((p) => p.end <= tags.bytesConsumed);
    if (!slot) {
      slot = { buf: Buffer.allocUnsafe(want), end: 0 };
      pool.push(slot);
    }
    const n = Math.max(0, Math.min(want, this.reader.size - off));
    const s = slot;
    s.end = off + n;
    if (this.options.syncReads) {
      const got = readFullySync(this.fh.fd, s.buf, n, off);
      s.end = off + got;
      // A turn of the event loop per read: signals, timers and other I/O go on.
      return setImmediate().then(() => s.buf.subarray(0, got));
    }
    return this.fh.read(s.buf, 0, n, off).then(({ bytesRead }) => {
      s.end = off + bytesRead;
      return s.buf.subarray(0, bytesRead);
    });
  }

  async *events(): AsyncGenerator<SourceEvent> {
    for await (const batch of this.batches()) yield* batch;
  }

  /**
   * The events of each piece of the file at once: a fast consumer (the converter) then pays one
   * await per piece instead of one per frame. A read is handed to the tag reader in SLICE_BYTES
   * pieces (a batch each). A malformed tag ends the events, but every tag before it is still
   * given (the batch, then the error), exactly as the sizes-only pass gives them: fast-start MP4's
   * two passes must stop at the same frame.
   */
  async *batches(options: BatchOptions = {}): AsyncGenerator<SourceEvent[]> {
    if (options.sizesOnly) {
      yield* this.sizeBatches();
      return;
    }
    const tags = new FlvTagReader();
    const demux = new FlvToFrames();
    const clock = new TimestampUnwrapper();
    const pool: { buf: Buffer; end: number }[] = [];
    const want = this.options.readBytes ?? FLV_READ_BYTES;
    const size = this.reader.size;
    // The next piece is read while this one is parsed (the read runs on libuv's thread pool, so
    // reading and demuxing overlap instead of taking turns; a paced push reads ahead by one
    // piece). With syncReads it is simply read before this one is parsed.
    let next: Promise<Buffer> | undefined = size > 0 ? this.readChunk(pool, tags, 0, want) : undefined;
    try {
      for (let off = 0; next; ) {
        const chunk = await next;
        next = undefined;
        if (chunk.length === 0) break; // the file shrank while we read it
        off += chunk.length;
        if (off < size) next = this.readChunk(pool, tags, off, want);
        for (let at = 0; at < chunk.length; at += SLICE_BYTES) {
          const batch: SourceEvent[] = [];
          const raws: FlvTag[] = [];
          let failed: unknown;
          try {
            tags.push(chunk.subarray(at, at + SLICE_BYTES), raws);
          } catch (err) {
            failed = err; // the tags before the malformed one are in `raws`: they are given first
          }
          try {
            for (const raw of raws) this.demuxTag(raw, demux, clock, batch);
          } catch (err) {
            if (batch.length > 0) yield batch;
            throw err;
          }
          if (failed !== undefined) {
            if (batch.length > 0) yield batch;
            throw failed;
          }
          if (batch.length > 0) yield batch;
        }
      }
    } finally {
      // A pass stopped early: let the read in flight finish before the handle may be closed.
      if (next) await next.catch(() => undefined);
    }
    // A truncated last tag (a recording cut by a crash) is left out rather than failing the push.
    this.trailingBytes = tags.bytesBuffered;
  }

  /**
   * batches({ sizesOnly }): the tags from FlvSizeScan's synchronous reads, SCAN_BATCH_TAGS at a
   * time, with a turn of the event loop between batches (signals, timers and other I/O go on).
   */
  private async *sizeBatches(): AsyncGenerator<SourceEvent[]> {
    const scan = new FlvSizeScan(this.fh.fd, this.reader.size, this.options.readBytes);
    const demux = new FlvToFrames();
    const clock = new TimestampUnwrapper();
    while (!scan.done) {
      const batch: SourceEvent[] = [];
      try {
        for (let i = 0; i < SCAN_BATCH_TAGS; i++) {
          const tag = scan.next();
          if (!tag) break;
          this.demuxTag(tag, demux, clock, batch, true, scan.bodyOffset);
        }
      } catch (err) {
        if (batch.length > 0) yield batch;
        throw err;
      }
      if (batch.length > 0) yield batch;
      if (!scan.done) await setImmediate();
    }
    this.trailingBytes = scan.trailingBytes;
  }

  private demuxTag(
    raw: FlvTag,
    demux: FlvToFrames,
    clock: TimestampUnwrapper,
    out: SourceEvent[],
    lent = this.options.reuseBuffers === true,
    bodyOffset?: number,
  ): void {
    // Tracks and metadata outlive the read (a Track keeps its config): never lend those bytes.
    const tag = lent && describesStream(raw) ? { ...raw, body: Buffer.from(raw.body) } : raw;
    for (const ev of demux.push(tag, clock.unwrap(tag.timestamp))) {
      if (ev.kind === 'metadata') {
        const d = ev.values.duration;
        // onMetaData duration is in seconds (E.5); 0 from live recorders means unknown.
        if (typeof d === 'number' && d > 0 && Number.isFinite(d)) this.durationMs = Math.round(d * 1000);
      }
      if (ev.kind === 'frame' && bodyOffset !== undefined) {
        const f = ev.frame;
        const at = tailOffset(tag.body, f.data);
        if (at !== undefined) {
          // A literal, not a spread: a spread frame made V8 handle every frame after it slowly.
          const frame = {
            track: f.track,
            dts: f.dts,
            pts: f.pts,
            keyframe: f.keyframe,
            data: f.data,
            fileOffset: bodyOffset + at,
          };
          out.push({ kind: 'frame', frame });
          continue;
        }
      }
      out.push(ev);
    }
  }

  readAt(buffer: Buffer, length: number, position: number): number {
    return readFullySync(this.fh.fd, buffer, length, position);
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

class Mp4FileSource implements MediaFileSource {
  readonly format = 'mp4' as const;
  readonly skipped: readonly string[];
  readonly trailingBytes = 0;
  /** MP3 tracks get their FLV header byte once, so frames share one Track object. */
  private readonly ready = new Map<Track, Track>();

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private readonly demuxer: Mp4Demuxer,
    readonly size: number,
    readonly durationMs: number | undefined,
  ) {
    this.skipped = demuxer.skipped;
    for (const t of demuxer.tracks) this.ready.set(t.track, flvReadyTrack(t.track));
  }

  static async open(path: string, fh: FileHandle, reader: RandomAccessReader): Promise<Mp4FileSource> {
    const demuxer = await Mp4Demuxer.open(reader);
    const durationMs = await readMp4DurationMs(reader).catch(() => undefined);
    return new Mp4FileSource(path, fh, demuxer, reader.size, durationMs);
  }

  async *batches(): AsyncGenerator<SourceEvent[]> {
    for await (const ev of this.events()) yield [ev];
  }

  readAt(buffer: Buffer, length: number, position: number): number {
    return readFullySync(this.fh.fd, buffer, length, position);
  }

  async *events(): AsyncGenerator<SourceEvent> {
    yield { kind: 'metadata', ...metadataFor([...this.ready.values()]) };
    for (const track of this.ready.values()) yield { kind: 'track', track };
    for await (const frame of this.demuxer.frames()) {
      const track = this.ready.get(frame.track) ?? frame.track;
      yield { kind: 'frame', frame: track === frame.track ? frame : { ...frame, track } };
    }
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}
