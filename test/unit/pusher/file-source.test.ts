import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type MediaFileSource, openMediaFile, type SourceEvent } from '../../../src/pusher/file-source.js';
import { isPushError } from '../../../src/pusher/push-error.js';

const media = (name: string) => new URL(`../../fixtures/media/${name}`, import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'estuary-file-source-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function drain(s: MediaFileSource): Promise<SourceEvent[]> {
  const out: SourceEvent[] = [];
  for await (const ev of s.events()) out.push(ev);
  return out;
}

function summary(events: SourceEvent[]) {
  const frames = events.flatMap((e) => (e.kind === 'frame' ? [e.frame] : []));
  return {
    kinds: events.slice(0, 3).map((e) => (e.kind === 'track' ? `track ${e.track.codec}` : e.kind)),
    video: frames.filter((f) => f.track.kind === 'video').length,
    audio: frames.filter((f) => f.track.kind === 'audio').length,
    firstDts: frames[0]?.dts,
    ordered: frames.every((f, i) => i === 0 || f.dts >= frames[i - 1]!.dts - 100),
  };
}

test('FLV: metadata, tracks, then every frame; duration from onMetaData', async () => {
  const s = await openMediaFile(media('h264-aac-3s.flv'));
  try {
    assert.equal(s.format, 'flv');
    assert.equal(s.durationMs, 3080);
    const got = summary(await drain(s));
    assert.deepEqual(got, {
      kinds: ['metadata', 'track h264', 'track aac'],
      video: 75,
      audio: 131,
      firstDts: 0,
      ordered: true,
    });
    // A second pass (--loop) reads the file again from the start.
    assert.equal(summary(await drain(s)).video, 75);
  } finally {
    await s.close();
  }
});

test('MP4 with B-frames: made-up metadata, tracks, frames merged by dts from -80 ms', async () => {
  const s = await openMediaFile(media('h264-aac-bframes-10s.mp4'));
  try {
    assert.equal(s.format, 'mp4');
    assert.equal(s.durationMs, 10_000);
    const events = await drain(s);
    const got = summary(events);
    assert.deepEqual(got, {
      kinds: ['metadata', 'track h264', 'track aac'],
      video: 250,
      audio: 432,
      firstDts: -80,
      ordered: true,
    });
    const meta = events[0]!;
    assert.ok(meta.kind === 'metadata');
    assert.equal(meta.values.width, 320);
    assert.equal(meta.values.videocodecid, 7);
    assert.equal(meta.values.audiocodecid, 10);
  } finally {
    await s.close();
  }
});

async function failure(path: string): Promise<unknown> {
  return openMediaFile(path).then(
    (s) => s.close().then(() => assert.fail('opened')),
    (err: unknown) => err,
  );
}

test('missing file, a directory: file-missing', async () => {
  const missing = await failure(join(tmp, 'nope.flv'));
  assert.ok(isPushError(missing, 'file-missing'));
  assert.match(missing.message, /no such file/);
  assert.ok(isPushError(await failure(tmp), 'file-missing'));
});

test('text, an empty file, an FLV header without tags: not-media', async () => {
  const text = join(tmp, 'a.flv');
  writeFileSync(text, 'hello');
  const err = await failure(text);
  assert.ok(isPushError(err, 'not-media'));
  assert.match(err.message, /starts with 68656c6c6f/);
  const empty = join(tmp, 'empty.mp4');
  writeFileSync(empty, '');
  assert.ok(isPushError(await failure(empty), 'not-media'));
  const headerOnly = join(tmp, 'header.flv');
  writeFileSync(headerOnly, Buffer.from('464c5601050000000900000000', 'hex'));
  const h = await failure(headerOnly);
  assert.ok(isPushError(h, 'not-media'));
  assert.match(h.message, /no audio or video frame/);
});

test('a malformed FLV tag fails the open with ERR_FLV_FORMAT', async () => {
  const bad = Buffer.from(readFileSync(media('h264-aac-3s.flv')).subarray(0, 4096));
  bad[13] = 0x07; // the first tag's TagType: not 8, 9 or 18 (E.4.1)
  const file = join(tmp, 'bad.flv');
  writeFileSync(file, bad);
  assert.equal(((await failure(file)) as { code?: string }).code, 'ERR_FLV_FORMAT');
});

test('a truncated FLV (a recording cut by a crash) pushes what is whole', async () => {
  const whole = readFileSync(media('h264-aac-3s.flv'));
  const file = join(tmp, 'cut.flv');
  writeFileSync(file, whole.subarray(0, Math.floor(whole.length / 2)));
  const s = await openMediaFile(file);
  try {
    const got = summary(await drain(s));
    assert.ok(got.video > 10 && got.video < 75, `${got.video} video frames`);
  } finally {
    await s.close();
  }
});

test('an MP4 without moov: ERR_MP4_FORMAT', async () => {
  const file = join(tmp, 'nomoov.mp4');
  writeFileSync(file, Buffer.from('0000000c6674797069736f6d', 'hex')); // ftyp 'isom' and nothing else
  const err = (await failure(file)) as { code?: string };
  assert.equal(err.code, 'ERR_MP4_FORMAT');
});
