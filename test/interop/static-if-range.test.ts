/**
 * If-Range (RFC 9110 13.1.5) on the static files, the origin's web port and the file gateway
 * alike (one handler). A browser's HTTP cache keeps part of a file and asks for the rest with
 * `Range` + `If-Range: <the ETag it has>`; answering a changed file with 206 lets it splice two
 * versions. With a live playlist rewritten every segment, Chromium's own HLS player then read
 * a playlist listing one segment twice and the old one's media again ("Parsed buffers not in
 * DTS sequence"). Here: a playlist replaced between the two requests, as the recorder does.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFileGateway, type TestGateway } from '../helpers/file-gateway.js';

const entry = (n: number) => `#EXTINF:2.000,\nsegment_${String(n).padStart(5, '0')}.ts\n`;
/** A sliding-window playlist: the same length whatever `first` is (the recorder's case). */
const playlist = (first: number) =>
  `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:${first}\n${[0, 1, 2].map((i) => entry(first + i)).join('')}`;

describe('If-Range on static files', () => {
  let dir: string;
  let file: string;
  let g: TestGateway;
  const url = () => `${g.base}/hls/live/a/index.m3u8`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'estuary-ifrange-'));
    mkdirSync(join(dir, 'hls', 'live', 'a'), { recursive: true });
    file = join(dir, 'hls', 'live', 'a', 'index.m3u8');
    writeFileSync(file, playlist(1));
    // An old file: its Last-Modified is a strong validator (more than a second ago).
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    g = await startFileGateway(dir, { restatMs: 0 });
  });
  after(async () => {
    await g.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a matching validator gets the range, any other the whole file with 200', async () => {
    const first = await fetch(url());
    const whole = await first.text();
    const etag = first.headers.get('etag')!;
    const lastModified = first.headers.get('last-modified')!;
    const cases: [string, number][] = [
      [etag, 206],
      [lastModified, 206],
      [`W/${etag}`, 200], // a weak tag never matches (13.1.5: strong comparison)
      ['"something-else"', 200],
      ['Thu, 01 Jan 1970 00:00:00 GMT', 200],
      ['not a validator', 200],
    ];
    for (const [ifRange, status] of cases) {
      const res = await fetch(url(), { headers: { Range: 'bytes=10-', 'If-Range': ifRange } });
      const body = await res.text();
      assert.equal(res.status, status, ifRange);
      assert.equal(body, status === 206 ? whole.slice(10) : whole, ifRange);
      assert.equal(res.headers.get('content-range') !== null, status === 206, ifRange);
    }
  });

  test('a playlist replaced between two reads: the rest is not spliced onto the old bytes', async () => {
    const first = await fetch(url(), { headers: { Range: 'bytes=0-99' } });
    const head = await first.text();
    const etag = first.headers.get('etag')!;
    assert.equal(first.status, 206);
    // The recorder's atomic rewrite: same length, window moved by one segment.
    const next = playlist(2);
    assert.equal(next.length, playlist(1).length);
    writeFileSync(`${file}.tmp`, next);
    renameSync(`${file}.tmp`, file);
    const rest = await fetch(url(), { headers: { Range: 'bytes=100-', 'If-Range': etag } });
    const body = await rest.text();
    assert.equal(rest.status, 200, 'the version changed: the whole new file');
    assert.equal(body, next);
    assert.notEqual(head + next.slice(100), next, 'a splice would have been a different playlist');
    assert.notEqual(rest.headers.get('etag'), etag);
  });
});
