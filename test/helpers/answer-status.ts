/**
 * What a server answers a request, without reading what follows: the status of a GET, or of a
 * WebSocket upgrade (101 when it succeeded). For the admission tests (auth, callbacks, limits).
 */
import { get } from 'node:http';
import WebSocket from 'ws';

/** The status of a GET (the body is not waited for). */
export function status(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.setTimeout(5000, () => req.destroy(new Error(`no answer from GET ${url}`)));
    req.on('error', reject);
  });
}

/** 101 when the upgrade succeeded, else the refusal's status. */
export function wsStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no answer from ${url}`));
    }, 5000);
    ws.on('error', () => {});
    ws.on('open', () => {
      clearTimeout(timer);
      ws.terminate();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      ws.terminate();
      resolve(res.statusCode ?? 0);
    });
  });
}
