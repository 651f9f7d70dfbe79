/** The `estuary` entry point as a user runs it: version, help, bad flags, and `npx estuary` offline. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { run } from '../../helpers/run.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const RUN = new URL('../../../src/cli/run.ts', import.meta.url).pathname;
const VERSION = (
  JSON.parse(readFileSync(new URL('package.json', `file://${ROOT}`), 'utf8')) as { version: string }
).version;

function estuary(...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', RUN, ...args], 30_000);
}

test('estuary --version prints the package version', async () => {
  const r = await estuary('--version');
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), VERSION);
});

test('estuary serve --help is generated from the settings and exits 0; a bad flag exits 2', async () => {
  const help = await estuary('serve', '--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--rtmp-port N +RTMP publish and play \(default 1935\)/);
  assert.match(help.stdout, /--print-config/);
  const bad = await estuary('serve', '--rtmp-prot', '1');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /rtmp-prot/);
});

test('estuary serve refuses a bad setting with exit 1, quoting the input', async () => {
  const r = await estuary('serve', '--rtmp-port', 'abc');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_CONFIG: .*rtmpPort: "abc" \(--rtmp-port\): expected a number/);
});

test('npx estuary inside the clone runs the clone without reaching the registry', async () => {
  // A registry nothing answers on: if npx tried to download anything it would fail.
  const r = spawnSync('npx', ['--yes', 'estuary', '--version'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, npm_config_registry: 'http://127.0.0.1:9/', npm_config_fetch_retries: '0' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), VERSION);
});
