/**
 * GET /api/streams over N workers, as one server answers it: each stream once, described by the
 * worker that holds its publish, with the viewers and bytes out of every worker added up (the
 * others relay it to their own viewers).
 */
import type { StreamInfo } from '../http/api/stream-info.js';

/** The publisher protocol of a worker's relay of a stream published on another worker. */
export const RELAY = 'pull';

export function sumStreams(parts: readonly (readonly StreamInfo[])[]): StreamInfo[] {
  const byPath = new Map<string, StreamInfo[]>();
  for (const list of parts) {
    if (!Array.isArray(list)) continue;
    for (const s of list) byPath.set(s.path, [...(byPath.get(s.path) ?? []), s]);
  }
  const out: StreamInfo[] = [];
  for (const entries of byPath.values()) {
    const base = entries.find((e) => e.publisher?.protocol !== RELAY) ?? entries[0]!;
    const viewers: Record<string, number> = {};
    let bytesOut = 0;
    for (const e of entries) {
      bytesOut += e.bytesOut;
      for (const [k, n] of Object.entries(e.viewers)) viewers[k] = (viewers[k] ?? 0) + n;
    }
    // Each relay is itself one HTTP-FLV viewer of the holding worker: not a viewer of the server.
    const relays = entries.filter((e) => e !== base && e.publisher?.protocol === RELAY).length;
    if (relays > 0) {
      viewers['http-flv'] = Math.max(0, (viewers['http-flv'] ?? 0) - relays);
      viewers.total = Math.max(0, (viewers.total ?? 0) - relays);
      if (viewers['http-flv'] === 0) delete viewers['http-flv'];
    }
    out.push({ ...base, bytesOut, viewers: { ...viewers, total: viewers.total ?? 0 } });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
