/**
 * The RTMP command machine without a socket: commands in, the replies and status events it sends
 * and what it does to the connection out. Streams are reached through the real hub link and a
 * real StreamHub; the peer is an in-memory one that records what would go on the wire.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { EstuaryError, isEstuaryError } from '../../../src/errors.js';
import { decodeAmf0 } from '../../../src/formats/amf/amf0.js';
import type { AmfObject, AmfValue } from '../../../src/formats/amf/value.js';
import { FlvTagReader } from '../../../src/formats/flv/tag-reader.js';
import { decodeCommand, type RtmpCommand } from '../../../src/formats/rtmp/command.js';
import { parseControl } from '../../../src/formats/rtmp/control.js';
import type { RtmpMessage } from '../../../src/formats/rtmp/message.js';
import { MessageType, UserControlEvent } from '../../../src/formats/rtmp/message-types.js';
import type { PublisherInfo } from '../../../src/hub/live-stream.js';
import { type PublishAuthorizer, StreamHub } from '../../../src/hub/stream-hub.js';
import { makeStreamName } from '../../../src/hub/stream-name.js';
import { DEFAULT_VIEWER_BUDGET } from '../../../src/hub/viewer.js';
import { silentLogger } from '../../../src/log.js';
import { RtmpCommandMachine, type RtmpPeer } from '../../../src/rtmp/command-machine.js';
import { RtmpHubLink } from '../../../src/rtmp/hub-link.js';

const FIXTURE = new URL('../../fixtures/media/h264-aac-3s.flv', import.meta.url).pathname;
const USER_CONTROL = Object.fromEntries(Object.entries(UserControlEvent).map(([k, v]) => [v, k]));

/** One sent message as a short line: `_result(2) 1`, `onStatus(1) error NetStream.Publish.BadName`, … */
function describe1(m: RtmpMessage): string {
  switch (m.type) {
    case MessageType.CommandAmf0: {
      const c = decodeCommand(m);
      if (c.name === 'onStatus') {
        const info = c.args[0] as AmfObject;
        return `onStatus(${m.streamId}) ${info.level} ${info.code}`;
      }
      const info = c.args[0];
      const shown =
        typeof info === 'object' && info !== null && 'code' in info
          ? String(info.code)
          : JSON.stringify(info);
      return `${c.name}(${c.transactionId}) ${shown}`;
    }
    case MessageType.DataAmf0:
      return `data(${m.streamId}) ${String(decodeAmf0(m.payload)[0])}`;
    case MessageType.UserControl: {
      const c = parseControl(m);
      return c.kind === 'userControl' ? `${USER_CONTROL[c.event]} ${c.value}` : c.kind;
    }
    default: {
      const c = parseControl(m);
      return `${c.kind} ${'size' in c ? c.size : ''}`.trim();
    }
  }
}

class RecordingPeer implements RtmpPeer {
  readonly out: string[] = [];
  rawBytes = 0;
  buffered = 0;
  send(msg: RtmpMessage): void {
    this.out.push(describe1(msg));
  }
  sendRaw(buf: Buffer): void {
    this.rawBytes += buf.length;
  }
  close(reason: string): void {
    this.out.push(`close: ${reason}`);
  }
  closeAfterFlush(reason: string): void {
    this.out.push(`closeAfterFlush: ${reason}`);
  }
  take(): string[] {
    return this.out.splice(0);
  }
}

function setup(authorize?: PublishAuthorizer, log = silentLogger(), playWaitTimeoutMs = 0) {
  const hub = new StreamHub(silentLogger(), undefined, authorize);
  const peer = new RecordingPeer();
  const link = new RtmpHubLink(
    { hub, log: silentLogger(), budget: DEFAULT_VIEWER_BUDGET, maxMessageBytes: 1 << 20 },
    '127.0.0.1:1',
    silentLogger(),
  );
  const machine = new RtmpCommandMachine(peer, link, log, { playWaitTimeoutMs });
  return { hub, peer, machine };
}

const cmd = (
  name: string,
  transactionId: number,
  commandObject: AmfValue,
  ...args: AmfValue[]
): RtmpCommand => ({
  name,
  transactionId,
  commandObject,
  args,
});
const connect = (app = 'live') => cmd('connect', 1, { app, tcUrl: `rtmp://127.0.0.1/${app}` });

/** Commands on a message stream: [streamId, command]. */
type Step = [number, RtmpCommand];

