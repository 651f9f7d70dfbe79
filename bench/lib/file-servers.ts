/**
 * The servers of the file benchmarks, each on a free loopback port over the same directory:
 * `estuary file-gateway` (compiled, access log off, like nginx's) and Debian's nginx serving the
 * directory itself with `sendfile on` (the physical-limit proxy of issue 14). Both one process:
 * nginx runs `master_process off` with one worker, so /proc figures are the server's own.
 */

import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProcessGroup } from './processes.js';
import { freePort, waitListening } from './servers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/**
 * The checkout whose compiled gateway runs: this one, or ESTUARY_BENCH_CHECKOUT (another
 * worktree, built) to measure two builds with the same load client, interleaved.
 */
const CHECKOUT = process.env.ESTUARY_BENCH_CHECKOUT || ROOT;
const NGINX = '/usr/sbin/nginx';
export const HOST = '127.0.0.1';

export type FileServerKind = 'estuary' | 'nginx';

export interface FileServer {
  kind: FileServerKind;
  version: string;
  child: ChildProcess;
  pid: number;
  port: number;
}

export function fileServerUnavailable(kind: FileServerKind): string | undefined {
  if (kind === 'nginx' && !existsSync(NGINX))
    return 'skipped: nginx not installed (apt-get install -y nginx-light)';
  if (kind === 'estuary' && !existsSync(join(CHECKOUT, 'dist/cli/main.js')))
    return 'dist/ is missing: run npm run build';
  return undefined;
}

export async function startFileServer(
  group: ProcessGroup,
  kind: FileServerKind,
  root: string,
  opts: { extraArgs?: string[]; nodeArgs?: string[] } = {},
): Promise<FileServer> {
  const port = await freePort();
  let child: ChildProcess;
  let version: string;
  if (kind === 'estuary') {
    const pkg = JSON.parse(readFileSync(join(CHECKOUT, 'package.json'), 'utf8')) as { version: string };
    const commit = spawnSync('git', ['-C', CHECKOUT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
    version = commit.status === 0 ? `${pkg.version} ${commit.stdout.trim()}` : pkg.version;
    child = group.spawn(
      process.execPath,
      [
        ...(opts.nodeArgs ?? []),
        join(CHECKOUT, 'bin/estuary.js'),
        ...['file-gateway', HOST, String(port), '--root', root, '--access-log', 'off', '--log-level', 'warn'],
        ...(opts.extraArgs ?? []),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  } else {
    version = spawnSync(NGINX, ['-v'], { encoding: 'utf8' }).stderr.trim().replace('nginx version: ', '');
    const dir = mkdtempSync(join(tmpdir(), 'estuary-bench-nginx-files-'));
    writeFileSync(join(dir, 'nginx.conf'), nginxStatic(port, root, dir));
    child = group.spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
      cwd: dir,
    });
  }
  await waitListening(port, child);
  return { kind, version, child, pid: child.pid!, port };
}

/**
 * nginx as a plain static server of `root`: sendfile, keep-alive without a request cap, and
 * `multi_accept on` (its best for a ramp of 2,000 connections a second: with the default, one
 * accept per event-loop turn, 19,500 clients saw 38,097 "not connected in 10 s" and 7,327
 * req/s; with it 14,091 req/s, 2026-12-04).
 */
function nginxStatic(port: number, root: string, dir: string): string {
  return `daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 20000;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 19990; multi_accept on; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 10000000;
  keepalive_timeout 60s;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  types {
    application/vnd.apple.mpegurl m3u8;
    video/mp2t ts;
    video/iso.segment m4s;
    video/mp4 mp4;
    video/x-flv flv;
  }
  server {
    listen ${HOST}:${port} backlog=4096;
    root ${root};
  }
}
`;
}
