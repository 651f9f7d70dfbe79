import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FanOut, type FormatEncoder } from '../../../src/hub/fan-out.js';
import type { PublisherInfo } from '../../../src/hub/live-stream.js';
import { StreamHub } from '../../../src/hub/stream-hub.js';
import { makeStreamName } from '../../../src/hub/stream-name.js';
import type { Viewer } from '../../../src/hub/viewer.js';
import { silentLogger } from '../../../src/log.js';
import type { MediaFrame } from '../../../src/media/frame.js';
import type { AudioTrack, Track, VideoTrack } from '../../../src/media/track.js';

const video: VideoTrack = { kind: 'video', codec: 'h264', width: 320, height: 240, config: Buffer.from([1]) };
const audio: AudioTrack = {
  kind: 'audio',
  codec: 'aac',
  sampleRate: 44100,
  channels: 2,
  config: Buffer.from([0x12, 0x10]),
};

/** Encodes events as readable text so tests can see exactly what each viewer got. */
class TextEncoder implements FormatEncoder {
  frames = 0;
  constructor(private readonly kinds?: { audio: boolean; video: boolean }) {}
  carries(kind: 'audio' | 'video') {
    return this.kinds?.[kind] ?? true;
  }
  header() {
    return Buffer.from('H|');
  }
  metadata() {
    return undefined;
  }
  track(track: Track) {
    return Buffer.from(`T${track.kind[0]}|`);
  }
  frame(f: MediaFrame) {
    this.frames++;
    return Buffer.from(`${f.track.kind[0]}${f.keyframe ? 'K' : ''}${f.dts}|`);
  }
}

class FakeViewer implements Viewer {
  got = '';
  buffered = 0;
  closed: string | undefined;
  ended = false;
  write(buf: Buffer) {
    this.got += buf.toString();
  }
  close(reason: string) {
    this.closed = reason;
  }
  streamEnded() {
    this.ended = true;
  }
}

function frame(track: Track, dts: number, keyframe = false, size = 10): MediaFrame {
  return { track, dts, pts: dts, keyframe, data: Buffer.alloc(size) };
}

function setup(
  budget = { maxBufferedBytes: 1000, stallTimeoutMs: 50 },
  kinds?: { audio: boolean; video: boolean },
) {
  const hub = new StreamHub(silentLogger());
  const publisher: PublisherInfo = { protocol: 'test', remote: 'x', kick: () => {} };
  const stream = hub.publish(makeStreamName('live', 'a'), publisher);
  const encoder = new TextEncoder(kinds);
  let released = false;
  const fan = stream.sharedOutput(
    'text',
    () =>
      new FanOut(
        stream,
        encoder,
        silentLogger(),
        (f) => {
          released = true;
          hub.unsubscribe(stream, f);
        },
        budget,
      ),
  );
  return { hub, stream, publisher, fan, encoder, released: () => released };
}

