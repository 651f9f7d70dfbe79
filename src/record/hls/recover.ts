import { open, readdir, readFile, rename, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../../errors.js';
import { type ParsedMediaPlaylist, parseMediaPlaylist } from '../../formats/m3u8/parse-playlist.js';
import { type MediaSegmentEntry, renderMediaPlaylist } from '../../formats/m3u8/playlist.js';
import { dtsDelta, scannedEnd, scanTransportStream, TS_CLOCK } from '../../formats/mpegts/ts-scan.js';
import { writeFileAtomic } from '../ordered-writer.js';
import type { RecoveryOptions } from '../recorder.js';
import { PART_SUFFIX, PLAYLIST_NAME, segmentSequence } from './segmenter.js';

/** The temporary files of atomic writes. */
const TMP_SUFFIX = '.tmp';
/** Enough of a segment's head for PAT, PMT and the first PES header (with a PCR-only packet). */
const HEAD_BYTES = 4 * 188;
/** RFC 8216 7: decimal-floating-point EXTINF durations need version 3 (as the live playlist). */
const PLAYLIST_VERSION = 3;

interface Found {
  uri: string;
  sequence: number;
}

async function readHead(path: string, bytes: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * The open segment a crash cut short (`segment_N.ts.part`): cut after its last whole frame and
 * renamed to `segment_N.ts`; removed when it holds no whole frame. Returns the frames kept.
 */
async function salvagePart(dir: string, name: string): Promise<number> {
  const path = join(dir, name);
  const scan = scanTransportStream(await readFile(path));
  const frames = scan.videoDts.length + scan.audioDts.length;
  if (frames === 0) {
    await rm(path, { force: true });
    return 0;
  }
  await truncate(path, scan.wholeBytes);
  await rename(path, join(dir, name.slice(0, -PART_SUFFIX.length)));
  return frames;
}

/**
 * The playlist entries of these segments, rebuilt from the files: each lasts from its first
 * decode time to the next one's (the last one to the end of its last whole frame), as the live
 * segmenter measured them; a new PMT means the tracks changed (EXT-X-DISCONTINUITY, 4.3.2.3).
 */
async function entriesOf(
  dir: string,
  found: readonly Found[],
  log: Logger,
): Promise<{ entries: MediaSegmentEntry[]; first: number; independent: boolean }> {
  const heads: { f: Found; firstDts: number; pmt?: Buffer; randomAccess: boolean; video: boolean }[] = [];
  for (const f of found) {
    const scan = scanTransportStream(await readHead(join(dir, f.uri), HEAD_BYTES));
    if (scan.firstDts === undefined) {
      log.warn({ segment: f.uri }, 'not an MPEG-TS segment this server wrote; left out of the playlist');
      continue;
    }
    const { pmt, randomAccess, video } = scan;
    heads.push({ f, firstDts: scan.firstDts, pmt, randomAccess, video });
  }
  const entries: MediaSegmentEntry[] = [];
  for (let i = 0; i < heads.length; i++) {
    const h = heads[i];
    let end: number | undefined = heads[i + 1]?.firstDts;
    if (end === undefined) end = scannedEnd(scanTransportStream(await readFile(join(dir, h.f.uri)), true));
    const ticks = end === undefined ? 0 : dtsDelta(h.firstDts, end);
    const prev = heads[i - 1];
    entries.push({
      uri: h.f.uri,
      duration: Math.round(ticks / (TS_CLOCK / 1000)) / 1000,
      discontinuity: prev !== undefined && !(prev.pmt && h.pmt && prev.pmt.equals(h.pmt)),
    });
  }
  return {
    entries,
    first: heads[0]?.f.sequence ?? 0,
    independent: heads.every((h) => h.randomAccess || !h.video),
  };
}

/**
 * Completes an HLS recording a crash left unfinished, from the files on disk. Segments get their
 * final name only once whole (the open one is written to `.part`, then renamed), and a playlist is
 * written after the segment it lists, so what a crash can leave is: a `.tmp` file of an atomic
 * write (removed), the `.part` of the open segment (salvaged up to its last whole frame), whole
 * segments the playlist does not list yet (listed), and segments that left the live window: kept
 * and listed, a complete VOD playlist as at a clean end; with `hlsCleanup` the ones waiting out
 * their grace are removed and the playlist lists the window. The playlist is rebuilt from the
 * segment files with `#EXT-X-ENDLIST` (RFC 8216 4.3.3.4) and written atomically. Never rejects:
 * failures are logged.
 */
export async function recoverHlsFolder(
  dir: string,
  log: Logger,
  opts: RecoveryOptions = { hlsCleanup: false },
): Promise<void> {
  try {
    let names = await readdir(dir);
    let tmpRemoved = 0;
    let salvagedFrames = 0;
    for (const name of names) {
      if (name.endsWith(TMP_SUFFIX)) {
        await rm(join(dir, name), { force: true });
        tmpRemoved++;
      } else if (
        name.endsWith(PART_SUFFIX) &&
        segmentSequence(name.slice(0, -PART_SUFFIX.length)) !== undefined
      ) {
        salvagedFrames += await salvagePart(dir, name);
      }
    }
    names = await readdir(dir);
    const path = join(dir, PLAYLIST_NAME);
    const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    // Parsed before anything is deleted: an unreadable playlist leaves every segment in place.
    const live: ParsedMediaPlaylist | undefined = text === undefined ? undefined : parseMediaPlaylist(text);
    const found = names
      .map((uri) => ({ uri, sequence: segmentSequence(uri) }))
      .filter((e): e is Found => e.sequence !== undefined)
      .sort((a, b) => a.sequence - b.sequence);
    // Without hlsCleanup every segment stays (the live playlist only listed the window); with it
    // those retired from the window go.
    const from = opts.hlsCleanup && live?.segments.length ? live.mediaSequence : 0;
    const retired = found.filter((f) => f.sequence < from);
    for (const f of retired) await rm(join(dir, f.uri), { force: true });
    const kept = found.filter((f) => f.sequence >= from);
    const { entries, first, independent } = await entriesOf(dir, kept, log);
    if (entries.length === 0) {
      log.info(
        { tmpRemoved },
        'HLS recording recovered: the crash came before the first whole frame, nothing to keep',
      );
      return;
    }
    await writeFileAtomic(
      path,
      renderMediaPlaylist({
        version: PLAYLIST_VERSION,
        targetDuration: live?.targetDuration,
        mediaSequence: first,
        discontinuitySequence: opts.hlsCleanup ? (live?.discontinuitySequence ?? 0) : 0,
        // Every segment of the session: a VOD playlist (4.3.3.5), as at a clean end.
        playlistType: opts.hlsCleanup && live?.playlistType !== 'EVENT' ? live?.playlistType : 'VOD',
        independentSegments: independent,
        segments: entries,
        ended: true,
      }),
    );
    const listedBefore = live?.segments.length ?? 0;
    log.info(
      {
        segments: entries.length,
        listedBefore,
        salvagedFrames,
        tmpRemoved,
        retiredRemoved: retired.length,
      },
      `HLS recording recovered: ${entries.length} segments listed with #EXT-X-ENDLIST${salvagedFrames > 0 ? `, the open one salvaged (${salvagedFrames} frames)` : ''}`,
    );
  } catch (err) {
    log.error({ err }, `HLS recovery of ${dir} failed: ${errorMessage(err)}`);
  }
}
