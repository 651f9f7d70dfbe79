/**
 * Transport stream packets (ISO/IEC 13818-1 2.4.3.2): 188 bytes, a 4-byte header, then an
 * optional adaptation field (2.4.3.4) and the payload. This file only lays out bytes; what goes
 * in a PES or a section, and when a PCR is due, is decided by the callers.
 */
import { EstuaryError } from '../../errors.js';

/** 2.4.3.2: every transport packet is 188 bytes and starts with sync_byte 0x47. */
export const TS_PACKET_SIZE = 188;
export const SYNC_BYTE = 0x47;
const HEADER_SIZE = 4;
const MAX_PAYLOAD = TS_PACKET_SIZE - HEADER_SIZE;
/** 2.4.3.3: the PID is 13 bits; 0x1FFF is the null packet PID. */
const MAX_PID = 0x1ffe;

/** adaptation_field_control values (2.4.3.3, Table 2-5). */
const AFC_PAYLOAD_ONLY = 0b01;
const AFC_ADAPTATION_ONLY = 0b10;
const AFC_BOTH = 0b11;

/** Adaptation field flag bits (2.4.3.4). */
const AF_RANDOM_ACCESS = 0x40;
const AF_PCR = 0x10;
/** adaptation_field_length + flags byte. */
const AF_FIXED_SIZE = 2;
/** program_clock_reference_base (33) + reserved (6) + extension (9) = 48 bits. */
const PCR_SIZE = 6;
/** 2.4.3.5: stuffing bytes in an adaptation field are 0xFF; 2.4.4: so are bytes after a section. */
const STUFFING = 0xff;

/**
 * The 4-bit continuity_counter of each PID (2.4.3.3). It increments with every packet that
 * carries payload and wraps mod 16; packets with adaptation_field_control '00' or '10' (no
 * payload) must repeat the previous value instead. Kept in its own object so a segmenter can carry
 * it across muxer instances and segments, as a player reading consecutive segments expects.
 */
export class ContinuityCounters {
  private readonly next = new Map<number, number>();

  /** The counter for the next payload-carrying packet on `pid`, then advances it. */
  take(pid: number): number {
    const cc = this.next.get(pid) ?? 0;
    this.next.set(pid, (cc + 1) & 0x0f);
    return cc;
  }

  /** The counter a packet without payload must carry: the last one used (2.4.3.3). */
  last(pid: number): number {
    return ((this.next.get(pid) ?? 0) + 15) & 0x0f;
  }
}

export interface PacketizeOptions {
  pid: number;
  /** A whole PES packet (header + data); the first TS packet gets payload_unit_start_indicator. */
  payload: Buffer;
  /** Bytes that go before `payload` (the PES header), so the two need not be joined first. */
  prefix?: Buffer;
  /**
   * Write the packets into this Buffer when it is large enough and return a view of it (valid
   * until the caller writes into it again), instead of a new Buffer per PES.
   */
  out?: Buffer;
  counters: ContinuityCounters;
  /** PCR in 27 MHz units (base * 300 + extension, 2.4.3.5), carried in the first packet. */
  pcr27?: number;
  /** Sets random_access_indicator in the first packet (2.4.3.5): a keyframe starts here. */
  randomAccess?: boolean;
}

function checkPid(pid: number): void {
  if (!Number.isInteger(pid) || pid < 0 || pid > MAX_PID) {
    throw new EstuaryError('ERR_MPEGTS_MUX', `PID ${pid} is outside 0..0x1FFE`);
  }
}

function writeHeader(out: Buffer, off: number, pid: number, start: boolean, afc: number, cc: number): void {
  out[off] = SYNC_BYTE;
  // transport_error_indicator 0, payload_unit_start_indicator, transport_priority 0, PID high 5 bits.
  out[off + 1] = (start ? 0x40 : 0) | ((pid >> 8) & 0x1f);
  out[off + 2] = pid & 0xff;
  // transport_scrambling_control '00' (not scrambled).
  out[off + 3] = (afc << 4) | (cc & 0x0f);
}

/** Writes the 6-byte PCR field (2.4.3.5): base 33 bits, 6 reserved '1' bits, extension 9 bits. */
export function writePcr(out: Buffer, off: number, pcr27: number): void {
  const base = Math.floor(pcr27 / 300) % 2 ** 33;
  const ext = pcr27 % 300;
  // The top 32 bits of the 33-bit base, then its last bit, the reserved bits and the extension.
  out.writeUInt32BE(Math.floor(base / 2), off);
  out[off + 4] = ((base % 2) << 7) | 0x7e | ((ext >> 8) & 0x01);
  out[off + 5] = ext & 0xff;
}

/**
 * Writes an adaptation field of exactly `size` bytes (its length byte included). A size of 1 is a
 * lone adaptation_field_length of 0, the only way to stuff a single byte (2.4.3.5).
 */
