/**
 * The movie duration an MP4 announces in its mvhd (ISO/IEC 14496-12 8.2.2), found with a few
 * small reads (top-level box headers, then moov's child headers), for the progress display.
 */

import { BoxCursor, type BoxHeader, parseBoxHeader } from '../formats/mp4/box-reader.js';
import type { RandomAccessReader } from '../formats/mp4/demuxer.js';

/** A box header is 8 bytes, or 16 with a largesize (4.2). */
const MAX_HEADER = 16;
/** mvhd version 1 is 4 (version/flags) + 8 + 8 + 4 + 8 = 32 bytes up to duration; 120 in all (8.2.2.2). */
const MVHD_MAX = 128;
/** Walk at most this many boxes: a pathological file cannot make the look-up long. */
const MAX_BOXES = 1024;

/** mvhd payload → duration in ms; undefined when unknown (0 or all ones, as fragmented files write). */
export function parseMvhdDurationMs(buf: Buffer, h: BoxHeader): number | undefined {
  const c = BoxCursor.of(buf, h);
  const { version } = c.versionFlags();
  c.skip(version === 1 ? 16 : 8); // creation_time, modification_time
  const timescale = c.u32();
  const duration = version === 1 ? c.u64() : c.u32();
  const unknown = version === 1 ? duration >= Number.MAX_SAFE_INTEGER : duration === 0xffffffff;
  if (timescale === 0 || duration === 0 || unknown) return undefined;
  return Math.round((duration * 1000) / timescale);
}

async function* boxesIn(reader: RandomAccessReader, start: number, end: number): AsyncGenerator<BoxHeader> {
  let off = start;
  for (let n = 0; n < MAX_BOXES && end - off >= 8; n++) {
    const head = await reader.read(off, Math.min(MAX_HEADER, end - off));
    const h = parseBoxHeader(head, 0, end - off, off);
    yield h;
    off += h.size;
  }
}

/** Duration from the moov's mvhd, or undefined when there is none or it says 0. */
export async function readMp4DurationMs(reader: RandomAccessReader): Promise<number | undefined> {
  for await (const top of boxesIn(reader, 0, reader.size)) {
    if (top.type !== 'moov') continue;
    for await (const h of boxesIn(reader, top.start + top.headerSize, top.start + top.size)) {
      if (h.type !== 'mvhd') continue;
      const buf = await reader.read(h.start, Math.min(h.size, MVHD_MAX));
      return parseMvhdDurationMs(buf, { ...h, start: 0, size: Math.min(h.size, buf.length) });
    }
    return undefined;
  }
  return undefined;
}
