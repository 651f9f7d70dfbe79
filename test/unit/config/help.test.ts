import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderOptions, renderSettingsTable } from '../../../src/config/help.js';
import { describeSettings, resolveSettings, settingEntries } from '../../../src/config/load.js';
import {
  CONVERT_SETTINGS,
  EDGE_SETTINGS,
  FILES_SETTINGS,
  SERVE_SETTINGS,
} from '../../../src/config/schema.js';
import { envName, flagName } from '../../../src/config/setting.js';

const README = new URL('../../../README.md', import.meta.url);

test('--help names every flag and every file-only setting of estuary serve', () => {
  const help = renderOptions(SERVE_SETTINGS);
  for (const e of settingEntries(SERVE_SETTINGS)) {
    if (e.setting.flag === false) assert.ok(help.includes(envName(e.names[0]!)), `${e.path} missing`);
    else assert.ok(help.includes(`--${flagName(e.names[0]!, e.setting)}`), `${e.path} missing`);
  }
  assert.match(help, /--no-record-flv +turn off FLV recording/);
  assert.match(help, /--rtmp-port N +RTMP publish and play \(default 1935\)/);
});

for (const [name, table] of [
  ['serve', SERVE_SETTINGS],
  ['edge', EDGE_SETTINGS],
  ['files', FILES_SETTINGS],
  ['convert', CONVERT_SETTINGS],
] as const) {
  test(`the README ${name} settings table is the one the schema renders`, () => {
    const text = readFileSync(README, 'utf8');
    const m = new RegExp(`<!-- settings:${name} -->\\n([\\s\\S]*?)\\n<!-- /settings:${name} -->`).exec(text);
    assert.ok(m, `README has a <!-- settings:${name} --> section`);
    assert.equal(m[1], renderSettingsTable(table), 'run `npm run docs` to regenerate it');
  });
}

test('--help of estuary flv-gateway names every flag and every file-only setting', () => {
  const help = renderOptions(EDGE_SETTINGS);
  for (const e of settingEntries(EDGE_SETTINGS)) {
    if (e.setting.flag === false) assert.ok(help.includes(envName(e.names[0]!)), `${e.path} missing`);
    else assert.ok(help.includes(`--${flagName(e.names[0]!, e.setting)}`), `${e.path} missing`);
  }
  assert.match(help, /--reconnect-initial-ms N +first reconnect .* \(default 250\)/);
  assert.match(help, /--debug +turn on detailed logs/);
});

test('--print-config says where each value came from and masks secrets', () => {
  const resolved = resolveSettings(SERVE_SETTINGS, [
    { kind: 'file', label: 'e.yaml', values: { webPort: 9000 } },
    { kind: 'environment', label: 'environment', values: { 'authSecret\0ESTUARY_AUTH_SECRET': 'hunter2' } },
    { kind: 'flag', label: 'flags', values: { 'rtmpPort\0--rtmp-port': '1936' } },
  ]);
  const text = describeSettings(SERVE_SETTINGS, resolved);
  assert.match(text, /^webPort = 9000 {2}\(file: webPort in e\.yaml\)$/m);
  assert.match(text, /^rtmpPort = 1936 {2}\(flag: --rtmp-port\)$/m);
  assert.match(text, /^authSecret = \*+ {2}\(environment: ESTUARY_AUTH_SECRET\)$/m);
  assert.match(text, /^httpPort = 8501 {2}\(default\)$/m);
  assert.doesNotMatch(text, /hunter2/);
});

test('--print-config masks stream keys and callback URLs, and shows address lists', () => {
  const resolved = resolveSettings(SERVE_SETTINGS, [
    {
      kind: 'file',
      label: 'e.yaml',
      values: {
        authKeys: { live: 'key-hunter3' },
        onPlay: 'http://cb/?t=tok-hunter4',
        authPlayDeny: { live: ['10.0.0.0/8'] },
      },
    },
  ]);
  const text = describeSettings(SERVE_SETTINGS, resolved);
  assert.match(text, /^authKeys = \*+ /m);
  assert.match(text, /^onPlay = \*+ /m);
  assert.match(text, /^authPlayDeny = \{"live":\["10\.0\.0\.0\/8"\]\}/m);
  assert.doesNotMatch(text, /hunter3|hunter4/);
});
