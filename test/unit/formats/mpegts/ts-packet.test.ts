import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEstuaryError } from '../../../../src/errors.js';
import {
  ContinuityCounters,
  packetizePes,
  packetizeSection,
  pcrOnlyPacket,
  writePcr,
} from '../../../../src/formats/mpegts/ts-packet.js';
import { readPackets } from './ts-test-helpers.js';

test('continuity counters run 0..15 and wrap, independently per PID', () => {
  const cc = new ContinuityCounters();
  const seen = Array.from({ length: 18 }, () => cc.take(0x100));
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1]);
  assert.equal(cc.take(0x101), 0);
  // A packet without payload repeats the last counter used (2.4.3.3).
  assert.equal(cc.last(0x100), 1);
  assert.equal(cc.last(0x1000), 15);
});

test('a 10-byte PES fills one packet with adaptation-field stuffing (exact bytes)', () => {
  const payload = Buffer.from('00112233445566778899', 'hex');
  const out = packetizePes({ pid: 0x100, payload, counters: new ContinuityCounters() });
  assert.equal(out.length, 188);
  // sync, PUSI + PID 0x100, adaptation_field_control '11' + CC 0.
  assert.equal(out.subarray(0, 4).toString('hex'), '47410030');
  // adaptation_field_length 173 (184 - 1 - 10), flags 0, then 172 stuffing bytes 0xFF.
  assert.equal(out[4], 173);
  assert.equal(out[5], 0);
  assert.ok(out.subarray(6, 178).every((b) => b === 0xff));
  assert.deepEqual(out.subarray(178), payload);
});

test('183 bytes of payload leave one byte: an adaptation field of length 0', () => {
  const payload = Buffer.alloc(183, 0xab);
  const out = packetizePes({ pid: 0x101, payload, counters: new ContinuityCounters() });
  assert.equal(out.subarray(0, 5).toString('hex'), '4741013000');
  assert.deepEqual(out.subarray(5), payload);
});

const SIZES = [1, 100, 175, 176, 177, 183, 184, 185, 367, 368, 369, 1000, 5000];
const FLAG_SETS = [{}, { randomAccess: true }, { pcr27: 123456789 }, { pcr27: 0, randomAccess: true }];

test('every packet is 188 bytes and the payload survives, for sizes around the boundaries', () => {
  for (const size of SIZES) {
    for (const flags of FLAG_SETS) {
      const payload = Buffer.from(Array.from({ length: size }, (_, i) => i & 0xff));
      const counters = new ContinuityCounters();
      counters.take(0x100); // start mid-sequence
      const out = packetizePes({ pid: 0x100, payload, counters, ...flags });
      const packets = readPackets(out);
      const label = `size ${size} ${JSON.stringify(flags)}`;
      assert.deepEqual(Buffer.concat(packets.map((p) => p.payload)), payload, label);
      packets.forEach((p, i) => {
        assert.equal(p.pid, 0x100, label);
        assert.equal(p.pusi, i === 0, label);
        assert.equal(p.cc, (i + 1) & 0x0f, label);
        assert.equal(p.afSize + p.payload.length, 184, label);
        if (i > 0) assert.equal(p.pcr27, undefined, label);
      });
      assert.equal(packets[0].randomAccess, 'randomAccess' in flags, label);
      assert.equal(packets[0].pcr27, 'pcr27' in flags ? flags.pcr27 : undefined, label);
      // No packet is wasted: only the last one is stuffed, the others are full of payload.
      const firstAf = 'pcr27' in flags ? 8 : 'randomAccess' in flags ? 2 : 0;
      assert.equal(packets.length, 1 + Math.ceil(Math.max(0, size - (184 - firstAf)) / 184), label);
    }
  }
});

test('PCR field: 33-bit base, six reserved 1 bits, 9-bit extension (2.4.3.5)', () => {
  const out = Buffer.alloc(6);
  // 0.7 s = 63000 at 90 kHz: base 0xF618 → first 32 bits 0x7B0C, last bit 0, reserved 0x7E.
  writePcr(out, 0, 63000 * 300);
  assert.equal(out.toString('hex'), '00007b0c7e00');
  // base 1, extension 299 (0x12B): last base bit, reserved bits and extension bit 8 → 0xFF.
  writePcr(out, 0, 300 + 299);
  assert.equal(out.toString('hex'), '00000000ff2b');
});

test('PCR and random access share the first adaptation field (flags 0x50)', () => {
  const out = packetizePes({
    pid: 0x100,
    payload: Buffer.alloc(400, 1),
    counters: new ContinuityCounters(),
    pcr27: 63000 * 300,
    randomAccess: true,
  });
  assert.equal(out.subarray(0, 12).toString('hex'), '47410030075000007b0c7e00');
  assert.equal(out.length, 3 * 188);
});

test('a PSI packet: pointer_field 0, the section, then 0xFF', () => {
  const section = Buffer.from('00b00d0001c100000001f0002ab104b2', 'hex');
  const counters = new ContinuityCounters();
  counters.take(0);
  const out = packetizeSection(0, section, counters);
  assert.equal(out.length, 188);
  assert.equal(out.subarray(0, 5).toString('hex'), '4740001100');
  assert.deepEqual(out.subarray(5, 21), section);
  assert.ok(out.subarray(21).every((b) => b === 0xff));
  assert.throws(
    () => packetizeSection(0, Buffer.alloc(184), counters),
    (err) => isEstuaryError(err, 'ERR_MPEGTS_MUX'),
  );
});

test('a PCR-only packet has no payload and repeats the last continuity counter', () => {
  const counters = new ContinuityCounters();
  counters.take(0x100);
  counters.take(0x100);
  const out = pcrOnlyPacket(0x100, 90000 * 300, counters);
  const [p] = readPackets(out);
  assert.equal(p.afc, 0b10);
  assert.equal(p.cc, 1);
  assert.equal(p.afSize, 184);
  assert.equal(p.pcr27, 90000 * 300);
  assert.equal(p.payload.length, 0);
  assert.equal(counters.take(0x100), 2, 'the next payload packet continues the sequence');
});

test('PIDs outside 13 bits are refused', () => {
  for (const pid of [-1, 0x1fff, 0x2000, 1.5]) {
    assert.throws(
      () => packetizePes({ pid, payload: Buffer.alloc(1), counters: new ContinuityCounters() }),
      (err) => isEstuaryError(err, 'ERR_MPEGTS_MUX'),
    );
  }
});

test('an empty PES is refused: a payload-carrying packet needs at least one payload byte', () => {
  assert.throws(
    () => packetizePes({ pid: 0x100, payload: Buffer.alloc(0), counters: new ContinuityCounters() }),
    (err) => isEstuaryError(err, 'ERR_MPEGTS_MUX'),
  );
});
