import { loadavg } from 'node:os';

/** The machine's 1/5/15-minute load averages as `uptime` prints them (shared machine: recorded with figures). */
export function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
}