const CONNECTED: string[] = [
  'windowAckSize 5000000',
  'setPeerBandwidth 5000000',
  'setChunkSize 4096',
  '_result(1) NetConnection.Connect.Success',
];
const PLAY_START = [
  'StreamIsRecorded 1',
  'StreamBegin 1',
  'onStatus(1) status NetStream.Play.Reset',
  'onStatus(1) status NetStream.Play.Start',
  'data(1) |RtmpSampleAccess',
];

const CASES: { label: string; steps: Step[]; out: string[]; activity?: string }[] = [
  { label: 'connect', steps: [[0, connect()]], out: CONNECTED, activity: 'none' },
  {
    label: 'createStream answers the next message stream id',
    steps: [
      [0, connect()],
      [0, cmd('createStream', 2, null)],
      [0, cmd('createStream', 3, null)],
    ],
    out: [...CONNECTED, '_result(2) 1', '_result(3) 2'],
  },
  {
    label: 'releaseStream, FCPublish and getStreamLength are answered; transaction 0 gets no reply',
    steps: [
      [0, connect()],
      [0, cmd('releaseStream', 2, null, 'cam')],
      [0, cmd('FCPublish', 3, null, 'cam')],
      [0, cmd('getStreamLength', 4, null, 'cam')],
      [0, cmd('FCPublish', 0, null, 'cam')],
      [0, cmd('receiveAudio', 0, null, true)],
    ],
    out: [...CONNECTED, '_result(2) undefined', '_result(3) undefined', '_result(4) 0'],
  },
  {
    label: 'publish',
    steps: [
      [0, connect()],
      [0, cmd('createStream', 2, null)],
      [1, cmd('publish', 0, null, 'cam', 'live')],
    ],
    out: [...CONNECTED, '_result(2) 1', 'StreamBegin 1', 'onStatus(1) status NetStream.Publish.Start'],
    activity: 'publish',
  },
  {
    label: 'publish before connect is refused',
    steps: [[1, cmd('publish', 0, null, 'cam')]],
    out: [
      'onStatus(1) error NetStream.Publish.BadName',
      'closeAfterFlush: refused: ERR_RTMP_COMMAND: publish on message stream 1, which is not an idle stream',
    ],
  },
  {
    label: 'publish on a created stream before connect is refused',
    steps: [
      [0, cmd('createStream', 2, null)],
      [1, cmd('publish', 0, null, 'cam')],
    ],
    out: [
      '_result(2) 1',
      'onStatus(1) error NetStream.Publish.BadName',
      'closeAfterFlush: refused: ERR_RTMP_COMMAND: publish before connect',
    ],
  },
  {
    label: 'publish on a message stream never created is refused',
    steps: [
      [0, connect()],
      [5, cmd('publish', 0, null, 'cam')],
    ],
    out: [
      ...CONNECTED,
      'onStatus(5) error NetStream.Publish.BadName',
      'closeAfterFlush: refused: ERR_RTMP_COMMAND: publish on message stream 5, which is not an idle stream',
    ],
  },
  {
    label: 'publish of a bad name is refused',
    steps: [
      [0, connect()],
      [0, cmd('createStream', 2, null)],
      [1, cmd('publish', 0, null, 'a.b')],
    ],
    out: [
      ...CONNECTED,
      '_result(2) 1',
      'onStatus(1) error NetStream.Publish.BadName',
      'closeAfterFlush: refused: ERR_STREAM_NAME: stream name "live/a.b" is not valid: expected {app}/{stream}, each 1-64 characters of [A-Za-z0-9_-]',
    ],
  },
  {
    label: 'a second publish on the same message stream is refused',
    steps: [
      [0, connect()],
      [0, cmd('createStream', 2, null)],
      [1, cmd('publish', 0, null, 'cam')],
      [1, cmd('publish', 0, null, 'cam2')],
    ],
    out: [
      ...CONNECTED,
      '_result(2) 1',
      'StreamBegin 1',
      'onStatus(1) status NetStream.Publish.Start',
      'onStatus(1) error NetStream.Publish.BadName',
      'closeAfterFlush: refused: ERR_RTMP_COMMAND: publish on message stream 1, which is not an idle stream',
    ],
  },
  {
    label: 'deleteStream ends a publish',
    steps: [
      [0, connect()],
      [0, cmd('createStream', 2, null)],
      [1, cmd('publish', 0, null, 'cam')],
      [0, cmd('deleteStream', 0, null, 1)],
    ],
    out: [
      ...CONNECTED,
      '_result(2) 1',
      'StreamBegin 1',
      'onStatus(1) status NetStream.Publish.Start',
      'onStatus(1) status NetStream.Unpublish.Success',
    ],
    activity: 'none',
  },
  {
    label: 'FCUnpublish of the published name ends it; of another name does nothing',
    steps: [
      [0, connect()],
      [0, cmd('createStream', 2, null)],
      [1, cmd('publish', 0, null, 'cam?sign=1')],
      [0, cmd('FCUnpublish', 0, null, 'other')],
      [0, cmd('FCUnpublish', 0, null, 'cam')],
    ],
    out: [
      ...CONNECTED,
      '_result(2) 1',
      'StreamBegin 1',
      'onStatus(1) status NetStream.Publish.Start',
      'onStatus(1) status NetStream.Unpublish.Success',
    ],
    activity: 'none',
  },
  {
    label: 'play of a stream not yet published starts and waits',
    steps: [
      [0, connect()],
      [0, cmd('createStream', 2, null)],
      [1, cmd('play', 0, null, 'cam', -2)],
    ],
    out: [...CONNECTED, '_result(2) 1', ...PLAY_START],
    activity: 'play',
  },
  {
    label: 'play of a bad name is refused with StreamNotFound',
    steps: [
      [0, connect()],
      [0, cmd('createStream', 2, null)],
      [1, cmd('play', 0, null, '')],
    ],
    out: [
      ...CONNECTED,
      '_result(2) 1',
      'onStatus(1) error NetStream.Play.StreamNotFound',
      'closeAfterFlush: refused: ERR_STREAM_NAME: stream name "live/" is not valid: expected {app}/{stream}, each 1-64 characters of [A-Za-z0-9_-]',
    ],
  },
  {
    label: 'pause and unpause a play, each once',
    steps: [
      [0, connect()],
      [0, cmd('createStream', 2, null)],
      [1, cmd('play', 0, null, 'cam')],
      [1, cmd('pause', 0, null, true, 0)],
      [1, cmd('pause', 0, null, true, 0)],
      [1, cmd('pause', 0, null, false, 0)],
      [1, cmd('pause', 0, null, false, 0)],
    ],
    out: [
      ...CONNECTED,
      '_result(2) 1',
      ...PLAY_START,
      'onStatus(1) status NetStream.Pause.Notify',
      'onStatus(1) status NetStream.Unpause.Notify',
    ],
    activity: 'play',
  },
  {
    label: 'closeStream ends a play without a reply',
    steps: [
      [0, connect()],
      [0, cmd('createStream', 2, null)],
      [1, cmd('play', 0, null, 'cam')],
      [1, cmd('closeStream', 0, null)],
    ],
    out: [...CONNECTED, '_result(2) 1', ...PLAY_START],
    activity: 'none',
  },
];

