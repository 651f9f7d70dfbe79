/**
 * GET /api/streams of `flv-gateway --workers N`, as one edge answers it: the figures of every
 * worker added up, and each stream once with its viewers and bytes over every worker (each worker
 * pulls the stream itself, so `upstream.pulls` says how many pulls it has).
 */
import type { EdgeStats } from '../edge/edge.js';

interface EdgeStream {
  path: string;
  viewers: Record<string, number>;
  bytesOut: number;
  upstream?: { bytesIn: number; reconnects: number; [k: string]: unknown };
  [k: string]: unknown;
}

interface EdgeDescription {
  edge: EdgeStats & { id: string };
  streams: EdgeStream[];
}

export function sumEdges(parts: readonly unknown[]): unknown {
  const all = parts.filter(
    (p): p is EdgeDescription => typeof p === 'object' && p !== null && 'edge' in p && 'streams' in p,
  );
  if (all.length === 0) return { edge: null, streams: [] };
  const byPath = new Map<string, EdgeStream>();
  for (const d of all) {
    for (const s of d.streams) {
      const prev = byPath.get(s.path);
      if (!prev) {
        byPath.set(s.path, {
          ...s,
          viewers: { ...s.viewers },
          upstream: s.upstream && { ...s.upstream, pulls: 1 },
        });
        continue;
      }
      for (const [k, n] of Object.entries(s.viewers)) prev.viewers[k] = (prev.viewers[k] ?? 0) + n;
      prev.bytesOut += s.bytesOut;
      if (prev.upstream && s.upstream) {
        prev.upstream.bytesIn += s.upstream.bytesIn;
        prev.upstream.reconnects += s.upstream.reconnects;
        prev.upstream.pulls = (prev.upstream.pulls as number) + 1;
      }
    }
  }
  const first = all[0]!.edge;
  const pulls = { connecting: 0, live: 0, reconnecting: 0 };
  for (const d of all)
    for (const k of Object.keys(pulls) as (keyof typeof pulls)[]) pulls[k] += d.edge.pulls[k];
  const sum = (f: 'viewers' | 'connections' | 'bytesIn' | 'bytesOut') =>
    all.reduce((n, d) => n + d.edge[f], 0);
  return {
    edge: {
      id: first.id,
      upstream: first.upstream,
      workers: all.length,
      streams: byPath.size,
      viewers: sum('viewers'),
      connections: sum('connections'),
      bytesIn: sum('bytesIn'),
      bytesOut: sum('bytesOut'),
      pulls,
    },
    streams: [...byPath.values()].sort((a, b) => a.path.localeCompare(b.path)),
  };
}
