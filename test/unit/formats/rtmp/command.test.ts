import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import { encodeAmf0 } from '../../../../src/formats/amf/amf0.js';
import {
  commandResult,
  decodeCommand,
  decodeData,
  encodeCommand,
  encodeData,
  onStatus,
  type RtmpCommand,
} from '../../../../src/formats/rtmp/command.js';
import type { RtmpMessage } from '../../../../src/formats/rtmp/message.js';
import { hex } from './test-helpers.js';

const message = (type: number, payload: Buffer): RtmpMessage => ({
  type,
  streamId: 0,
  timestamp: 0,
  chunkStreamId: 3,
  payload,
});

test('encodeCommand writes name, transaction id, command object, args in AMF0 (7.1.1)', () => {
  const m = encodeCommand({ name: 'createStream', transactionId: 4, commandObject: null, args: [] }, 0);
  // The exact payload FFmpeg sent for createStream (test/fixtures/rtmp/ffmpeg-publish-chunks.bin).
  assert.deepEqual(m, {
    type: 20,
    streamId: 0,
    timestamp: 0,
    chunkStreamId: 3,
    payload: hex('02 000c 63726561746553747265616d 00 4010000000000000 05'),
  });
});

test('decodeCommand round-trips encodeCommand', () => {
  const cmd: RtmpCommand = {
    name: 'connect',
    transactionId: 1,
    commandObject: { app: 'live', tcUrl: 'rtmp://127.0.0.1/live', objectEncoding: 0 },
    args: [{ extra: true }, 'x'],
  };
  assert.deepEqual(decodeCommand(encodeCommand(cmd, 0)), cmd);
  assert.equal(encodeCommand(cmd, 1, 8).chunkStreamId, 8);
});

test('missing trailing fields default: transaction id 0, command object null', () => {
  assert.deepEqual(decodeCommand(message(20, encodeAmf0('onBWDone'))), {
    name: 'onBWDone',
    transactionId: 0,
    commandObject: null,
    args: [],
  });
});

test('AMF3 command (type 17): leading format byte, then AMF0 that may switch to AMF3', () => {
  // 00 | "connect" | 1 | 0x11 AMF3 {app: "live"}
  const payload = hex(
    '00 02 0007 636f6e6e656374 00 3ff0000000000000 11 0a 0b 01 07 617070 06 09 6c697665 01',
  );
  assert.deepEqual(decodeCommand(message(17, payload)), {
    name: 'connect',
    transactionId: 1,
    commandObject: { app: 'live' },
    args: [],
  });
  // Without the format byte (seen from some clients) it decodes the same.
  assert.deepEqual(decodeCommand(message(17, payload.subarray(1))).commandObject, { app: 'live' });
});

test('data messages: type 18 and type 15 (with the format byte)', () => {
  const body = encodeAmf0('@setDataFrame', 'onMetaData', { width: 160 });
  assert.deepEqual(decodeData(message(18, body)), ['@setDataFrame', 'onMetaData', { width: 160 }]);
  assert.deepEqual(decodeData(message(15, Buffer.concat([hex('00'), body]))), [
    '@setDataFrame',
    'onMetaData',
    { width: 160 },
  ]);
  const m = encodeData(['onMetaData', { duration: 0 }], 1, 40);
  assert.equal(m.type, 18);
  assert.equal(m.streamId, 1);
  assert.equal(m.timestamp, 40);
  assert.deepEqual(decodeData(m), ['onMetaData', { duration: 0 }]);
});

test('onStatus builds the NetStream status event on chunk stream 5', () => {
  const m = onStatus(1, 'status', 'NetStream.Publish.Start', 'live/cap is now published', { details: 'cap' });
  assert.equal(m.type, 20);
  assert.equal(m.streamId, 1);
  assert.equal(m.chunkStreamId, 5);
  assert.deepEqual(decodeCommand(m), {
    name: 'onStatus',
    transactionId: 0,
    commandObject: null,
    args: [
      {
        level: 'status',
        code: 'NetStream.Publish.Start',
        description: 'live/cap is now published',
        details: 'cap',
      },
    ],
  });
});

test('commandResult answers a transaction with _result or _error', () => {
  assert.deepEqual(decodeCommand(commandResult(4, null, [1])), {
    name: '_result',
    transactionId: 4,
    commandObject: null,
    args: [1],
  });
  assert.equal(decodeCommand(commandResult(2, null, [], 0, '_error')).name, '_error');
});

test('malformed commands throw ERR_RTMP_COMMAND or ERR_AMF_DECODE', () => {
  const isCmd = (e: unknown) => isEstuaryError(e, 'ERR_RTMP_COMMAND');
  const isAmf = (e: unknown) => isEstuaryError(e, 'ERR_AMF_DECODE');
  assert.throws(() => decodeCommand(message(20, encodeAmf0(1, 2))), isCmd, 'name not a string');
  assert.throws(() => decodeCommand(message(20, Buffer.alloc(0))), isCmd, 'empty');
  assert.throws(() => decodeCommand(message(20, encodeAmf0('play', 'x'))), isCmd, 'tx id not a number');
  assert.throws(() => decodeCommand(message(9, encodeAmf0('play'))), isCmd, 'video is not a command');
  assert.throws(() => decodeData(message(20, encodeAmf0('x'))), isCmd, 'command is not data');
  assert.throws(() => decodeCommand(message(20, hex('02 0010 61'))), isAmf, 'truncated string');
});
