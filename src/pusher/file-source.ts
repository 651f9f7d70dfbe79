/**
 * A media file (FLV or MP4/MOV) as a stream of tracks, metadata and frames in decode order, read
 * in small pieces through one file handle: a multi-gigabyte file is never loaded whole. Each
 * `events()` call is one pass over the file, so `--loop` simply asks again.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { errorMessage } from '../errors.js';
import { FlvToFrames } from '../formats/flv/flv-to-frame.js';
import { FlvTagReader } from '../formats/flv/tag-reader.js';
import { Mp4Demuxer, type RandomAccessReader } from '../formats/mp4/demuxer.js';
import type { MediaFrame } from '../media/frame.js';
import { TimestampUnwrapper } from '../media/time.js';
import type { Track } from '../media/track.js';
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

/**
 * Opens and checks a file: it must exist, be FLV or MP4, and its first frames must parse (so a
 * bad file or an unsupported codec fails before any connection is made).
 */
export async function openMediaFile(path: string): Promise<MediaFileSource> {
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
      format === 'flv' ? new FlvFileSource(path, fh, reader) : await Mp4FileSource.open(path, fh, reader);
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

class FlvFileSource implements MediaFileSource {
  readonly format = 'flv' as const;
  readonly skipped: readonly string[] = [];
  durationMs: number | undefined;
  trailingBytes = 0;

  constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private readonly reader: RandomAccessReader,
  ) {}

  get size(): number {
    return this.reader.size;
  }

  async *events(): AsyncGenerator<SourceEvent> {
    const tags = new FlvTagReader();
    const demux = new FlvToFrames();
    const clock = new TimestampUnwrapper();
    for (let off = 0; off < this.reader.size; ) {
      const chunk = await this.reader.read(off, FLV_READ_BYTES);
      if (chunk.length === 0) break; // the file shrank while we read it
      off += chunk.length;
      for (const tag of tags.push(chunk)) {
        for (const ev of demux.push(tag, clock.unwrap(tag.timestamp))) {
          if (ev.kind === 'metadata') {
            const d = ev.values.duration;
            // onMetaData duration is in seconds (E.5); 0 from live recorders means unknown.
            if (typeof d === 'number' && d > 0 && Number.isFinite(d)) this.durationMs = Math.round(d * 1000);
          }
          yield ev;
        }
      }
    }
    // A truncated last tag (a recording cut by a crash) is left out rather than failing the push.
    this.trailingBytes = tags.bytesBuffered;
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
