import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sniffContainer } from '../../../src/pusher/sniff.js';

const CASES: [string, Buffer, 'flv' | 'mp4' | undefined][] = [
  ['FLV header, version 1 (E.2)', Buffer.from('464c5601050000000900000000', 'hex'), 'flv'],
  ['FLV signature, unknown version', Buffer.from('464c5602050000000900000000', 'hex'), undefined],
  ['ftyp box first', Buffer.from('0000001c667479706973366d', 'hex'), 'mp4'],
  ['QuickTime starting with moov', Buffer.from('000001006d6f6f76', 'hex'), 'mp4'],
  ['mdat with largesize (size 1)', Buffer.from('000000016d646174', 'hex'), 'mp4'],
  ['fMP4 segment (styp)', Buffer.from('0000001873747970', 'hex'), 'mp4'],
  ['box size 4 is impossible', Buffer.from('0000000466747970', 'hex'), undefined],
  ['text', Buffer.from('{"name": "x"}'), undefined],
  ['empty file', Buffer.alloc(0), undefined],
  ['3 bytes', Buffer.from('FLV'), undefined],
];

for (const [name, head, want] of CASES) {
  test(`sniffContainer: ${name}`, () => {
    assert.equal(sniffContainer(head), want);
  });
}
