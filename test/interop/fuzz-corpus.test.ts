/**
 * Every input that ever broke the server (test/fixtures/fuzz/server/, written by `npm run fuzz`
 * or by fuzz/seed-corpus.ts) is replayed against a running origin while a real FFmpeg publish
 * and a viewer go on: each costs its own connection only.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { FUZZ_KINDS, type FuzzKind, sendInput } from '../../fuzz/run.js';
import { fixture, publishArgs } from '../helpers/media.js';
import { startOrigin, type TestOrigin, waitLive } from '../helpers/origin.js';
import { type Running, start } from '../helpers/run.js';
import { requireTool, tools } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const CORPUS = new URL('../fixtures/fuzz/server/', import.meta.url);
const files = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.bin'))
  .sort();

/** The kind is the file name's prefix (`http-flv-post-…`, `rtmp-…`). */
function kindOf(file: string): FuzzKind {
  const kind = [...FUZZ_KINDS].sort((a, b) => b.length - a.length).find((k) => file.startsWith(`${k}-`));
  if (!kind) throw new Error(`${file}: no known kind prefix (${FUZZ_KINDS.join(', ')})`);
  return kind;
}

describe('fuzz corpus replay', { timeout: 60_000 }, () => {
  let o: TestOrigin;
  let publisher: Running | undefined;
  let viewerBytes = 0;
  let viewer: ReturnType<typeof get> | undefined;

  before(async () => {
    o = await startOrigin();
    if (!tools.ffmpeg) return;
    const args = publishArgs(fixture('h264-aac-bframes-10s.flv'), o.rtmpUrl('live/good'), true);
    publisher = start(tools.ffmpeg, ['-stream_loop', '-1', ...args], 60_000);
    await waitLive(o.origin, 'live/good', 15_000);
    viewer = get(o.flvUrl('live/good'), (res) =>
      res.on('data', (d: Buffer) => {
        viewerBytes += d.length;
      }),
    );
  });
  after(async () => {
    viewer?.destroy();
    publisher?.child.kill('SIGKILL');
    await o.stop();
  });

  test('the corpus holds the inputs that broke the server (issue 9 at least)', () => {
    assert.ok(files.length >= 5, files.join(', '));
  });

  for (const file of files) {
    test(`${file}: costs its connection only`, async (t) => {
      if (!requireTool(t, 'ffmpeg')) return;
      const before = viewerBytes;
      await sendInput({ kind: kindOf(file), bytes: readFileSync(new URL(file, CORPUS)) }, o.ports);
      await until('the good viewer to keep receiving', () => viewerBytes > before, 10_000);
      const health = await fetch(`http://127.0.0.1:${o.ports.web}/healthz`);
      assert.equal(health.status, 200);
      assert.ok(o.origin.hub.get('live/good')?.isLive);
    });
  }
});
