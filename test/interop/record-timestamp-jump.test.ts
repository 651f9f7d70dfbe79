/**
 * A publisher whose timestamps jump (issue 9.7): the 3 s fixture's tags re-timed so that from
 * 1.5 s on they are 50 hours later (or start again from 0), published unchanged over HTTP-FLV.
 * Every recording goes on across the jump and stays playable: FFmpeg decodes the FLV, the HLS
 * playlist and the complete MP4 without a word, each holds every frame, and each lasts the 3 s
 * of media it holds (not 50 hours).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FLV_HEADER_SIZE, PREVIOUS_TAG_SIZE_SIZE } from '../../src/formats/flv/header.js';
import { encodeFlvTag } from '../../src/formats/flv/tag.js';
import { FlvTagReader } from '../../src/formats/flv/tag-reader.js';
import { fixture } from '../helpers/media.js';
import { startOrigin, waitEnded } from '../helpers/origin.js';
import { assertDecodesClean, packetTimes, probe, streamOf } from '../helpers/probe.js';
import { requireTool } from '../helpers/tools.js';

const SOURCE = fixture('h264-aac-3s.flv');
const JUMP_AT_MS = 1500;
const HOURS_50 = 50 * 3600 * 1000;

/** The fixture with every tag from JUMP_AT_MS on re-timed by `retime`. */
function withJump(retime: (ts: number) => number): Uint8Array<ArrayBuffer> {
  const src = readFileSync(SOURCE);
  const tags = new FlvTagReader().push(src);
  const out: Buffer[] = [src.subarray(0, FLV_HEADER_SIZE + PREVIOUS_TAG_SIZE_SIZE)];
  for (const t of tags) {
    out.push(encodeFlvTag(t.type, t.timestamp >= JUMP_AT_MS ? retime(t.timestamp) : t.timestamp, t.body));
  }
  return new Uint8Array(Buffer.concat(out));
}

describe('recording across a timestamp jump', { timeout: 60_000 }, () => {
  for (const [name, retime] of [
    ['50 hours forward', (ts: number) => ts + HOURS_50],
    ['back to 0', (ts: number) => ts - JUMP_AT_MS],
  ] as const) {
    test(`${name}: FLV, HLS and MP4 go on and stay playable`, async (t) => {
      const ffmpeg = requireTool(t, 'ffmpeg');
      const ffprobe = requireTool(t, 'ffprobe');
      if (!ffmpeg || !ffprobe) return;
      const o = await startOrigin({ record: { flv: true, hls: true, mp4: true } });
      t.after(() => o.stop());
      const path = 'live/jump';
      const res = await fetch(`http://127.0.0.1:${o.ports.http}/${path}`, {
        method: 'POST',
        body: withJump(retime),
      });
      assert.equal(res.status, 200, await res.text());
      await waitEnded(o.origin, path);

      const flvDir = join(o.dataDir, 'flv', path);
      const mp4Merge = join(o.dataDir, 'mp4', path, 'output_merge');
      const fullMp4 = readdirSync(mp4Merge).find((f) => f.endsWith('_full.mp4'));
      assert.ok(fullMp4, `no complete MP4 in ${readdirSync(mp4Merge).join(', ')}`);
      const outputs = {
        flv: join(flvDir, readdirSync(flvDir)[0]!),
        hls: join(o.dataDir, 'hls', path, 'index.m3u8'),
        mp4: join(mp4Merge, fullMp4),
      };
      const src = await probe(ffprobe, SOURCE);
      const srcTimes = await packetTimes(ffprobe, SOURCE);
      for (const [kind, file] of Object.entries(outputs)) {
        await assertDecodesClean(ffmpeg, file);
        const got = await probe(ffprobe, file);
        const times = await packetTimes(ffprobe, file);
        for (const track of ['video', 'audio'] as const) {
          assert.equal(
            streamOf(got, track)?.nb_read_packets,
            streamOf(src, track)?.nb_read_packets,
            `${kind}: every ${track} frame`,
          );
          const want = srcTimes[track].last - srcTimes[track].first;
          const span = times[track].last - times[track].first;
          assert.ok(Math.abs(span - want) <= 0.15, `${kind}: ${track} spans ${span} s, the media ${want} s`);
        }
        assert.ok(Math.abs(times.video.first - times.audio.first) <= 0.1, `${kind}: a/v start apart`);
        const duration = Number(got.format.duration);
        assert.ok(duration > 2.5 && duration < 3.5, `${kind}: duration ${duration} s`);
      }
      // Every fMP4 segment on disk is listed, the listing lasts what the media lasts.
      const listing = readFileSync(join(mp4Merge, 'index.m3u8'), 'utf8');
      const onDisk = readdirSync(mp4Merge).filter((f) => f.endsWith('.m4s'));
      assert.equal(listing.match(/#EXTINF/g)?.length, onDisk.length, 'every segment listed');
      const hls = readFileSync(outputs.hls, 'utf8');
      const extinf = [...hls.matchAll(/#EXTINF:([\d.]+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
      assert.ok(extinf > 2.5 && extinf < 3.5, `HLS EXTINF total ${extinf} s`);
    });
  }
});