describe('RTMP command machine', () => {
  for (const c of CASES) {
    test(c.label, () => {
      const { peer, machine } = setup();
      for (const [streamId, command] of c.steps) machine.command(command, streamId);
      assert.deepEqual(peer.take(), c.out);
      if (c.activity) assert.equal(machine.activity, c.activity);
    });
  }

  test('connect twice throws ERR_RTMP_COMMAND (the session closes the connection)', () => {
    const { machine } = setup();
    machine.command(connect(), 0);
    assert.throws(
      () => machine.command(connect(), 0),
      (e) => isEstuaryError(e, 'ERR_RTMP_COMMAND'),
    );
  });

  test('a publish reaches the hub: the stream is live, its media flows, deleteStream ends it', () => {
    const { hub, machine } = setup();
    machine.command(connect(), 0);
    machine.command(cmd('createStream', 2, null), 0);
    machine.command(cmd('publish', 0, null, 'cam'), 1);
    const stream = hub.get('live/cam');
    assert.ok(stream?.isLive);
    // The fixture's first tags (metadata, sequence headers, frames), as RTMP messages carry them.
    const tags = new FlvTagReader().push(readFileSync(FIXTURE)).slice(0, 12);
    for (const tag of tags) {
      machine.media({
        type: tag.type,
        streamId: 1,
        timestamp: tag.timestamp,
        chunkStreamId: 7,
        payload: tag.body,
      });
    }
    const frames = stream.framesIn;
    assert.ok(frames > 0);
    // Media on another message stream belongs to no publish.
    const last = tags.at(-1)!;
    machine.media({
      type: last.type,
      streamId: 2,
      timestamp: last.timestamp + 40,
      chunkStreamId: 7,
      payload: last.body,
    });
    assert.equal(stream.framesIn, frames);
    assert.equal(stream.videoTrack?.codec, 'h264');
    machine.command(cmd('deleteStream', 0, null, 1), 0);
    assert.equal(hub.get('live/cam')?.isLive ?? false, false);
  });

  test('a busy name and a refused signature are refused with BadName', () => {
    const authorize: PublishAuthorizer = (_name, query) => {
      if (!query.includes('sign=good')) throw new EstuaryError('ERR_AUTH', 'not signed');
    };
    const { hub, peer, machine } = setup(authorize);
    const other: PublisherInfo = { protocol: 'test', remote: 'x', kick: () => {} };
    hub.publish(makeStreamName('live', 'busy'), other, '?sign=good');
    machine.command(connect(), 0);
    machine.command(cmd('createStream', 2, null), 0);
    machine.command(cmd('publish', 0, null, 'busy?sign=good'), 1);
    const busy = peer.take();
    assert.equal(busy.at(-2), 'onStatus(1) error NetStream.Publish.BadName');
    assert.match(busy.at(-1)!, /ERR_STREAM_BUSY/);
    const again = setup(authorize);
    again.machine.command(connect(), 0);
    again.machine.command(cmd('createStream', 2, null), 0);
    again.machine.command(cmd('publish', 0, null, 'cam?sign=bad'), 1);
    assert.deepEqual(again.peer.take().slice(-2), [
      'onStatus(1) error NetStream.Publish.BadName',
      'closeAfterFlush: refused: ERR_AUTH: not signed',
    ]);
    assert.equal(again.hub.get('live/cam')?.isLive ?? false, false);
  });

  test('a waiting player is told when a publish starts and ends, and stays', () => {
    const { hub, peer, machine } = setup();
    machine.command(connect(), 0);
    machine.command(cmd('createStream', 2, null), 0);
    machine.command(cmd('play', 0, null, 'cam'), 1);
    peer.take();
    const publisher: PublisherInfo = { protocol: 'test', remote: 'x', kick: () => {} };
    const stream = hub.publish(makeStreamName('live', 'cam'), publisher);
    assert.deepEqual(peer.take(), ['StreamBegin 1', 'onStatus(1) status NetStream.Play.PublishNotify']);
    hub.unpublish(stream, publisher, 'done');
    assert.deepEqual(peer.take(), ['onStatus(1) status NetStream.Play.UnpublishNotify', 'StreamEof 1']);
    assert.equal(machine.activity, 'play');
  });

  test('a player joining a live stream gets the join write at once', () => {
    const { hub, peer, machine } = setup();
    const publisher: PublisherInfo = { protocol: 'test', remote: 'x', kick: () => {} };
    const stream = hub.publish(makeStreamName('live', 'cam'), publisher);
    stream.setMetadata({ values: {}, body: Buffer.from('02000a6f6e4d65746144617461', 'hex') });
    machine.command(connect(), 0);
    machine.command(cmd('createStream', 2, null), 0);
    machine.command(cmd('play', 0, null, 'cam'), 1);
    assert.ok(peer.rawBytes > 0, 'no join write');
    assert.equal(stream.subscriberCount, 1);
    machine.command(cmd('deleteStream', 0, null, 1), 0);
    assert.equal(stream.subscriberCount, 0);
  });

  test('end() ends every NetStream and sends nothing more; the publisher is kicked through the peer', () => {
    const { hub, peer, machine } = setup();
    machine.command(connect(), 0);
    machine.command(cmd('createStream', 2, null), 0);
    machine.command(cmd('createStream', 3, null), 0);
    machine.command(cmd('publish', 0, null, 'cam'), 1);
    machine.command(cmd('play', 0, null, 'other'), 2);
    peer.take();
    hub.get('live/cam')!.publisher!.kick('kicked by test');
    assert.deepEqual(peer.take(), ['close: kicked by test']);
    machine.end('gone');
    assert.deepEqual(peer.take(), []);
    assert.equal(hub.get('live/cam'), undefined, 'the publish did not end');
    assert.equal(hub.get('live/other'), undefined, 'the play did not end');
    assert.equal(machine.activity, 'none');
  });
});

