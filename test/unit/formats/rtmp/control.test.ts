import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import {
  abort,
  acknowledgement,
  type ControlMessage,
  parseControl,
  pingRequest,
  pingResponse,
  setBufferLength,
  setChunkSize,
  setPeerBandwidth,
  streamBegin,
  streamEof,
  streamIsRecorded,
  userControl,
  windowAckSize,
} from '../../../../src/formats/rtmp/control.js';
import type { RtmpMessage } from '../../../../src/formats/rtmp/message.js';
import { hex } from './test-helpers.js';

// [builder result, type, payload bytes, parsed form] from spec sections 5.4 and 7.1.7.
const cases: [RtmpMessage, number, string, ControlMessage][] = [
  [setChunkSize(4096), 1, '00001000', { kind: 'setChunkSize', size: 4096 }],
  [abort(6), 2, '00000006', { kind: 'abort', chunkStreamId: 6 }],
  [acknowledgement(2 ** 32 + 5), 3, '00000005', { kind: 'ack', sequenceNumber: 5 }],
  [windowAckSize(2_500_000), 5, '002625a0', { kind: 'windowAckSize', size: 2_500_000 }],
  [
    setPeerBandwidth(2_500_000, 2),
    6,
    '002625a0 02',
    { kind: 'setPeerBandwidth', size: 2_500_000, limitType: 2 },
  ],
  [streamBegin(1), 4, '0000 00000001', { kind: 'userControl', event: 0, value: 1 }],
  [streamEof(1), 4, '0001 00000001', { kind: 'userControl', event: 1, value: 1 }],
  [streamIsRecorded(1), 4, '0004 00000001', { kind: 'userControl', event: 4, value: 1 }],
  [
    setBufferLength(1, 3000),
    4,
    '0003 00000001 00000bb8',
    { kind: 'userControl', event: 3, value: 1, value2: 3000 },
  ],
  [pingRequest(123456), 4, '0006 0001e240', { kind: 'userControl', event: 6, value: 123456 }],
  [pingResponse(123456), 4, '0007 0001e240', { kind: 'userControl', event: 7, value: 123456 }],
  [userControl(2, 9), 4, '0002 00000009', { kind: 'userControl', event: 2, value: 9 }],
];

test('builders produce spec bytes on chunk stream 2, message stream 0 (5.4)', () => {
  for (const [m, type, payload] of cases) {
    assert.deepEqual(m, { type, streamId: 0, timestamp: 0, chunkStreamId: 2, payload: hex(payload) });
  }
});

test('parseControl reads what the builders wrote', () => {
  for (const [m, , , parsed] of cases) assert.deepEqual(parseControl(m), parsed);
});

test('parseControl throws ERR_RTMP_CHUNK on short payloads and non-control types', () => {
  const isChunk = (e: unknown) => isEstuaryError(e, 'ERR_RTMP_CHUNK');
  for (const [m] of cases) {
    const short = { ...m, payload: m.payload.subarray(0, m.payload.length - 1) };
    assert.throws(() => parseControl(short), isChunk, `type ${m.type} short`);
  }
  assert.throws(() => parseControl({ ...cases[0][0], type: 20 }), isChunk);
});

test('setChunkSize refuses sizes the spec forbids (5.4.1)', () => {
  const isChunk = (e: unknown) => isEstuaryError(e, 'ERR_RTMP_CHUNK');
  assert.throws(() => setChunkSize(0), isChunk);
  assert.throws(() => setChunkSize(0x80000000), isChunk);
  assert.deepEqual(setChunkSize(0x7fffffff).payload, hex('7fffffff'));
});
