/**
 * An accepted connection moved from one worker to another (accept-valve.ts: a worker that holds
 * its maxConnections passes a connection that still reached it to a worker with room).
 *
 * What crosses the IPC channel is the connection's bare libuv handle (node:net's internal TCP
 * wrap; node:child_process sends it as 'net.Native'), not the net.Socket: sending a net.Socket
 * also enrols it in node's cross-process connection count of its server, and that server's
 * close() would then wait for the primary to report the socket closed, which it never does for
 * a socket it passed on. The handle is node:net's internal; these two functions are the only
 * places that touch it.
 */
import { type Server, Socket } from 'node:net';

/** node:net's TCP handle, as much of it as is used here. */
export interface NativeHandle {
  readStart(): number;
  readStop(): number;
  close(callback?: () => void): void;
}

interface SocketInternals {
  _handle: NativeHandle | null;
  server?: Server;
  _server?: Server;
}

interface ServerInternals {
  _connections: number;
  allowHalfOpen?: boolean;
}

/**
 * `socket`'s handle, to send to another process; this process reads no more of it, so the bytes
 * the client already sent stay in the kernel for the receiver. The socket keeps the handle (to
 * destroy once it is sent, or to read again if the send fails).
 */
export function handleToSend(socket: Socket): NativeHandle | undefined {
  const handle = (socket as unknown as SocketInternals)._handle;
  if (!handle) return undefined;
  // net.Socket started reading when it was made (node's accept does); nothing was read yet,
  // since the 'connection' event runs in the same tick as the accept.
  handle.readStop();
  return handle;
}

/**
 * A socket of `server` around a handle another process accepted, made as node:net's own accept
 * makes one (onconnection in lib/net.js): same half-open setting, counted in the server's
 * connections (so its close() waits for it too), reading at once. TCP_NODELAY and keep-alive are
 * options of the socket, set already by the process that accepted it.
 */
export function socketFromHandle(server: Server, handle: NativeHandle): Socket {
  const internals = server as unknown as ServerInternals;
  // `handle` is the documented form's internal sibling (lib/net.js takes it in the options).
  const options = { handle, allowHalfOpen: internals.allowHalfOpen ?? false, readable: true, writable: true };
  const socket = new Socket(options as ConstructorParameters<typeof Socket>[0]);
  const s = socket as unknown as SocketInternals;
  s.server = server;
  s._server = server;
  internals._connections++;
  return socket;
}
