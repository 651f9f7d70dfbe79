import { createServer, type Server } from 'node:net';
import { connId } from '../log.js';
import { RtmpSession, type RtmpSessionContext } from './session.js';

/** The RTMP listener: one `RtmpSession` per TCP connection. */
export class RtmpServer {
  readonly server: Server;
  private readonly sessions = new Set<RtmpSession>();

  constructor(ctx: RtmpSessionContext) {
    this.server = createServer((socket) => {
      const session = new RtmpSession(socket, ctx, connId());
      this.sessions.add(session);
      socket.once('close', () => this.sessions.delete(session));
    });
  }

  close(reason = 'server shutting down'): void {
    this.server.close();
    for (const s of this.sessions) s.close(reason);
  }
}
