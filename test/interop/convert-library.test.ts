/**
 * The formats as a library, without the CLI: `import { … } from 'estuary'` resolves through the
 * package's exports map, importing starts nothing (the process exits by itself), and a
 * conversion written with the exported pieces reads back with the exported demuxer.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as estuary from '../../src/index.js';
import { fixture } from '../helpers/media.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function node(
  args: string[],
  timeoutMs = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      args,
      { cwd: ROOT, timeout: timeoutMs },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'estuary-lib-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the 'estuary' library", { timeout: 60_000 }, () => {
  it('declares its entry point with types in package.json', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, { types: string; default: string }>;
    };
    assert.equal(pkg.exports['.'].types, './dist/index.d.ts');
    assert.equal(pkg.exports['.'].default, './dist/index.js');
    assert.ok(existsSync(join(ROOT, 'src/index.ts')), 'dist/index.js is built from src/index.ts');
  });

  it('exports the demuxers, muxers and the converter', () => {
    for (const name of [
      'FlvTagReader',
      'FlvToFrames',
      'FlvMuxer',
      'Mp4Demuxer',
      'TsMuxer',
      'Fmp4Muxer',
      'convertFile',
    ]) {
      assert.equal(typeof (estuary as Record<string, unknown>)[name], 'function', `${name} is exported`);
    }
  });

  it('starts nothing on import: a process that imports it exits by itself', async () => {
    const r = await node([
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      "const m = await import('./src/index.ts'); console.log(Object.keys(m).length);",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Number(r.stdout) > 20, `exports: ${r.stdout}`);
  });

  it("resolves `from 'estuary'` through the exports map (built dist/)", async (t) => {
    if (!existsSync(join(ROOT, 'dist/index.js'))) {
      // npm install / npm ci build dist/ (the prepare script); a bare checkout has none yet.
      if (process.env.CI === 'true') assert.fail('dist/index.js is missing: run npm run build');
      t.skip('dist/index.js not built (npm run build)');
      return;
    }
    const r = await node([
      '--input-type=module',
      '-e',
      "import { FlvTagReader, Mp4Demuxer, TsMuxer, Fmp4Muxer, convertFile } from 'estuary'; console.log([FlvTagReader, Mp4Demuxer, TsMuxer, Fmp4Muxer, convertFile].every((f) => typeof f === 'function'));",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'true');
  });

  it('converts FLV to fMP4 with the exported pieces, and reads it back with Mp4Demuxer', async () => {
    const { FlvTagReader, FlvToFrames, Fmp4Muxer, Mp4Demuxer, bufferReader } = estuary;
    const tags = new FlvTagReader();
    const demux = new FlvToFrames();
    const frames: estuary.MediaFrame[] = [];
    for (const tag of tags.push(await readFile(fixture('h264-aac-3s.flv')))) {
      for (const ev of demux.push(tag, tag.timestamp)) if (ev.kind === 'frame') frames.push(ev.frame);
    }
    const muxer = new Fmp4Muxer({ video: demux.videoTrack, audio: demux.audioTrack });
    const video = frames.filter((f) => f.track.kind === 'video');
    const audio = frames.filter((f) => f.track.kind === 'audio');
    const frag = muxer.fragment({ video, audio });
    assert.ok(frag);
    const file = Buffer.concat([muxer.init, ...frag.parts]);
    const back = await Mp4Demuxer.open(bufferReader(file));
    let n = 0;
    for await (const f of back.frames()) {
      assert.ok(f.data.length > 0);
      n++;
    }
    assert.equal(n, frames.length, 'every frame read back');
    const r = await estuary.convertFile({ input: fixture('h264-aac-3s.flv'), output: join(dir, 'lib.mp4') });
    assert.equal(r.complete, true);
    assert.equal(r.frames.video, video.length);
    assert.equal(r.frames.audio, audio.length);
  });
});
