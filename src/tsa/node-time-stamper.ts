/**
 * Time-stampers for the stamping path on a server (PAdES B-T): the built-in TSA in the same process
 * (the development PKI's TSA key through the Node signer), or an external RFC 3161 TSA over HTTP
 * (`BUBUH_TSA_URL`). Either returns a token whose messageImprint is the SHA-256 of the signature value.
 */
import { createHash } from 'node:crypto';
import { BubuhError } from '../errors.js';
import { signatureTimeStampAttribute } from '../pades/cms.js';
import type { CertifiedKey } from '../pki/dev-pki.js';
import { createNodeSigner } from '../pki/node-signer.js';
import { pooledRandomBytes } from '../stamping/random-pool.js';
import type { TimeStamper } from '../stamping/stamp-document.js';
import { TimeStampAuthority } from './authority.js';
import {
  encodeTimeStampRequest,
  parseTimeStampResponse,
  parseTstInfo,
  PkiStatus,
  sameBytes,
  tokenTstInfo,
  TspOid,
} from './protocol.js';

function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/** The built-in TSA from a TSA key and certificate and the issuing CA that certified it. */
export function createBuiltInAuthority(
  pki: { readonly tsa: CertifiedKey; readonly issuingCa: { readonly certificate: Uint8Array } },
  options: { policy?: string; clock?: () => number } = {},
): TimeStampAuthority {
  const signer = createNodeSigner({
    privateKeyPem: pki.tsa.privateKeyPem,
    certificate: pki.tsa.certificate,
    chain: [pki.issuingCa.certificate],
  });
  return new TimeStampAuthority({
    signer,
    // Serial numbers from the thread's pool: one OpenSSL call per 4 KB, not one per token (random-pool.ts).
    randomBytes: pooledRandomBytes,
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
}

/** Slack over a probe token's size: an ECDSA signature varies by a few bytes, a length octet by one. */
const attributeSlackBytes = 16;

/**
 * A time-stamper that asks the in-process authority directly (no DER request round trip), with the
 * TSA certificate and chain in every token so the stamp verifies offline. Its reservation is measured
 * from a probe token, so a B-T stamp grows by what the token needs and no more.
 */
export async function builtInTimeStamper(authority: TimeStampAuthority): Promise<TimeStamper> {
  const request = (signatureValue: Uint8Array) => ({
    messageImprint: { hashAlgorithm: TspOid.sha256, hashedMessage: sha256(signatureValue) },
    certReq: true,
  });
  const probe = await authority.issueToken(request(new Uint8Array(72)));
  return {
    attributeBytesMax: signatureTimeStampAttribute(probe.token).length + attributeSlackBytes,
    timeStamp: async (signatureValue) => (await authority.issueToken(request(signatureValue))).token,
  };
}

export interface HttpTimeStamperOptions {
  readonly url: string;
  readonly timeoutMs: number;
  /** Room for the token's attribute; default 4096 bytes (see TIME_STAMP_ATTRIBUTE_BYTES_DEFAULT). */
  readonly attributeBytesMax?: number;
  /** Largest response accepted. */
  readonly responseBytesMax?: number;
}

const responseBytesMaxDefault = 64 * 1024;
const nonceBytes = 8;

/**
 * An external TSA over HTTP (RFC 3161 §3.4): POST application/timestamp-query, SHA-256 imprint, a
 * random nonce, certReq. The answer must be granted, and its TSTInfo must carry our imprint and nonce;
 * anything else is a typed refusal, so the stamp fails and its reservation is voided.
 */
export function httpTimeStamper(options: HttpTimeStamperOptions): TimeStamper {
  const { url, timeoutMs } = options;
  const responseBytesMax = options.responseBytesMax ?? responseBytesMaxDefault;
  return {
    ...(options.attributeBytesMax === undefined ? {} : { attributeBytesMax: options.attributeBytesMax }),
    async timeStamp(signatureValue) {
      const hashedMessage = sha256(signatureValue);
      const nonce = pooledRandomBytes(nonceBytes);
      nonce[0] = (nonce[0]! & 0x7f) | 0x01;
      const query = encodeTimeStampRequest({
        messageImprint: { hashAlgorithm: TspOid.sha256, hashedMessage },
        nonce,
        certReq: true,
      });
      let body: Uint8Array;
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/timestamp-query' },
          body: query,
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (response.status !== 200) {
          throw new BubuhError('TSA_UNAVAILABLE', { url, problem: `HTTP status ${response.status}` });
        }
        body = new Uint8Array(await response.arrayBuffer());
      } catch (error) {
        if (error instanceof BubuhError) throw error;
        const name = (error as Error).name;
        const problem =
          name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (error as Error).message;
        throw new BubuhError('TSA_UNAVAILABLE', { url, problem }, { cause: error });
      }
      if (body.length > responseBytesMax) {
        throw new BubuhError('TSA_RESPONSE_INVALID', {
          url,
          problem: `answer larger than ${responseBytesMax} bytes`,
        });
      }
      return checkedToken(url, body, hashedMessage, nonce);
    },
  };
}

function checkedToken(
  url: string,
  body: Uint8Array,
  hashedMessage: Uint8Array,
  nonce: Uint8Array,
): Uint8Array {
  const invalid = (problem: string) => new BubuhError('TSA_RESPONSE_INVALID', { url, problem });
  const response = parseTimeStampResponse(body);
  if (typeof response === 'string') throw invalid(response);
  if (response.status !== PkiStatus.granted && response.status !== PkiStatus.grantedWithMods) {
    throw new BubuhError('TSA_REJECTED', {
      url,
      status: response.status,
      problem: response.statusString ?? `failure bits ${response.failures.join(', ') || 'none'}`,
    });
  }
  if (response.token === null) throw invalid('a granted answer without a token');
  const content = tokenTstInfo(response.token);
  if (typeof content === 'string') throw invalid(content);
  const info = parseTstInfo(content);
  if (typeof info === 'string') throw invalid(info);
  if (
    info.messageImprint.hashAlgorithm !== TspOid.sha256 ||
    !sameBytes(info.messageImprint.hashedMessage, hashedMessage)
  ) {
    throw invalid('the token time-stamps another message imprint');
  }
  if (info.nonce === null || !sameBytes(info.nonce, encodeTimeStampRequestNonce(nonce))) {
    throw invalid('the token does not echo our nonce');
  }
  return response.token;
}

/** The DER INTEGER our request carried for `nonce` (its top bit is clear, so no padding octet). */
function encodeTimeStampRequestNonce(nonce: Uint8Array): Uint8Array {
  return Uint8Array.of(0x02, nonce.length, ...nonce);
}

/**
 * The time-stamper a node stamps with: the external TSA when `BUBUH_TSA_URL` is set, otherwise the
 * built-in one with the development PKI's TSA key.
 */
export async function nodeTimeStamper(
  config: {
    readonly tsaUrl: string | undefined;
    readonly tsaTimeoutMs: number;
    readonly tsaPolicy: string | undefined;
  },
  pki: { readonly tsa: CertifiedKey; readonly issuingCa: { readonly certificate: Uint8Array } },
): Promise<TimeStamper> {
  if (config.tsaUrl !== undefined)
    return httpTimeStamper({ url: config.tsaUrl, timeoutMs: config.tsaTimeoutMs });
  return builtInTimeStamper(
    createBuiltInAuthority(pki, config.tsaPolicy === undefined ? {} : { policy: config.tsaPolicy }),
  );
}
