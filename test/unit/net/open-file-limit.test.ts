import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import {
  DESCRIPTOR_RESERVE,
  lanesWithinFileLimit,
  openFileLimit,
  parseOpenFileLimit,
} from '../../../src/net/open-file-limit.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            20000                20000                files
Max locked memory         8388608              8388608              bytes
`;

test('the soft open-file limit is read from /proc/self/limits', () => {
  assert.equal(parseOpenFileLimit(LIMITS), 20000);
  assert.equal(
    parseOpenFileLimit(LIMITS.replace('20000                20000', 'unlimited            unlimited')),
    undefined,
  );
  assert.equal(parseOpenFileLimit('no such line'), undefined);
});

test("this process's limit is the shell's ulimit -n", { skip: process.platform !== 'linux' }, () => {
  const shell = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  assert.equal(openFileLimit(), shell === 'unlimited' ? undefined : Number(shell));
});

test('accept lanes are cut to what fits beside the connection bound', () => {
  assert.equal(lanesWithinFileLimit(256, 19_500, 20_000), 256);
  assert.equal(lanesWithinFileLimit(512, 19_500, 20_000), 20_000 - 19_500 - DESCRIPTOR_RESERVE);
  assert.equal(lanesWithinFileLimit(256, 19_900, 20_000), 0);
  assert.equal(lanesWithinFileLimit(256, 19_500, undefined), 256);
});
