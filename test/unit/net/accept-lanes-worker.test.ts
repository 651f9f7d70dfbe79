import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../../fixtures/cluster/lanes-in-worker.ts', import.meta.url));

interface WorkerLanes {
  count: number;
  open: number;
  answered: string;
}

function laneInWorker(policy: 'none' | 'rr'): Promise<WorkerLanes> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', FIXTURE],
      { env: { ...process.env, NODE_CLUSTER_SCHED_POLICY: policy }, timeout: 20_000 },
      (err, stdout) => {
        if (err) reject(err);
        else resolve(JSON.parse(stdout.trim()) as WorkerLanes);
      },
    );
  });
}

test('a worker in shared accept holds the listening socket: it gets lanes, and they answer', async () => {
  const got = await laneInWorker('none');
  assert.equal(got.count, 4, 'every lane made from the worker’s own descriptor');
  assert.equal(got.open, 2, 'the idle ones listen');
  assert.equal(got.answered, 'ok');
});

test('a round-robin worker has no socket of its own (the primary accepts): no lanes, still served', async () => {
  const got = await laneInWorker('rr');
  assert.equal(got.count, 0);
  assert.equal(got.answered, 'ok');
});
