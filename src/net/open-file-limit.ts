/**
 * This process's open-file limit (the soft RLIMIT_NOFILE), read from /proc/self/limits: Node has
 * no getrlimit. Every connection, listening socket and accept lane is one descriptor of it, so a
 * port's connection bound plus its lanes must fit under it, or accept() fails with EMFILE and
 * libuv drops the connection it cannot take.
 */
import { readFileSync } from 'node:fs';

/** The limit from the text of /proc/self/limits, or undefined (no such line, or unlimited). */
export function parseOpenFileLimit(limits: string): number | undefined {
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits);
  if (!m || m[1] === 'unlimited') return undefined;
  return Number(m[1]);
}

/** The soft limit, or undefined where it cannot be read (not Linux). */
export function openFileLimit(): number | undefined {
  try {
    return parseOpenFileLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Descriptors kept free beside the connections and lanes: the listening socket, open files being
 * served, the log, IPC, and the short-lived socket of a connection refused with 503 at the bound.
 */
export const DESCRIPTOR_RESERVE = 128;

/** How many of `wanted` accept lanes fit beside `maxConnections` under `limit` (all if no limit). */
export function lanesWithinFileLimit(
  wanted: number,
  maxConnections: number,
  limit: number | undefined,
): number {
  if (limit === undefined) return wanted;
  return Math.max(0, Math.min(wanted, limit - maxConnections - DESCRIPTOR_RESERVE));
}
