/**
 * Every setting of every command, one declaration each (setting.ts derives flag, environment
 * name, config-file key, help line and validation from it). Defaults are CONTRACT.md's.
 */
import {
  type ConfigOf,
  choice,
  group,
  int,
  keyMap,
  listMap,
  num,
  optionalNum,
  optionalText,
  port,
  processCount,
  text,
  toggle,
} from './setting.js';

const KiB = 1024;
const MiB = 1024 * 1024;

/** Settings every server command has. */
export const COMMON_SETTINGS = {
  host: text('0.0.0.0', 'listen address', { arg: 'ADDR' }),
  logLevel: choice(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info', 'log level'),
  logFormat: choice(
    ['auto', 'pretty', 'json'],
    'auto',
    'log lines: readable on a terminal and JSON otherwise (auto), or always one of them',
  ),
} as const;

/**
 * `--workers N|auto`: one process per core. 1 (the default) is one process with no cluster code at
 * all; more forks that many workers sharing the ports (src/cluster/).
 */
const WORKERS = processCount(
  1,
  'worker processes sharing the ports (auto: one per core); 1 is a single process',
);

/** `--worker-accept`: how N workers share a port (src/cluster/accept-mode.ts, bench/RESULTS.md). */
const WORKER_ACCEPT = choice(
  ['auto', 'round-robin', 'shared', 'reuseport'],
  'auto',
  'with --workers: how workers share a port: each its own SO_REUSEPORT socket (reuseport, Node 22.12+), all accepting on one (shared), or the primary handing out connections (round-robin); auto: reuseport where Node has it, else shared',
  { arg: 'MODE' },
);

/**
 * Bounds against abuse every server port has (README "Limits that protect the server"). Each one
 * passed costs the one connection, is counted (/metrics `estuary_limit_hits_total{limit}`) and
 * logged at most once per 10 s per limit, with the count since.
 */
export const CONNECTION_LIMIT_SETTINGS = {
  // 19,500, not the 20,000 files a process may hold here: its accept lanes and a reserve must fit.
  maxConnections: int(
    19_500,
    'connections held at once on each port; more are refused (HTTP 503, RTMP closed)',
    { min: 1 },
    { flag: false },
  ),
  acceptLanes: int(
    256,
    'the most extra accept paths of the process, shared evenly by its listening ports (Node 20 accepts one connection per loop iteration and path; a busy server otherwise leaves new clients waiting in the kernel queue): 8 per port listen while connections come one at a time, more only while they queue; each is an open file, so maxConnections plus these must fit under ulimit -n (fewer are used, with a log line, when they do not); none in round-robin workers; 0: none',
    { min: 0, max: 1024 },
    { flag: false },
  ),
  maxConnectionsPerAddress: int(
    0,
    'connections held at once from one IP address on each port; 0: no bound (edges, NAT and load tests share addresses)',
    { min: 0 },
    { flag: false },
  ),
  headersTimeoutMs: int(
    30_000,
    'an HTTP request head (or WebSocket upgrade) must arrive within this, else 408 (slowloris), ms',
    { min: 1000 },
    { flag: false },
  ),
  maxHeaderBytes: int(
    16 * KiB,
    'largest HTTP request head, else 431',
    { min: 1 * KiB, max: 1 * MiB },
    { flag: false },
  ),
  shutdownTimeoutMs: int(
    10_000,
    'on SIGTERM/SIGINT, finalising recordings and closing connections may take this long; then the process exits anyway, ms',
    { min: 100 },
    { flag: false },
  ),
} as const;

/** Bounds of the ports that serve live viewers: the origin's live and RTMP ports, every edge's. */
export const PLAY_LIMIT_SETTINGS = {
  maxViewersPerStream: int(
    0,
    'viewers of one stream at once, all protocols together; more are refused (HTTP 503, RTMP NetStream.Play.Failed); 0: no bound',
    { min: 0 },
    { flag: false },
  ),
  wsViewerMaxMessageBytes: int(
    64 * KiB,
    'largest WebSocket message a WebSocket-FLV viewer may send (viewers only listen), else close 1009',
    { min: 125, max: 16 * MiB },
    { flag: false },
  ),
} as const;

/** How viewers are served and what a stream keeps for them: the origin's and every edge's. */
export const VIEWER_SETTINGS = {
  viewerMaxBufferedBytes: int(
    4 * MiB,
    'bytes a viewer may have queued before it skips to the next keyframe',
    { min: 64 * KiB },
    { flag: false },
  ),
  viewerStallTimeoutMs: int(
    15_000,
    'a viewer that cannot take data this long is closed, ms',
    { min: 1000 },
    {
      flag: false,
    },
  ),
  fanoutWritesPerMs: int(
    32,
    'writes per ms a large audience of one stream is held near (frames coalesce into fewer, larger writes); split between the --workers processes',
    { min: 1, max: 10_000 },
    { flag: false },
  ),
  gopCacheMaxBytes: int(32 * MiB, 'most bytes the GOP cache of a stream holds', { min: 0 }, { flag: false }),
  gopCacheMaxMs: int(30_000, 'longest span the GOP cache of a stream holds, ms', { min: 0 }, { flag: false }),
} as const;

/**
 * Who may play (and, on the origin, the secret publishing needs): the origin's and every edge's
 * (one pull serves every viewer of a stream, so an edge checks each viewer itself).
 */
export const PLAY_AUTH_SETTINGS = {
  authSecret: optionalText(
    'the secret of signed URLs (?sign=…, see estuary sign): publishing needs one, and with authPlay playing',
    { arg: 'SECRET', secret: true },
  ),
  authPlay: toggle(
    false,
    'playing needs a signed URL too (RTMP, HTTP-FLV, WebSocket-FLV; with authFiles, the recordings)',
  ),
  authNmsMd5: toggle(
    false,
    "also accept Node-Media-Server's ?sign={expires}-{md5} made with authSecret (MD5 is weaker: for migrating)",
  ),
  authPlayKeys: keyMap(
    'static play keys: APP=KEY or APP/STREAM=KEY, sent as ?key=, ?streamKey= or ?secret=',
    {
      secret: true,
    },
  ),
  authPlayAllow: listMap('viewers only from these addresses: APP=CIDR (APP * for every app; IPv4, IPv6)'),
  authPlayDeny: listMap('viewers never from these addresses: APP=CIDR (APP * for every app)'),
} as const;

/**
 * HTTP callbacks for viewers (nginx-rtmp / SRS names): the origin's and every edge's. The URLs may
 * carry a token of the callback server, so they are secrets (never printed).
 */
export const PLAY_CALLBACK_SETTINGS = {
  onPlay: optionalText(
    'POST JSON here before a play starts; a non-2xx answer or none within callbackTimeoutMs refuses the viewer',
    { arg: 'URL', secret: true },
  ),
  onStop: optionalText("POST JSON here when a viewer's connection ends (fire-and-forget, retried)", {
    arg: 'URL',
    secret: true,
  }),
  callbackTimeoutMs: int(3000, 'on_publish / on_play must answer within this, or the client is refused, ms', {
    min: 100,
    max: 60_000,
  }),
  callbackRetries: int(
    3,
    'a failed on_unpublish / on_stop / on_record_done is retried this many times (1 s, 2 s, 4 s, … apart)',
    { min: 0, max: 10 },
    { flag: false },
  ),
} as const;

/** `estuary serve`: the origin. */
export const SERVE_SETTINGS = {
  ...COMMON_SETTINGS,
  workers: WORKERS,
  workerAccept: WORKER_ACCEPT,
  rtmpPort: port(1935, 'RTMP publish and play'),
  httpPort: port(8501, 'HTTP-FLV publish (POST) and play, WebSocket-FLV publish and play'),
  webPort: port(8000, 'web port: dashboard and players, recordings, JSON API'),
  dataDir: text('./data', 'recordings (and crash recovery) live here', { arg: 'DIR' }),
  record: group('recording toggles (config file: record: {flv, hls, mp4})', {
    flv: toggle(true, 'FLV recording (flv/{app}/{stream}/YYYYMMDD_HHMMSS.flv)'),
    hls: toggle(true, 'HLS recording (hls/{app}/{stream}/index.m3u8 + .ts)'),
    mp4: toggle(true, 'fMP4 and complete-MP4 recording (mp4/{app}/{stream}/…)'),
  }),
  segmentSeconds: num(
    2,
    'HLS and fMP4 segment target duration, s (cut at the first keyframe after it)',
    { min: 0.5, max: 60 },
    { aliases: ['hlsSegmentSeconds'] },
  ),
  hlsWindow: int(6, 'segments in the live HLS playlist; 0 keeps every segment', { min: 0 }),
  hlsGraceSeconds: optionalNum(
    'seconds a segment stays after leaving the live window (default: RFC 8216 6.2.2 minimum)',
    { min: 0, max: 3600 },
  ),
  hlsCleanup: toggle(
    false,
    "delete HLS segments that left the live window (nginx-rtmp's hls_cleanup); off: every segment stays and the ended playlist lists them all (VOD)",
  ),
  ...PLAY_AUTH_SETTINGS,
  authFiles: toggle(
    false,
    "the web port's /hls/, /mp4/ and /flv/ recordings need the play credentials of their stream (authPlay's ?sign=, play keys, play address lists)",
  ),
  authKeys: keyMap(
    "static publish keys: APP=KEY or APP/STREAM=KEY (a stream's own wins); the publisher sends ?key=, ?streamKey= or ?secret=",
    { secret: true },
  ),
  authPublishAllow: listMap(
    'publishers only from these addresses: APP=CIDR (APP * for every app; IPv4, IPv6)',
  ),
  authPublishDeny: listMap('publishers never from these addresses: APP=CIDR (APP * for every app)'),
  onPublish: optionalText(
    'POST JSON here before a publish starts; non-2xx or no answer refuses it, a 3xx Location renames the stream',
    { arg: 'URL', secret: true },
  ),
  onUnpublish: optionalText('POST JSON here when a publish ends (fire-and-forget, retried)', {
    arg: 'URL',
    secret: true,
  }),
  onRecordDone: optionalText('POST JSON here when a recording is complete on disk, with its files', {
    arg: 'URL',
    secret: true,
  }),
  ...PLAY_CALLBACK_SETTINGS,
  adminToken: optionalText(
    'admin API (DELETE /api/streams/{app}/{stream}) needs Authorization: Bearer TOKEN; unset: admin API off',
    { arg: 'TOKEN', secret: true },
  ),
  ...VIEWER_SETTINGS,
  ...CONNECTION_LIMIT_SETTINGS,
  ...PLAY_LIMIT_SETTINGS,
  maxPublishers: int(
    1000,
    'streams published at once; more are refused (HTTP 503, RTMP NetStream.Publish.BadName); 0: no bound',
    { min: 0 },
    { flag: false },
  ),
  rtmpHandshakeTimeoutMs: int(
    10_000,
    'an RTMP connection must complete its handshake within this, else it is closed, ms',
    { min: 1000 },
    { flag: false },
  ),
  keepAliveTimeoutMs: int(
    5000,
    "an idle kept-alive connection on the web port is closed after this (node:http's default), ms",
    { min: 1000 },
    { flag: false },
  ),
  idleTimeoutMs: int(
    30_000,
    'a publisher that completes no message (RTMP) or tag (HTTP-FLV, WebSocket-FLV) this long, or an RTMP connection that neither publishes nor plays, is closed, ms',
    { min: 1000 },
    { flag: false },
  ),
  playWaitTimeoutMs: int(
    0,
    'an RTMP player waiting this long for a stream nobody publishes is told NetStream.Play.StreamNotFound and closed; 0 waits for ever, ms',
    { min: 0 },
    { flag: false },
  ),
  maxMessageBytes: int(
    8 * MiB,
    'largest RTMP message / FLV tag a publisher may send',
    { min: 64 * KiB, max: 64 * MiB },
    { flag: false },
  ),
} as const;

export type ServeConfig = ConfigOf<typeof SERVE_SETTINGS>;

/** `estuary file-gateway [HOST] [PORT]`: recordings and pages, for many HLS/MP4 viewers. */
export const FILES_SETTINGS = {
  ...COMMON_SETTINGS,
  workers: WORKERS,
  workerAccept: WORKER_ACCEPT,
  port: port(8100, 'listen port (also the second argument)'),
  root: text('./data', "the directory served: the origin's data directory", { arg: 'DIR' }),
  dir: toggle(false, 'directory listings (off: a directory without index.html is 403)'),
  accessLog: text('-', "access log in the combined format: '-' for stdout, a file path, or 'off'", {
    arg: 'FILE',
  }),
  ...CONNECTION_LIMIT_SETTINGS,
  maxConnections: int(19_500, 'connections held at once; more are refused (503) with a log line', { min: 1 }),
  headersTimeoutMs: int(
    10_000,
    'a request head must arrive within this, else 408 (slowloris), ms',
    { min: 1000 },
    {
      flag: false,
    },
  ),
  keepAliveTimeoutMs: int(
    30_000,
    'an idle kept-alive connection is closed after this, ms',
    { min: 1000 },
    {
      flag: false,
    },
  ),
  idleTimeoutMs: int(
    60_000,
    'a connection that moves no bytes either way for this long is closed, ms (a reader that stopped)',
    { min: 1000 },
    { flag: false },
  ),
  maxHeaderBytes: int(
    16 * KiB,
    'largest request head; a larger one gets 431',
    { min: 1024, max: MiB },
    {
      flag: false,
    },
  ),
  cacheBytes: int(
    256 * MiB,
    'memory for the one shared copy of hot small files (segments, playlists); 0: off',
    { min: 0 },
    { arg: 'BYTES' },
  ),
  blockCacheBytes: int(
    256 * MiB,
    'memory for blocks of the larger files (a full MP4, an FLV) that their downloads and Range requests share; 0: read per request',
    { min: 0 },
    { arg: 'BYTES' },
  ),
  cacheFileBytes: int(
    8 * MiB,
    'files up to this size are kept in memory; larger ones (full MP4, FLV) stream from the disk',
    { min: 0 },
    { flag: false },
  ),
  restatMs: int(
    250,
    'what a path resolves to (stat, real path) is reused this long; a rewritten playlist is seen within it, ms',
    { min: 0, max: 1000 },
    { flag: false },
  ),
} as const;

export type FilesConfig = ConfigOf<typeof FILES_SETTINGS>;

/** `estuary flv-gateway PORT UPSTREAM_URL`: an FLV edge tier. */
export const EDGE_SETTINGS = {
  ...COMMON_SETTINGS,
  workers: WORKERS,
  workerAccept: WORKER_ACCEPT,
  port: port(8080, 'listen port: HTTP-FLV and WebSocket-FLV play, /api/streams (also the first argument)'),
  upstream: optionalText(
    'the origin or edge to pull from, http://HOST:PORT (also the second argument); a path prefix is kept',
    { arg: 'URL' },
  ),
  debug: toggle(false, 'detailed logs (the same as --log-level debug)'),
  reconnectInitialMs: int(250, 'first reconnect to a lost upstream after this; the delay doubles, ms', {
    min: 10,
    max: 60_000,
  }),
  reconnectMaxMs: int(1000, 'longest delay between reconnects, ms', { min: 10, max: 600_000 }),
  giveUpMs: int(
    30_000,
    'viewers stay connected this long while the upstream is gone, then are closed cleanly, ms',
    { min: 100 },
  ),
  idleReleaseMs: int(10_000, 'the pull of a stream is released this long after its last viewer left, ms', {
    min: 0,
  }),
  stallTimeoutMs: int(10_000, 'an upstream that sends nothing this long is lost (and reconnected), ms', {
    min: 100,
  }),
  upstreamConnectTimeoutMs: int(
    5000,
    'connecting to the upstream and its response head may take this long, ms',
    { min: 100 },
    { flag: false },
  ),
  upstreamWaitMs: int(
    10_000,
    "a viewer of a stream the edge does not have yet waits this long for the upstream's first frame, then 404, ms",
    { min: 100 },
    { flag: false },
  ),
  statsIntervalMs: int(10_000, 'a stats line this often; 0: none, ms', { min: 0 }),
  ...PLAY_AUTH_SETTINGS,
  ...PLAY_CALLBACK_SETTINGS,
  ...VIEWER_SETTINGS,
  ...CONNECTION_LIMIT_SETTINGS,
  ...PLAY_LIMIT_SETTINGS,
  maxMessageBytes: int(
    8 * MiB,
    'largest FLV tag accepted from the upstream',
    { min: 64 * KiB, max: 64 * MiB },
    { flag: false },
  ),
} as const;

export type EdgeConfig = ConfigOf<typeof EDGE_SETTINGS>;

/** `estuary convert INPUT OUTPUT`: one media file to another, offline (no server). */
export const CONVERT_SETTINGS = {
  input: optionalText('the file to read: FLV or MP4/MOV (also the first argument)', { arg: 'FILE' }),
  output: optionalText(
    'the file to write, its format by its name: .mp4, .flv or .m3u8 (also the second argument)',
    {
      arg: 'FILE',
    },
  ),
  segmentSeconds: num(2, 'target segment duration of HLS and fragmented MP4 output, s', {
    min: 0.1,
    max: 3600,
  }),
  fragmented: toggle(
    false,
    'fragmented MP4 for an .mp4 OUTPUT (moof + mdat per segment) instead of fast start',
  ),
  fmp4: toggle(false, 'fMP4 segments for an .m3u8 OUTPUT (EXT-X-MAP) instead of MPEG-TS'),
  force: toggle(
    false,
    'replacing an existing OUTPUT (without it, an existing OUTPUT is an error); an .m3u8 also loses the old segments the new playlist does not name',
  ),
} as const;

export type ConvertConfig = ConfigOf<typeof CONVERT_SETTINGS>;
