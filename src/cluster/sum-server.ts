/**
 * GET /api/server over N workers, as one server answers it: connections, bytes, publishers,
 * viewers, CPU and memory added up; the version, ports and machine figures once; the oldest
 * start. Each stream counts once: a worker's relay of a stream published on another worker
 * (publisher protocol `pull`) is neither a stream nor a publisher, and the HTTP-FLV viewer it is
 * on the holding worker is not a viewer of the server (as in sum-streams.ts).
 */
import type { ServerInfo } from '../http/api/server.js';
import { RELAY } from './sum-streams.js';

function addInto(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
}

export function sumServers(parts: readonly ServerInfo[]): unknown {
  const first = parts[0];
  if (!first) return { workers: 0 };
  const publishers: Record<string, number> = {};
  const viewers: Record<string, number> = {};
  const connections: Record<string, number> = {};
  const byPort: Record<string, { connections: number; bytesIn: number; bytesOut: number }> = {};
  let streams = 0;
  let bytesIn = 0;
  let bytesOut = 0;
  let cpu = 0;
  const memory = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0 };
  for (const p of parts) {
    addInto(publishers, p.publishers);
    addInto(viewers, p.viewers);
    addInto(connections, p.connections);
    for (const [name, port] of Object.entries(p.byPort)) {
      const into = byPort[name] ?? { connections: 0, bytesIn: 0, bytesOut: 0 };
      byPort[name] = into;
      into.connections += port.connections;
      into.bytesIn += port.bytesIn;
      into.bytesOut += port.bytesOut;
    }
    streams += p.streams;
    bytesIn += p.bytesIn;
    bytesOut += p.bytesOut;
    cpu += p.cpu.percent;
    memory.rss += p.memory.rss;
    memory.heapUsed += p.memory.heapUsed;
    memory.heapTotal += p.memory.heapTotal;
    memory.external += p.memory.external;
  }
  const relays = publishers[RELAY] ?? 0;
  if (relays > 0) {
    delete publishers[RELAY];
    streams -= relays;
    viewers['http-flv'] = Math.max(0, (viewers['http-flv'] ?? 0) - relays);
    if (viewers['http-flv'] === 0) delete viewers['http-flv'];
  }
  const oldest = parts.reduce((a, b) => (a.startedAt <= b.startedAt ? a : b));
  return {
    ...first,
    pid: process.ppid,
    workers: parts.length,
    workerPids: parts.map((p) => p.pid).sort((a, b) => a - b),
    startedAt: oldest.startedAt,
    uptimeSeconds: Math.max(...parts.map((p) => p.uptimeSeconds)),
    streams,
    publishers,
    viewers,
    connections,
    bytesIn,
    bytesOut,
    byPort,
    // Percent of one core, like a single process's: 2 busy workers read 200.
    cpu: { ...first.cpu, percent: Math.round(cpu * 10) / 10 },
    memory: { ...first.memory, ...memory },
  };
}
