/**
 * More than one accept per event-loop iteration on one listening socket.
 *
 * Since libuv 1.45 (Node 20), a listening socket accepts ONE connection per loop iteration
 * (libuv PR #3696, "unix: don't accept() connections in a loop"). A busy server's iteration is
 * long: the file gateway answering 2,000 clients that each loop over a playlist and a 512 KiB
 * segment spent ~250 ms per iteration writing, so it accepted 4–20 connections a second while
 * ~1,800 waited in the kernel's accept queue (`ss -ltn` Recv-Q) and their first requests stalled
 * for 10 s (issue 14's "1,634 stalled first requests"; strace showed exactly one accept4 per
 * epoll_pwait). Node 20 has no `reusePort` (22.12+), so each lane here is a duplicate descriptor
 * of the same listening socket: a duplicate is made by sending the server's handle to a
 * short-lived child over IPC (SCM_RIGHTS) and having it sent straight back (as the raw handle:
 * a net.Server sent over IPC is listened on again with the default backlog of 511, which would
 * shrink the socket's queue). Each descriptor is
 * its own libuv handle and accepts one connection per iteration, so `count` lanes accept up to
 * `count` + 1 per iteration; an idle lane costs nothing (a socket with an empty queue is not
 * readable), and a connection arriving at an idle server costs at most `count` failed
 * accept() calls (EAGAIN). Accepted connections go to the server's own 'connection' handling.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import cluster from 'node:cluster';
import { Server, type ServerOpts, type Socket } from 'node:net';

/** The child: sends every handle it gets straight back, and leaves with its parent. */
const ECHO = "process.on('message',(m,h)=>process.send(m,h));process.on('disconnect',()=>process.exit(0));";

export interface AcceptLanes {
  /** Lanes open (0 when they could not be made). */
  readonly count: number;
  close(): void;
}

const NONE: AcceptLanes = { count: 0, close: () => {} };

/**
 * Adds `count` lanes to a listening `server` (after its 'listening'). In a cluster worker the
 * primary accepts, and there is no socket to duplicate: none are added. Rejects only never:
 * a lane that cannot be made leaves the server as it was (`count` says how many were).
 */
export interface AcceptLaneOptions {
  readonly count: number;
  /** The server's own listen backlog. */
  readonly backlog: number;
  /**
   * The options `server` was made with for its sockets (node:http's are `allowHalfOpen: true,
   * noDelay: true`), so a socket a lane accepts is made like one the server accepts.
   */
  readonly socket: ServerOpts;
  /** An accept error on a lane (EMFILE): the lane goes on accepting. */
  readonly onError: (err: Error) => void;
  readonly timeoutMs?: number;
}

/** node:net's per-server bookkeeping of open connections (what getConnections() and close() use). */
interface Counted {
  _connections: number;
}

export async function addAcceptLanes(server: Server, opts: AcceptLaneOptions): Promise<AcceptLanes> {
  const { count, backlog, onError, timeoutMs = 5000 } = opts;
  if (count <= 0 || cluster.isWorker || !server.listening) return NONE;
  const child = spawn(process.execPath, ['-e', ECHO], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  // A child that cannot start (no executable, no memory) means no lanes, never a crash.
  child.on('error', () => {});
  const lanes: Server[] = [];
  // The socket becomes the server's own, as if it had accepted it: counted in its connections
  // (getConnections, close) and uncounted from them when it closes (node:net does that on
  // `socket._server`).
  const forward = (lane: Server, socket: Socket) => {
    const s = socket as Socket & { server: Server; _server: Server };
    (lane as unknown as Counted)._connections--;
    (server as unknown as Counted)._connections++;
    s.server = server;
    s._server = server;
    server.emit('connection', socket);
  };
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    for (let i = 0; i < count; i++) {
      const raw = await echoHandle(child, server);
      if (!raw) break;
      const lane = new Server(opts.socket);
      // net.Server.listen takes a raw TCP handle (its documented `handle` form); listen() on the
      // same socket again with the server's own backlog keeps the queue's length.
      lane.listen(raw, backlog);
      lane.on('connection', (socket: Socket) => forward(lane, socket));
      lane.on('error', onError);
      lanes.push(lane);
    }
  } finally {
    clearTimeout(timer);
    if (child.connected) child.disconnect();
    child.kill();
  }
  return {
    count: lanes.length,
    close: () => {
      for (const lane of lanes) lane.close();
    },
  };
}

/** node:net's own handle of a listening server (internal, and the only way to a raw handle). */
type RawHandle = object;

/** A duplicate of `server`'s listening descriptor, as a raw handle, or undefined. */
function echoHandle(child: ChildProcess, server: Server): Promise<RawHandle | undefined> {
  const own = (server as unknown as { _handle?: RawHandle })._handle;
  if (!own) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const done = (raw: RawHandle | undefined) => {
      child.off('message', onMessage);
      child.off('exit', onExit);
      child.off('error', onExit);
      resolve(raw);
    };
    const onMessage = (_m: unknown, raw: unknown) => done(typeof raw === 'object' && raw ? raw : undefined);
    const onExit = () => done(undefined);
    child.on('message', onMessage);
    child.on('exit', onExit);
    child.on('error', onExit);
    // A raw TCP handle travels as 'net.Native' and arrives raw: nobody listens on it on the way.
    child.send('lane', own as Parameters<ChildProcess['send']>[1], (err) => {
      if (err) done(undefined);
    });
  });
}