describe('FanOut', () => {
  test('a joining viewer gets header, sequence headers and the GOP from the last keyframe', () => {
    const { stream, fan } = setup();
    stream.setTrack(video);
    stream.setTrack(audio);
    stream.pushFrame(frame(video, 0, true));
    stream.pushFrame(frame(audio, 10));
    stream.pushFrame(frame(video, 40, true));
    stream.pushFrame(frame(audio, 50));
    const v = new FakeViewer();
    fan.add(v);
    assert.equal(v.got, 'H|Tv|Ta|vK40|a50|');
    stream.pushFrame(frame(video, 80));
    fan.flush();
    assert.equal(v.got, 'H|Tv|Ta|vK40|a50|v80|');
  });

  test('each frame is encoded once, whatever the number of viewers, and all get the same Buffer', () => {
    const { stream, fan, encoder } = setup();
    stream.setTrack(video);
    const seen = new Set<Buffer>();
    const viewers = Array.from({ length: 50 }, () => {
      const v = new FakeViewer();
      const write = v.write.bind(v);
      v.write = (b: Buffer) => {
        seen.add(b);
        write(b);
      };
      return v;
    });
    for (const v of viewers) fan.add(v);
    seen.clear();
    stream.pushFrame(frame(video, 0, true));
    stream.pushFrame(frame(video, 40));
    fan.flush();
    assert.equal(encoder.frames, 2);
    assert.equal(seen.size, 1, 'one shared batch Buffer for every viewer');
    for (const v of viewers) assert.ok(v.got.endsWith('vK0|v40|'));
  });

  test('a viewer over budget skips to the next keyframe with fresh sequence headers', () => {
    const { stream, fan } = setup();
    stream.setTrack(video);
    stream.pushFrame(frame(video, 0, true));
    const slow = new FakeViewer();
    const fast = new FakeViewer();
    fan.add(slow);
    fan.add(fast);
    slow.buffered = 5000; // over the 1000-byte budget
    stream.pushFrame(frame(video, 40));
    fan.flush();
    stream.pushFrame(frame(video, 80));
    fan.flush();
    slow.buffered = 0; // drained
    stream.pushFrame(frame(video, 120));
    stream.pushFrame(frame(video, 160, true));
    stream.pushFrame(frame(video, 200));
    fan.flush();
    assert.equal(fast.got, 'H|Tv|vK0|v40|v80|v120|vK160|v200|');
    assert.equal(slow.got, 'H|Tv|vK0|Tv|vK160|v200|');
    assert.equal(fan.skips, 1);
  });

  test('a viewer that stays over budget past the stall timeout is closed', async () => {
    const { stream, fan } = setup();
    stream.setTrack(video);
    const v = new FakeViewer();
    fan.add(v);
    v.buffered = 5000;
    stream.pushFrame(frame(video, 0, true));
    fan.flush();
    await new Promise((r) => setTimeout(r, 80));
    stream.pushFrame(frame(video, 40));
    fan.flush();
    assert.match(v.closed ?? '', /stalled/);
  });

  test('unpublish ends every viewer; the last viewer leaving releases the fan-out', () => {
    const { hub, stream, publisher, fan, released } = setup();
    const a = new FakeViewer();
    const b = new FakeViewer();
    fan.add(a);
    fan.add(b);
    hub.unpublish(stream, publisher, 'done');
    assert.ok(a.ended && b.ended);
    fan.remove(a);
    assert.equal(released(), false);
    fan.remove(b);
    assert.equal(released(), true);
    assert.equal(hub.get('live/a'), undefined, 'idle stream entry dropped');
  });

  test('a viewer joining while the GOP cache outgrew its bound waits for the next keyframe', () => {
    const hub = new StreamHub(silentLogger(), { maxBytes: 25, maxDurationMs: 10_000 });
    const stream = hub.publish(makeStreamName('live', 'b'), { protocol: 't', remote: 'x', kick: () => {} });
    const fan = new FanOut(stream, new TextEncoder(), silentLogger(), () => {});
    stream.subscribe(fan);
    stream.setTrack(video);
    stream.pushFrame(frame(video, 0, true));
    stream.pushFrame(frame(video, 40));
    stream.pushFrame(frame(video, 80)); // 30 bytes > 25: cache stops growing
    assert.equal(stream.gop.truncated, true);
    const v = new FakeViewer();
    fan.add(v);
    assert.equal(v.got, 'H|Tv|vK0|v40|');
    stream.pushFrame(frame(video, 120));
    fan.flush();
    assert.equal(v.got, 'H|Tv|vK0|v40|', 'nothing after the gap until a keyframe');
    stream.pushFrame(frame(video, 160, true));
    fan.flush();
    assert.equal(v.got, 'H|Tv|vK0|v40|Tv|vK160|');
  });
});

