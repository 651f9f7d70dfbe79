/**
 * `estuary file-gateway` in this process on a free loopback port, over a root directory, with
 * its log lines and access log captured; and a raw HTTP/1.1 exchange for requests that fetch()
 * would normalise (`..`, encoded separators) or refuse to send (NUL, oversized heads).
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { resolveSettings } from '../../src/config/load.js';
import { FILES_SETTINGS, type FilesConfig } from '../../src/config/schema.js';
import { FileGateway } from '../../src/files/file-gateway.js';

export interface TestGateway {
  gateway: FileGateway;
  port: number;
  base: string;
  /** JSON log lines so far. */
  logs(): Record<string, unknown>[];
  /** Access log lines so far (the file given as accessLog, else none). */
  accessLines(): string[];
  stop(): Promise<void>;
}

export async function startFileGateway(
  root: string,
  overrides: Partial<FilesConfig> = {},
): Promise<TestGateway> {
  const config = resolveSettings(FILES_SETTINGS, [
    { host: '127.0.0.1', port: 0, root, accessLog: join(root, '..', 'access.log'), ...overrides },
  ]).config;
  const lines: string[] = [];
  const log = pino({ level: 'info', base: undefined }, { write: (s: string) => lines.push(s) });
  const gateway = new FileGateway(config, log);
  const port = await gateway.start();
  return {
    gateway,
    port,
    base: `http://127.0.0.1:${port}`,
    logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    accessLines: () => {
      if (config.accessLog === '-' || config.accessLog === 'off') return [];
      try {
        return readFileSync(config.accessLog, 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    },
    stop: () => gateway.stop(),
  };
}

export interface RawResponse {
  status: number;
  head: string;
  body: string;
}

/**
 * Sends `request` as written and reads until the server closes (or `timeoutMs`, then rejects).
 * The status is 0 when the server closed without an answer.
 */
export function rawHttp(port: number, request: string | Buffer, timeoutMs = 5000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no end of the answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => {}); // a reset after the answer: what was read counts
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split < 0 ? text : text.slice(0, split);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolve({ status: m ? Number(m[1]) : 0, head, body: split < 0 ? '' : text.slice(split + 4) });
    });
    socket.write(request);
  });
}
