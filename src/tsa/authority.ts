/**
 * The built-in time-stamping authority (RFC 3161): turns a message imprint into a time-stamp token —
 * a CMS SignedData encapsulating a TSTInfo, signed through the same `Signer` interface as the PAdES
 * signature (a key file today, an HSM later), with signed attributes content-type id-ct-TSTInfo,
 * message-digest and signing-certificate-v2 naming the TSA certificate. Serial numbers are 128 random
 * bits; genTime is UTC with milliseconds. Pure: the clock and randomness are injected.
 */
import { buildEncapsulatedSignedData, type Signer } from '../pades/cms.js';
import {
  acceptedImprintHashes,
  DEFAULT_TSA_POLICY,
  encodeTimeStampResponse,
  encodeTstInfo,
  type MessageImprint,
  parseTimeStampRequest,
  TspOid,
} from './protocol.js';

export interface TimeStampAuthorityOptions {
  /** The TSA's key and certificate (extended key usage id-kp-timeStamping, critical) and its chain. */
  readonly signer: Signer;
  /** Dotted OID of the policy tokens are issued under; default `DEFAULT_TSA_POLICY`. */
  readonly policy?: string;
  /** Milliseconds since the epoch; default `Date.now`. */
  readonly clock?: () => number;
  readonly randomBytes: (count: number) => Uint8Array;
  /** The accuracy stated in tokens; omitted when absent. */
  readonly accuracy?: { readonly seconds?: number; readonly millis?: number };
}

export interface TokenRequest {
  readonly messageImprint: MessageImprint;
  /** The request's nonce as a whole DER INTEGER, echoed in the token; null without one. */
  readonly nonce?: Uint8Array | null;
  /** Whether the token carries the TSA certificate and its chain. */
  readonly certReq: boolean;
}

export interface IssuedToken {
  /** The token: a DER ContentInfo (SignedData, eContentType id-ct-TSTInfo). */
  readonly token: Uint8Array;
  readonly serialNumber: Uint8Array;
  readonly genTime: Date;
}

const serialNumberBytes = 16;

export class TimeStampAuthority {
  readonly policy: string;
  private readonly signer: Signer;
  private readonly clock: () => number;
  private readonly randomBytes: (count: number) => Uint8Array;
  private readonly accuracy: TimeStampAuthorityOptions['accuracy'];

  constructor(options: TimeStampAuthorityOptions) {
    this.signer = options.signer;
    this.policy = options.policy ?? DEFAULT_TSA_POLICY;
    this.clock = options.clock ?? Date.now;
    this.randomBytes = options.randomBytes;
    this.accuracy = options.accuracy;
  }

  /** The certificates a token with certReq carries: the TSA's, then its chain. */
  get certificates(): readonly Uint8Array[] {
    return [this.signer.certificate, ...this.signer.chain];
  }

  async issueToken(request: TokenRequest): Promise<IssuedToken> {
    const expected = acceptedImprintHashes[request.messageImprint.hashAlgorithm];
    if (expected === undefined || request.messageImprint.hashedMessage.length !== expected) {
      throw new Error('TSA invariant: the imprint hash must be checked before issuing');
    }
    const serialNumber = this.randomBytes(serialNumberBytes).slice();
    // Non-zero and with a fixed length: the top bit cleared keeps the INTEGER 16 octets, positive.
    serialNumber[0] = (serialNumber[0]! & 0x7f) | 0x40;
    const genTime = new Date(this.clock());
    const tstInfo = encodeTstInfo({
      policy: this.policy,
      messageImprint: request.messageImprint,
      serialNumber,
      genTime,
      ...(this.accuracy ? { accuracy: this.accuracy } : {}),
      nonce: request.nonce ?? null,
    });
    const token = await buildEncapsulatedSignedData({
      eContentType: TspOid.tstInfo,
      eContent: tstInfo,
      signer: this.signer,
      includeCertificates: request.certReq,
    });
    return { token, serialNumber, genTime };
  }

  /**
   * Answers one DER TimeStampReq with a DER TimeStampResp (RFC 3161 §2.4.2): a token when granted,
   * otherwise status rejection with the failure bit and a reason. Never throws on bad input.
   */
  async respond(requestBytes: Uint8Array): Promise<Uint8Array> {
    const request = parseTimeStampRequest(requestBytes);
    if ('failure' in request) {
      return encodeTimeStampResponse({ failure: request.failure, statusString: request.problem });
    }
    const { hashAlgorithm, hashedMessage } = request.messageImprint;
    const expected = acceptedImprintHashes[hashAlgorithm];
    if (expected === undefined) {
      return encodeTimeStampResponse({
        failure: 'badAlg',
        statusString: `hash algorithm ${hashAlgorithm} is not accepted; use SHA-256, SHA-384 or SHA-512`,
      });
    }
    if (hashedMessage.length !== expected) {
      return encodeTimeStampResponse({
        failure: 'badDataFormat',
        statusString: `the hashed message is ${hashedMessage.length} bytes, not ${expected}`,
      });
    }
    if (request.reqPolicy !== null && request.reqPolicy !== this.policy) {
      return encodeTimeStampResponse({
        failure: 'unacceptedPolicy',
        statusString: `policy ${request.reqPolicy} is not offered; this TSA issues under ${this.policy}`,
      });
    }
    if (request.hasExtensions) {
      return encodeTimeStampResponse({
        failure: 'unacceptedExtension',
        statusString: 'this TSA supports no request extensions',
      });
    }
    const issued = await this.issueToken({
      messageImprint: request.messageImprint,
      nonce: request.nonce,
      certReq: request.certReq,
    });
    return encodeTimeStampResponse({ granted: issued.token });
  }
}
