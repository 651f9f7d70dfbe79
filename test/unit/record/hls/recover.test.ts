/**
 * Recovery of an HLS folder a crash left behind, over real transport streams from the TS muxer:
 * the playlist rebuilt from the segments with ENDLIST, the open `.part` salvaged up to its last
 * whole frame, leftovers removed.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { type Logger, pino } from 'pino';
import { parseMediaPlaylist } from '../../../../src/formats/m3u8/parse-playlist.js';
import { ContinuityCounters } from '../../../../src/formats/mpegts/ts-packet.js';
import { TsMuxer } from '../../../../src/formats/mpegts/ts-writer.js';
import type { MediaFrame } from '../../../../src/media/frame.js';
import { recoverHlsFolder } from '../../../../src/record/hls/recover.js';
import { aacTrack, avcc, h264Track } from '../../formats/mpegts/ts-test-helpers.js';

interface LogLine {
  level: number;
  msg: string;
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function folder(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'estuary-hls-recover-'));
  dirs.push(dir);
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
  return dir;
}

function capture(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    log: pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) }),
  };
}

const counters = new ContinuityCounters();

/** Segment `n` as the recorder writes it: 2 s from n × 2 s, 25 fps video (keyframe first) and AAC. */
function segment(n: number, ms = 2000): Buffer {
  const mux = new TsMuxer({ video: h264Track, audio: aacTrack }, { counters });
  const frames: MediaFrame[] = [];
  const start = n * 2000;
  for (let t = 0; t < ms; t += 40) {
    const idr = t === 0;
    const data = avcc([Buffer.concat([Buffer.from([idr ? 0x65 : 0x41]), Buffer.alloc(600, n)])]);
    frames.push({ track: h264Track, dts: start + t, pts: start + t, keyframe: idr, data });
  }
  for (let t = 0; t < ms; t += 23) {
    frames.push({ track: aacTrack, dts: start + t, pts: start + t, keyframe: true, data: Buffer.alloc(200) });
  }
  frames.sort((a, b) => a.dts - b.dts);
  return Buffer.concat([mux.writeTables(), ...frames.map((f) => mux.writeFrame(f))]);
}

/** What the recorder writes for a live window of 2 after four segments (sequence 2 and 3 listed). */
const LIVE = [
  '#EXTM3U',
  '#EXT-X-VERSION:3',
  '#EXT-X-TARGETDURATION:2',
  '#EXT-X-MEDIA-SEQUENCE:2',
  '#EXT-X-DISCONTINUITY-SEQUENCE:0',
  '#EXT-X-INDEPENDENT-SEGMENTS',
  '#EXTINF:2.000,',
  'segment_00002.ts',
  '#EXTINF:2.000,',
  'segment_00003.ts',
  '',
].join('\n');

test('with hlsCleanup: retired and temporary files go, a whole unlisted segment and the salvaged .part are listed', async () => {
  const open = segment(5);
  const dir = folder({
    'index.m3u8': LIVE,
    'index.m3u8.tmp': '#EXTM3U\n#EXT-X-VERS',
    'segment_00001.ts': segment(1),
    'segment_00002.ts': segment(2),
    'segment_00003.ts': segment(3),
    'segment_00004.ts': segment(4),
    // The open segment, cut by the crash in the middle of a packet past 1 s of media.
    'segment_00005.ts.part': open.subarray(0, Math.floor(open.length * 0.6) + 77),
    'session.json': '{}',
    '.recording': 'x',
  });
  const { log, lines } = capture();
  await recoverHlsFolder(dir, log, { hlsCleanup: true });
  const p = parseMediaPlaylist(readFileSync(join(dir, 'index.m3u8'), 'utf8'));
  assert.equal(p.ended, true);
  assert.equal(p.mediaSequence, 2);
  assert.equal(p.independentSegments, true);
  assert.deepEqual(
    p.segments.map((s) => s.uri),
    ['segment_00002.ts', 'segment_00003.ts', 'segment_00004.ts', 'segment_00005.ts'],
  );
  assert.deepEqual(
    p.segments.slice(0, 3).map((s) => s.duration),
    [2, 2, 2],
  );
  const salvaged = p.segments[3]!.duration;
  assert.ok(salvaged > 1 && salvaged < 1.3, `salvaged ${salvaged} s of the open segment`);
  assert.ok(p.segments.every((s) => !s.discontinuity));
  // The marker is the manager's to remove, once recover() returned.
  assert.deepEqual(readdirSync(dir).sort(), [
    '.recording',
    'index.m3u8',
    'segment_00002.ts',
    'segment_00003.ts',
    'segment_00004.ts',
    'segment_00005.ts',
    'session.json',
  ]);
  const kept = readFileSync(join(dir, 'segment_00005.ts'));
  assert.equal(kept.length % 188, 0, 'cut at a packet boundary');
  assert.ok(open.subarray(0, kept.length).equals(kept), 'a prefix of what was written');
  assert.equal(lines.length, 1);
  assert.match(
    lines[0]!.msg,
    /^HLS recording recovered: 4 segments listed with #EXT-X-ENDLIST, the open one salvaged/,
  );
});

