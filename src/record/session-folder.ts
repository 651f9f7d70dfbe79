import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RECORDING_MARKER } from './recorder.js';

/** What a recording folder says about its session (`session.json`, kept after the end). */
export interface SessionInfo {
  app: string;
  stream: string;
  startedAt: string;
  /** `YYYYMMDD_HHMMSS` (or `…-2` …): names the session's segments and, later, its moved folder. */
  id?: string;
}

export const SESSION_FILE = 'session.json';

/** `YYYYMMDD_HHMMSS` in UTC: names FLV files and the folders earlier sessions are moved to. */
export function sessionStamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}_${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/**
 * A session's id: its UTC start `YYYYMMDD_HHMMSS`, with `-2`, `-3`, … when the session before it
 * on the same name had that id already (two sessions in one second). It goes into segment names,
 * so no two sessions of a name ever write the same segment URL, and names the folder the session
 * is moved to when the next one starts.
 */
export function sessionId(startedAt: Date, previous?: string): string {
  const stamp = sessionStamp(startedAt);
  if (previous === undefined || (previous !== stamp && !previous.startsWith(`${stamp}-`))) return stamp;
  const n = previous === stamp ? 1 : Number(previous.slice(stamp.length + 1));
  return `${stamp}-${n + 1}`;
}

/**
 * Makes `dir` an empty folder for a new session: an earlier session's files are moved to
 * `{stream}.{YYYYMMDD_HHMMSS}` beside it (its own start time), never overwritten. The '.' keeps
 * that name out of the stream-name alphabet, so it can never collide with a live stream's folder.
 * Then writes the session file and the `.recording` marker.
 */
export async function prepareSessionFolder(dir: string, info: SessionInfo): Promise<void> {
  await moveSessionAside(dir);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, SESSION_FILE), `${JSON.stringify(info)}\n`);
  await writeFile(join(dir, RECORDING_MARKER), `${info.startedAt}\n`);
}

/**
 * Moves the session in `dir` (if any files are there) to `{stream}.{YYYYMMDD_HHMMSS}` beside it;
 * resolves with where it went, or undefined when `dir` was empty or missing.
 */
export async function moveSessionAside(dir: string): Promise<string | undefined> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  if (entries.length === 0) return undefined;
  const earlier = await readSessionId(dir);
  let target = join(dirname(dir), `${basename(dir)}.${earlier}`);
  for (let n = 2; await exists(target); n++) target = join(dirname(dir), `${basename(dir)}.${earlier}-${n}`);
  await rename(dir, target);
  return target;
}

/** The id of the session whose files are in `dir` (from its session file, else the folder's time). */
async function readSessionId(dir: string): Promise<string> {
  try {
    const info = JSON.parse(await readFile(join(dir, SESSION_FILE), 'utf8')) as SessionInfo;
    if (typeof info.id === 'string' && /^\d{8}_\d{6}(-\d+)?$/.test(info.id)) return info.id;
    const d = new Date(info.startedAt);
    if (!Number.isNaN(d.getTime())) return sessionStamp(d);
  } catch {
    // no or unreadable session file: fall back to the folder's time
  }
  return sessionStamp((await stat(dir)).mtime);
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Every folder under `root/{app}/{name}` that still holds a `.recording` marker (HLS, MP4) or a
 * `{file}.recording` sidecar (FLV).
 */
export async function findUnfinished(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const app of await readdir(root).catch(() => [] as string[])) {
    for (const name of await readdir(join(root, app)).catch(() => [] as string[])) {
      const dir = join(root, app, name);
      const entries = await readdir(dir).catch(() => [] as string[]);
      if (entries.some((e) => e.endsWith(RECORDING_MARKER))) found.push(dir);
    }
  }
  return found;
}
