import { createWriteStream } from 'node:fs';
import { get } from 'node:http';
import WebSocket from 'ws';

/** Saves a WS-FLV stream to `file`; resolves with the byte count when the server closes it. */
export function captureWs(url: string, file: string, timeoutMs = 30_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(file);
    const ws = new WebSocket(url);
    let bytes = 0;
    const timer = setTimeout(() => ws.terminate(), timeoutMs);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return reject(new Error('text message on WS-FLV'));
      bytes += data.length;
      out.write(data);
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on('close', () => {
      clearTimeout(timer);
      out.end(() => resolve(bytes));
    });
  });
}

/** GETs a URL; resolves with status and headers once the response starts, and the body as it comes. */
export function httpGetStream(url: string): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  onData: (fn: (chunk: Buffer) => void) => void;
  ended: Promise<void>;
  destroy: () => void;
}> {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      const ended = new Promise<void>((r) => {
        res.on('end', () => r());
        res.on('close', () => r());
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        onData: (fn) => res.on('data', fn),
        ended,
        destroy: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}
