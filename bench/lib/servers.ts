import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { descendants } from './proc-stats.js';
import type { ProcessGroup } from './processes.js';

export type ServerKind = 'estuary' | 'nms' | 'nginx';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/**
 * The checkout whose compiled server (origin, edge) runs: this one, or ESTUARY_BENCH_CHECKOUT
 * (another worktree, built), so two builds are measured by the same harness and load client.
 */
const CHECKOUT = process.env.ESTUARY_BENCH_CHECKOUT || ROOT;
const HOST = '127.0.0.1';
const NGINX = '/usr/sbin/nginx';
const NGINX_RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

export interface ServerUnderTest {
  kind: ServerKind;
  version: string;
  child: ChildProcess;
  pid: number;
  /** The ports it listens on (Estuary: a restart on the same ports reuses them). */
  ports: { rtmp: number; http: number; web: number };
  /** `http://127.0.0.1:PORT`: what an edge pulls from (Estuary and NMS). */
  httpBase: string;
  /** Estuary's JSON API of live streams (web port), or undefined. */
  apiUrl: string | undefined;
  rtmpUrl(stream: string): string;
  /** HTTP-FLV play URL, or undefined when the server has none (nginx-rtmp). */
  httpFlvUrl(stream: string): string | undefined;
  wsFlvUrl(stream: string): string | undefined;
  /** Where the server writes recordings. */
  dataDir: string;
}

export interface StartOptions {
  /** Recorders on (Estuary: FLV, HLS, MP4; NMS: its FLV recorder). */
  record: boolean;
  /** Extra arguments for Estuary (e.g. a future --workers). */
  extraArgs?: string[];
  /** Extra arguments for node when the server is a Node process (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Listen on these ports (a restart of a server that was killed), else on free ones. */
  ports?: { rtmp: number; http: number; web: number };
  /** nginx-rtmp's worker_processes (`--server-workers`); default 1. */
  nginxWorkers?: number;
}

/** Why a server cannot run here, or undefined when it can. */
export function unavailable(kind: ServerKind): string | undefined {
  if (kind === 'nginx' && (!existsSync(NGINX) || !existsSync(NGINX_RTMP_MODULE))) {
    return 'skipped: nginx not installed (apt-get install -y nginx-light libnginx-mod-rtmp)';
  }
  if (kind === 'nms' && !resolveNms()) return 'skipped: node-media-server not installed (npm ci)';
  return undefined;
}