describe('RTMP command machine: credentials', () => {
  const queries: string[] = [];
  const authorize: PublishAuthorizer = (_name, query) => {
    queries.push(query);
    if (!query.includes('sign=good')) throw new EstuaryError('ERR_AUTH', 'not signed');
  };
  const cases: [string, AmfObject, string, string | undefined][] = [
    ['in the stream key', { app: 'live', tcUrl: 'rtmp://h/live' }, 'cam?sign=good', '?sign=good'],
    ['after the app name', { app: 'live?sign=good', tcUrl: 'rtmp://h/live?sign=good' }, 'cam', '?sign=good'],
    ['in the tcUrl only', { app: 'live', tcUrl: 'rtmp://h:1935/live?sign=good' }, 'cam', '?sign=good'],
    ['the stream key first', { app: 'live?sign=good', tcUrl: 'rtmp://h/live' }, 'cam?sign=bad', undefined],
    ['nowhere', { app: 'live', tcUrl: 'rtmp://h/live' }, 'cam', undefined],
  ];
  for (const [label, connectObject, key, accepted] of cases) {
    test(`a sign= query ${label}`, () => {
      const lines: string[] = [];
      const log = pino({ level: 'debug' }, { write: (l: string) => lines.push(l) });
      const { hub, peer, machine } = setup(authorize, log);
      queries.length = 0;
      machine.command(cmd('connect', 1, connectObject), 0);
      machine.command(cmd('createStream', 2, null), 0);
      machine.command(cmd('publish', 0, null, key), 1);
      const published = hub.get('live/cam')?.isLive ?? false;
      assert.equal(published, accepted !== undefined, peer.take().join('\n'));
      if (accepted) assert.deepEqual(queries, [accepted]);
      assert.equal(machine.connectedApp, 'live');
      // Whatever carried it, no query reaches the log.
      assert.ok(lines.length > 0);
      for (const line of lines) assert.doesNotMatch(line, /sign=|\?/, line);
    });
  }
});

