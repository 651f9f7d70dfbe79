import type { Server as NetServer, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AccessGuard } from '../auth/guard.js';
import { type ListenAt, listenPortAsync } from '../cluster/accept-mode.js';
import { type AcceptValve, acceptValve } from '../cluster/accept-valve.js';
import { workerCount } from '../cluster/worker-count.js';
import type { PrimaryLink } from '../cluster/worker-link.js';
import { reloadSettings } from '../config/reload.js';
import { SERVE_SETTINGS, type ServeConfig } from '../config/schema.js';
import { ConnectionMeter } from '../http/api/connection-meter.js';
import type { ServerInfo } from '../http/api/server.js';
import { StreamStats } from '../http/api/stream-stats.js';
import type { StreamsApiOptions } from '../http/api/streams.js';
import { createMetricsRegistry, registerServerMetrics } from '../http/metrics.js';
import { WebServer, type WebServerOptions } from '../http/web-server.js';
import { listPushStreamApi } from '../http-flv/list-push-stream.js';
import { LiveHttpServer } from '../http-flv/live-server.js';
import { Admission } from '../hub/admission.js';
import { streamLimitsStep } from '../hub/admission-limits.js';
import { StreamHub } from '../hub/stream-hub.js';
import { type ViewerBudget, viewerBudget } from '../hub/viewer.js';
import { ConnectionGuard, HTTP_FULL as FULL } from '../net/connection-guard.js';
import { LimitHits } from '../net/limit-hits.js';
import { HTTP_SOCKET, NET_SOCKET, ServerLanes } from '../net/port-lanes.js';
import { flvRecorderFactory } from '../record/flv/from-stream.js';
import { mp4RecorderFactory } from '../record/fmp4/from-stream.js';
import { hlsRecorderFactory } from '../record/hls/from-stream.js';
import type { RecorderFactory } from '../record/recorder.js';
import { RecordingManager } from '../record/recording-manager.js';
import { RtmpServer } from '../rtmp/server.js';
import { reachableHosts } from '../util/reachable-hosts.js';

/** Every recording the origin can make; each is switched by its `record.*` toggle. */
const RECORDERS: readonly RecorderFactory[] = [flvRecorderFactory, hlsRecorderFactory, mp4RecorderFactory];

/**
 * Settings `reconfigure` (SIGHUP) applies to a running origin; any other that changed is logged
 * as needing a restart. Auth and callback settings join this list where they are wired.
 */
export const LIVE_SETTINGS: readonly (keyof ServeConfig)[] = [
  'logLevel',
  'maxConnections',
  'maxConnectionsPerAddress',
  'maxPublishers',
  'maxViewersPerStream',
  'headersTimeoutMs',
  'keepAliveTimeoutMs',
  'shutdownTimeoutMs',
];

/**
 * What the access guard takes anew on a reload (AccessGuard.reload): credentials, address lists
 * and callbacks; publishes and plays under way keep what admitted them.
 */
const AUTH_LIVE_SETTINGS: readonly (keyof ServeConfig)[] = [
  'authSecret',
  'authPlay',
  'authNmsMd5',
  'authKeys',
  'authPlayKeys',
  'authPublishAllow',
  'authPublishDeny',
  'authPlayAllow',
  'authPlayDeny',
  'onPublish',
  'onUnpublish',
  'onPlay',
  'onStop',
  'onRecordDone',
  'callbackTimeoutMs',
  'callbackRetries',
];

export interface OriginPorts {
  rtmp: number;
  http: number;
  web: number;
}

/** What differs when the origin runs as one of several workers (src/cluster/). */
export interface OriginOptions {
  /** Crash recovery at start (default on); a worker leaves it to the primary, which ran it once. */
  readonly recover?: boolean;
  /** GET /api/streams answers the sum over every worker. */
  readonly gatherStreams?: StreamsApiOptions['gather'];
  /** The admin API ends a publish held by another worker. */
  readonly endElsewhere?: StreamsApiOptions['endElsewhere'];
  /** GET /api/server and /metrics answer for every worker together. */
  readonly gatherServer?: WebServerOptions['gatherServer'];
  readonly gatherMetrics?: WebServerOptions['gatherMetrics'];
  /** In a `--workers` worker: its link to the primary (the accept valves, cluster/accept-valve.ts). */
  readonly link?: PrimaryLink;
}

