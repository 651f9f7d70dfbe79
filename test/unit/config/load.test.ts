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

test('the older --hls-segment-seconds flag, env and key set segmentSeconds', () => {
  assert.equal(resolveServeConfig([configFromFlags({ 'hls-segment-seconds': '3' })]).segmentSeconds, 3);
  assert.equal(resolveServeConfig([configFromEnv({ ESTUARY_HLS_SEGMENT_SECONDS: '4' })]).segmentSeconds, 4);
  assert.equal(resolveServeConfig([{ hlsSegmentSeconds: 5 }]).segmentSeconds, 5);
  assert.equal(resolveServeConfig([configFromFlags({ 'segment-seconds': '6' })]).segmentSeconds, 6);
});

test('config file keys may be camelCase, snake_case or kebab-case', () => {
  const dir = mkdtempSync(join(tmpdir(), 'estuary-config-'));
  const file = join(dir, 'estuary.yaml');
  writeFileSync(file, 'rtmp_port: 1111\nweb-port: 2222\ndata_dir: /srv/x\nrecord:\n  flv: false\n');
  const c = resolveServeConfig([readConfigFile(file)]);
  assert.equal(c.rtmpPort, 1111);
  assert.equal(c.webPort, 2222);
  assert.equal(c.dataDir, '/srv/x');
  assert.equal(c.record.flv, false);
});

test('an error quotes what was written and where, not what it was parsed into', () => {
  const dir = mkdtempSync(join(tmpdir(), 'estuary-config-'));
  const file = join(dir, 'estuary.yaml');
  writeFileSync(file, 'rtmpPort: abc\n');
  assert.throws(
    () => resolveServeConfig([readConfigFile(file)]),
    (err: Error) => {
      assert.match(err.message, /rtmpPort: "abc" \(rtmpPort in .*estuary\.yaml\): expected a number/);
      assert.doesNotMatch(err.message, /NaN/);
      return true;
    },
  );
  assert.throws(() => resolveServeConfig([configFromEnv({ ESTUARY_WEB_PORT: '70000' })]), {
    message: /webPort: "70000" \(ESTUARY_WEB_PORT\): must be at most 65535/,
  });
  assert.throws(() => resolveServeConfig([configFromFlags({ 'rtmp-port': '-1' })]), {
    message: /rtmpPort: "-1" \(--rtmp-port\): must be at least 0/,
  });
  assert.throws(() => resolveServeConfig([{ rtmpPrt: 1 }]), {
    message: /unknown setting "rtmpPrt".*did you mean "rtmpPort"/,
  });
  assert.throws(() => resolveServeConfig([{ logLevel: 'loud' }]), {
    message: /logLevel: "loud".*expected one of fatal, error/,
  });
});

test('auth maps: NAME=VALUE lists in flags and the environment, mappings in the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'estuary-config-'));
  const file = join(dir, 'estuary.yaml');
  writeFileSync(
    file,
    'authKeys:\n  live: k1\n  live/cam: k2\nauthPlayAllow:\n  live: [10.0.0.0/8, "::1"]\nauth_play_deny: ["*=203.0.113.0/24"]\n',
  );
  const fromFile = resolveServeConfig([readConfigFile(file)]);
  assert.deepEqual(fromFile.authKeys, { live: 'k1', 'live/cam': 'k2' });
  assert.deepEqual(fromFile.authPlayAllow, { live: ['10.0.0.0/8', '::1'] });
  assert.deepEqual(fromFile.authPlayDeny, { '*': ['203.0.113.0/24'] });
  const env = configFromEnv({ ESTUARY_AUTH_PUBLISH_DENY: 'live=10.0.0.0/8, live=::1,other=1.2.3.4' });
  const flags = configFromFlags({ 'auth-play-keys': 'live/cam=v1', 'on-publish': 'http://cb/?t=1' });
  const c = resolveServeConfig([env, flags]);
  assert.deepEqual(c.authPublishDeny, { live: ['10.0.0.0/8', '::1'], other: ['1.2.3.4'] });
  assert.deepEqual(c.authPlayKeys, { 'live/cam': 'v1' });
  assert.equal(c.onPublish, 'http://cb/?t=1');
  assert.equal(c.callbackTimeoutMs, 3000);
});

test('a bad secret value is refused without being quoted', () => {
  assert.throws(
    () => resolveServeConfig([configFromFlags({ 'auth-keys': 'live-without-equals-SECRET' })]),
    (err: Error & { code?: string }) =>
      err.code === 'ERR_CONFIG' && err.message.includes('authKeys') && !err.message.includes('SECRET'),
  );
});
