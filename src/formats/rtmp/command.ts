/**
 * Command messages (spec section 7.1.1: name, transaction id, command object, arguments) and
 * data messages (section 7.1.2), in AMF0 (types 20/18) or AMF3 (types 17/15).
 */
import { EstuaryError } from '../../errors.js';
import { decodeAmf0, encodeAmf0 } from '../amf/amf0.js';
import type { AmfObject, AmfValue } from '../amf/value.js';
import { ChunkStreamId, type RtmpMessage } from './message.js';
import { MessageType } from './message-types.js';

export interface RtmpCommand {
  name: string;
  transactionId: number;
  /** Usually an object (connect) or null. */
  commandObject: AmfValue;
  args: AmfValue[];
}

function commandError(message: string): EstuaryError {
  return new EstuaryError('ERR_RTMP_COMMAND', message);
}

/**
 * AMF3 command and data messages start with one format byte, 0; the body is then AMF0 values
 * that may switch to AMF3 with marker 0x11. Some clients omit the byte. A body starts with its
 * name, an AMF0 string (0x02), so a leading 0x00 can only be the format byte.
 */
function amf3Body(payload: Buffer): Buffer {
  return payload.length > 0 && payload[0] === 0x00 ? payload.subarray(1) : payload;
}

/** Decodes a type 20 (AMF0) or 17 (AMF3) command. Throws ERR_AMF_DECODE / ERR_RTMP_COMMAND. */
export function decodeCommand(msg: RtmpMessage): RtmpCommand {
  let values: AmfValue[];
  if (msg.type === MessageType.CommandAmf0) values = decodeAmf0(msg.payload);
  else if (msg.type === MessageType.CommandAmf3) values = decodeAmf0(amf3Body(msg.payload));
  else throw commandError(`message type ${msg.type} is not a command (expected 20 or 17)`);
  const [name, transactionId, commandObject, ...args] = values;
  if (typeof name !== 'string') throw commandError(`command name is ${describe(name)}, expected a string`);
  if (transactionId !== undefined && typeof transactionId !== 'number') {
    throw commandError(`transaction id of "${name}" is ${describe(transactionId)}, expected a number`);
  }
  return {
    name,
    transactionId: transactionId ?? 0,
    commandObject: values.length > 2 ? commandObject : null,
    args,
  };
}

function describe(v: AmfValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Date) return 'a date';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

/** Encodes a command as an AMF0 command message (type 20), timestamp 0. */
export function encodeCommand(
  cmd: RtmpCommand,
  streamId: number,
  chunkStreamId: number = ChunkStreamId.Command,
): RtmpMessage {
  return {
    type: MessageType.CommandAmf0,
    streamId,
    timestamp: 0,
    chunkStreamId,
    payload: encodeAmf0(cmd.name, cmd.transactionId, cmd.commandObject, ...cmd.args),
  };
}

/** Decodes a data message, type 18 (AMF0) or 15 (AMF3), e.g. @setDataFrame / onMetaData. */
export function decodeData(msg: RtmpMessage): AmfValue[] {
  if (msg.type === MessageType.DataAmf0) return decodeAmf0(msg.payload);
  if (msg.type === MessageType.DataAmf3) return decodeAmf0(amf3Body(msg.payload));
  throw commandError(`message type ${msg.type} is not a data message (expected 18 or 15)`);
}

/** Encodes AMF0 data (type 18), e.g. `encodeData(encodeAmf0('onMetaData'), ...)` callers' values. */
export function encodeData(
  values: AmfValue[],
  streamId: number,
  timestamp = 0,
  chunkStreamId: number = ChunkStreamId.Data,
): RtmpMessage {
  return { type: MessageType.DataAmf0, streamId, timestamp, chunkStreamId, payload: encodeAmf0(...values) };
}

/**
 * A NetStream status event (section 7.2.2 replies): command "onStatus", transaction id 0, null
 * command object, info object {level, code, description, ...extra}. Sent on chunk stream 5
 * (`ChunkStreamId.Status`), apart from command replies on 3.
 */
export function onStatus(
  streamId: number,
  level: 'status' | 'error' | 'warning',
  code: string,
  description: string,
  extra?: AmfObject,
): RtmpMessage {
  const info: AmfObject = { level, code, description, ...extra };
  return encodeCommand(
    { name: 'onStatus', transactionId: 0, commandObject: null, args: [info] },
    streamId,
    ChunkStreamId.Status,
  );
}

/** A "_result" (or "_error") reply to the command with `transactionId` (section 7.2.1). */
export function commandResult(
  transactionId: number,
  commandObject: AmfValue,
  args: AmfValue[],
  streamId = 0,
  name: '_result' | '_error' = '_result',
): RtmpMessage {
  return encodeCommand({ name, transactionId, commandObject, args }, streamId);
}
