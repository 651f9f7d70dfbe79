import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ProcSampler } from '../../../../bench/lib/proc-stats.js';

// Every process here leaves when its stdin closes, so killing the root ends them all.
const LEAVE_WITH_PARENT = "process.stdin.resume();process.stdin.on('end',()=>process.exit(0));";

test('a descendant run with the root’s command line is a worker; one with another is a helper', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'estuary-proc-stats-'));
  // The root runs FILE; as a "worker" FILE again (same argv, told apart by env); a "helper" is `node -e …`.
  const file = join(dir, 'root.cjs');
  writeFileSync(
    file,
    `if (!process.env.WORKER) {
      const { spawn } = require('node:child_process');
      spawn(process.execPath, [__filename], { env: { ...process.env, WORKER: '1' }, stdio: ['pipe', 'ignore', 'ignore'] });
      spawn(process.execPath, ['-e', ${JSON.stringify(LEAVE_WITH_PARENT)}], { stdio: ['pipe', 'ignore', 'ignore'] });
    }
    ${LEAVE_WITH_PARENT}`,
  );
  const root = spawn(process.execPath, [file], { stdio: ['pipe', 'ignore', 'ignore'] });
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const sampler = new ProcSampler(root.pid!, 100);
    await new Promise((r) => setTimeout(r, 300));
    const shares = sampler.stop().perProcess;
    const listed = JSON.stringify(shares);
    assert.equal(shares.find((p) => p.root)?.helper, false, `the root is listed, not as a helper: ${listed}`);
    const others = shares.filter((p) => !p.root);
    assert.equal(others.length, 2, `two descendants: ${listed}`);
    assert.equal(others.filter((p) => p.helper).length, 1, `one helper (another command line): ${listed}`);
  } finally {
    root.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
