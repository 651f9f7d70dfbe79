/**
 * `estuary flv-gateway PORT UPSTREAM_URL`: an FLV edge tier. Wiring only: a hub whose source is
 * the upstream (UpstreamSource: one pull per stream, shared by every viewer, kept over upstream
 * losses), the live port's server in its play-only form (the same HTTP-FLV and WS-FLV play, hub,
 * GOP cache and fan-out as the origin), `/api/streams` beside it, and a stats line.
 */

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AccessGuard } from '../auth/guard.js';
import { type ListenAt, listenPortAsync } from '../cluster/accept-mode.js';
import { type AcceptValve, acceptValve } from '../cluster/accept-valve.js';
import { workerCount } from '../cluster/worker-count.js';
import type { PrimaryLink } from '../cluster/worker-link.js';
import { reloadSettings } from '../config/reload.js';
import { EDGE_SETTINGS, type EdgeConfig } from '../config/schema.js';
import { EstuaryError } from '../errors.js';
import { ConnectionMeter } from '../http/api/connection-meter.js';
import { streamInfo } from '../http/api/stream-info.js';
import { StreamStats } from '../http/api/stream-stats.js';
import { createMetricsRegistry, metricsHandler, registerServerMetrics } from '../http/metrics.js';
import { sendJson } from '../http/respond.js';
import { Router } from '../http/router.js';
import { LiveHttpServer } from '../http-flv/live-server.js';
import { Admission } from '../hub/admission.js';
import { streamLimitsStep } from '../hub/admission-limits.js';
import { StreamHub } from '../hub/stream-hub.js';
import { type ViewerBudget, viewerBudget } from '../hub/viewer.js';
import { ConnectionGuard, HTTP_FULL as FULL } from '../net/connection-guard.js';
import { LimitHits } from '../net/limit-hits.js';
import { HTTP_SOCKET, ServerLanes } from '../net/port-lanes.js';
import { reachableHosts } from '../util/reachable-hosts.js';
import { registerUpstreamMetrics } from './upstream-metrics.js';
import { type PullState, UpstreamSource } from './upstream-source.js';

/** The edge's figures: the stats line and /api/streams say the same. */
export interface EdgeStats {
  readonly upstream: string;
  readonly streams: number;
  readonly viewers: number;
  /** Connections open on the edge's port (viewers, waiting viewers, API requests). */
  readonly connections: number;
  /** Bytes received from the upstream, and sent on the port, since the edge started. */
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Pulls by state. */
  readonly pulls: Readonly<Record<PullState, number>>;
}

/** The edge's play credentials, address lists and callbacks (see AccessGuard). */
const EDGE_AUTH_SETTINGS: readonly (keyof EdgeConfig)[] = [
  'authSecret',
  'authPlay',
  'authNmsMd5',
  'authPlayKeys',
  'authPlayAllow',
  'authPlayDeny',
  'onPlay',
  'onStop',
  'callbackTimeoutMs',
  'callbackRetries',
];

/** What an edge's reload (SIGHUP) applies live; any other changed setting waits for a restart. */
const EDGE_LIVE_SETTINGS: ReadonlySet<keyof EdgeConfig> = new Set<keyof EdgeConfig>([
  'logLevel',
  'debug',
  'maxConnections',
  'maxConnectionsPerAddress',
  'maxViewersPerStream',
  'headersTimeoutMs',
  'shutdownTimeoutMs',
  // The access guard takes these anew (AccessGuard.reload); viewers already admitted stay.
  ...EDGE_AUTH_SETTINGS,
]);

/** `http://HOST:PORT[/prefix]`, checked: the pull speaks plain HTTP. */
export function checkUpstream(url: string | undefined): string {
  if (!url) throw new EstuaryError('ERR_CONFIG', 'no upstream: give UPSTREAM_URL, e.g. http://ORIGIN:8501');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new EstuaryError('ERR_CONFIG', `upstream "${url}" is not a URL (want http://HOST:PORT)`);
  }
  if (u.protocol !== 'http:') {
    throw new EstuaryError('ERR_CONFIG', `upstream "${url}": only http:// upstreams are pulled from`);
  }
  if (u.search || u.hash || u.username || u.password) {
    throw new EstuaryError(
      'ERR_CONFIG',
      'the upstream URL takes no query, fragment or credentials: each viewer query goes upstream with its pull',
    );
  }
  return url.replace(/\/+$/, '');
}

/** What differs when the edge runs as one of several workers (src/cluster/). */
export interface EdgeOptions {
  /** GET /api/streams answers for every worker: this one's `describe()` is one part of it. */
  readonly gather?: () => Promise<unknown>;
  /** In a `--workers` worker: its link to the primary (the accept valve, cluster/accept-valve.ts). */
  readonly link?: PrimaryLink;
}