function resolveNms(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('node-media-server/package.json');
  } catch {
    return undefined;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, HOST, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts on host:port; rejects after `timeoutMs`. */
export async function waitListening(port: number, child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode} while starting`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: HOST, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`server did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * With `--workers N` the ports accept as soon as the first worker listens: wait until the primary
 * has its N workers, and a moment more for the last to listen (the compiled server starts in well
 * under a second), so that a ramp does not land on one worker alone.
 */
async function waitWorkers(child: ChildProcess, args: readonly string[] = []): Promise<void> {
  const i = args.indexOf('--workers');
  const n = i >= 0 ? Number(args[i + 1]) : 1;
  if (!(n > 1) || child.pid === undefined) return;
  const until = Date.now() + 20_000;
  while (descendants(child.pid).length < n) {
    if (Date.now() > until) throw new Error(`the server did not start ${n} workers within 20 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 1500));
}

export async function startServer(
  group: ProcessGroup,
  kind: ServerKind,
  opts: StartOptions,
): Promise<ServerUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), `estuary-bench-${kind}-`));
  const rtmp = opts.ports?.rtmp ?? (await freePort());
  const http = opts.ports?.http ?? (await freePort());
  const web = opts.ports?.web ?? (await freePort());
  let child: ChildProcess;
  let version: string;
  if (kind === 'estuary') {
    if (!existsSync(join(CHECKOUT, 'dist/cli/main.js')))
      throw new Error('dist/ is missing: run npm run build');
    version = (JSON.parse(readFileSync(join(CHECKOUT, 'package.json'), 'utf8')) as { version: string })
      .version;
    const rec = opts.record ? [] : ['--no-record-flv', '--no-record-hls', '--no-record-mp4'];
    const log = serverLog();
    child = group.spawn(
      process.execPath,
      [
        ...(opts.nodeArgs ?? []),
        join(CHECKOUT, 'bin/estuary.js'),
        ...['serve', '--host', HOST, '--rtmp-port', String(rtmp), '--http-port', String(http)],
        ...['--web-port', String(web), '--data-dir', join(dir, 'data'), '--log-level', 'warn'],
        ...rec,
        ...(opts.extraArgs ?? []),
      ],
      // ESTUARY_BENCH_SERVER_LOG=FILE keeps the server's log lines (with `--estuary-args
      // "--log-level info"`: the workers' valve pauses, to line up with a run's figures).
      { cwd: dir, stdio: ['ignore', log, 'inherit'] },
    );
    // The child has its own copy of the descriptor.
    if (typeof log === 'number') closeSync(log);
  } else if (kind === 'nms') {
    const pkg = resolveNms()!;
    version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
    const config = {
      bind: HOST,
      notify: { url: '' },
      store: { path: join(dir, 'store'), maxHistory: 100 },
      // One API user: the relay scenario logs in to create its pull task (NMS 4's relay is API-driven).
      auth: {
        play: false,
        publish: false,
        secret: 'bench',
        jwt: { secret: 'bench', users: [{ username: 'bench', password: 'bench', role: 'admin' }] },
      },
      rtmp: { port: rtmp },
      http: { port: http },
      webadmin: { enable: false },
      record: { auto: opts.record, path: join(dir, 'data') },
    };
    writeFileSync(join(dir, 'nms.json'), JSON.stringify(config));
    child = group.spawn(
      process.execPath,
      [...(opts.nodeArgs ?? []), join(pkg, '..', 'bin/app.js'), '-c', join(dir, 'nms.json')],
      {
        cwd: dir,
        // NMS logs every connection at debug level to stdout: discarded, as Estuary's warn level is.
        stdio: ['ignore', 'ignore', 'ignore'],
      },
    );
  } else {
    // nginx -v prints its version on stderr.
    version = spawnSync(NGINX, ['-v'], { encoding: 'utf8' }).stderr.trim().replace('nginx version: ', '');
    writeFileSync(join(dir, 'nginx.conf'), nginxConfig(rtmp, dir, opts.nginxWorkers ?? 1));
    // master_process off: one process, the one we spawn, so its /proc figures are the server's.
    child = group.spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
      cwd: dir,
    });
  }
  await waitListening(rtmp, child);
  if (kind !== 'nginx') await waitListening(http, child);
  if (kind === 'estuary') await waitWorkers(child, opts.extraArgs);
  const pid = child.pid!;
  return {
    kind,
    version,
    child,
    pid,
    ports: { rtmp, http, web },
    httpBase: `http://${HOST}:${http}`,
    apiUrl: kind === 'estuary' ? `http://${HOST}:${web}/api/streams` : undefined,
    dataDir: join(dir, 'data'),
    rtmpUrl: (s) => `rtmp://${HOST}:${rtmp}/live/${s}`,
    httpFlvUrl: (s) => (kind === 'nginx' ? undefined : `http://${HOST}:${http}/live/${s}.flv`),
    wsFlvUrl: (s) => (kind === 'nginx' ? undefined : `ws://${HOST}:${http}/live/${s}.flv`),
  };
}

/**
 * One worker: `master_process off`, so the process spawned is the server. More: a master and N
 * workers (the harness sums the process tree), with `rtmp_auto_push` — nginx-rtmp keeps a
 * stream inside the worker its publisher reached, and auto-push relays it to the other workers
 * over Unix sockets, so a viewer on any worker gets it (nginx-rtmp's multi-worker live mode).
 */
