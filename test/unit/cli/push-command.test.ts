import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  describePushFailure,
  PUSH_USAGE,
  parsePushArgs,
  pushCommand,
} from '../../../src/cli/push-command.js';
import { EstuaryError } from '../../../src/errors.js';
import { PushError } from '../../../src/pusher/push-error.js';

test('parsePushArgs: flags, and the seed form with a positional speed', () => {
  assert.deepEqual(parsePushArgs(['a.flv', 'rtmp://h/live/s']), {
    help: false,
    file: 'a.flv',
    url: 'rtmp://h/live/s',
    speed: 1,
    loop: false,
    reconnect: true,
  });
  assert.deepEqual(parsePushArgs(['a.mp4', 'http://h/l/s', '--speed', '2.5', '--loop', '--no-reconnect']), {
    help: false,
    file: 'a.mp4',
    url: 'http://h/l/s',
    speed: 2.5,
    loop: true,
    reconnect: false,
  });
  const seed = parsePushArgs(['test.flv', 'http://127.0.0.1:8501/live/stream', '1.0', '--no-reconnect']);
  assert.ok(!seed.help && seed.speed === 1 && !seed.reconnect);
  assert.deepEqual(parsePushArgs(['--help']), { help: true });
});

test('parsePushArgs: bad arguments throw with a reason', () => {
  const cases: [string[], RegExp][] = [
    [['a.flv'], /FILE and URL are required/],
    [['a.flv', 'u', '1', 'extra'], /unexpected argument "extra"/],
    [['a.flv', 'u', '2', '--speed', '3'], /speed given twice/],
    [['a.flv', 'u', '--speed', '0'], /speed must be/],
    [['a.flv', 'u', '--speed', 'fast'], /speed must be/],
    [['a.flv', 'u', '--speed=-1'], /speed must be/],
    [['a.flv', 'u', '--speed', '1e3'], /speed must be/],
    [['a.flv', 'u', '--speed', '65'], /at most 64/],
    [['a.flv', 'u', '--bogus'], /bogus/],
  ];
  for (const [args, re] of cases) assert.throws(() => parsePushArgs(args), re, args.join(' '));
});

test('describePushFailure: one exit status per kind of failure', () => {
  const cases: [unknown, number][] = [
    [new PushError('file-missing', 'x'), 3],
    [new PushError('not-media', 'x'), 4],
    [new EstuaryError('ERR_MP4_FORMAT', 'x'), 4],
    [new EstuaryError('ERR_FLV_FORMAT', 'x'), 4],
    [new EstuaryError('ERR_CODEC_CONFIG', 'x'), 4],
    [new EstuaryError('ERR_CODEC_UNSUPPORTED', "MP4 video codec 'mp4v'"), 5],
    [new PushError('publish-refused', 'x'), 6],
    [new PushError('unreachable', 'x'), 7],
    [new PushError('connection-lost', 'x'), 8],
    [new PushError('usage', 'x'), 2],
    [new EstuaryError('ERR_CONFIG', 'x'), 1],
    [new Error('boom'), 1],
  ];
  for (const [err, code] of cases) assert.equal(describePushFailure(err).code, code, String(err));
  assert.equal(
    describePushFailure(new EstuaryError('ERR_CODEC_UNSUPPORTED', "MP4 video codec 'mp4v'")).message,
    "ERR_CODEC_UNSUPPORTED: MP4 video codec 'mp4v'",
  );
});

test('the usage documents every exit status', () => {
  for (const code of ['0', '1', '2', '3', '4', '5', '6', '7', '8', '130']) {
    assert.match(PUSH_USAGE, new RegExp(`\\b${code}  `), `exit ${code}`);
  }
});

test('pushCommand: usage errors go to the given output with status 2', async () => {
  const out: string[] = [];
  const code = await pushCommand(['only-a-file.flv'], { err: { write: (s: string) => out.push(s) } });
  assert.equal(code, 2);
  assert.match(out.join(''), /^estuary push: FILE and URL are required\n\nUsage: estuary push/);
});
