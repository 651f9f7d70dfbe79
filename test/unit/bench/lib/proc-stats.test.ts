import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ProcSampler } from '../../../../bench/lib/proc-stats.js';
import { until } from '../../../helpers/wait.js';

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

test('a child seen once with the root’s command line and gone by the end is a helper, not a worker', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'estuary-proc-stats-'));
  // What a lane-making child looks like when sampled between fork and exec: the root's argv, a
  // single sample, gone soon after. Here it is the root's own file, run again until told to leave.
  const file = join(dir, 'root.cjs');
  const started = join(dir, 'started');
  const leave = join(dir, 'leave');
  writeFileSync(
    file,
    `const fs = require('node:fs');
    if (!process.env.SHORT) {
      require('node:child_process').spawn(process.execPath, [__filename], { env: { ...process.env, SHORT: '1' }, stdio: 'ignore' });
      ${LEAVE_WITH_PARENT}
    } else {
      fs.writeFileSync(${JSON.stringify(started)}, String(process.pid));
      setInterval(() => { if (fs.existsSync(${JSON.stringify(leave)})) process.exit(0); }, 20);
    }`,
  );
  const root = spawn(process.execPath, [file], { stdio: ['pipe', 'ignore', 'ignore'] });
  try {
    // Its pid, once written whole (the file exists a moment before its content does).
    const pid = () => (existsSync(started) ? readFileSync(started, 'utf8') : '');
    await until('the short child to start', () => pid() !== '', 10_000);
    assert.match(pid(), /^\d+$/, 'the short child wrote its pid');
    // One sample at construction; the next only at stop(), after the child has left.
    const sampler = new ProcSampler(root.pid!, 60_000);
    writeFileSync(leave, '');
    const child = `/proc/${pid()}`;
    await until('the short child to leave (and be reaped)', () => !existsSync(child), 10_000);
    const shares = sampler.stop().perProcess;
    const listed = JSON.stringify(shares);
    const others = shares.filter((p) => !p.root);
    assert.equal(others.length, 1, `the short child was sampled: ${listed}`);
    assert.equal(others[0]?.helper, true, `listed as a helper: ${listed}`);
    assert.equal(shares.find((p) => p.root)?.helper, false, `the root is not: ${listed}`);
  } finally {
    root.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
