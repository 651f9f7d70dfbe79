import type { Server, Socket } from 'node:net';

/**
 * Connections and bytes of one listening port, for the API: the open sockets are kept and read
 * when asked (Node counts bytesRead/bytesWritten on every socket anyway), closed ones are added
 * up once at close. Per connection, never per write.
 */
export class ConnectionMeter {
  private readonly open = new Set<Socket>();
  private closedIn = 0;
  private closedOut = 0;
  private accepted = 0;

  /** Counts every connection `server` accepts from now on. */
  watch(server: Server): this {
    server.on('connection', (socket: Socket) => {
      this.accepted++;
      this.open.add(socket);
      socket.once('close', () => {
        this.open.delete(socket);
        this.closedIn += socket.bytesRead;
        this.closedOut += socket.bytesWritten;
      });
    });
    return this;
  }

  get connections(): number {
    return this.open.size;
  }

  get totalConnections(): number {
    return this.accepted;
  }

  get bytesIn(): number {
    let n = this.closedIn;
    for (const s of this.open) n += s.bytesRead;
    return n;
  }

  get bytesOut(): number {
    let n = this.closedOut;
    for (const s of this.open) n += s.bytesWritten;
    return n;
  }
}
