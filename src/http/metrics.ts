/**
 * `GET /metrics` in the Prometheus text format (prom-client), one registry per server instance
 * (never prom-client's global one, so tests run several servers in one process). Nothing here
 * counts on the hot path: every figure is read when scraped (collect callbacks) from counters the
 * servers keep anyway — connection meters that read the sockets' own byte counts, the hub's
 * streams and viewer counts, event counters bumped once per event (a skip, a stall, a refusal, a
 * limit passed), never per frame or per viewer per frame.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AggregatorRegistry,
  Counter,
  collectDefaultMetrics,
  Gauge,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from 'prom-client';
import type { Admission } from '../hub/admission.js';
import type { StreamHub } from '../hub/stream-hub.js';
import type { LimitHits } from '../net/limit-hits.js';
import type { ConnectionMeter } from './api/connection-meter.js';
import { sendError } from './respond.js';

export interface MetricsSources {
  readonly hub: StreamHub;
  /** Each listening port's meter, by the port's name ('rtmp', 'http', 'web', 'edge', 'files'). */
  readonly ports: Readonly<Record<string, ConnectionMeter>>;
  readonly limits: LimitHits;
  readonly admission?: Admission;
  /** Recorders stopped on an error so far (the origin). */
  readonly recorderErrors?: () => number;
}

/** A registry with the process's default metrics (event-loop lag, GC, memory) and Estuary's. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Connections and bytes of every port (all three roles have ports). */
export function registerPortMetrics(
  registry: Registry,
  ports: Readonly<Record<string, ConnectionMeter>>,
): void {
  const byPort = (read: (m: ConnectionMeter) => number) => () =>
    Object.entries(ports).map(([port, m]): [Record<'port', string>, number] => [{ port }, read(m)]);
  new Gauge({
    name: 'estuary_connections',
    help: 'connections open, by port',
    labelNames: ['port'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, n] of byPort((m) => m.connections)()) this.set(labels, n);
    },
  });
  mapCounter(
    registry,
    'estuary_connections_accepted_total',
    'connections accepted (refused ones too), by port',
    ['port'],
    byPort((m) => m.totalConnections),
  );
  mapCounter(
    registry,
    'estuary_received_bytes_total',
    'bytes received, by port',
    ['port'],
    byPort((m) => m.bytesIn),
  );
  mapCounter(
    registry,
    'estuary_sent_bytes_total',
    'bytes sent, by port',
    ['port'],
    byPort((m) => m.bytesOut),
  );
}

/** A labelled counter whose values are read when scraped. */
function mapCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => Iterable<[Record<L, string>, number]>,
): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, n] of read()) this.inc(labels, n);
    },
  });
}

export function valueCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** A gauge whose one value is read at scrape time. */
export function valueGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/** Every Estuary figure of a server with a hub (the origin, an edge). */
export function registerServerMetrics(registry: Registry, src: MetricsSources): void {
  registerPortMetrics(registry, src.ports);
  registerLimitMetrics(registry, src.limits);
  const { hub } = src;
  new Gauge({
    name: 'estuary_clients',
    help: 'publishers and viewers connected now, by protocol and role',
    labelNames: ['protocol', 'role'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of hub.list()) {
        if (s.publisher) this.inc({ protocol: s.publisher.protocol, role: 'publisher' });
        for (const [protocol, n] of Object.entries(s.viewers)) this.inc({ protocol, role: 'viewer' }, n);
      }
    },
  });
  const liveGauge = (name: string, help: string, read: () => number) =>
    valueGauge(registry, name, help, read);
  liveGauge('estuary_streams', 'streams being published (on an edge: being pulled)', () => {
    let n = 0;
    for (const s of hub.list()) if (s.isLive) n++;
    return n;
  });
  liveGauge('estuary_publishers', 'publishers connected', () => {
    let n = 0;
    for (const s of hub.list()) if (s.publisher) n++;
    return n;
  });
  liveGauge('estuary_viewers', 'viewers connected, every protocol', () => {
    let n = 0;
    for (const s of hub.list()) n += s.viewerCount;
    return n;
  });
  valueCounter(
    registry,
    'estuary_viewer_skips_total',
    'times a viewer too slow for the stream skipped forward to the next keyframe (the frames of that GOP it did not get)',
    () => hub.counters.viewerSkips,
  );
  valueCounter(
    registry,
    'estuary_viewers_stalled_total',
    'viewers closed because they could not take data for viewerStallTimeoutMs',
    () => hub.counters.viewersStalled,
  );
  if (src.recorderErrors) {
    valueCounter(
      registry,
      'estuary_recorder_errors_total',
      'recorders stopped on an error (full disk, write failure, a disk too slow)',
      src.recorderErrors,
    );
  }
  const admission = src.admission;
  if (admission) {
    mapCounter(
      registry,
      'estuary_admission_refusals_total',
      'publishes and plays refused before they began (auth, callbacks, limits), by action and error code',
      ['action', 'code'],
      function* () {
        for (const [key, n] of admission.refusals) {
          const [action = '', code = ''] = key.split(' ');
          yield [{ action, code }, n];
        }
      },
    );
  }
}

/** Bounds passed, by bound (LimitHits). */
export function registerLimitMetrics(registry: Registry, limits: LimitHits): void {
  mapCounter(
    registry,
    'estuary_limit_hits_total',
    'times a bound against abuse was reached, by bound',
    ['limit'],
    function* () {
      for (const [limit, n] of limits.entries()) yield [{ limit }, n];
    },
  );
}

/** With workers: every worker's registry as JSON (`getMetricsAsJSON()`), to be summed here. */
export type MetricsGather = () => Promise<readonly MetricObjectWithValues<MetricValue<string>>[][]>;

/**
 * The route's handler: the registry's text, never cached. With `gather` (--workers N) the text
 * is for the whole server: every worker's metrics added up by prom-client's aggregator (counters
 * and gauges summed; the default process metrics each by its own rule, e.g. the oldest start).
 */
export function metricsHandler(
  registry: Registry,
  gather?: MetricsGather,
): (req: IncomingMessage, res: ServerResponse) => void {
  const text = gather
    ? async () => AggregatorRegistry.aggregate([...(await gather())]).metrics()
    : () => registry.metrics();
  return (req, res) => {
    text().then(
      (body) => {
        res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-cache' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => sendError(res, 500, 'ERR_INTERNAL: metrics could not be collected'),
    );
  };
}
