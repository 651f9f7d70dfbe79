/**
 * `estuary file-gateway` at the process's open-file limit (each connection is a descriptor, and
 * so is each file a request opens): a recording it cannot open for want of a descriptor is
 * answered 503 (full for now), not 404 (gone), and served again once connections leave. The
 * limit is lowered for the child with the shell's `ulimit -n`, so the kernel's own EMFILE is
 * what the server meets.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, until } from '../helpers/wait.js';

const RUN = new URL('../../src/cli/run.ts', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'estuary-file-limit-'));
mkdirSync(join(root, 'flv/live/x'), { recursive: true });
// An FLV recording: never kept in memory (file-cache.ts keeps segments and playlists), so each
// request opens it, or shares a handle another request opened.
writeFileSync(join(root, 'flv/live/x/a.flv'), Buffer.alloc(64 * 1024, 7));

const sockets: Socket[] = [];
after(() => {
  for (const s of sockets) s.destroy();
  rmSync(root, { recursive: true, force: true });
});

/** Sends one GET on `socket` and resolves with the status line's code and the body's first line. */
function get(socket: Socket, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let got = '';
    const timer = setTimeout(
      () => reject(new Error(`no answer in 5 s: ${JSON.stringify(got.slice(0, 200))}`)),
      5000,
    );
    const onData = (d: Buffer) => {
      got += d.toString('latin1');
      const head = got.indexOf('\r\n\r\n');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      if (head < 0 || !m) return;
      clearTimeout(timer);
      socket.off('data', onData);
      resolve({ status: Number(m[1]), body: got.slice(head + 4).split('\n')[0] ?? '' });
    };
    socket.on('data', onData);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: keep-alive\r\n\r\n`);
  });
}

/** A connection the server accepted and keeps (it answers a request), or undefined when it was cut. */
async function held(port: number): Promise<Socket | undefined> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const ok = await new Promise<boolean>((resolve) => {
    socket.once('connect', () => resolve(true));
    socket.once('close', () => resolve(false));
  });
  if (!ok) return undefined;
  // A GET of a file that is not there: answered (404) without opening anything.
  const answered = await Promise.race([
    get(socket, '/nothing-here.flv').then(() => true),
    new Promise<boolean>((resolve) => socket.once('close', () => resolve(false))),
    sleep(2000).then(() => false),
  ]).catch(() => false);
  if (!answered) {
    socket.destroy();
    return undefined;
  }
  return socket;
}

test('at the open-file limit a recording is answered 503, not 404, and served again once there is room', async () => {
  const port = await freePort();
  const child = spawn(
    'bash',
    [
      '-c',
      // Low enough to reach with a few hundred connections, high enough for Node and tsx to start.
      `ulimit -n 200 && exec "${process.execPath}" --import tsx "${RUN}" file-gateway 127.0.0.1 ${port} --root "${root}" --access-log off`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  try {
    await until('the gateway listens', () => out.includes('"msg":"file gateway: '), 30_000);
    // maxConnections (19,500) does not fit under 200 descriptors: no accept lane is taken from
    // them, and the log says why.
    const reduced = out.split('\n').find((l) => l.includes('accept lanes reduced'));
    assert.ok(reduced, `a log line for the lanes cut to the limit: ${out}`);
    assert.match(reduced, /"lanes":0,/);
    assert.match(reduced, /"openFileLimit":200/);
    const first = await held(port);
    assert.ok(first, 'a first connection');
    sockets.push(first);
    assert.equal((await get(first, '/flv/live/x/a.flv')).status, 200, 'served while there are descriptors');
    // The handle a.flv was served from stays shared for the next requests of a.flv
    // (open-files.ts), so a request for it would need no new descriptor: the request at the
    // limit asks for another file, b.flv, which must be opened.
    writeFileSync(join(root, 'flv/live/x/b.flv'), Buffer.alloc(64 * 1024, 9));
    // Connect until the server cuts new connections: it has no descriptor left for them.
    let cut = 0;
    for (let i = 0; i < 400 && cut < 3; i++) {
      const s = await held(port);
      if (s) sockets.push(s);
      else cut++;
    }
    assert.ok(cut >= 3, `the server ran out of descriptors (${sockets.length} connections held)`);
    const full = await get(first, '/flv/live/x/b.flv');
    assert.equal(full.status, 503, `a recording it cannot open is not "not found": ${full.body}`);
    assert.match(full.body, /too many open files/);
    assert.equal(child.exitCode, null, 'the server is still running');
    // Connections leave: the same request is served.
    for (const s of sockets.splice(1, 50)) s.destroy();
    await sleep(300);
    const again = await get(first, '/flv/live/x/b.flv');
    assert.equal(again.status, 200, 'served once there are descriptors again');
  } finally {
    child.kill('SIGKILL');
  }
});
