/** The complete MP4's sample order: runs of at most 0.5 s of one track, tracks taking turns. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Interleaver, type InterleaveSample, type Run } from '../../../../src/record/fmp4/interleave.js';

const V = 1;
const A = 2;
type Item = { track: number; i: number };

/** 25 fps video and AAC 44.1 kHz frames for `seconds`, in the file order of `fragmentSeconds` fragments. */
function input(seconds: number, fragmentSeconds: number, tracks = [V, A]): InterleaveSample<Item>[] {
  const out: InterleaveSample<Item>[] = [];
  for (let f = 0; f * fragmentSeconds < seconds; f++) {
    const from = f * fragmentSeconds;
    const to = Math.min(seconds, from + fragmentSeconds);
    for (const track of tracks) {
      const step = track === V ? 0.04 : 1024 / 44100;
      for (let i = Math.ceil(from / step - 1e-9); i * step < to - 1e-9; i++)
        out.push({ trackId: track, dts: i * step, duration: step, item: { track, i } });
    }
  }
  return out;
}

function interleave(samples: InterleaveSample<Item>[], tracks = [V, A]): Run<Item>[] {
  const il = new Interleaver<Item>(tracks);
  const runs: Run<Item>[] = [];
  for (const s of samples) runs.push(...il.push(s));
  runs.push(...il.end());
  return runs;
}

function check(name: string, samples: InterleaveSample<Item>[], runs: Run<Item>[]) {
  // Every sample exactly once, in decode order per track.
  for (const track of new Set(samples.map((s) => s.trackId))) {
    const got = runs.filter((r) => r.trackId === track).flatMap((r) => r.items.map((x) => x.i));
    const want = samples.filter((s) => s.trackId === track).map((s) => s.item.i);
    assert.deepEqual(got, want, `${name}: track ${track}`);
  }
  const dts = new Map(samples.map((s) => [s.item, s]));
  for (const r of runs) {
    const first = dts.get(r.items[0])!;
    const last = dts.get(r.items[r.items.length - 1])!;
    assert.ok(
      last.dts + last.duration - first.dts <= 0.5 + 1e-9,
      `${name}: a run of ${last.dts - first.dts} s`,
    );
  }
}

test('runs of at most 0.5 s, tracks alternating, whatever the fragment length', () => {
  for (const fragmentSeconds of [0.04, 2, 6]) {
    const samples = input(12, fragmentSeconds);
    const runs = interleave(samples);
    check(`fragments of ${fragmentSeconds} s`, samples, runs);
    // No two runs of one track in a row (they would be one long run in the file).
    for (let i = 1; i < runs.length; i++) assert.notEqual(runs[i].trackId, runs[i - 1].trackId, `run ${i}`);
    // Runs are as long as allowed: ~2 a second per track, not one per frame.
    assert.ok(runs.length >= 44 && runs.length <= 52, `${runs.length} runs for 12 s`);
  }
});

test('one track: runs of 0.5 s', () => {
  const samples = input(3, 2, [V]);
  const runs = interleave(samples, [V]);
  check('video only', samples, runs);
  assert.deepEqual(
    runs.map((r) => r.items.length),
    [12, 12, 12, 12, 12, 12, 3],
  );
});

test('a track that stops does not hold the other back past 10 s of media', () => {
  // Audio for the first second only; video for 30 s, in 2 s fragments.
  const samples = input(30, 2).filter((s) => s.trackId === V || s.dts < 1);
  const il = new Interleaver<Item>([V, A]);
  let emittedBeforeEnd = 0;
  for (const s of samples) emittedBeforeEnd += il.push(s).length;
  assert.ok(emittedBeforeEnd > 30, `${emittedBeforeEnd} runs decided before the end`);
  check('audio stops', samples, [...interleave(samples)]);
});