function nginxConfig(port: number, dir: string, workers: number): string {
  const multi = [
    // A root master runs its workers as nobody, who may not write the run directory.
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    'rtmp_auto_push on;',
    `rtmp_socket_dir ${dir};`,
  ];
  return `load_module ${NGINX_RTMP_MODULE};
daemon off;
master_process ${workers > 1 ? 'on' : 'off'};
worker_processes ${workers};
worker_rlimit_nofile 20000;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
${workers > 1 ? `${multi.join('\n')}\n` : ''}events { worker_connections 19900; }
rtmp {
  server {
    listen ${HOST}:${port};
    chunk_size 4096;
    application live { live on; record off; }
  }
}
`;
}

export interface EdgeUnderTest {
  child: ChildProcess;
  pid: number;
  port: number;
  /** `http://127.0.0.1:PORT`: what the next tier pulls from. */
  base: string;
  flvUrl(stream: string): string;
  wsFlvUrl(stream: string): string;
  apiUrl: string;
}

/**
 * `estuary flv-gateway PORT UPSTREAM` (compiled, like the origin), pulling from `upstream`
 * (`http://HOST:PORT` of an origin's live port or another edge). No stats lines: the harness
 * reads /api/streams itself.
 */
export async function startEdge(
  group: ProcessGroup,
  upstream: string,
  opts: { extraArgs?: string[]; nodeArgs?: string[] } = {},
): Promise<EdgeUnderTest> {
  if (!existsSync(join(CHECKOUT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run npm run build');
  const port = await freePort();
  const child = group.spawn(
    process.execPath,
    [
      ...(opts.nodeArgs ?? []),
      join(CHECKOUT, 'bin/estuary.js'),
      ...['flv-gateway', String(port), upstream, '--host', HOST, '--log-level', 'warn'],
      ...['--stats-interval-ms', '0'],
      ...(opts.extraArgs ?? []),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitListening(port, child);
  await waitWorkers(child, opts.extraArgs);
  const base = `http://${HOST}:${port}`;
  return {
    child,
    pid: child.pid!,
    port,
    base,
    flvUrl: (s) => `${base}/live/${s}.flv`,
    wsFlvUrl: (s) => `ws://${HOST}:${port}/live/${s}.flv`,
    apiUrl: `${base}/api/streams`,
  };
}

/**
 * Node-Media-Server as an edge: its relay (4.x, API-driven: log in, then POST /api/v1/relay)
 * pulls the stream over RTMP from `originRtmpUrl` into its own `/live/{stream}` and serves its
 * HTTP-FLV and WS-FLV viewers from there. NMS has no HTTP-FLV pull, so its relay is RTMP.
 */
export async function startNmsRelayEdge(
  group: ProcessGroup,
  originRtmpUrl: string,
  stream: string,
): Promise<EdgeUnderTest & { version: string }> {
  const nms = await startServer(group, 'nms', { record: false });
  const api = `${nms.httpBase}/api/v1`;
  const login = await fetch(`${api}/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'bench', password: 'bench' }),
  });
  const token = ((await login.json()) as { data?: { token?: string } }).data?.token;
  if (!login.ok || !token) throw new Error(`NMS login failed: HTTP ${login.status}`);
  const relay = await fetch(`${api}/relay`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({
      url: originRtmpUrl,
      mode: 'pull',
      streamPath: `/live/${stream}`,
      reconnect: true,
    }),
  });
  if (!relay.ok) throw new Error(`NMS relay task refused: HTTP ${relay.status} ${await relay.text()}`);
  return {
    child: nms.child,
    pid: nms.pid,
    port: nms.ports.http,
    base: nms.httpBase,
    flvUrl: (s) => nms.httpFlvUrl(s)!,
    wsFlvUrl: (s) => nms.wsFlvUrl(s)!,
    apiUrl: `${api}/streams`,
    version: nms.version,
  };
}

/** Where an Estuary server's stdout goes: ESTUARY_BENCH_SERVER_LOG (appended), else nowhere. */
function serverLog(): 'ignore' | number {
  const file = process.env.ESTUARY_BENCH_SERVER_LOG;
  return file ? openSync(file, 'a') : 'ignore';
}
