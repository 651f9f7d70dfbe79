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
 * its own libuv handle and accepts one connection per iteration, so n listening lanes accept up
 * to n + 1 per iteration; a lane costs nothing while no connection comes (a socket with an empty
 * queue is not readable), but a connection arriving at a quiet server wakes every listening
 * lane, n − 1 of which get EAGAIN: so lanes listen only as many as the queue needs (below).
 * Accepted connections go to the server's own 'connection' handling.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Server, type ServerOpts, type Socket } from 'node:net';

/** The child: sends every handle it gets straight back, and leaves with its parent. */
const ECHO = "process.on('message',(m,h)=>process.send(m,h));process.on('disconnect',()=>process.exit(0));";

export interface AcceptLanes {
  /** Lanes made (listening or held ready; 0 when they could not be made). */
  readonly count: number;
  /** Lanes listening now: `idle` while connections come one at a time, up to `count` under a burst. */
  readonly open: number;
  /**
   * At most `n` lanes from now on (a reload raised the connection bound, leaving fewer
   * descriptors for them): the ones beyond are closed, held ones first. Never more than were made.
   */
  limitTo(n: number): void;
  /**
   * The server stopped listening on its own (a `--workers` worker's accept valve closed its
   * handle): every lane is closed too, or they would go on accepting for it.
   */
  pause(): void;
  /**
   * The server listens again: lanes are made from its new handle (with SO_REUSEPORT it is a new
   * socket, so the old duplicates would be the wrong one) and `idle` of them listen.
   */
  resume(): void;
  close(): void;
}

const NONE: AcceptLanes = {
  count: 0,
  open: 0,
  limitTo: () => {},
  pause: () => {},
  resume: () => {},
  close: () => {},
};

/**
 * Adds up to `count` lanes to a listening `server` (after its 'listening'). A `--workers` worker
 * in round-robin mode has no socket to duplicate (the primary accepts and hands connections
 * over): none are added there; in shared accept and with SO_REUSEPORT a worker holds a real
 * listening descriptor and gets lanes like one process. Rejects only never: a lane that cannot
 * be made leaves the server as it was (`count` says how many were).
 *
 * A listening lane is not free: every new connection wakes every lane's descriptor, and all but
 * one get EAGAIN from accept() (measured: 10,000 connections at 1,000/s cost the gateway 3.2 s of
 * CPU with no lane, 3.7 s with 64, 4.9 s with 256). So only `idle` lanes listen while
 * connections come one at a time; when every listening lane accepted one in the same loop
 * iteration (the queue held more than they could take), the listening lanes double, up to
 * `count`; after `quietMs` with no such iteration they halve back towards `idle`. A lane that
 * stops listening is closed (libuv cannot stop a listening handle without closing it); the closed
 * ones are made again once the burst is over, or at once when a burst finds none held.
 */
export interface AcceptLaneOptions {
  /** The most lanes listening at once (and the descriptors held for them). */
  readonly count: number;
  /** Lanes listening when connections come one at a time (default min(count, 8)). */
  readonly idle?: number;
  /** No saturated iteration for this long halves the listening lanes (default 2,000 ms). */
  readonly quietMs?: number;
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
  if (opts.count <= 0 || !server.listening || !ownsSocket(server)) return NONE;
  const ready = await duplicates(server, opts.count, opts.timeoutMs);
  if (ready.length === 0) return NONE;
  return new AdaptiveLanes(server, opts, ready);
}

/** A duplicate of the listening descriptor, not listening yet. */
interface ReadyHandle {
  close(): void;
}

class AdaptiveLanes implements AcceptLanes {
  private readonly listening: Server[] = [];
  private readonly idle: number;
  private readonly quietMs: number;
  /** Lane accepts in the current loop iteration, and whether a check is queued for its end. */
  private acceptedThisTurn = 0;
  private checkQueued = false;
  private saturatedSince = false;
  private readonly timer: NodeJS.Timeout;
  private refilling = false;
  /** The last refill made no lane: busy iterations try again only after the next quiet check. */
  private refillFailed = false;
  private closed = false;
  private paused = false;
  /** Counts pauses: duplicates made before one are of a handle that may be gone. */
  private epoch = 0;
  /** The most lanes made or listening: `count` as made, lowered by limitTo. */
  private ceiling: number;

  constructor(
    private readonly server: Server,
    private readonly opts: AcceptLaneOptions,
    private readonly ready: ReadyHandle[],
  ) {
    this.ceiling = ready.length;
    this.idle = Math.max(1, Math.min(opts.idle ?? 8, opts.count));
    this.quietMs = opts.quietMs ?? 2000;
    // A worker's valve may have closed the port while the duplicates were being made.
    if (server.listening) this.openLanes(this.idle);
    else this.pause();
    this.timer = setInterval(() => this.onQuietCheck(), this.quietMs);
    this.timer.unref();
  }

  get count(): number {
    return this.listening.length + this.ready.length;
  }

  get open(): number {
    return this.listening.length;
  }

  limitTo(n: number): void {
    this.ceiling = Math.max(0, Math.min(n, this.ceiling));
    while (this.count > this.ceiling && this.ready.length > 0) this.ready.pop()?.close();
    for (const lane of this.listening.splice(this.ceiling)) lane.close();
  }

  pause(): void {
    this.paused = true;
    this.epoch++;
    this.closeAll();
  }

