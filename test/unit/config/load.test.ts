import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  configFromEnv,
  configFromFlags,
  readConfigFile,
  resolveServeConfig,
} from '../../../src/config/load.js';

test('defaults are CONTRACT.md ports, ./data and every recording on', () => {
  const c = resolveServeConfig([]);
  assert.equal(c.rtmpPort, 1935);
  assert.equal(c.httpPort, 8501);
  assert.equal(c.webPort, 8000);
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.dataDir, './data');
  assert.deepEqual(c.record, { flv: true, hls: true, mp4: true });
  assert.equal(c.authSecret, undefined);
});

test('file < environment < flags, and record toggles merge key by key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'estuary-config-'));
  const file = join(dir, 'estuary.yaml');
  writeFileSync(file, 'rtmpPort: 1000\nhttpPort: 2000\nrecord:\n  hls: false\n  mp4: false\n');
  const env = configFromEnv({ ESTUARY_HTTP_PORT: '3000', ESTUARY_RECORD_MP4: 'true', ESTUARY_WEB_PORT: '' });
  const flags = configFromFlags({ 'web-port': '4000', 'no-record-flv': true });
  const c = resolveServeConfig([readConfigFile(file), env, flags]);
  assert.equal(c.rtmpPort, 1000);
  assert.equal(c.httpPort, 3000);
  assert.equal(c.webPort, 4000);
  assert.deepEqual(c.record, { flv: false, hls: false, mp4: true });
});

test('invalid settings are refused with ERR_CONFIG naming the key', () => {
  assert.throws(() => resolveServeConfig([{ rtmpPort: 'abc' }]), { code: 'ERR_CONFIG', message: /rtmpPort/ });
  assert.throws(() => resolveServeConfig([{ rtmpPort: 70000 }]), { code: 'ERR_CONFIG', message: /rtmpPort/ });
  assert.throws(() => resolveServeConfig([{ unknownKey: 1 }]), { code: 'ERR_CONFIG', message: /unknownKey/ });
  assert.throws(() => configFromEnv({ ESTUARY_RECORD_HLS: 'maybe' }), {
    code: 'ERR_CONFIG',
    message: /ESTUARY_RECORD_HLS/,
  });
  const dir = mkdtempSync(join(tmpdir(), 'estuary-config-'));
  writeFileSync(join(dir, 'bad.yaml'), 'rtmpPort: [1, 2');
  assert.throws(() => readConfigFile(join(dir, 'bad.yaml')), {
    code: 'ERR_CONFIG',
    message: /not valid YAML/,
  });
  assert.throws(() => readConfigFile(join(dir, 'missing.yaml')), {
    code: 'ERR_CONFIG',
    message: /cannot read/,
  });
});
