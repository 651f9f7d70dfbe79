/**
 * `estuary serve` as an operator runs it, a child process: SIGTERM during a live publish ends
 * it within shutdownTimeoutMs with every recording finalised; SIGHUP re-reads the config file
 * and changes a limit live (and says which changed settings need a restart); `--print-config`
 * of every server command prints where each setting came from, secrets masked, and exits 0.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fixture, publishArgs } from '../helpers/media.js';
import { probe } from '../helpers/probe.js';
import { run, start } from '../helpers/run.js';
import { startServerProcess } from '../helpers/server-process.js';
import { requireTool } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

const RUN = new URL('../../src/cli/run.ts', import.meta.url).pathname;

/** What the port answers a one-line GET (the status line), or '' if it closed without a word. */
function statusLine(port: number, path: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`));
    let data = '';
    const done = () => {
      s.destroy();
      resolve(data.split('\r\n', 1)[0] ?? '');
    };
    s.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      if (data.includes('\r\n')) done();
    });
    s.on('error', done);
    s.on('close', done);
    setTimeout(done, 3000);
  });
}

function hold(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

test('SIGTERM during a live publish: every recording is finalised and the process exits in time', async (t) => {
  const ffmpeg = requireTool(t, 'ffmpeg');
  const ffprobe = requireTool(t, 'ffprobe');
  if (!ffmpeg || !ffprobe) return;
  const server = await startServerProcess({ shutdownTimeoutMs: 8000 });
  const pub = start(
    ffmpeg,
    publishArgs(fixture('h264-aac-bframes-10s.flv'), `rtmp://127.0.0.1:${server.ports.rtmp}/live/term`, true),
    30_000,
  );
  try {
    await until(
      'the publish to be live for 2.5 s',
      () => server.logs().some((l) => l.msg === 'publish start'),
      15_000,
    );
    await new Promise((r) => setTimeout(r, 2500));
    const t0 = Date.now();
    server.running.child.kill('SIGTERM');
    const exit = await Promise.race([
      server.running.done,
      new Promise<null>((r) => setTimeout(() => r(null), 12_000)),
    ]);
    const took = Date.now() - t0;
    assert.ok(exit, 'the server exited');
    assert.equal(exit.code, 0, exit.stderr);
    assert.ok(took < 8000, `stopped in ${took} ms (shutdownTimeoutMs 8000)`);
    const flvDir = join(server.dataDir, 'flv/live/term');
    const flv = readdirSync(flvDir).find((f) => f.endsWith('.flv'));
    assert.ok(flv, 'an FLV recording');
    const p = await probe(ffprobe, join(flvDir, flv));
    assert.ok(Number(p.format?.duration ?? 0) >= 2, `FLV of ${p.format?.duration} s`);
    assert.match(readFileSync(join(server.dataDir, 'hls/live/term/index.m3u8'), 'utf8'), /#EXT-X-ENDLIST\n$/);
    const merge = join(server.dataDir, 'mp4/live/term/output_merge');
    assert.ok(existsSync(join(merge, 'term_full.mp4')), readdirSync(merge).join(', '));
    assert.ok(!existsSync(join(server.dataDir, 'hls/live/term/.recording')), 'the recording marker is gone');
  } finally {
    pub.child.kill('SIGKILL');
    await pub.done;
    await server.stop();
  }
});

