/**
 * Fast-start MP4 from FLV: pass 2 copies the byte ranges pass 1 located (MediaFrame.fileOffset,
 * convert/frame-ranges.ts) instead of demuxing again. Its mdat must hold exactly the frames a
 * full demux of the input gives, in order — B-frames, one track only, legacy audio, a file cut
 * short — and an MP4 input, whose frames have no file offset, takes the demux path.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { convertFile } from '../../../src/convert/convert.js';
import { Mp4Output } from '../../../src/convert/mp4-output.js';
import { parseBoxHeader } from '../../../src/formats/mp4/box-reader.js';
import { openMediaFile } from '../../../src/pusher/file-source.js';
import { fixture } from '../../helpers/media.js';

const dir = mkdtempSync(join(tmpdir(), 'estuary-range-copy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Whether each Mp4Output.copyPass made its pass (spied on, the output itself unchanged). */
const copied: boolean[] = [];
const copyPass = Mp4Output.prototype.copyPass;
Mp4Output.prototype.copyPass = async function (this: Mp4Output, ...args: Parameters<typeof copyPass>) {
  const made = await copyPass.apply(this, args);
  copied.push(made);
  return made;
};

/** The payload of the file's top-level mdat. */
function mdatPayload(file: Buffer): Buffer {
  for (let off = 0; off < file.length; ) {
    const h = parseBoxHeader(file, off, file.length);
    if (h.type === 'mdat') return file.subarray(off + h.headerSize, off + h.size);
    off += h.size;
  }
  throw new Error('no mdat');
}

/** The first `count` frames' payloads of a full read (every byte demuxed), concatenated. */
async function demuxedPayloads(path: string, count: number): Promise<Buffer> {
  const source = await openMediaFile(path);
  const parts: Buffer[] = [];
  try {
    for await (const ev of source.events()) {
      if (ev.kind !== 'frame') continue;
      if (parts.length === count) break;
      parts.push(Buffer.from(ev.frame.data));
    }
  } finally {
    await source.close();
  }
  assert.equal(parts.length, count);
  return Buffer.concat(parts);
}

async function check(input: string, name: string, byRanges: boolean): Promise<void> {
  const output = join(dir, `${name}.mp4`);
  copied.length = 0;
  const r = await convertFile({ input, output, force: true });
  assert.deepEqual(copied, [byRanges]);
  const frames = r.frames.video + r.frames.audio;
  assert.ok(frames > 20);
  const mdat = mdatPayload(readFileSync(output));
  const want = await demuxedPayloads(input, frames);
  assert.equal(mdat.length, want.length);
  assert.ok(mdat.equals(want), 'the mdat differs from the demuxed frames');
}

describe('fast-start MP4 from FLV byte ranges', () => {
  for (const name of [
    'h264-aac-bframes-10s.flv',
    'h264-aac-3s.flv',
    'audio-only-3s.flv',
    'video-only-3s.flv',
    'mp3-3s.flv',
  ]) {
    it(`holds the demuxed frames: ${name}`, () => check(fixture(name), name, true));
  }

  it('holds the demuxed frames up to the last whole one of a file cut short', async () => {
    const bytes = readFileSync(fixture('h264-aac-3s.flv'));
    for (const cut of [3, 5001, 30_000]) {
      const path = join(dir, `cut-${cut}.flv`);
      writeFileSync(path, bytes.subarray(0, bytes.length - cut));
      await check(path, `cut-${cut}`, true);
    }
  });

  it('demuxes again for an MP4 input', () => check(fixture('h264-aac-bframes-10s.mp4'), 'from-mp4', false));
});
