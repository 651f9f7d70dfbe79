import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatConvertProgress } from '../../../src/convert/progress-line.js';

describe('formatConvertProgress', () => {
  it('shows position / duration, the share done, frames and speed', () => {
    const line = formatConvertProgress(
      { pass: 1, passes: 1, positionMs: 90_000, durationMs: 180_000, frames: 1234 },
      1000,
    );
    assert.equal(line, '1:30 / 3:00 (50%)  1234 frames  speed 90x');
  });

  it('names the pass of a two-pass output and leaves out what it does not know', () => {
    const line = formatConvertProgress(
      { pass: 2, passes: 2, positionMs: 5000, durationMs: undefined, frames: 10 },
      0,
    );
    assert.equal(line, 'pass 2/2 (writing)  0:05  10 frames');
  });
});
