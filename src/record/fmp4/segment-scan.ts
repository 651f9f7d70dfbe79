/**
 * Re-reads recorded fMP4 files from disk without loading the media: the init segment (whole, it
 * is small), and each media segment's box headers and moofs, giving every sample's size, timing
 * and where its bytes sit. The merge streams from this; recovery uses it to tell a whole segment
 * from one a crash tore (any inconsistency throws ERR_MP4_FORMAT).
 */
import { type FileHandle, open } from 'node:fs/promises';
import { childBoxes, mp4Error, parseBoxHeader } from '../../formats/mp4/box-reader.js';
import { type ParsedTrackFragment, parseMovieFragment } from '../../formats/mp4/fragment-parser.js';
import { type ParsedTrack, parseMovie, type TrackDefaults } from '../../formats/mp4/movie-parser.js';

/** An init segment is a few hundred bytes; anything near this is not one of ours. */
const MAX_INIT_BYTES = 4 * 1024 * 1024;
/** A moof costs ~16 bytes a sample (trun, 8.8.8): 16 MiB is a million samples, far beyond a segment. */
const MAX_MOOF_BYTES = 16 * 1024 * 1024;
/** Box header with a 64-bit largesize (14496-12 4.2). */
const MAX_BOX_HEADER = 16;

export interface InitInfo {
  tracks: ParsedTrack[];
  trex: Map<number, TrackDefaults>;
}

export interface ScannedFragment {
  tracks: ParsedTrackFragment[];
  /** The following mdat's payload, as file offsets [start, end). */
  payloadStart: number;
  payloadEnd: number;
}

/** Read-ahead of BoxReader: a segment holds a fragment per video frame, so many boxes a read. */
const READ_AHEAD = 256 * 1024;

/**
 * Reads byte ranges of a file through one read-ahead buffer: the scan asks for box headers and
 * moofs in order, which mostly lie in the block already read.
 */
class BoxReader {
  private buf: Buffer = Buffer.alloc(0);
  private start = 0;

  constructor(private readonly fh: FileHandle) {}

  async at(position: number, length: number): Promise<Buffer> {
    if (position < this.start || position + length > this.start + this.buf.length) {
      this.buf = await readAt(this.fh, position, Math.max(length, READ_AHEAD));
      this.start = position;
    }
    const from = position - this.start;
    return this.buf.subarray(from, Math.min(from + length, this.buf.length));
  }
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return bytesRead === length ? buf : buf.subarray(0, bytesRead);
}

/** Parses an init segment (ftyp + moov with mvex) into its tracks and fragment defaults. */
export async function readInit(path: string): Promise<InitInfo> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size > MAX_INIT_BYTES) throw mp4Error(`${path}: ${size} bytes is too large for an init segment`);
    const buf = await readAt(fh, 0, size);
    const moov = childBoxes(buf, 0, buf.length).find((b) => b.type === 'moov');
    if (!moov) throw mp4Error(`${path} has no moov`);
    // An init segment's tables are empty (its samples come in fragments): allow none.
    const movie = parseMovie(buf.subarray(moov.start, moov.start + moov.size), 0);
    return { tracks: movie.tracks, trex: new Map(movie.tracks.map((t) => [t.trackId, t.defaults])) };
  } finally {
    await fh.close();
  }
}

/**
 * Every moof+mdat pair of one segment file, in order. `nextDts` carries each track's next decode
 * time between fragments (for a traf without tfdt) and is updated.
 */
export async function scanSegment(
  path: string,
  trex: ReadonlyMap<number, TrackDefaults>,
  nextDts: Map<number, number>,
): Promise<ScannedFragment[]> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const reader = new BoxReader(fh);
    const out: ScannedFragment[] = [];
    let pending: ParsedTrackFragment[] | undefined;
    for (let off = 0; off < size; ) {
      const head = await reader.at(off, Math.min(MAX_BOX_HEADER, size - off));
      const h = parseBoxHeader(head, 0, size - off, off);
      if (h.type === 'moof') {
        if (pending) throw mp4Error(`${path}: moof at ${off} follows a moof without mdat`);
        if (h.size > MAX_MOOF_BYTES)
          throw mp4Error(`${path}: moof of ${h.size} bytes exceeds ${MAX_MOOF_BYTES}`);
        // A copy: the fragment's parse keeps no reference into the read-ahead buffer.
        pending = parseMovieFragment(Buffer.from(await reader.at(off, h.size)), off, trex, nextDts);
      } else if (h.type === 'mdat' && pending) {
        const frag = { tracks: pending, payloadStart: off + h.headerSize, payloadEnd: off + h.size };
        checkSamplesInside(path, frag);
        out.push(frag);
        pending = undefined;
      }
      off += h.size;
    }
    if (pending) throw mp4Error(`${path}: the last moof has no mdat (torn segment)`);
    if (out.length === 0) throw mp4Error(`${path} holds no movie fragment`);
    return out;
  } finally {
    await fh.close();
  }
}

/**
 * How many bytes from the start of a segment a crash cut short (a `.part`) hold whole fragments:
 * the end of the last mdat that follows its moof completely. Fragments are appended in order,
 * so everything before the torn one is intact. 0 when not even the first fragment is whole.
 */
export async function wholeFragmentBytes(
  path: string,
  trex: ReadonlyMap<number, TrackDefaults>,
): Promise<number> {
  const fh = await open(path, 'r');
  let whole = 0;
  try {
    const { size } = await fh.stat();
    const reader = new BoxReader(fh);
    const nextDts = new Map<number, number>();
    let pending: ParsedTrackFragment[] | undefined;
    for (let off = 0; off + 8 <= size; ) {
      const head = await reader.at(off, Math.min(MAX_BOX_HEADER, size - off));
      const h = parseBoxHeader(head, 0, Number.MAX_SAFE_INTEGER, off);
      if (h.size < 8 || off + h.size > size) break;
      if (h.type === 'moof') {
        if (h.size > MAX_MOOF_BYTES) break;
        pending = parseMovieFragment(Buffer.from(await reader.at(off, h.size)), off, trex, nextDts);
      } else if (h.type === 'mdat' && pending) {
        checkSamplesInside(path, {
          tracks: pending,
          payloadStart: off + h.headerSize,
          payloadEnd: off + h.size,
        });
        pending = undefined;
        whole = off + h.size;
      }
      off += h.size;
    }
    return whole;
  } catch {
    // A torn or garbled box: keep the whole fragments before it.
    return whole;
  } finally {
    await fh.close();
  }
}

/** Our merge copies whole mdat payloads, so every sample must lie inside its fragment's mdat. */
function checkSamplesInside(path: string, f: ScannedFragment): void {
  for (const t of f.tracks) {
    for (const s of t.samples) {
      if (s.offset < f.payloadStart || s.offset + s.size > f.payloadEnd) {
        throw mp4Error(`${path}: a track ${t.trackId} sample lies outside its mdat`);
      }
    }
  }
}

/** Duration (s) of the samples of `trackId` in these fragments, or of the first track that has any. */
export function fragmentsSeconds(frags: readonly ScannedFragment[], init: InitInfo, trackId: number): number {
  const has = (id: number) =>
    frags.some((f) => f.tracks.some((t) => t.trackId === id && t.samples.length > 0));
  const id = has(trackId) ? trackId : init.tracks.find((t) => has(t.trackId))?.trackId;
  const timescale = init.tracks.find((t) => t.trackId === id)?.timescale ?? 1;
  let ticks = 0;
  for (const f of frags)
    for (const t of f.tracks) if (t.trackId === id) for (const s of t.samples) ticks += s.duration;
  return ticks / timescale;
}