test('SIGHUP re-reads the config file: a connection bound changes live; a recording setting waits for a restart', async () => {
  const server = await startServerProcess({ maxConnectionsPerAddress: 1 });
  const held: Socket[] = [];
  try {
    // The start-up probe's connection may still count for a moment: hold one that was let in.
    // Each attempt starts from nothing held: a connection kept by a failed attempt would make
    // every later one look refused.
    await until(
      'one connection held and the next refused',
      async () => {
        for (const old of held.splice(0)) old.destroy();
        const s = await hold(server.ports.http);
        const refused = await new Promise<boolean>((r) => {
          s.once('data', () => r(true));
          // A loaded machine (the whole suite at once) may take a while to refuse.
          setTimeout(() => r(false), 1000);
        });
        if (refused) {
          s.destroy();
          return false;
        }
        held.push(s);
        return (await statusLine(server.ports.http, '/')).includes(' 503 ');
      },
      30_000,
    );
    const file = join(dirname(server.dataDir), 'config.json');
    const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...config, maxConnectionsPerAddress: 5, segmentSeconds: 4 }));
    server.running.child.kill('SIGHUP');
    await until(
      'the reload line',
      () => server.logs().some((l) => String(l.msg).startsWith('configuration reloaded')),
      5000,
    );
    assert.match(await statusLine(server.ports.http, '/api?name=listPushStream'), /^HTTP\/1\.1 200 /);
    const restart = server
      .logs()
      .find((l) => String(l.msg).startsWith('changed settings that apply only after a restart'));
    assert.deepEqual(restart?.settings, ['segmentSeconds']);
    assert.ok(server.alive(), 'SIGHUP does not stop the server');
    // A file that does not parse leaves the server running as it was.
    writeFileSync(file, '{ not json');
    server.running.child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(server.alive());
    assert.match(await statusLine(server.ports.http, '/api?name=listPushStream'), /^HTTP\/1\.1 200 /);
  } finally {
    for (const s of held) s.destroy();
    await server.stop();
  }
});

test('--print-config of serve, flv-gateway and file-gateway: every setting with its source, secrets masked, exit 0', async () => {
  // The child inherits this process's environment.
  process.env.ESTUARY_AUTH_SECRET = 'hunter2-secret';
  process.env.ESTUARY_MAX_PUBLISHERS = '7';
  const serve = await run(process.execPath, [
    '--import',
    'tsx',
    RUN,
    'serve',
    '--print-config',
    '--rtmp-port',
    '1940',
    '--admin-token',
    'tok-123',
  ]).finally(() => {
    delete process.env.ESTUARY_AUTH_SECRET;
    delete process.env.ESTUARY_MAX_PUBLISHERS;
  });
  assert.equal(serve.code, 0, serve.stderr);
  assert.match(serve.stdout, /^rtmpPort = 1940 {2}\(flag: --rtmp-port\)$/m);
  assert.match(serve.stdout, /^maxPublishers = 7 {2}\(environment: ESTUARY_MAX_PUBLISHERS\)$/m);
  assert.match(serve.stdout, /^authSecret = \*+ {2}\(environment: ESTUARY_AUTH_SECRET\)$/m);
  assert.match(serve.stdout, /^adminToken = \*+ {2}\(flag: --admin-token\)$/m);
  assert.match(serve.stdout, /^shutdownTimeoutMs = 10000 {2}\(default\)$/m);
  assert.doesNotMatch(serve.stdout, /hunter2|tok-123/);
  const edge = await run(process.execPath, [
    '--import',
    'tsx',
    RUN,
    'flv-gateway',
    '8080',
    'http://o:8501',
    '--print-config',
  ]);
  assert.equal(edge.code, 0, edge.stderr);
  assert.match(edge.stdout, /^upstream = "http:\/\/o:8501" {2}\(argument 2 \(UPSTREAM\)\)$/m);
  assert.match(edge.stdout, /^maxViewersPerStream = 0 {2}\(default\)$/m);
  const files = await run(process.execPath, [
    '--import',
    'tsx',
    RUN,
    'file-gateway',
    '0.0.0.0',
    '8100',
    '--print-config',
  ]);
  assert.equal(files.code, 0, files.stderr);
  assert.match(files.stdout, /^port = 8100 {2}\(argument 2 \(PORT\)\)$/m);
  assert.match(files.stdout, /^maxConnectionsPerAddress = 0 {2}\(default\)$/m);
});