test('without hlsCleanup every segment on disk is listed: a complete VOD playlist', async () => {
  const dir = folder({
    'index.m3u8': LIVE,
    'segment_00000.ts': segment(0),
    'segment_00001.ts': segment(1),
    'segment_00002.ts': segment(2),
    'segment_00003.ts': segment(3),
    'segment_00004.ts.part': segment(4),
  });
  await recoverHlsFolder(dir, capture().log);
  const p = parseMediaPlaylist(readFileSync(join(dir, 'index.m3u8'), 'utf8'));
  assert.equal(p.playlistType, 'VOD');
  assert.equal(p.ended, true);
  assert.equal(p.mediaSequence, 0);
  assert.equal(p.discontinuitySequence, 0);
  assert.deepEqual(
    p.segments.map((s) => [s.uri, s.duration]),
    [0, 1, 2, 3, 4].map((n) => [`segment_0000${n}.ts`, 2]),
  );
});

test('with hlsCleanup an ended playlist is rebuilt byte for byte as it was', async () => {
  const ended = `${LIVE}#EXT-X-ENDLIST\n`;
  const dir = folder({ 'index.m3u8': ended, 'segment_00002.ts': segment(2), 'segment_00003.ts': segment(3) });
  await recoverHlsFolder(dir, capture().log, { hlsCleanup: true });
  assert.equal(readFileSync(join(dir, 'index.m3u8'), 'utf8'), ended);
  assert.equal(readdirSync(dir).length, 3);
});

test('a crash before the first playlist: the .part is salvaged into the one segment listed', async () => {
  const dir = folder({ 'segment_00000.ts.part': segment(0, 1000), 'session.json': '{}' });
  await recoverHlsFolder(dir, capture().log);
  const p = parseMediaPlaylist(readFileSync(join(dir, 'index.m3u8'), 'utf8'));
  assert.deepEqual(
    p.segments.map((s) => s.uri),
    ['segment_00000.ts'],
  );
  // Audio follows the last video frame, so all 25 are provably whole.
  assert.equal(p.segments[0]!.duration, 1);
});

test('a .part with no whole frame goes, and nothing is written', async () => {
  const tables = segment(0).subarray(0, 2 * 188 + 100);
  const dir = folder({ 'segment_00000.ts.part': tables, 'session.json': '{}' });
  const { log, lines } = capture();
  await recoverHlsFolder(dir, log);
  assert.deepEqual(readdirSync(dir), ['session.json']);
  assert.match(lines[0]!.msg, /before the first whole frame/);
});

test('a new PMT (the tracks changed) is listed as a discontinuity', async () => {
  const audioOnly = new TsMuxer({ audio: aacTrack });
  const a = Buffer.concat([
    audioOnly.writeTables(),
    ...[0, 23, 46].map((t) =>
      audioOnly.writeFrame({
        track: aacTrack,
        dts: 4000 + t,
        pts: 4000 + t,
        keyframe: true,
        data: Buffer.alloc(9),
      }),
    ),
  ]);
  const dir = folder({
    'segment_00000.ts': segment(0),
    'segment_00001.ts': segment(1),
    'segment_00002.ts': a,
  });
  await recoverHlsFolder(dir, capture().log);
  const p = parseMediaPlaylist(readFileSync(join(dir, 'index.m3u8'), 'utf8'));
  assert.deepEqual(
    p.segments.map((s) => [s.duration, s.discontinuity === true]),
    [
      [2, false],
      [2, false],
      [0.069, true],
    ],
  );
});

test('an unreadable playlist is logged and leaves every segment in place; recover never rejects', async () => {
  const dir = folder({ 'index.m3u8': 'not a playlist\n', 'segment_00000.ts': segment(0) });
  const { log, lines } = capture();
  await recoverHlsFolder(dir, log);
  assert.deepEqual(readdirSync(dir).sort(), ['index.m3u8', 'segment_00000.ts']);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.level, 50);
  assert.match(lines[0]!.msg, /HLS recovery of .* failed: playlist line 1: does not start with #EXTM3U/);
});

test('a folder that is gone is logged, not thrown', async () => {
  const { log, lines } = capture();
  await recoverHlsFolder(join(tmpdir(), 'estuary-no-such-folder-4f1c'), log);
  assert.equal(lines[0]!.level, 50);
  assert.match(lines[0]!.msg, /ENOENT/);
  assert.ok(!existsSync(join(tmpdir(), 'estuary-no-such-folder-4f1c')));
});