/** Completes the recordings a crash left unfinished under the data directory (before accepting). */
export function recoverRecordings(config: ServeConfig, log: Logger): Promise<void> {
  return recordingManager(new StreamHub(log), config, log).recover();
}

/**
 * Completes the recordings of `paths` that a worker which died left unfinished (the primary of
 * `--workers N`; see RecordingManager.recoverStreams).
 */
export function recoverStreamRecordings(
  config: ServeConfig,
  log: Logger,
  paths: readonly string[],
): { moved: Promise<void>; done: Promise<void> } {
  return recordingManager(new StreamHub(log), config, log).recoverStreams(paths);
}

function recordingManager(hub: StreamHub, config: ServeConfig, log: Logger): RecordingManager {
  return new RecordingManager(
    hub,
    RECORDERS,
    {
      dataDir: config.dataDir,
      enabled: config.record,
      segmentSeconds: config.segmentSeconds,
      hlsWindow: config.hlsWindow,
      hlsGraceSeconds: config.hlsGraceSeconds,
      hlsCleanup: config.hlsCleanup,
    },
    log.child({ component: 'record' }),
  );
}

/**
 * `estuary serve`: the origin. Wires the hub to its ingest and play servers (and, as they land,
 * its recorders); owns nothing else.
 */
/** The origin's listening ports, by their names in logs and metrics. */
const ORIGIN_PORTS = ['rtmp', 'http', 'web'] as const;
type OriginPort = (typeof ORIGIN_PORTS)[number];

export class Origin {
  readonly hub: StreamHub;
  /**
   * What every publish and play goes through before the hub (access rules, callbacks, limits,
   * the workers' claim on a name): the same for RTMP, HTTP-FLV and WebSocket-FLV.
   */
  readonly admission = new Admission();
  /** Access rules and HTTP callbacks (none configured: nothing in the admission). */
  readonly guard: AccessGuard;
  private readonly rtmp: RtmpServer;
  private readonly live: LiveHttpServer;
  private readonly web: WebServer;
  readonly recordings: RecordingManager;
  /** Per-stream bitrate, frame rate and history for the API (a 1 s sampler). */
  readonly stats: StreamStats;
  private ports: OriginPorts | undefined;
  private started = false;
  /** In a `--workers` worker: one per port (cluster/accept-valve.ts). */
  private readonly valves: AcceptValve[] = [];
  /** The live port's bounds (also what a worker's private port is served through, uncounted). */
  private readonly liveGuard: ConnectionGuard;
  /** Each port's accept lanes (net/accept-lanes.ts; the three share them), made once it listens. */
  private readonly lanes: ServerLanes<OriginPort>;
  /** Bounds passed (connections, heads, handshakes, publishers, viewers…), counted for /metrics. */
  readonly limitHits: LimitHits;
  /** `GET /metrics` on the web port: this origin's own registry. */
  readonly metrics: Registry;
  /** Loggers whose level a reload sets along with the root's (pino children keep theirs). */
  private readonly componentLogs: Logger[] = [];
  private readonly reconfigureHooks: {
    keys: readonly (keyof ServeConfig)[];
    apply: (config: ServeConfig) => void;
  }[] = [];

