/**
 * serveUntilSignal's bounds: a stop that hangs ends the process after shutdownTimeoutMs, a second
 * signal ends it at once, SIGHUP reloads (and a failed reload leaves the server running). The
 * signals are real ones sent to this process; the handlers under test catch them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serveUntilSignal } from '../../../src/cli/command-settings.js';

const quietly = async <T>(fn: () => Promise<T>): Promise<T> => {
  const error = console.error;
  console.error = () => {};
  // A server holds the event loop open while it waits for a signal; here nothing else would.
  const keep = setInterval(() => {}, 1000);
  try {
    return await fn();
  } finally {
    clearInterval(keep);
    console.error = error;
  }
};

test('a stop that hangs: the process is ended with 1 after shutdownTimeoutMs', async () => {
  const exits: number[] = [];
  const t0 = Date.now();
  const code = await quietly(async () => {
    const serving = serveUntilSignal(
      'test',
      async () => {},
      () => new Promise<void>(() => {}), // never settles
      { shutdownTimeoutMs: 300, exit: (c) => exits.push(c) },
    );
    await new Promise((r) => setTimeout(r, 20));
    process.kill(process.pid, 'SIGTERM');
    return serving;
  });
  assert.equal(code, 1);
  assert.deepEqual(exits, [1]);
  const took = Date.now() - t0;
  assert.ok(took >= 290 && took < 2000, `ended after ${took} ms`);
  assert.equal(process.listenerCount('SIGTERM'), 0, 'handlers removed');
});

test('a second signal while stopping ends the process at once; SIGHUP reloads, a failed reload is survived', async () => {
  const exits: number[] = [];
  let reloads = 0;
  let release: () => void = () => {};
  const code = await quietly(async () => {
    const serving = serveUntilSignal(
      'test',
      async () => {},
      () =>
        new Promise<void>((r) => {
          release = r;
        }),
      {
        shutdownTimeoutMs: 10_000,
        exit: (c) => {
          exits.push(c);
          release();
        },
        reload: () => {
          reloads++;
          if (reloads === 2) throw new Error('bad file');
        },
      },
    );
    await new Promise((r) => setTimeout(r, 20));
    process.kill(process.pid, 'SIGHUP');
    await new Promise((r) => setTimeout(r, 50));
    process.kill(process.pid, 'SIGHUP');
    await new Promise((r) => setTimeout(r, 50));
    process.kill(process.pid, 'SIGINT');
    await new Promise((r) => setTimeout(r, 50));
    process.kill(process.pid, 'SIGINT');
    return serving;
  });
  assert.equal(reloads, 2);
  assert.deepEqual(exits, [1]);
  assert.equal(code, 0, 'the stop then finished');
  assert.equal(process.listenerCount('SIGHUP'), 0);
});
