/** Recovery of an HLS folder a crash left behind: ENDLIST appended, leftovers removed. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { type Logger, pino } from 'pino';
import { recoverHlsFolder } from '../../../../src/record/hls/recover.js';

interface LogLine {
  level: number;
  msg: string;
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'estuary-hls-recover-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function capture(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    log: pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) }),
  };
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

test('a live playlist gets #EXT-X-ENDLIST; .tmp files and unlisted segments go', async () => {
  const dir = folder({
    'index.m3u8': LIVE,
    'index.m3u8.tmp': '#EXTM3U\n#EXT-X-VERS',
    'segment_00001.ts': 'retired, waiting out its grace',
    'segment_00002.ts': 'listed',
    'segment_00003.ts': 'listed',
    'segment_00004.ts': 'written, the playlist listing it was not',
    'segment_00005.ts.tmp': 'half a segment',
    'session.json': '{}',
    '.recording': 'x',
  });
  const { log, lines } = capture();
  await recoverHlsFolder(dir, log);
  assert.equal(readFileSync(join(dir, 'index.m3u8'), 'utf8'), `${LIVE}#EXT-X-ENDLIST\n`);
  // The marker is the manager's to remove, once recover() returned.
  assert.deepEqual(readdirSync(dir).sort(), [
    '.recording',
    'index.m3u8',
    'segment_00002.ts',
    'segment_00003.ts',
    'session.json',
  ]);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.msg, 'HLS recording recovered: 2 segments listed, #EXT-X-ENDLIST appended');
});

test('an ended playlist is left byte for byte as it was', async () => {
  const ended = `${LIVE}#EXT-X-ENDLIST\n`;
  const dir = folder({ 'index.m3u8': ended, 'segment_00002.ts': 'a', 'segment_00003.ts': 'b' });
  await recoverHlsFolder(dir, capture().log);
  assert.equal(readFileSync(join(dir, 'index.m3u8'), 'utf8'), ended);
  assert.equal(readdirSync(dir).length, 3);
});

test('a crash before the first playlist: the lone segment goes, nothing else is written', async () => {
  const dir = folder({ 'segment_00000.ts': 'never listed', 'session.json': '{}' });
  const { log, lines } = capture();
  await recoverHlsFolder(dir, log);
  assert.deepEqual(readdirSync(dir), ['session.json']);
  assert.match(lines[0]!.msg, /before the first playlist/);
});

test('an unreadable playlist is logged and leaves every segment in place; recover never rejects', async () => {
  const dir = folder({ 'index.m3u8': 'not a playlist\n', 'segment_00000.ts': 'kept' });
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
});
