/**
 * batches({ sizesOnly }) on FLV (pusher/flv-size-scan.ts): reading only the tag headers must give
 * the same events as reading every byte — frames with the same track, times, flags and data
 * length, the same tracks and metadata, the same bytes left over at a truncated end, and the same
 * error after the same frames when a tag header is damaged. Fast-start MP4's moov is built from
 * this pass, so any difference would be a moov that does not match its mdat.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openMediaFile } from '../../../src/pusher/file-source.js';
import { fixture } from '../../helpers/media.js';

interface Pass {
  events: string[];
  trailingBytes: number;
  error?: string;
}

async function pass(path: string, sizesOnly: boolean): Promise<Pass> {
  const source = await openMediaFile(path, { readBytes: 4096, reuseBuffers: true });
  const events: string[] = [];
  let error: string | undefined;
  try {
    for await (const batch of source.batches({ sizesOnly })) {
      for (const ev of batch) {
        if (ev.kind === 'frame') {
          const f = ev.frame;
          events.push(`${f.track.kind} ${f.track.codec} ${f.dts} ${f.pts} ${f.keyframe} ${f.data.length}`);
        } else if (ev.kind === 'track') {
          events.push(`track ${ev.track.kind} ${ev.track.codec} ${ev.track.config?.toString('hex')}`);
        } else events.push(`metadata ${ev.body.toString('hex')}`);
      }
    }
  } catch (err) {
    error = (err as { code?: string }).code ?? String(err);
  } finally {
    await source.close();
  }
  return { events, trailingBytes: source.trailingBytes, error };
}

async function same(path: string): Promise<Pass> {
  const full = await pass(path, false);
  const sizes = await pass(path, true);
  assert.equal(sizes.events.length, full.events.length);
  assert.deepEqual(sizes.events, full.events);
  assert.equal(sizes.trailingBytes, full.trailingBytes);
  assert.equal(sizes.error, full.error);
  return full;
}

const dir = mkdtempSync(join(tmpdir(), 'estuary-size-scan-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('FLV sizes-only pass', () => {
  for (const name of [
    'h264-aac-bframes-10s.flv',
    'h264-aac-3s.flv',
    'audio-only-3s.flv',
    'video-only-3s.flv',
    'mp3-3s.flv',
    'sorenson-1s.flv',
  ]) {
    it(`gives the events of a full read: ${name}`, async () => {
      const full = await same(fixture(name));
      assert.ok(full.events.filter((e) => !e.startsWith('track') && !e.startsWith('metadata')).length > 20);
      assert.equal(full.trailingBytes, 0);
    });
  }

  it('stops at the same frame with the same leftover bytes when the file is cut anywhere', async () => {
    const bytes = readFileSync(fixture('h264-aac-3s.flv'));
    // Inside a large video body, inside a tag header, inside a PreviousTagSize, at a boundary.
    for (const cut of [1, 3, 4, 9, 12, 20, 2000, 5001, 30_000, 60_013]) {
      const path = join(dir, `cut-${cut}.flv`);
      writeFileSync(path, bytes.subarray(0, bytes.length - cut));
      const full = await same(path);
      assert.ok(full.events.length > 10, `cut ${cut}`);
    }
  });

  it('fails after the same frames when a tag header is damaged', async () => {
    const path = join(dir, 'damaged.flv');
    copyFileSync(fixture('h264-aac-bframes-10s.flv'), path);
    const bytes = readFileSync(path);
    // The tag type byte of a tag about halfway through: walk the tags to find it.
    let at = 13;
    while (at < bytes.length / 2) at += 11 + bytes.readUIntBE(at + 1, 3) + 4;
    bytes[at] = 0x33;
    writeFileSync(path, bytes);
    const full = await same(path);
    assert.equal(full.error, 'ERR_FLV_FORMAT');
    assert.ok(full.events.length > 50);
  });
});
