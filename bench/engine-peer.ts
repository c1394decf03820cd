/**
 * The peer of `npm run bench:engine`: @libpdf/core 0.4 signing the same corpus files. Its public API
 * (`PDF.load` then `pdf.sign`) appends one incremental update holding an INVISIBLE signature field
 * (a widget with /Rect [0 0 0 0] on the FIRST page) and a PAdES B-B CMS (`ETSI.CAdES.detached`). It
 * has no option for a visible appearance on a signature field, so it draws no seal, no QR code and
 * no text, and it never chooses a page; bubuh does all of those. The peer therefore does less work per
 * stamp than bubuh, which makes the speed-up a conservative figure.
 *
 * To compare the PDF engines rather than two crypto stacks, the peer signs through its public
 * `Signer` interface with the very same `node:crypto` P-256 key object bubuh uses (a cached
 * KeyObject, one synchronous OpenSSL signature), and reserves bubuh's /Contents size plus 1 KB (its CMS is slightly larger).
 */
import { createPrivateKey, sign as nodeSign } from 'node:crypto';
import { PDF, type Signer as PeerSigner } from '@libpdf/core';

export interface PeerKey {
  readonly privateKeyPem: string;
  readonly certificate: Uint8Array;
  readonly chain: readonly Uint8Array[];
}

export interface PeerOptions {
  readonly reason: string;
  readonly location: string;
  readonly signingTime: Date;
  /** Bytes reserved for the CMS in /Contents (libpdf's default is 12 KB; bubuh reserves less). */
  readonly contentsBytes: number;
}

export const peerDescription = [
  'peer: @libpdf/core PDF.load + pdf.sign({ level: B-B, subFilter: ETSI.CAdES.detached }), incremental update;',
  '      same node:crypto P-256 key and certificate chain via its Signer API; /Contents = bubuh reservation + 1 KB.',
  '      It adds an INVISIBLE signature field (Rect [0 0 0 0]) on the FIRST page: no visible seal, no QR,',
  '      no appearance stream, no page choice. bubuh draws the seal (QR + text, deflated form XObject)',
  '      on the LAST page. The peer does strictly less PDF work per stamp.',
];

/** A libpdf `Signer` backed by a node:crypto KeyObject: ECDSA with SHA-256, DER signature. */
export function peerSigner(key: PeerKey): PeerSigner {
  const privateKey = createPrivateKey({ key: key.privateKeyPem, format: 'pem' });
  return {
    certificate: key.certificate,
    certificateChain: [...key.chain],
    keyType: 'EC',
    signatureAlgorithm: 'ECDSA',
    sign: async (data: Uint8Array): Promise<Uint8Array> => {
      const signature = nodeSign('sha256', data, { key: privateKey, dsaEncoding: 'der' });
      return new Uint8Array(signature.buffer, signature.byteOffset, signature.length);
    },
  };
}

/** One peer stamp: parse the file and append the signed incremental update; returns the new bytes. */
export async function peerStamp(
  bytes: Uint8Array,
  signer: PeerSigner,
  options: PeerOptions,
): Promise<Uint8Array> {
  const pdf = await PDF.load(bytes);
  const result = await pdf.sign({
    signer,
    reason: options.reason,
    location: options.location,
    signingTime: options.signingTime,
    level: 'B-B',
    subFilter: 'ETSI.CAdES.detached',
    digestAlgorithm: 'SHA-256',
    estimatedSize: options.contentsBytes,
  });
  return result.bytes;
}
