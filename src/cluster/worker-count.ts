import { availableParallelism } from 'node:os';

/** `--workers N|auto` → the number of processes: `auto` is one per core. */
export function workerCount(setting: number | 'auto'): number {
  return setting === 'auto' ? Math.max(1, availableParallelism()) : setting;
}
