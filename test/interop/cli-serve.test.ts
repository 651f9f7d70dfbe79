/**
 * `estuary serve` as a person starts it: readable start-up lines with URLs one can open
 * (127.0.0.1, never 0.0.0.0) on a terminal or with --log-format pretty, JSON lines otherwise.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { start } from '../helpers/run.js';
import { freePort, until } from '../helpers/wait.js';

const RUN = new URL('../../src/cli/run.ts', import.meta.url).pathname;

async function serveOutput(extra: string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'estuary-cli-serve-'));
  const [rtmp, http, web] = [await freePort(), await freePort(), await freePort()];
  const args = ['serve', '--rtmp-port', `${rtmp}`, '--http-port', `${http}`, '--web-port', `${web}`];
  const child = start(
    process.execPath,
    ['--import', 'tsx', RUN, ...args, '--data-dir', dir, ...extra],
    30_000,
  );
  let out = '';
  child.child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  try {
    await until('the web port line', () => out.includes(`:${web}`), 20_000);
  } finally {
    child.child.kill('SIGTERM');
    await child.done;
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(out.includes(`rtmp://127.0.0.1:${rtmp}/live/stream`), out);
  assert.ok(out.includes(`http://127.0.0.1:${http}/live/stream.flv`), out);
  assert.ok(!out.includes('0.0.0.0:'), `no wildcard address in a URL: ${out}`);
  return out;
}

test('--log-format pretty prints readable lines with openable URLs', async () => {
  const out = await serveOutput(['--log-format', 'pretty']);
  assert.match(out, /INFO +rtmp +RTMP publish and play: rtmp:\/\/127\.0\.0\.1:\d+\/live\/stream/);
  assert.doesNotMatch(out, /^\{/m);
  assert.doesNotMatch(out, /urls=/, 'the URLs are not repeated as a field');
});

test('stdout that is not a terminal gets JSON lines', async () => {
  const out = await serveOutput([]);
  const lines = out.trim().split('\n');
  for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), l);
  assert.ok(lines.some((l) => (JSON.parse(l) as { urls?: string[] }).urls?.length));
});
