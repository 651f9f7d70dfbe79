/**
 * Our PSI against FFmpeg's: FFmpeg writes a short H.264 + AAC transport stream, we pull its PAT
 * and PMT sections out, check our CRC-32 reproduces their CRC_32 fields and that our builders
 * produce the same bytes for the same program layout.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { crc32Mpeg2 } from '../../src/formats/mpegts/crc32.js';
import { AUDIO_PID, buildPat, buildPmt, StreamType, VIDEO_PID } from '../../src/formats/mpegts/psi.js';
import { requireTool } from '../helpers/tools.js';

const run = promisify(execFile);

/** The first section on `pid`: pointer_field, then section_length + 3 bytes (2.4.4.1). */
function firstSection(ts: Buffer, pid: number): Buffer {
  for (let off = 0; off + 188 <= ts.length; off += 188) {
    const packetPid = ts.readUInt16BE(off + 1) & 0x1fff;
    const unitStart = (ts[off + 1] & 0x40) !== 0;
    if (packetPid !== pid || !unitStart) continue;
    assert.equal((ts[off + 3] >> 4) & 3, 1, 'PSI packet without adaptation field');
    const start = off + 5 + ts[off + 4];
    const length = 3 + (ts.readUInt16BE(start + 1) & 0x0fff);
    return ts.subarray(start, start + length);
  }
  throw new Error(`no section on PID ${pid}`);
}

test("PAT/PMT CRCs match FFmpeg's, and our tables equal its tables", async (t) => {
  const ffmpeg = requireTool(t, 'ffmpeg');
  if (!ffmpeg) return;
  const dir = mkdtempSync(join(tmpdir(), 'estuary-psi-'));
  try {
    const file = join(dir, 'ffmpeg.ts');
    await run(ffmpeg, [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=25', '-f', 'lavfi', '-i', 'sine'],
      ...['-t', '0.2', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', '-f', 'mpegts', file],
    ]);
    const ts = readFileSync(file);
    const pat = firstSection(ts, 0);
    const pmt = firstSection(ts, 0x1000);
    for (const section of [pat, pmt]) {
      const crcOff = section.length - 4;
      assert.equal(crc32Mpeg2(section, 0, crcOff), section.readUInt32BE(crcOff));
    }
    assert.deepEqual(buildPat(), pat);
    const streams = [
      { streamType: StreamType.H264, pid: VIDEO_PID },
      { streamType: StreamType.AAC_ADTS, pid: AUDIO_PID },
    ];
    assert.deepEqual(buildPmt(VIDEO_PID, streams), pmt);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
