/**
 * `GET /api/server`: what this process is and how it is doing: version, uptime, connections and
 * bytes by port, publishers and viewers by protocol, CPU and memory, and the ports a page needs
 * to build live URLs (the live HTTP port for HTTP-FLV/WS-FLV, the RTMP port).
 */
import { readFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import type { StreamHub } from '../../hub/stream-hub.js';
import { sendJson } from '../respond.js';
import { Router } from '../router.js';
import type { ConnectionMeter } from './connection-meter.js';

export interface ServerPorts {
  readonly rtmp: number;
  readonly http: number;
  readonly web: number;
}

export interface ServerApiOptions {
  readonly hub: StreamHub;
  /** One meter per listening port, by the port's name ('rtmp', 'http', 'web'). */
  readonly meters: Readonly<Record<string, ConnectionMeter>>;
  /** The ports actually bound (known once the servers listen). */
  readonly ports: () => ServerPorts | undefined;
}

/** What GET /api/server answers for one process. */
export type ServerInfo = ReturnType<ServerDescriber['describe']>;

/** The package version, from package.json beside the code (src/ or dist/, both two levels down). */
function packageVersion(): string {
  const url = new URL('../../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

/** CPU use of this process between two calls (or since start, the first time), as % of one core. */
class CpuGauge {
  private last = { at: performance.now() - process.uptime() * 1000, usage: { user: 0, system: 0 } };
  private percent = 0;

  read(): number {
    const now = performance.now();
    // Shorter windows are noise: keep the last figure until a second has passed.
    if (now - this.last.at >= 1000) {
      const usage = process.cpuUsage();
      const usedUs = usage.user - this.last.usage.user + (usage.system - this.last.usage.system);
      this.percent = Math.round((usedUs / 1000 / (now - this.last.at)) * 1000) / 10;
      this.last = { at: now, usage };
    }
    return this.percent;
  }
}

/** This process's part of /api/server (a worker's, with --workers N). */
export class ServerDescriber {
  private readonly version = packageVersion();
  private readonly cpu = new CpuGauge();

  constructor(private readonly opts: ServerApiOptions) {}

  describe() {
    const { opts, cpu, version } = this;
    const publishers: Record<string, number> = {};
    const viewers: Record<string, number> = {};
    let streams = 0;
    for (const s of opts.hub.list()) {
      if (s.publisher) {
        streams++;
        publishers[s.publisher.protocol] = (publishers[s.publisher.protocol] ?? 0) + 1;
      }
      for (const [proto, n] of Object.entries(s.viewers)) viewers[proto] = (viewers[proto] ?? 0) + n;
    }
    const connections: Record<string, number> = {};
    let bytesIn = 0;
    let bytesOut = 0;
    const byPort: Record<string, { connections: number; bytesIn: number; bytesOut: number }> = {};
    for (const [name, m] of Object.entries(opts.meters)) {
      connections[name] = m.connections;
      byPort[name] = { connections: m.connections, bytesIn: m.bytesIn, bytesOut: m.bytesOut };
      bytesIn += byPort[name].bytesIn;
      bytesOut += byPort[name].bytesOut;
    }
    const mem = process.memoryUsage();
    return {
      name: 'estuary',
      version,
      node: process.version,
      pid: process.pid,
      startedAt: new Date(Date.now() - process.uptime() * 1000).toISOString(),
      uptimeSeconds: Math.round(process.uptime()),
      ports: opts.ports() ?? null,
      streams,
      publishers,
      viewers,
      connections,
      bytesIn,
      bytesOut,
      byPort,
      cpu: { percent: cpu.read(), cores: cpus().length, loadavg: loadavg() },
      memory: {
        rss: mem.rss,
        heapUsed: mem.heapUsed,
        heapTotal: mem.heapTotal,
        external: mem.external,
        systemTotal: totalmem(),
        systemFree: freemem(),
      },
    };
  }
}

/**
 * The route. `gather`, with workers: the server's answer, every worker's `describe()` summed
 * (src/cluster/sum-server.ts); without, this process's own.
 */
export function serverApi(describer: ServerDescriber, gather?: () => Promise<unknown>): Router {
  return new Router().get('/server', async (_req, res) => {
    sendJson(res, 200, gather ? await gather() : describer.describe());
  });
}