  constructor(
    public config: ServeConfig,
    private readonly log: Logger,
    private readonly options: OriginOptions = {},
  ) {
    this.limitHits = new LimitHits(this.component('limits'));
    const hits = this.limitHits;
    this.hub = new StreamHub(this.component('hub'), {
      maxBytes: config.gopCacheMaxBytes,
      maxDurationMs: config.gopCacheMaxMs,
    });
    // Read at each request, so a reload applies to the next publish or play.
    this.admission.use(streamLimitsStep(this.hub, () => this.config, hits));
    // Signed URLs, stream keys, address lists, callbacks: one admission step for every protocol.
    this.guard = new AccessGuard(config, this.component('auth'));
    this.guard.install(this.admission, this.hub);
    // Auth keys, address lists and callbacks change live on a reload (SIGHUP).
    this.onReconfigure(AUTH_LIVE_SETTINGS, (next) => this.guard.reload(next));
    const budget: ViewerBudget = viewerBudget(config, workerCount(config.workers));
    this.rtmp = new RtmpServer({
      hub: this.hub,
      admission: this.admission,
      log,
      budget,
      maxMessageBytes: config.maxMessageBytes,
      idleTimeoutMs: config.idleTimeoutMs,
      playWaitTimeoutMs: config.playWaitTimeoutMs,
      handshakeTimeoutMs: config.rtmpHandshakeTimeoutMs,
      limits: hits,
    });
    this.stats = new StreamStats(this.hub);
    this.live = new LiveHttpServer({
      hub: this.hub,
      admission: this.admission,
      log,
      budget,
      maxTagBytes: config.maxMessageBytes,
      idleTimeoutMs: config.idleTimeoutMs,
      api: listPushStreamApi(this.hub, this.stats),
      headersTimeoutMs: config.headersTimeoutMs,
      maxHeaderBytes: config.maxHeaderBytes,
      wsViewerMaxMessageBytes: config.wsViewerMaxMessageBytes,
      limits: hits,
    });
    this.metrics = createMetricsRegistry();
    const meters = {
      rtmp: new ConnectionMeter().watch(this.rtmp.server),
      http: new ConnectionMeter().watch(this.live.server),
    };
    this.web = new WebServer({
      hub: this.hub,
      log: this.component('web'),
      dataDir: config.dataDir,
      stats: this.stats,
      adminToken: config.adminToken,
      ...(config.authFiles ? { checkFile: this.guard.checkFile.bind(this.guard) } : {}),
      meters,
      ports: () => this.ports,
      gatherStreams: options.gatherStreams,
      endElsewhere: options.endElsewhere,
      gatherServer: options.gatherServer,
      gatherMetrics: options.gatherMetrics,
      metrics: this.metrics,
      headersTimeoutMs: config.headersTimeoutMs,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      maxHeaderBytes: config.maxHeaderBytes,
      limits: hits,
    });
    const limits = () => this.config;
    this.lanes = new ServerLanes(log, 'origin', ORIGIN_PORTS, () => this.config);
    // In a `--workers` worker, a port where this worker holds maxConnections stops accepting
    // here while another worker has room (cluster/accept-valve.ts).
    const valveFor = (server: NetServer, port: OriginPort) => {
      const valve = acceptValve(options.link, {
        server,
        port,
        log,
        maxConnections: () => this.config.maxConnections,
        at: this.listenAt(port),
        onListening: this.lanes.follow(port),
      });
      if (valve) this.valves.push(valve);
      return valve;
    };
    // RTMP sessions log their own close line (with the connection id and app).
    new ConnectionGuard(this.rtmp.server, {
      name: 'rtmp',
      log,
      limits,
      hits,
      closeLog: false,
      valve: valveFor(this.rtmp.server, 'rtmp'),
    });
    this.liveGuard = new ConnectionGuard(this.live.server, {
      name: 'http',
      log,
      limits,
      hits,
      refusal: FULL,
      closeLog: 'info',
      valve: valveFor(this.live.server, 'http'),
    });
    // The web port's connections are many and short (pages, segments): their lines are debug.
    new ConnectionGuard(this.web.server, {
      name: 'web',
      log,
      limits,
      hits,
      refusal: FULL,
      closeLog: 'debug',
      valve: valveFor(this.web.server, 'web'),
    });
    this.recordings = recordingManager(this.hub, config, log);
    this.recordings.onRecordDone = (done) => this.guard.recordDone(done);
    registerServerMetrics(this.metrics, {
      hub: this.hub,
      ports: { ...meters, web: this.web.meter },
      limits: hits,
      admission: this.admission,
      recorderErrors: () => this.recordings.errors,
    });
  }

  /**
   * Serves a connection accepted elsewhere as the live port does (a worker's private loopback
   * port, which other workers pull from).
   */
  acceptLive(socket: Socket): void {
    this.liveGuard.admitInternal(socket);
  }

  /**
   * Makes `keys` changeable live: on a reload that changes any of them, `apply` is given the new
   * configuration (auth keys, callbacks: what their wiring knows how to swap).
   */
  onReconfigure(keys: readonly (keyof ServeConfig)[], apply: (config: ServeConfig) => void): void {
    this.reconfigureHooks.push({ keys, apply });
  }

  private component(name: string): Logger {
    const child = this.log.child({ component: name });
    this.componentLogs.push(child);
    return child;
  }