export class Edge {
  readonly hub: StreamHub;
  /** What every play goes through before the hub (access rules, callbacks, limits). */
  readonly admission = new Admission();
  /**
   * The play rules and callbacks (on_play, on_stop) for the edge's own viewers. Each viewer's query
   * also goes up with its pull, but one pull serves every viewer of a stream, so the edge checks
   * its later viewers itself when it has the play settings.
   */
  readonly guard: AccessGuard;
  readonly source: UpstreamSource;
  private readonly live: LiveHttpServer;
  private readonly meter = new ConnectionMeter();
  /** The origin's per-stream figures (bitrate, fps, clients), so /api/streams reads the same. */
  private readonly streamStats: StreamStats;
  private readonly upstream: string;
  private statsTimer: NodeJS.Timeout | undefined;
  private last = { at: 0, bytesIn: 0, bytesOut: 0 };
  private started = false;
  /** In a `--workers` worker: stops accepting while this worker holds maxConnections. */
  private readonly valve: AcceptValve | undefined;
  /** The port's accept lanes (net/accept-lanes.ts), made once it listens. */
  private readonly lanes: ServerLanes<'edge'>;
  /** Bounds passed (connections, heads, viewers…), counted for /metrics. */
  readonly limitHits: LimitHits;
  /** `GET /metrics` on the edge's port: this edge's own registry. */
  readonly metrics: Registry;

  constructor(
    public config: EdgeConfig,
    private readonly log: Logger,
    options: EdgeOptions = {},
  ) {
    this.limitHits = new LimitHits(log.child({ component: 'limits' }));
    this.upstream = checkUpstream(config.upstream);
    const gather = options.gather;
    this.hub = new StreamHub(log.child({ component: 'hub' }), {
      maxBytes: config.gopCacheMaxBytes,
      maxDurationMs: config.gopCacheMaxMs,
    });
    this.source = new UpstreamSource(
      this.hub,
      {
        upstream: this.upstream,
        reconnectInitialMs: config.reconnectInitialMs,
        reconnectMaxMs: Math.max(config.reconnectMaxMs, config.reconnectInitialMs),
        giveUpMs: config.giveUpMs,
        idleReleaseMs: config.idleReleaseMs,
        stallTimeoutMs: config.stallTimeoutMs,
        connectTimeoutMs: config.upstreamConnectTimeoutMs,
        maxTagBytes: config.maxMessageBytes,
      },
      log,
    );
    this.hub.setSource(this.source);
    this.guard = new AccessGuard(config, log.child({ component: 'auth' }));
    this.guard.install(this.admission, this.hub);
    this.streamStats = new StreamStats(this.hub);
    const budget: ViewerBudget = viewerBudget(config, workerCount(config.workers));
    this.metrics = createMetricsRegistry();
    const routes = new Router()
      .get('/api/streams', async (_req, res) => sendJson(res, 200, gather ? await gather() : this.describe()))
      .get('/healthz', (_req, res) => sendJson(res, 200, { ok: true }))
      .get('/metrics', metricsHandler(this.metrics));
    this.admission.use(
      streamLimitsStep(this.hub, () => ({ ...this.config, maxPublishers: 0 }), this.limitHits),
    );
    this.live = new LiveHttpServer({
      admission: this.admission,
      hub: this.hub,
      log,
      budget,
      maxTagBytes: config.maxMessageBytes,
      // Nobody publishes to an edge; the live port's publish bound is unused.
      idleTimeoutMs: 30_000,
      publish: false,
      routes,
      sourceWaitMs: config.upstreamWaitMs,
      headersTimeoutMs: config.headersTimeoutMs,
      maxHeaderBytes: config.maxHeaderBytes,
      wsViewerMaxMessageBytes: config.wsViewerMaxMessageBytes,
      limits: this.limitHits,
    });
    this.meter.watch(this.live.server);
    this.lanes = new ServerLanes(log, 'edge', ['edge'], () => this.config);
    const valve = acceptValve(options.link, {
      server: this.live.server,
      port: 'edge',
      log,
      maxConnections: () => this.config.maxConnections,
      at: this.listenAt,
      onListening: this.lanes.follow('edge'),
    });
    this.valve = valve;
    new ConnectionGuard(this.live.server, {
      name: 'edge',
      log,
      limits: () => this.config,
      hits: this.limitHits,
      refusal: FULL,
      closeLog: 'info',
      valve,
    });
    registerServerMetrics(this.metrics, {
      hub: this.hub,
      ports: { edge: this.meter },
      limits: this.limitHits,
      admission: this.admission,
    });
    registerUpstreamMetrics(this.metrics, this.source);
  }