describe('StreamHub', () => {
  test('one publisher per name: a second is refused with ERR_STREAM_BUSY', () => {
    const hub = new StreamHub(silentLogger());
    const name = makeStreamName('live', 'x');
    hub.publish(name, { protocol: 'rtmp', remote: 'a', kick: () => {} });
    assert.throws(() => hub.publish(name, { protocol: 'http-flv', remote: 'b', kick: () => {} }), {
      code: 'ERR_STREAM_BUSY',
    });
  });

  test('stream names outside [A-Za-z0-9_-]{1,64} are refused', () => {
    for (const [app, stream] of [
      ['live', ''],
      ['live', 'a.b'],
      ['li ve', 'x'],
      ['live', 'x'.repeat(65)],
      ['..', 'x'],
      ['live', 'a/b'],
    ]) {
      assert.throws(() => makeStreamName(app!, stream!), { code: 'ERR_STREAM_NAME' }, `${app}/${stream}`);
    }
    assert.equal(makeStreamName('my_app-1', 'Stream-9_x').path, 'my_app-1/Stream-9_x');
  });

  test('an output without audio never encodes or queues audio, on join or live', () => {
    const { stream, fan, encoder } = setup(undefined, { audio: false, video: true });
    stream.setTrack(video);
    stream.setTrack(audio);
    stream.pushFrame(frame(video, 0, true));
    stream.pushFrame(frame(audio, 10));
    const v = new FakeViewer();
    fan.add(v);
    assert.equal(v.got, 'H|Tv|vK0|');
    stream.pushFrame(frame(audio, 30));
    stream.pushFrame(frame(video, 40));
    stream.setTrack({ ...audio, config: Buffer.from([0x11, 0x90]) });
    fan.flush();
    assert.equal(v.got, 'H|Tv|vK0|v40|');
    assert.equal(encoder.frames, 2, 'audio frames were never encoded');
  });

  test('an output without video is paced and resumed by its audio', () => {
    const { stream, fan } = setup(
      { maxBufferedBytes: 1000, stallTimeoutMs: 10_000 },
      { audio: true, video: false },
    );
    stream.setTrack(video);
    stream.setTrack(audio);
    stream.pushFrame(frame(video, 0, true));
    stream.pushFrame(frame(audio, 10, true));
    const v = new FakeViewer();
    fan.add(v);
    assert.equal(v.got, 'H|Ta|aK10|');
    v.buffered = 5000;
    stream.pushFrame(frame(audio, 33, true));
    fan.flush();
    v.buffered = 0;
    stream.pushFrame(frame(video, 40));
    stream.pushFrame(frame(audio, 56, true));
    fan.flush();
    // Skipped while over budget, resumed at the next audio frame (every one is a random access
    // point, as the FLV ingest marks them), with no video keyframe to wait for.
    assert.equal(v.got, 'H|Ta|aK10|Ta|aK56|');
  });

  test('a next-keyframe join gets the header, then starts at the first keyframe queued after it', () => {
    const { stream, fan } = setup({ maxBufferedBytes: 1000, stallTimeoutMs: 10_000 });
    stream.setTrack(video);
    stream.setTrack(audio);
    stream.pushFrame(frame(video, 0, true));
    stream.pushFrame(frame(audio, 10));
    const gop = new FakeViewer();
    const low = new FakeViewer();
    fan.add(gop);
    fan.add(low, 'next-keyframe');
    assert.equal(low.got, 'H|', 'no cached GOP');
    stream.pushFrame(frame(video, 40));
    stream.pushFrame(frame(audio, 50));
    fan.flush();
    assert.equal(low.got, 'H|');
    stream.pushFrame(frame(video, 80, true));
    stream.pushFrame(frame(audio, 90));
    fan.flush();
    assert.equal(low.got, 'H|Tv|Ta|vK80|a90|');
    assert.equal(gop.got, 'H|Tv|Ta|vK0|a10|v40|a50|vK80|a90|');
    stream.pushFrame(frame(video, 120));
    fan.flush();
    assert.match(low.got as string, /a90\|v120\|$/);
    assert.match(gop.got as string, /a90\|v120\|$/);
  });
});
