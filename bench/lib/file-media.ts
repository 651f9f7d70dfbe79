/**
 * The directory both servers of the file benchmarks serve, laid out as the origin records it:
 * a live HLS stream (`hls/live/stream/index.m3u8`, segments named with their session id, the
 * `.recording` marker) kept live by a writer that adds a segment every target duration the way
 * the recorder does (segment written, then the playlist replaced by a rename), and a big
 * complete MP4 (`mp4/live/stream/output_merge/stream_full.mp4`). The bytes are random: serving
 * does not look at them. Made once per size in $TMPDIR/estuary-bench-files/.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PLAYLIST = '/hls/live/stream/index.m3u8';
export const BIG_FILE = '/mp4/live/stream/output_merge/stream_full.mp4';

export interface FileMedia {
  root: string;
  bigSize: number;
  /** Stops the live writer. */
  stop(): void;
}

const KEEP = 6;

export function prepareFileMedia(opts: { bigMiB: number; segmentKiB: number; segmentMs: number }): FileMedia {
  const root = join(tmpdir(), 'estuary-bench-files', 'data');
  const big = join(root, BIG_FILE);
  mkdirSync(join(big, '..'), { recursive: true });
  if (!existsSync(big) || statSync(big).size !== opts.bigMiB * 1024 * 1024) {
    const chunk = randomBytes(1024 * 1024);
    writeFileSync(big, '');
    for (let i = 0; i < opts.bigMiB; i++) writeFileSync(big, chunk, { flag: 'a' });
  }
  const hls = join(root, PLAYLIST, '..');
  rmSync(hls, { recursive: true, force: true });
  mkdirSync(hls, { recursive: true });
  writeFileSync(join(hls, '.recording'), '');
  let seq = 0;
  const name = (i: number) => `segment_20240101_120000_${String(i).padStart(5, '0')}.ts`;
  const addSegment = () => {
    writeFileSync(join(hls, name(seq)), randomBytes(opts.segmentKiB * 1024));
    seq++;
    if (seq > KEEP + 2) rmSync(join(hls, name(seq - KEEP - 3)), { force: true });
    const first = Math.max(0, seq - KEEP);
    const lines = [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      `#EXT-X-TARGETDURATION:${Math.ceil(opts.segmentMs / 1000)}`,
    ];
    lines.push(`#EXT-X-MEDIA-SEQUENCE:${first}`);
    for (let i = first; i < seq; i++) lines.push(`#EXTINF:${(opts.segmentMs / 1000).toFixed(3)},`, name(i));
    writeFileSync(join(hls, 'index.m3u8.tmp'), `${lines.join('\n')}\n`);
    renameSync(join(hls, 'index.m3u8.tmp'), join(hls, 'index.m3u8'));
  };
  for (let i = 0; i < KEEP; i++) addSegment();
  const timer = setInterval(addSegment, opts.segmentMs);
  return { root, bigSize: statSync(big).size, stop: () => clearInterval(timer) };
}