function writeAdaptationField(out: Buffer, off: number, size: number, pcr27?: number, rai?: boolean): void {
  out[off] = size - 1;
  if (size === 1) return;
  out[off + 1] = (rai ? AF_RANDOM_ACCESS : 0) | (pcr27 !== undefined ? AF_PCR : 0);
  let pos = off + AF_FIXED_SIZE;
  if (pcr27 !== undefined) {
    writePcr(out, pos, pcr27);
    pos += PCR_SIZE;
  }
  out.fill(STUFFING, pos, off + size);
}

/**
 * Splits a PES packet into transport packets. The last packet is padded with adaptation-field
 * stuffing (2.4.3.5): PES data cannot be followed by filler bytes, since a decoder would read them
 * as elementary stream data.
 */
export function packetizePes(opts: PacketizeOptions): Buffer {
  const { pid, payload, counters, pcr27, randomAccess } = opts;
  const prefix = opts.prefix ?? EMPTY;
  const total = prefix.length + payload.length;
  checkPid(pid);
  // With payload present the adaptation field may be at most 182 bytes (2.4.3.5), so there must be
  // at least one byte to carry.
  if (total === 0) throw new EstuaryError('ERR_MPEGTS_MUX', 'an empty PES cannot be packetized');
  const firstAf =
    pcr27 !== undefined || randomAccess ? AF_FIXED_SIZE + (pcr27 !== undefined ? PCR_SIZE : 0) : 0;
  const firstCapacity = MAX_PAYLOAD - firstAf;
  const rest = Math.max(0, total - firstCapacity);
  const count = 1 + Math.ceil(rest / MAX_PAYLOAD);
  const size = count * TS_PACKET_SIZE;
  const out = opts.out && opts.out.length >= size ? opts.out : Buffer.allocUnsafe(size);
  const whole =
    payload.length >= 4 * MAX_PAYLOAD && payload.buffer === out.buffer
      ? new Uint8Array(out.buffer)
      : undefined;
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const off = i * TS_PACKET_SIZE;
    const minAf = i === 0 ? firstAf : 0;
    const chunk = Math.min(MAX_PAYLOAD - minAf, total - pos);
    const afSize = MAX_PAYLOAD - chunk;
    writeHeader(out, off, pid, i === 0, afSize > 0 ? AFC_BOTH : AFC_PAYLOAD_ONLY, counters.take(pid));
    if (afSize > 0) {
      writeAdaptationField(
        out,
        off + HEADER_SIZE,
        afSize,
        i === 0 ? pcr27 : undefined,
        i === 0 && randomAccess,
      );
    }
    copyRange(prefix, payload, pos, pos + chunk, out, off + HEADER_SIZE + afSize, whole);
    pos += chunk;
  }
  return out.length === size ? out : out.subarray(0, size);
}

const EMPTY = Buffer.alloc(0);

/**
 * Copies bytes [from, to) of prefix + payload (as if joined) to `out` at `at`. When the payload
 * shares out's ArrayBuffer (TsMuxer's reuseOutput scratch), `whole` is a view of all of it and
 * the copy is a copyWithin: a V8 builtin, cheaper per 184-byte piece than Buffer#copy's binding.
 */
function copyRange(
  prefix: Buffer,
  payload: Buffer,
  from: number,
  to: number,
  out: Buffer,
  at: number,
  whole: Uint8Array | undefined,
): void {
  const p = prefix.length;
  if (from < p) {
    const end = Math.min(to, p);
    prefix.copy(out, at, from, end);
    at += end - from;
    from = end;
  }
  if (from >= to) return;
  if (whole) {
    const src = payload.byteOffset + from - p;
    whole.copyWithin(out.byteOffset + at, src, src + (to - from));
  } else payload.copy(out, at, from - p, to - p);
}

/**
 * One packet with a PSI section (2.4.4): pointer_field 0 (the section starts right after it),
 * then the section, then 0xFF filler. Our PAT and PMT always fit in one packet.
 */
export function packetizeSection(pid: number, section: Buffer, counters: ContinuityCounters): Buffer {
  checkPid(pid);
  if (section.length > MAX_PAYLOAD - 1) {
    throw new EstuaryError('ERR_MPEGTS_MUX', `a ${section.length}-byte PSI section does not fit one packet`);
  }
  const out = Buffer.alloc(TS_PACKET_SIZE, STUFFING);
  writeHeader(out, 0, pid, true, AFC_PAYLOAD_ONLY, counters.take(pid));
  out[HEADER_SIZE] = 0; // pointer_field
  section.copy(out, HEADER_SIZE + 1);
  return out;
}

/**
 * A packet with only an adaptation field carrying a PCR (adaptation_field_control '10'). It
 * keeps the PCR within 100 ms (2.7.2) when the PCR PID has no PES to carry one; having no payload,
 * it repeats the PID's last continuity_counter (2.4.3.3).
 */
export function pcrOnlyPacket(pid: number, pcr27: number, counters: ContinuityCounters): Buffer {
  checkPid(pid);
  const out = Buffer.allocUnsafe(TS_PACKET_SIZE);
  writeHeader(out, 0, pid, false, AFC_ADAPTATION_ONLY, counters.last(pid));
  writeAdaptationField(out, HEADER_SIZE, MAX_PAYLOAD, pcr27, false);
  return out;
}
