import { parseArgs } from 'node:util';
import type { ViewProtocol } from '../load/job.js';
import type { ServerKind } from './servers.js';

export interface BenchOptions {
  /** One or more viewer counts: a ladder is run step by step (e.g. 5000,10000,19500). */
  viewers: number[];
  seconds: number;
  servers: ServerKind[];
  /** Viewers opened per second. */
  rate: number;
  /** Stream bit rate, kbit/s. */
  kbps: number;
  protocol: ViewProtocol;
  publishers: number;
  workers: number | undefined;
  record: boolean | undefined;
  /** Extra arguments for `estuary serve`. */
  estuaryArgs: string[];
  /** `--server-workers N`: Estuary's `--workers N`, nginx-rtmp's `worker_processes N`. */
  serverWorkers: number;
  /** Run the server under `node --cpu-prof` and keep the profile (Estuary only). */
  cpuProf: boolean;
  /** Kill the server past this RSS (GiB): a peer that balloons must not take the machine. */
  rssCapGiB: number;
  /** A tag stored with the run (e.g. "before", "after"); RESULTS.md lists labelled runs. */
  label: string | undefined;
  /** File scenarios: each client waits this long after each answer (a player between seeks), ms. */
  pauseMs: number;
}

export interface ScenarioDefaults {
  viewers: number[];
  seconds: number;
  servers: ServerKind[];
  rate: number;
  kbps: number;
  protocol: ViewProtocol;
  publishers?: number;
  record?: boolean;
}

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

export function parseBenchArgs(argv: string[], d: ScenarioDefaults): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      viewers: { type: 'string' },
      seconds: { type: 'string' },
      server: { type: 'string' },
      rate: { type: 'string' },
      kbps: { type: 'string' },
      protocol: { type: 'string' },
      publishers: { type: 'string' },
      workers: { type: 'string' },
      'server-workers': { type: 'string' },
      record: { type: 'boolean' },
      'no-record': { type: 'boolean' },
      'estuary-args': { type: 'string' },
      'cpu-prof': { type: 'boolean' },
      'rss-cap': { type: 'string' },
      label: { type: 'string' },
      'pause-ms': { type: 'string' },
    },
  });
  const num = (v: string | undefined, dflt: number, name: string) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number, not "${v}"`);
    return n;
  };
  const servers = values.server ? (list(values.server) as ServerKind[]) : d.servers;
  for (const s of servers) {
    if (s !== 'estuary' && s !== 'nms' && s !== 'nginx') throw new Error(`--server: unknown server "${s}"`);
  }
  const protocol = (values.protocol ?? d.protocol) as ViewProtocol;
  if (!['http-flv', 'ws-flv', 'rtmp'].includes(protocol))
    throw new Error(`--protocol: unknown "${protocol}"`);
  return {
    viewers: values.viewers ? list(values.viewers).map((v) => num(v, 0, 'viewers')) : d.viewers,
    seconds: num(values.seconds, d.seconds, 'seconds'),
    servers,
    rate: num(values.rate, d.rate, 'rate'),
    kbps: num(values.kbps, d.kbps, 'kbps'),
    protocol,
    publishers: num(values.publishers, d.publishers ?? 1, 'publishers'),
    workers: values.workers === undefined ? undefined : num(values.workers, 1, 'workers'),
    record: values.record ? true : values['no-record'] ? false : d.record,
    // `--server-workers N` is Estuary's `--workers N` (`--workers` here names the load generator's).
    estuaryArgs: [
      ...(values['estuary-args'] ? values['estuary-args'].split(' ').filter(Boolean) : []),
      ...(values['server-workers']
        ? ['--workers', String(num(values['server-workers'], 1, 'server-workers'))]
        : []),
    ],
    serverWorkers: values['server-workers'] ? num(values['server-workers'], 1, 'server-workers') : 1,
    cpuProf: values['cpu-prof'] === true,
    rssCapGiB: num(values['rss-cap'], 12, 'rss-cap'),
    pauseMs: num(values['pause-ms'], 0, 'pause-ms'),
    label: values.label,
  };
}
