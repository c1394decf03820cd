/**
 * The stamping environment on a server: Node's SHA-256, zlib and CSPRNG (drawn from a pool, see
 * random-pool.ts), which are several times faster than their portable equivalents, and the node's signer.
 */
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import type { Signer } from '../pades/cms.js';
import { nodeInflateRaw } from '../pdf/inflate-node.js';
import { encodeSealQr } from '../seal/seal.js';
import { RandomPool } from './random-pool.js';
import type { StampEnvironment } from './stamp-document.js';

export function nodeSha256(parts: readonly Uint8Array[]): Uint8Array {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

export function nodeStampEnvironment(signer: Signer): StampEnvironment {
  const random = new RandomPool();
  return {
    signer,
    sha256: nodeSha256,
    // For the long-term /DSS data; the seal compresses its own content stream (see seal.ts). Level 1
    // takes about half the time of level 6 for a few percent more bytes.
    deflate: (data) => new Uint8Array(deflateSync(data, { level: 1 })),
    inflate: nodeInflateRaw,
    encodeQr: encodeSealQr,
    randomBytes: (count) => random.take(count),
  };
}
