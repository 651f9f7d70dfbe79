/**
 * Writes the inputs that broke the server before issue 9 into test/fixtures/fuzz/server/ (the
 * corpus test/interop/fuzz-corpus.test.ts replays): the committed recipe of those files.
 * `node --import tsx fuzz/seed-corpus.ts`
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { encodeFlvHeader } from '../src/formats/flv/header.js';
import { encodeFlvTag, FlvTagType } from '../src/formats/flv/tag.js';
import { metadataReferenceBomb } from '../test/helpers/hostile-amf.js';
import { httpHead } from './run.js';

const CORPUS = new URL('../test/fixtures/fuzz/server/', import.meta.url);
mkdirSync(CORPUS, { recursive: true });

const bombFlv = Buffer.concat([
  encodeFlvHeader({ audio: true, video: true }),
  encodeFlvTag(FlvTagType.Script, 0, metadataReferenceBomb(30)),
]);
const inputs: Record<string, Buffer> = {
  // 9.1: a 695-byte onMetaData whose references expand to 2^30 values.
  'http-flv-post-metadata-reference-bomb.bin': Buffer.concat([
    httpHead('POST', '/fuzz/bomb', [`Content-Length: ${bombFlv.length}`]),
    bombFlv,
  ]),
  // 9.2: 63 chunk streams each starting a message it never finishes.
  'rtmp-partial-messages-on-63-chunk-streams.bin': readFileSync(
    new URL('../test/fixtures/fuzz/rtmp-chunk/partial-messages-on-63-chunk-streams.bin', import.meta.url),
  ),
  // 9.5: fifty plays pipelined on one connection.
  'live-fifty-pipelined-plays.bin': Buffer.concat(
    Array.from({ length: 50 }, () => httpHead('GET', '/live/good.flv')),
  ),
  // 9 (also): a 20 KB request head and CONNECT on the live port.
  'live-oversized-head.bin': httpHead('GET', '/live/good.flv', [`X-Big: ${'a'.repeat(20_000)}`]),
  'live-connect.bin': httpHead('CONNECT', 'example.com:443'),
};
for (const [name, bytes] of Object.entries(inputs)) writeFileSync(new URL(name, CORPUS), bytes);
console.log(`wrote ${Object.keys(inputs).length} inputs to ${CORPUS.pathname}`);