  /**
   * Applies a new configuration (SIGHUP re-read the file and the environment) to what can change
   * while running (LIVE_SETTINGS: the bounds, the log level; they take effect for the next
   * connection, request or publish), and logs each other changed setting as needing a restart.
   * Returns the settings applied and those that need a restart.
   */
  reconfigure(next: ServeConfig): { applied: (keyof ServeConfig)[]; restart: (keyof ServeConfig)[] } {
    const live = new Set<keyof ServeConfig>(LIVE_SETTINGS);
    for (const h of this.reconfigureHooks) for (const k of h.keys) live.add(k);
    // The log line is written before a new level applies, so a reload to `warn` is still told.
    const r = reloadSettings(SERVE_SETTINGS, this.config, next, live, this.log);
    const merged = r.config;
    this.config = merged;
    if (r.applied.includes('logLevel')) {
      this.log.level = merged.logLevel;
      for (const l of this.componentLogs) l.level = merged.logLevel;
    }
    this.live.server.headersTimeout = merged.headersTimeoutMs;
    this.web.server.headersTimeout = merged.headersTimeoutMs;
    this.web.server.keepAliveTimeout = merged.keepAliveTimeoutMs;
    for (const h of this.reconfigureHooks) {
      if (h.keys.some((k) => r.applied.includes(k))) h.apply(merged);
    }
    if (r.applied.includes('maxConnections')) this.lanes.refit();
    return { applied: r.applied, restart: r.restart };
  }

  private listenAt(port: OriginPort): ListenAt {
    const c = this.config;
    const number = port === 'rtmp' ? c.rtmpPort : port === 'http' ? c.httpPort : c.webPort;
    return { port: number, host: c.host, accept: c.workerAccept };
  }

  /** Listens on every port; resolves with the ports actually bound (0 in the config = any free port). */
  async start(): Promise<OriginPorts> {
    const { host } = this.config;
    // Finish what a crash left unfinished before a new publish can reuse its folders.
    if (this.options.recover !== false) await this.recordings.recover();
    // In a `--workers` worker, maybe each its own SO_REUSEPORT socket (cluster/accept-mode.ts).
    const rtmp = await listenPortAsync(this.rtmp.server, this.listenAt('rtmp'));
    const http = await listenPortAsync(this.live.server, this.listenAt('http'));
    const web = await listenPortAsync(this.web.server, this.listenAt('web'));
    this.ports = { rtmp, http, web };
    // A ramp of viewers outruns one accept per loop iteration while the fan-out holds the loop.
    await this.lanes.start({
      rtmp: { server: this.rtmp.server, socket: NET_SOCKET },
      http: { server: this.live.server, socket: HTTP_SOCKET },
      web: { server: this.web.server, socket: HTTP_SOCKET },
    });
    this.stats.start();
    this.started = true;
    const hosts = reachableHosts(host);
    const urls = (scheme: string, port: number, path: string) =>
      hosts.map((h) => `${scheme}://${h}:${port}${path}`);
    const announce = (proto: string, port: number, what: string, list: string[]) =>
      this.log.info({ proto, host, port, urls: list }, `${what}: ${list.join('  ')}`);
    announce('rtmp', rtmp, 'RTMP publish and play', urls('rtmp', rtmp, '/live/stream'));
    announce(
      'http-flv',
      http,
      'HTTP-FLV publish (POST) and play, WebSocket-FLV publish and play',
      urls('http', http, '/live/stream.flv'),
    );
    announce('web', web, 'web port (dashboard, players, recordings, JSON API)', urls('http', web, '/'));
    return { rtmp, http, web };
  }

  /**
   * Stops accepting, ends every publish (viewers are told, every recording is finalised) and
   * closes every connection; resolves once the recordings are complete on disk.
   */
  /** This process's own GET /api/server answer (with workers, its part of the server's). */
  describeServer(): ServerInfo {
    return this.web.describer.describe();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    for (const v of this.valves) v.stop();
    this.lanes.close();
    this.stats.stop();
    this.hub.kickAll('server shutting down');
    this.rtmp.close();
    this.live.close();
    await this.recordings.drain();
    // The last on_unpublish / on_record_done get a moment; a callback server that is down does
    // not hold the shutdown for its retries.
    await Promise.race([this.guard.drain(), new Promise((r) => setTimeout(r, 2000).unref())]);
    this.web.close();
    this.log.info('stopped');
  }
}