  /**
   * Applies what can change while running (bounds, log level) from a re-read configuration
   * (SIGHUP), and logs each other changed setting as needing a restart.
   */
  reconfigure(next: EdgeConfig): { applied: (keyof EdgeConfig)[]; restart: (keyof EdgeConfig)[] } {
    const r = reloadSettings(EDGE_SETTINGS, this.config, next, EDGE_LIVE_SETTINGS, this.log);
    this.config = r.config;
    this.log.level = r.config.debug ? 'debug' : r.config.logLevel;
    this.live.server.headersTimeout = r.config.headersTimeoutMs;
    if (EDGE_AUTH_SETTINGS.some((k) => r.applied.includes(k))) this.guard.reload(r.config);
    if (r.applied.includes('maxConnections')) this.lanes.refit();
    return { applied: r.applied, restart: r.restart };
  }

  private get listenAt(): ListenAt {
    return { port: this.config.port, host: this.config.host, accept: this.config.workerAccept };
  }

  /** Listens; resolves with the port bound (0 in the config = any free port). */
  async start(): Promise<number> {
    const { host } = this.config;
    const server = this.live.server;
    // In a `--workers` worker, maybe its own SO_REUSEPORT socket (cluster/accept-mode.ts).
    const port = await listenPortAsync(server, this.listenAt);
    // A ramp of viewers outruns one accept per loop iteration while the fan-out holds the loop.
    await this.lanes.start({ edge: { server, socket: HTTP_SOCKET } });
    this.started = true;
    const urls = reachableHosts(host).map((h) => `http://${h}:${port}/live/stream.flv`);
    this.log.info(
      { proto: 'edge', host, port, upstream: this.upstream, id: this.source.id, urls },
      `FLV edge (HTTP-FLV and WebSocket-FLV play) pulling from ${this.upstream}: ${urls.join('  ')}`,
    );
    this.last = { at: Date.now(), bytesIn: 0, bytesOut: 0 };
    this.streamStats.start();
    if (this.config.statsIntervalMs > 0) {
      this.statsTimer = setInterval(() => this.logStats(), this.config.statsIntervalMs);
      this.statsTimer.unref();
    }
    return port;
  }

  /** Ends every pull (its viewers are ended cleanly) and closes the port. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.valve?.stop();
    this.lanes.close();
    clearInterval(this.statsTimer);
    this.streamStats.stop();
    this.source.close('edge shutting down');
    this.live.close();
    await Promise.race([this.guard.drain(), new Promise((r) => setTimeout(r, 2000).unref())]);
    this.log.info('stopped');
  }

  stats(): EdgeStats {
    const pulls: Record<PullState, number> = { connecting: 0, live: 0, reconnecting: 0 };
    for (const p of this.source.stats()) pulls[p.state]++;
    const live = this.hub.list().filter((s) => s.isLive);
    return {
      upstream: this.upstream,
      streams: live.length,
      viewers: live.reduce((n, s) => n + s.viewerCount, 0),
      connections: this.meter.connections,
      bytesIn: this.source.bytesIn,
      bytesOut: this.meter.bytesOut,
      pulls,
    };
  }

  /**
   * `GET /api/streams`: the stats line's figures, and each live stream as the origin's API shows
   * it (stream-info.ts: tracks, bitrate, bytes, viewers by protocol with their total), with its
   * pull (upstream URL without the query, state, reconnects, bytes).
   */
  describe(): unknown {
    const pulls = new Map(this.source.stats().map((p) => [p.path, p]));
    return {
      edge: { id: this.source.id, ...this.stats() },
      streams: this.hub
        .list()
        .filter((s) => s.isLive)
        .sort((a, b) => a.path.localeCompare(b.path))
        .map((s) => {
          const p = pulls.get(s.path);
          return {
            ...streamInfo(s, this.streamStats, false),
            upstream: p && {
              url: p.url,
              state: p.state,
              reconnects: p.reconnects,
              bytesIn: p.bytesIn,
              since: new Date(p.since).toISOString(),
            },
          };
        }),
    };
  }

  private logStats(): void {
    const st = this.stats();
    const now = Date.now();
    const secs = Math.max(0.001, (now - this.last.at) / 1000);
    const mbps = (bytes: number) => ((bytes * 8) / secs / 1e6).toFixed(2);
    const inRate = mbps(st.bytesIn - this.last.bytesIn);
    const outRate = mbps(st.bytesOut - this.last.bytesOut);
    this.last = { at: now, bytesIn: st.bytesIn, bytesOut: st.bytesOut };
    const states = Object.entries(st.pulls)
      .filter(([, n]) => n > 0)
      .map(([state, n]) => `${n} ${state}`)
      .join(', ');
    this.log.info(
      { proto: 'edge', ...st, inMbps: Number(inRate), outMbps: Number(outRate) },
      `stats: ${st.streams} streams, ${st.viewers} viewers, in ${inRate} Mbit/s, out ${outRate} Mbit/s, upstream ${states || 'idle'}`,
    );
  }
}
