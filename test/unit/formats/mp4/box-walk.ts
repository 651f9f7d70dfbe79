/** Test helper: finds boxes by path ('moov/trak/mdia/mdhd') in a built file, via the box reader. */
import { type BoxHeader, childBoxes } from '../../../../src/formats/mp4/box-reader.js';

/** Boxes whose payload is a list of child boxes (only those we descend into). */
const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'dinf', 'edts', 'mvex', 'moof', 'traf']);

export interface FoundBox extends BoxHeader {
  path: string;
}

export function walk(buf: Buffer, start = 0, end = buf.length, prefix = ''): FoundBox[] {
  const out: FoundBox[] = [];
  for (const h of childBoxes(buf, start, end)) {
    const path = prefix ? `${prefix}/${h.type}` : h.type;
    out.push({ ...h, path });
    if (CONTAINERS.has(h.type)) out.push(...walk(buf, h.start + h.headerSize, h.start + h.size, path));
  }
  return out;
}

export function find(buf: Buffer, path: string, nth = 0): FoundBox {
  const all = walk(buf).filter((b) => b.path === path);
  const b = all[nth];
  if (!b) throw new Error(`no box at ${path} [${nth}]`);
  return b;
}

/** Payload of a box (after the 8/16-byte header). */
export function body(buf: Buffer, b: BoxHeader): Buffer {
  return buf.subarray(b.start + b.headerSize, b.start + b.size);
}
