/**
 * `estuary serve` as a child process, for tests that must watch the server from outside: its
 * memory (RSS from /proc), whether it stays alive, and its log lines. The heap is capped, so a
 * server that runs away dies quickly instead of taking the machine's memory with it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Running, start } from './run.js';
import { accepts, freePort, until } from './wait.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServerProcess {
  ports: { rtmp: number; http: number; web: number };
  dataDir: string;
  running: Running;
  /** Resident set size of the server now, in bytes. */
  rss(): number;
  /** Whether the process is still running. */
  alive(): boolean;
  /** JSON log lines printed so far. */
  logs(): Record<string, unknown>[];
  stop(): Promise<void>;
}

/**
 * Starts the server with `config` (a config-file object) and waits until it listens: on free
 * ports, or on `ports` (a restart on the ports of a server that was killed).
 */
export async function startServerProcess(
  config: Record<string, unknown>,
  heapMb = 512,
  fixedPorts?: ServerProcess['ports'],
  /** How long it may take to listen, and to live (a server of several workers starts slower). */
  timing: { listenMs?: number; lifetimeMs?: number } = {},
): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'estuary-proc-'));
  const ports = fixedPorts ?? { rtmp: await freePort(), http: await freePort(), web: await freePort() };
  const configFile = join(dataDir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      host: '127.0.0.1',
      rtmpPort: ports.rtmp,
      httpPort: ports.http,
      webPort: ports.web,
      dataDir: join(dataDir, 'data'),
      logLevel: 'info',
      ...config,
    }),
  );
  const running = start(
    process.execPath,
    [
      `--max-old-space-size=${heapMb}`,
      ...['--import', 'tsx', join(ROOT, 'src/cli/run.ts'), 'serve', '--config', configFile],
    ],
    timing.lifetimeMs ?? 120_000,
  );
  let exited = false;
  running.done.then(() => {
    exited = true;
  });
  const lines: string[] = [];
  let rest = '';
  running.child.stdout?.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts);
  });
  await until(
    'the server listens',
    async () => exited || (await accepts(ports.http)),
    timing.listenMs ?? 20_000,
  );
  if (exited) throw new Error(`the server exited at start: ${(await running.done).stderr}`);
  return {
    ports,
    dataDir: join(dataDir, 'data'),
    running,
    rss: () => {
      const status = readFileSync(`/proc/${running.child.pid}/status`, 'utf8');
      const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
      if (!kb) throw new Error('no VmRSS: the server is gone');
      return Number(kb[1]) * 1024;
    },
    alive: () => !exited,
    logs: () =>
      lines.flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return []; // not a log line
        }
      }),
    stop: async () => {
      running.child.kill('SIGTERM');
      const killer = setTimeout(() => running.child.kill('SIGKILL'), 10_000);
      await running.done;
      clearTimeout(killer);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