describe('RTMP command machine: a player waiting for a publish', () => {
  const play = (machine: RtmpCommandMachine) => {
    machine.command(connect(), 0);
    machine.command(cmd('createStream', 2, null), 0);
    machine.command(cmd('play', 0, null, 'cam'), 1);
  };
  const publisher: PublisherInfo = { protocol: 'test', remote: 'x', kick: () => {} };
  const NOT_FOUND = [
    'onStatus(1) error NetStream.Play.StreamNotFound',
    'closeAfterFlush: refused: live/cam was not published within 1000 ms',
  ];

  test('is told StreamNotFound and closed after playWaitTimeoutMs, and the wait is logged', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => lines.push(l) });
    const { peer, machine } = setup(undefined, log, 1000);
    play(machine);
    peer.take();
    assert.ok(
      lines.some((l) => l.includes('player waits for a publish') && l.includes('live/cam')),
      lines.join(''),
    );
    t.mock.timers.tick(999);
    assert.deepEqual(peer.take(), []);
    t.mock.timers.tick(1);
    assert.deepEqual(peer.take(), NOT_FOUND);
  });

  test('a publish in time ends the wait; after an unpublish the player waits again', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { hub, peer, machine } = setup(undefined, silentLogger(), 1000);
    play(machine);
    peer.take();
    t.mock.timers.tick(500);
    const stream = hub.publish(makeStreamName('live', 'cam'), publisher);
    t.mock.timers.tick(5000);
    assert.deepEqual(peer.take(), ['StreamBegin 1', 'onStatus(1) status NetStream.Play.PublishNotify']);
    hub.unpublish(stream, publisher, 'gone');
    peer.take();
    t.mock.timers.tick(1000);
    assert.deepEqual(peer.take(), NOT_FOUND);
  });

  test('a paused or stopped player is not timed out; 0 waits for ever', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const paused = setup(undefined, silentLogger(), 1000);
    play(paused.machine);
    paused.machine.command(cmd('pause', 0, null, true, 0), 1);
    const stopped = setup(undefined, silentLogger(), 1000);
    play(stopped.machine);
    stopped.machine.command(cmd('closeStream', 0, null), 1);
    const forever = setup(undefined, silentLogger(), 0);
    play(forever.machine);
    for (const s of [paused, stopped, forever]) s.peer.take();
    t.mock.timers.tick(60_000);
    for (const s of [paused, stopped, forever]) assert.deepEqual(s.peer.take(), []);
    paused.machine.command(cmd('pause', 0, null, false, 0), 1);
    t.mock.timers.tick(1000);
    assert.deepEqual(paused.peer.take().slice(-2), NOT_FOUND, 'unpaused, it waits again');
  });
});
