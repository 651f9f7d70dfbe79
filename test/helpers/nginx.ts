/**
 * Debian's nginx as a foreground child on loopback, for the tests of the cache in front of the
 * file gateways: its own prefix, pid, error log and temp paths in a temp folder (nothing under
 * /var or /run, no root), and deploy/nginx-cache.conf rendered for it (its upstream servers,
 * listen port and cache path replaced), so the file the README shows is the file tested.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { accepts, freePort, until } from './wait.js';

export const NGINX_CACHE_CONF = fileURLToPath(new URL('../../deploy/nginx-cache.conf', import.meta.url));

/** deploy/nginx-cache.conf with the two gateways at `upstreams`, listening on `port`. */
export function renderCacheConf(upstreams: readonly [number, number], port: number, dir: string): string {
  const conf = readFileSync(NGINX_CACHE_CONF, 'utf8')
    .replace('server files:8100', `server 127.0.0.1:${upstreams[0]}`)
    .replace('server files2:8100', `server 127.0.0.1:${upstreams[1]}`)
    .replace(/listen 8080\b/, `listen 127.0.0.1:${port}`)
    .replace('/var/cache/nginx/estuary', join(dir, 'cache'));
  for (const left of ['files:8100', 'files2:8100', 'listen 8080', '/var/']) {
    if (conf.includes(left)) throw new Error(`deploy/nginx-cache.conf changed shape: ${left} is left`);
  }
  return conf;
}

export interface TestNginx {
  port: number;
  dir: string;
  errorLog(): string;
  stop(): Promise<void>;
}

/** Starts nginx with `httpSnippet` inside its http block; resolves once it accepts. */
export async function startNginx(
  nginx: string,
  httpSnippet: (port: number, dir: string) => string,
): Promise<TestNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'estuary-nginx-'));
  // Started as root, nginx runs its workers as nobody: they must reach the cache and temp paths.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const main = `
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} info;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
${httpSnippet(port, dir)}
}
`;
  writeFileSync(join(dir, 'nginx.conf'), main);
  const child: ChildProcess = spawn(
    nginx,
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let exited = false;
  const done = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  const errorLog = () => {
    try {
      return readFileSync(join(dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until('nginx listens', async () => exited || (await accepts(port)), 10_000);
  } catch (err) {
    await stop();
    throw err;
  }
  if (exited) {
    const why = `${stderr}\n${errorLog()}`;
    await stop();
    throw new Error(`nginx exited at start: ${why}`);
  }
  return { port, dir, errorLog, stop };
}
