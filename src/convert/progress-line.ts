/**
 * The line `estuary convert` redraws on a terminal: position / duration, pass, speed. Pure: the
 * text is a function of the progress and the wall time spent.
 */
import { formatClock } from '../pusher/progress.js';
import type { ConvertProgress } from './convert.js';

export function formatConvertProgress(p: ConvertProgress, elapsedMs: number): string {
  const dur = p.durationMs !== undefined && p.durationMs > 0 ? ` / ${formatClock(p.durationMs)}` : '';
  const pct =
    p.durationMs !== undefined && p.durationMs > 0
      ? ` (${Math.min(100, Math.floor((100 * p.positionMs) / p.durationMs))}%)`
      : '';
  const pass =
    p.passes > 1 ? `pass ${p.pass}/${p.passes}${p.pass === 1 ? ' (indexing)' : ' (writing)'}  ` : '';
  const speed = elapsedMs > 0 ? `  speed ${(p.positionMs / elapsedMs).toFixed(0)}x` : '';
  return `${pass}${formatClock(p.positionMs)}${dur}${pct}  ${p.frames} frames${speed}`;
}
