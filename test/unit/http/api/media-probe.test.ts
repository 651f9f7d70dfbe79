import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MediaProbe } from '../../../../src/http/api/media-probe.js';

const dir = mkdtempSync(join(tmpdir(), 'estuary-probe-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const FLV = new URL('../../../fixtures/media/h264-aac-3s.flv', import.meta.url).pathname;
const MP4 = new URL('../../../fixtures/media/h264-aac-bframes-10s.mp4', import.meta.url).pathname;
const stampOf = (path: string) => {
  const s = statSync(path);
  return { path, size: s.size, mtimeMs: s.mtimeMs };
};

test('FLV duration: from the first to the last tag timestamp, found through the last PreviousTagSize', async () => {
  const d = await new MediaProbe().flvDurationSeconds(stampOf(FLV));
  // ffprobe: 3.0 s of 25 fps video and AAC; the last tag starts less than a frame before the end.
  assert.ok(d !== null && d > 2.8 && d <= 3.05, `duration ${d}`);
});

test('FLV duration of a file cut mid-tag (still being written) is unknown, not wrong', async () => {
  const cut = join(dir, 'cut.flv');
  const bytes = readFileSync(FLV);
  writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
  assert.equal(await new MediaProbe().flvDurationSeconds(stampOf(cut)), null);
  writeFileSync(join(dir, 'junk.flv'), 'not an flv at all');
  assert.equal(await new MediaProbe().flvDurationSeconds(stampOf(join(dir, 'junk.flv'))), null);
});

test('MP4 duration from mvhd; codec strings from the sample entries', async () => {
  const probe = new MediaProbe();
  const d = await probe.mp4DurationSeconds(stampOf(MP4));
  assert.ok(d !== null && Math.abs(d - 10) < 0.2, `duration ${d}`);
  assert.deepEqual(await probe.initCodecs(stampOf(MP4)), ['avc1.64000d', 'mp4a.40.2']);
});

test('a playlist: its EXTINF total, segment count and whether it ended; cached until the file changes', async () => {
  const p = join(dir, 'index.m3u8');
  const text = (ended: boolean) =>
    `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.000,\na.ts\n#EXTINF:1.5,\nb.ts\n${ended ? '#EXT-X-ENDLIST\n' : ''}`;
  writeFileSync(p, text(false));
  const probe = new MediaProbe();
  assert.deepEqual(await probe.playlist(stampOf(p)), {
    durationSeconds: 3.5,
    segments: 2,
    ended: false,
    uris: ['a.ts', 'b.ts'],
  });
  writeFileSync(p, text(true));
  assert.equal((await probe.playlist(stampOf(p)))?.ended, true);
});
