/**
 * What a session knows about its connection and the server's connection line (connection-guard.ts)
 * prints at close: the role and stream a session gave it, and why it ended. Carried on the socket
 * itself under a private symbol, so a session needs no handle on the guard of its port.
 */
const INFO = Symbol('estuary.connection');

export interface ConnectionInfo {
  /** 'http-flv', 'ws-flv', … when the port carries more than one. */
  protocol?: string;
  role?: 'publisher' | 'viewer';
  path?: string;
  /** Why it ended: the first reason given wins (a session ends in one place). */
  reason?: string;
}

type Annotated = { [INFO]?: ConnectionInfo };

/** Adds to what the connection line will say; a reason already given is kept. */
export function annotateConnection(socket: object, info: ConnectionInfo): void {
  const s = socket as Annotated;
  const current = s[INFO];
  if (!current) {
    s[INFO] = { ...info };
    return;
  }
  const reason = current.reason ?? info.reason;
  Object.assign(current, info);
  current.reason = reason;
}

export function connectionInfo(socket: object): ConnectionInfo | undefined {
  return (socket as Annotated)[INFO];
}
