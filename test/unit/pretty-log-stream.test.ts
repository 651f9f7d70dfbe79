import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/log.js';
import { formatLine } from '../../src/pretty-log-stream.js';

test('a pino JSON line reads as time, level, connection, message and fields', () => {
  const line = JSON.stringify({
    level: 30,
    time: '2026-01-01T10:20:30.456Z',
    proto: 'rtmp',
    conn: 3,
    path: 'live/s',
    msg: 'closed',
    reason: 'connection closed by peer',
    bytesIn: 123,
  });
  const out = formatLine(line);
  assert.match(
    out,
    /^\d\d:\d\d:30\.456 {2}INFO {3}rtmp #3 live\/s {2}closed {2}reason="connection closed by peer" bytesIn=123\n$/,
  );
  assert.doesNotMatch(out, /[{}]/);
});

test('errors show their message; colours only when asked; non-JSON passes through', () => {
  const err = formatLine(
    JSON.stringify({
      level: 50,
      time: '2026-01-01T00:00:00Z',
      msg: 'failed',
      err: { type: 'Error', message: 'disk full', stack: 'x' },
    }),
  );
  assert.match(err, /ERROR {2}failed {2}err="disk full"\n$/);
  assert.match(formatLine(JSON.stringify({ level: 40, msg: 'w' }), true), /\x1b\[33mWARN/);
  assert.equal(formatLine('plain text'), 'plain text\n');
});

test('auto: readable lines on a terminal, JSON lines elsewhere', () => {
  const sink = (isTTY: boolean) => {
    const lines: string[] = [];
    const out = { isTTY, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
    createLogger('info', 'auto', out).info({ proto: 'rtmp' }, 'hello');
    return lines.join('');
  };
  assert.match(sink(true).replace(/\x1b\[\d+m/g, ''), /INFO.*rtmp {2}hello/);
  assert.equal((JSON.parse(sink(false)) as { msg: string }).msg, 'hello');
});
