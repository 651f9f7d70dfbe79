import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PausedPorts } from '../../../src/cluster/paused-ports.js';

test('a worker may pause a port while another listening worker accepts there', () => {
  const p = new PausedPorts();
  assert.equal(p.ask('files', 1, [1, 2]).ok, true);
  // What the primary reads to pass a full worker's connection to one that did not pause.
  assert.equal(p.has('files', 1), true);
  assert.equal(p.has('files', 2), false);
  assert.equal(p.has('http', 1), false);
  // Ports are separate.
  assert.equal(p.ask('http', 2, [1, 2]).ok, true);
  // A third worker that listens lets worker 2 pause too; then 3 is the last accepting.
  assert.equal(p.ask('files', 2, [1, 2, 3]).ok, true);
  assert.equal(p.ask('files', 3, [1, 2, 3]).ok, false);
  // Worker 2 is the only one accepting on http: it may not pause, and worker 1 is reopened.
  assert.deepEqual(p.ask('http', 1, [1, 2]), { ok: false, reopen: [2] });
});

test('a lone worker never pauses; a worker not listening (not ready) does not count', () => {
  const p = new PausedPorts();
  assert.equal(p.ask('files', 1, [1]).ok, false);
  assert.equal(p.ask('files', 1, []).ok, false);
});

test('the last accepting worker asks: refused, and the paused ones accept again (all are near full)', () => {
  const p = new PausedPorts();
  assert.equal(p.ask('files', 1, [1, 2, 3]).ok, true);
  assert.equal(p.ask('files', 2, [1, 2, 3]).ok, true);
  const r = p.ask('files', 3, [1, 2, 3]);
  assert.equal(r.ok, false);
  assert.deepEqual(r.reopen.sort(), [1, 2]);
  // Forgotten: each may pause again while another accepts.
  assert.equal(p.ask('files', 1, [1, 2, 3]).ok, true);
  // A lone worker's refusal reopens nobody.
  assert.deepEqual(new PausedPorts().ask('files', 1, [1]), { ok: false, reopen: [] });
});

test('resume lets the other pause', () => {
  const p = new PausedPorts();
  assert.equal(p.ask('files', 1, [1, 2]).ok, true);
  assert.equal(p.ask('files', 2, [1, 2]).ok, false);
  p.resume('files', 1);
  assert.equal(p.ask('files', 2, [1, 2]).ok, true);
});

test('the last accepting worker dies: the paused ones are told to accept again', () => {
  const p = new PausedPorts();
  assert.equal(p.ask('files', 1, [1, 2]).ok, true);
  assert.equal(p.ask('http', 1, [1, 2]).ok, true);
  assert.deepEqual(p.drop(2, [1]), [
    { worker: 1, port: 'files' },
    { worker: 1, port: 'http' },
  ]);
  // Forgotten: worker 1 accepts on both now, and may pause again once another listens.
  assert.equal(p.ask('files', 1, [1, 3]).ok, true);
});

test('a paused worker dies: nothing to reopen, its pause is forgotten', () => {
  const p = new PausedPorts();
  assert.equal(p.ask('files', 1, [1, 2, 3]).ok, true);
  assert.equal(p.ask('files', 2, [1, 2, 3]).ok, true);
  assert.deepEqual(p.drop(1, [2, 3]), []);
  // 3 accepts, 2 is paused: 3 may not pause, and after 2 resumes it may.
  assert.equal(p.ask('files', 3, [2, 3]).ok, false);
  p.resume('files', 2);
  assert.equal(p.ask('files', 3, [2, 3]).ok, true);
});

test('of three, two paused and the accepting one dies: both reopen', () => {
  const p = new PausedPorts();
  assert.equal(p.ask('edge', 1, [1, 2, 3]).ok, true);
  assert.equal(p.ask('edge', 2, [1, 2, 3]).ok, true);
  assert.deepEqual(
    p
      .drop(3, [1, 2])
      .map((r) => r.worker)
      .sort(),
    [1, 2],
  );
});
