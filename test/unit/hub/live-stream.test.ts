import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LiveStream, type PublisherInfo } from '../../../src/hub/live-stream.js';
import { makeStreamName } from '../../../src/hub/stream-name.js';
import type { StreamSubscriber } from '../../../src/hub/subscriber.js';
import { silentLogger } from '../../../src/log.js';
import type { VideoTrack } from '../../../src/media/track.js';

const V: VideoTrack = { kind: 'video', codec: 'h264', width: 2, height: 2 };
const pub: PublisherInfo = { protocol: 'test', remote: 'here', kick: () => {} };

/** Writes each callback it gets as a word, so a test reads the order of events. */
class Recorder implements StreamSubscriber {
  log: string[] = [];
  onPublish() {
    this.log.push('publish');
  }
  onMetadata() {
    this.log.push('metadata');
  }
  onTrack() {
    this.log.push('track');
  }
  onFrame() {
    this.log.push('frame');
  }
  onUnpublish(_s: LiveStream, reason: string) {
    this.log.push(`unpublish:${reason}`);
  }
}

function stream() {
  return new LiveStream(makeStreamName('live', 's'), silentLogger());
}

const frame = { track: V, dts: 0, pts: 0, keyframe: true, data: Buffer.alloc(3) };

test('subscribers get publish, metadata, track, frame and unpublish in stream order', () => {
  const s = stream();
  const r = new Recorder();
  s.subscribe(r);
  s.startPublish(pub);
  s.setMetadata({ values: { width: 2 }, body: Buffer.alloc(0) });
  s.setTrack(V);
  s.pushFrame(frame);
  s.endPublish('bye');
  s.endPublish('twice');
  assert.deepEqual(r.log, ['publish', 'metadata', 'track', 'frame', 'unpublish:bye']);
});

test('a subscriber that joins a live stream is told it is live; counters and tracks reset per publish', () => {
  const s = stream();
  s.startPublish(pub);
  s.setTrack(V);
  s.pushFrame(frame);
  assert.equal(s.framesIn, 1);
  assert.equal(s.bytesIn, 3);
  const r = new Recorder();
  s.subscribe(r);
  assert.deepEqual(r.log, ['publish']);
  s.endPublish('x');
  s.startPublish(pub);
  assert.equal(s.framesIn, 0);
  assert.equal(s.videoTrack, undefined);
  assert.equal(s.gop.frames.length, 0);
});

test('a subscriber that throws is detached; the others go on', () => {
  const s = stream();
  const bad: StreamSubscriber = {
    onFrame() {
      throw new Error('broken output');
    },
  };
  const good = new Recorder();
  s.subscribe(bad);
  s.subscribe(good);
  s.startPublish(pub);
  s.pushFrame(frame);
  s.pushFrame(frame);
  assert.equal(s.subscriberCount, 1);
  assert.deepEqual(good.log, ['publish', 'frame', 'frame']);
});

test('sharedOutput creates one output per key and forgets it when it unsubscribes', () => {
  const s = stream();
  let made = 0;
  const make = () => {
    made++;
    return new Recorder();
  };
  const a = s.sharedOutput('flv', make);
  assert.equal(s.sharedOutput('flv', make), a);
  assert.notEqual(s.sharedOutput('rtmp:1', make), a);
  assert.equal(made, 2);
  s.unsubscribe(a);
  assert.notEqual(s.sharedOutput('flv', make), a);
  assert.equal(made, 3);
});

test('whenReady waits for the first frame of the publish, or for its end', async () => {
  const s = stream();
  await s.whenReady(); // not live: at once
  s.startPublish(pub);
  let ready = false;
  const p = s.whenReady().then(() => {
    ready = true;
  });
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(ready, false);
  s.pushFrame(frame);
  await p;
  assert.equal(ready, true);
  s.endPublish('x');
  s.startPublish(pub);
  const q = s.whenReady();
  s.endPublish('gone');
  await q;
});

test('viewers are counted by protocol, apart from other subscribers', () => {
  const s = stream();
  s.subscribe(new Recorder());
  s.viewerJoined('rtmp');
  s.viewerJoined('http-flv');
  s.viewerJoined('http-flv');
  s.viewerLeft('http-flv');
  s.viewerLeft('ws-flv'); // never joined: ignored
  assert.deepEqual(s.viewers, { rtmp: 1, 'http-flv': 1 });
  assert.equal(s.viewerCount, 2);
  assert.equal(s.subscriberCount, 1);
});

test('bytes out: what the viewers connections wrote since the publish began, those that left included', () => {
  const s = stream();
  const early = { bytesWritten: 100 }; // joined before the publish: its 100 bytes are not counted
  s.viewerJoined('rtmp', early);
  s.startPublish(pub);
  const a = { bytesWritten: 0 };
  s.viewerJoined('http-flv', a);
  early.bytesWritten = 150;
  a.bytesWritten = 40;
  assert.equal(s.bytesOut, 50 + 40);
  s.viewerLeft('http-flv', a);
  a.bytesWritten = 1000; // after it left: no longer read
  assert.equal(s.bytesOut, 90);
  s.viewerLeft('rtmp', early);
  assert.equal(s.bytesOut, 90);
  assert.equal(s.viewerCount, 0);
  s.startPublish(pub);
  assert.equal(s.bytesOut, 0);
});
