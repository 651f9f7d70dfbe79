/**
 * openMediaFile's reuseBuffers: reading into the same few buffers must hand out exactly what a
 * fresh buffer per read does (frame data checked when it arrives, as a converter uses it), and
 * what outlives the read (the tracks' configuration records, metadata) must not be overwritten by
 * later reads. Small reads make the buffers turn over many times on a 10 s fixture.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Track } from '../../../src/media/track.js';
import { openMediaFile } from '../../../src/pusher/file-source.js';
import { fixture } from '../../helpers/media.js';

async function read(path: string, options: Parameters<typeof openMediaFile>[1]) {
  const source = await openMediaFile(path, options);
  const frames: string[] = [];
  const tracks: Track[] = [];
  try {
    for await (const ev of source.events()) {
      if (ev.kind === 'frame') {
        frames.push(
          `${ev.frame.track.kind} ${ev.frame.dts} ${createHash('sha1').update(ev.frame.data).digest('hex')}`,
        );
        if (!tracks.includes(ev.frame.track)) tracks.push(ev.frame.track);
      }
    }
  } finally {
    await source.close();
  }
  // Checked after the last read: a config lent from a reused buffer would be overwritten by now.
  return { frames, configs: tracks.map((t) => t.config?.toString('hex')) };
}

describe('openMediaFile reuseBuffers', () => {
  for (const readBytes of [4096, 50_000]) {
    it(`gives the same frames and tracks as fresh buffers (reads of ${readBytes} bytes)`, async () => {
      const path = fixture('h264-aac-bframes-10s.flv');
      const fresh = await read(path, {});
      const reused = await read(path, { readBytes, reuseBuffers: true });
      assert.equal(reused.frames.length, fresh.frames.length);
      assert.deepEqual(reused.frames, fresh.frames);
      assert.deepEqual(reused.configs, fresh.configs);
      assert.equal(fresh.configs.length, 2);
    });
  }
});
