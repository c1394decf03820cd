/**
 * A raw-deflate inflater on Node's zlib, several times faster than the portable one for the small
 * xref and object streams every open decodes. Node-only: the server passes it to `openPdf` as
 * `options.inflate`; the browser verifier leaves it out and gets the portable fflate path.
 */
import { constants, inflateRawSync } from 'node:zlib';
import type { RawInflate } from './filters.js';

export const nodeInflateRaw: RawInflate = (deflated, outputBytesMax) => {
  try {
    // A sync flush at the end returns what a truncated stream holds instead of failing on it.
    const output = inflateRawSync(deflated, {
      maxOutputLength: outputBytesMax + 1,
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    return new Uint8Array(output.buffer, output.byteOffset, output.byteLength);
  } catch (error) {
    if (error instanceof RangeError) return 'too-large';
    throw error;
  }
};