  resume(): void {
    if (this.closed || !this.paused) return;
    this.paused = false;
    void this.refill();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.closeAll();
  }

  private closeAll(): void {
    for (const lane of this.listening.splice(0)) lane.close();
    for (const raw of this.ready.splice(0)) raw.close();
  }

  private openLanes(n: number): void {
    for (let i = 0; i < n; i++) {
      const raw = this.ready.pop();
      if (!raw) return;
      const lane = new Server(this.opts.socket);
      // net.Server.listen takes a raw TCP handle (its documented `handle` form); listen() on the
      // same socket again with the server's own backlog keeps the queue's length.
      lane.listen(raw, this.opts.backlog);
      lane.on('connection', (socket: Socket) => this.forward(lane, socket));
      lane.on('error', this.opts.onError);
      this.listening.push(lane);
    }
  }

  // The socket becomes the server's own, as if it had accepted it: counted in its connections
  // (getConnections, close) and uncounted from them when it closes (node:net does that on
  // `socket._server`).
  private forward(lane: Server, socket: Socket): void {
    const s = socket as Socket & { server: Server; _server: Server };
    (lane as unknown as Counted)._connections--;
    (this.server as unknown as Counted)._connections++;
    s.server = this.server;
    s._server = this.server;
    this.acceptedThisTurn++;
    if (!this.checkQueued) {
      this.checkQueued = true;
      // setImmediate runs after this iteration's poll phase: every lane that was woken has
      // accepted by then.
      setImmediate(() => this.onTurnEnd());
    }
    this.server.emit('connection', socket);
  }

  private onTurnEnd(): void {
    this.checkQueued = false;
    const accepted = this.acceptedThisTurn;
    this.acceptedThisTurn = 0;
    if (this.closed || this.paused || accepted < this.listening.length) return;
    this.saturatedSince = true;
    // A halve during a long burst closed lanes and left none held: without making them again
    // here, the burst would go on with what the halve left (measured: 39,000 viewers opened at
    // 1,000/s on two workers went from 85 to 13 lanes each while their accept queues grew to
    // ~800); the refill waited for the lanes to be back at `idle`, which a burst never lets happen.
    // Not again after a refill made none (no child could start: EMFILE at the file limit, no
    // memory to fork): every busy iteration would try to start one; the quiet check retries.
    const short = this.ready.length < this.listening.length && this.count < this.ceiling;
    if (short && !this.refillFailed) void this.refill();
    this.openLanes(this.listening.length);
  }

  private onQuietCheck(): void {
    if (this.closed || this.paused) return;
    // A busy iteration may try a failed refill again once per check.
    this.refillFailed = false;
    if (this.saturatedSince) {
      this.saturatedSince = false;
      return;
    }
    if (this.listening.length > this.idle) {
      const keep = Math.max(this.idle, this.listening.length >> 1);
      for (const lane of this.listening.splice(keep)) lane.close();
      return;
    }
    if (this.count < this.ceiling) void this.refill();
  }

  /** Makes the closed lanes again while nothing is happening, so the next burst has them ready. */
  private async refill(): Promise<void> {
    if (this.refilling) return;
    this.refilling = true;
    try {
      // Until nothing is missing: a pause and resume while a batch was being made leaves its
      // duplicates closed (they may be of the old socket) and the lanes still to make.
      for (;;) {
        const paused = () => this.closed || this.paused || !this.server.listening;
        if (paused() || this.count >= this.ceiling) break;
        const epoch = this.epoch;
        const more = await duplicates(this.server, this.ceiling - this.count, this.opts.timeoutMs);
        const made = more.length;
        // The ceiling may have been lowered (limitTo) while they were being made.
        const keep = paused() || epoch !== this.epoch ? 0 : Math.max(0, this.ceiling - this.count);
        for (const raw of more.splice(keep)) raw.close();
        this.ready.push(...more);
        // After a resume, or after a burst closed some: the idle ones listen again.
        if (!paused() && this.listening.length < this.idle) this.openLanes(this.idle - this.listening.length);
        // None could be made (no child, or no handle): the quiet check tries again later.
        this.refillFailed = made === 0;
        if (made === 0) break;
      }
    } finally {
      this.refilling = false;
    }
  }
}

/** `n` duplicates of `server`'s listening descriptor, made by a short-lived child (fewer if it fails). */
async function duplicates(server: Server, n: number, timeoutMs = 5000): Promise<ReadyHandle[]> {
  const child = spawn(process.execPath, ['-e', ECHO], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  // A child that cannot start (no executable, no memory) means no lanes, never a crash.
  child.on('error', () => {});
  const made: ReadyHandle[] = [];
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    for (let i = 0; i < n; i++) {
      const raw = await echoHandle(child, server);
      if (!raw) break;
      made.push(raw as ReadyHandle);
    }
  } finally {
    clearTimeout(timer);
    if (child.connected) child.disconnect();
    child.kill();
  }
  return made;
}

/** node:net's own handle of a listening server (internal, and the only way to a raw handle). */
type RawHandle = object;

/**
 * Whether `server` listens on a descriptor of its own: a TCP handle has its `fd`; a round-robin
 * worker's handle is node:cluster's stand-in object, without one.
 */
export function ownsSocket(server: Server): boolean {
  const own = (server as unknown as { _handle?: { fd?: unknown } | null })._handle;
  return typeof own?.fd === 'number' && own.fd >= 0;
}

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
