import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChunkReader } from '../../../../src/formats/rtmp/chunk-reader.js';
import { encodeMessage } from '../../../../src/formats/rtmp/chunk-writer.js';
import { RtmpConnection } from '../../../../src/formats/rtmp/connection.js';
import { parseControl, pingRequest, windowAckSize } from '../../../../src/formats/rtmp/control.js';
import { MessageType } from '../../../../src/formats/rtmp/message-types.js';

/** Runs a client and a server connection against each other until both finished the handshake. */
function connectedPair() {
  const client = new RtmpConnection('client');
  const server = new RtmpConnection('server');
  let toServer = [client.start()];
  let toClient: Buffer[] = [];
  let done = { client: false, server: false };
  for (let i = 0; i < 4 && !(done.client && done.server); i++) {
    for (const b of toServer) {
      const s = server.feed(b);
      toClient.push(...s.send);
      done = { ...done, server: done.server || s.handshakeCompleted };
    }
    toServer = [];
    for (const b of toClient) {
      const s = client.feed(b);
      toServer.push(...s.send);
      done = { ...done, client: done.client || s.handshakeCompleted };
    }
    toClient = [];
  }
  for (const b of toServer) server.feed(b);
  return { client, server, done };
}

test('client and server complete the handshake against each other', () => {
  const { client, server, done } = connectedPair();
  assert.deepEqual(done, { client: true, server: true });
  assert.equal(client.handshaking, false);
  assert.equal(server.handshaking, false);
});

test('acknowledges each window of bytes and answers pings', () => {
  const { server } = connectedPair();
  const window = 1000;
  const out1 = server.feed(encodeMessage(windowAckSize(window), 128));
  assert.equal(out1.messages[0]!.type, MessageType.WindowAckSize);
  assert.equal(out1.send.length, 0);
  const media = encodeMessage(
    { type: MessageType.Video, chunkStreamId: 7, streamId: 1, timestamp: 0, payload: Buffer.alloc(1200) },
    128, // the peer never announced another chunk size
  );
  const out2 = server.feed(media);
  assert.equal(out2.messages.length, 1);
  const replies = new ChunkReader().push(Buffer.concat(out2.send));
  assert.equal(replies.length, 1);
  const ack = parseControl(replies[0]!);
  assert.deepEqual(ack, { kind: 'ack', sequenceNumber: server.bytesReceived });
  const out3 = server.feed(encodeMessage(pingRequest(12345), 128));
  const pong = parseControl(new ChunkReader().push(Buffer.concat(out3.send))[0]!);
  assert.equal(pong.kind, 'userControl');
  assert.equal(pong.kind === 'userControl' && pong.value, 12345);
});
