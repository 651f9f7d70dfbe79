import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

export interface ProfileLine {
  selfPercent: number;
  selfMs: number;
  fn: string;
  where: string;
}

/**
 * The functions with the most self time in a V8 .cpuprofile (node --cpu-prof): the evidence
 * RESULTS.md quotes for what holds a figure back.
 */
export function topSelfTime(
  file: string,
  n = 15,
): { totalMs: number; idlePercent: number; top: ProfileLine[] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const hits = new Map<string, { hits: number; fn: string; where: string }>();
  let total = 0;
  let idle = 0;
  for (const node of p.nodes) {
    const h = node.hitCount ?? 0;
    total += h;
    const fn = node.callFrame.functionName || '(anonymous)';
    if (fn === '(idle)') idle += h;
    const url = node.callFrame.url
      .replace(/^.*\/(src|node_modules|dist)\//, '$1/')
      .replace(/^node:/, 'node:');
    const key = `${fn}@${url}:${node.callFrame.lineNumber}`;
    const e = hits.get(key) ?? { hits: 0, fn, where: `${url}:${node.callFrame.lineNumber + 1}` };
    e.hits += h;
    hits.set(key, e);
  }
  const totalMs = (p.endTime - p.startTime) / 1000;
  const top = [...hits.values()]
    .filter((e) => e.fn !== '(idle)')
    .sort((a, b) => b.hits - a.hits)
    .slice(0, n)
    .map((e) => ({
      selfPercent: Math.round((e.hits / total) * 1000) / 10,
      selfMs: Math.round((e.hits / total) * totalMs),
      fn: e.fn,
      where: e.where,
    }));
  return { totalMs: Math.round(totalMs), idlePercent: Math.round((idle / total) * 1000) / 10, top };
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const r = topSelfTime(process.argv[2]!, Number(process.argv[3] ?? 20));
  console.log(`${r.totalMs} ms profiled, ${r.idlePercent}% idle`);
  for (const l of r.top)
    console.log(
      `${String(l.selfPercent).padStart(5)}%  ${String(l.selfMs).padStart(6)} ms  ${l.fn}  ${l.where}`,
    );
}
