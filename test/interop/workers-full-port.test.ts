/**
 * `estuary file-gateway --workers 2 --max-connections 4` (and `serve`'s web port, with
 * ESTUARY_MAX_CONNECTIONS=4): maxConnections is each worker's (the per-process file limit), and
 * the workers' shares of the port are uneven, so a worker that holds its 4 stops accepting and
 * the other takes the next connections (cluster/accept-valve.ts): 8 clients that stay connected
 * all get 200, whichever worker each reached first; the 9th gets the 503 of a full server (the
 * last worker accepting never closes the port); a newcomer that reaches the full worker while
 * the other has room is passed to it; once they leave, the paused worker accepts again. Both accept modes of Node 20: shared and round-robin.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { jsonLines } from '../helpers/json-lines.js';
import { type Running, start } from '../helpers/run.js';
import { freePort, until } from '../helpers/wait.js';

const RUN = new URL('../../src/cli/run.ts', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'estuary-files-full-'));
mkdirSync(join(root, 'flv/live/x'), { recursive: true });
writeFileSync(join(root, 'flv/live/x/a.flv'), Buffer.alloc(1000, 7));

const running: Running[] = [];
after(() => {
  for (const r of running) r.child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** A kept-alive client: connects, asks for the file, resolves with the answer's status code. */
function client(port: number): Promise<{ socket: Socket; status: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let head = '';
    const timer = setTimeout(() => reject(new Error(`no answer in 5 s (${head.length} bytes)`)), 5000);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('connect', () =>
      socket.write('GET /flv/live/x/a.flv HTTP/1.1\r\nHost: t\r\nConnection: keep-alive\r\n\r\n'),
    );
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (m) {
        clearTimeout(timer);
        socket.removeAllListeners('data');
        resolve({ socket, status: Number(m[1]) });
      }
    });
  });
}

const cases = [
  ['file-gateway', 'shared'],
  ['file-gateway', 'round-robin'],
  ['serve', 'shared'],
] as const;
for (const [command, accept] of cases) {
  test(`${command} --workers 2 --worker-accept ${accept}: a full worker stops accepting, the other takes the rest`, async () => {
    const port = await freePort();
    const args =
      command === 'file-gateway'
        ? ['file-gateway', '127.0.0.1', String(port), '--root', root, '--access-log', 'off']
        : [
            'serve',
            '--host',
            '127.0.0.1',
            '--rtmp-port',
            String(await freePort()),
            '--http-port',
            String(await freePort()),
            '--web-port',
            String(port),
            '--data-dir',
            root,
          ];
    // The origin's bound has no flag (it is each port's): its environment variable, for this child.
    process.env.ESTUARY_MAX_CONNECTIONS = '4';
    const r = start(
      process.execPath,
      [
        '--import',
        'tsx',
        RUN,
        ...args,
        ...(command === 'file-gateway' ? ['--max-connections', '4'] : []),
        '--workers',
        '2',
        '--worker-accept',
        accept,
        '--log-level',
        'debug',
      ],
      60_000,
    );
    delete process.env.ESTUARY_MAX_CONNECTIONS;
    running.push(r);
    let out = '';
    r.child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await until(
      '2 workers ready',
      () => jsonLines(out).filter((l) => l.msg === 'worker ready').length >= 2,
      30_000,
    );

    const held: Socket[] = [];
    const open = async (n: number) => {
      const statuses: number[] = [];
      for (let i = 0; i < n; i++) {
        const c = await client(port);
        held.push(c.socket);
        statuses.push(c.status);
        // The pause is asked of the primary over IPC: give it the time a client takes anyway.
        await sleep(100);
      }
      return statuses;
    };
    assert.deepEqual(await open(8), Array(8).fill(200), 'both workers together hold 8');
    const pauses = jsonLines(out).filter(
      (l) => typeof l.msg === 'string' && l.msg.includes('new ones go to the other workers'),
    );
    assert.ok(pauses.length >= 1, 'a worker said it stopped accepting');
    assert.deepEqual(await open(1), [503], 'a full server answers 503 (the port stays open)');
    assert.ok(
      jsonLines(out).some((l) => l.limit === 'max_connections'),
      'the refusal is logged',
    );

    // Both workers accept again now, each up to its bound. One client leaves, one comes: the
    // newcomer reaches either worker (round-robin turns, or the kernel's pick), and when it is
    // the full one it is passed to the one with room, not refused. Six rounds: a refusal in
    // any fails (round-robin brings a round to the full worker every other time).
    for (let round = 0; round < 6; round++) {
      const seen = jsonLines(out).filter((l) => l.msg === 'closed').length;
      held.shift()?.destroy();
      await until(
        'its close seen',
        () => jsonLines(out).filter((l) => l.msg === 'closed').length > seen,
        10_000,
      );
      assert.deepEqual(await open(1), [200], `round ${round}: one left, so one fits`);
    }
    if (accept === 'round-robin') {
      assert.ok(
        jsonLines(out).some((l) => l.msg === 'this worker is full: connection passed to another worker'),
        'a full worker passed a connection on',
      );
    }

    const before = jsonLines(out).length;
    for (const s of held.splice(0)) s.destroy();
    // Back under the bound: every worker saw its clients leave (the refused 9th was never
    // counted), and a paused one listens again (or was reopened when the other filled up).
    await until(
      'the 8 closes seen',
      () =>
        jsonLines(out)
          .slice(before)
          .filter((l) => l.msg === 'closed').length >= 8,
      10_000,
    );
    await until('accepting again', () => jsonLines(out).some((l) => l.msg === 'accepting again'), 10_000);
    await sleep(200);
    const again = await open(8);
    if (process.env.DEBUG_VALVE)
      console.log(
        jsonLines(out)
          .filter((l) => l.msg !== 'request')
          .map((l) => `${l.worker} ${l.msg} ${l.reason ?? ''} ${l.limit ?? ''}`)
          .join('\n'),
      );
    assert.deepEqual(again, Array(8).fill(200), 'after they left, 8 fit again');
    for (const s of held.splice(0)) s.destroy();

    r.child.kill('SIGTERM');
    const done = await r.done;
    assert.equal(done.code, 0);
  });
}
