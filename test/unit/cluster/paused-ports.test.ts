import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PausedPorts } from '../../../src/cluster/paused-ports.js';

test('a worker may pause a port while another listening worker accepts there', () => {
  const p = new PausedPorts();
  assert.equal(p.ask('files', 1, [1, 2]), true);
  // Worker 2 is now the only one accepting: it may not pause.
  assert.equal(p.ask('files', 2, [1, 2]), false);
  // Ports are separate.
  assert.equal(p.ask('http', 2, [1, 2]), true);
  // A third worker that listens lets worker 2 pause too.
  assert.equal(p.ask('files', 2, [1, 2, 3]), true);
  assert.equal(p.ask('files', 3, [1, 2, 3]), false);
});

test('a lone worker never pauses; a worker not listening (not ready) does not count', () => {
  const p = new PausedPorts();
  assert.equal(p.ask('files', 1, [1]), false);
  assert.equal(p.ask('files', 1, []), false);
});

test('resume lets the other pause', () => {
  const p = new PausedPorts();
  assert.equal(p.ask('files', 1, [1, 2]), true);
  assert.equal(p.ask('files', 2, [1, 2]), false);
  p.resume('files', 1);
  assert.equal(p.ask('files', 2, [1, 2]), true);
});

test('the last accepting worker dies: the paused ones are told to accept again', () => {
  const p = new PausedPorts();
  assert.equal(p.ask('files', 1, [1, 2]), true);
  assert.equal(p.ask('http', 1, [1, 2]), true);
  assert.deepEqual(p.drop(2, [1]), [
    { worker: 1, port: 'files' },
    { worker: 1, port: 'http' },
  ]);
  // Forgotten: worker 1 accepts on both now, and may pause again once another listens.
  assert.equal(p.ask('files', 1, [1, 3]), true);
});

test('a paused worker dies: nothing to reopen, its pause is forgotten', () => {
  const p = new PausedPorts();
  assert.equal(p.ask('files', 1, [1, 2, 3]), true);
  assert.equal(p.ask('files', 2, [1, 2, 3]), true);
  assert.deepEqual(p.drop(1, [2, 3]), []);
  // 3 accepts, 2 is paused: 3 may not pause, and after 2 resumes it may.
  assert.equal(p.ask('files', 3, [2, 3]), false);
  p.resume('files', 2);
  assert.equal(p.ask('files', 3, [2, 3]), true);
});

test('of three, two paused and the accepting one dies: both reopen', () => {
  const p = new PausedPorts();
  assert.equal(p.ask('edge', 1, [1, 2, 3]), true);
  assert.equal(p.ask('edge', 2, [1, 2, 3]), true);
  assert.deepEqual(
    p
      .drop(3, [1, 2])
      .map((r) => r.worker)
      .sort(),
    [1, 2],
  );
});
