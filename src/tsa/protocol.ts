/**
 * The Time-Stamp Protocol (RFC 3161) as DER: TimeStampReq, TimeStampResp and TSTInfo, encoded and
 * parsed by hand over the DER helpers of `src/pades/der.ts` (an ASN.1 object graph would cost more than
 * the signature that a token carries). Parsers never throw on bad input: they return a short English
 * reason. Pure: no `node:` imports.
 */
import {
  contextPrimitive,
  type DerElement,
  element,
  integer,
  objectIdentifier,
  octetString,
  readChildren,
  readElement,
  sequence,
  Tag,
} from '../pades/der.js';

export const TspOid = {
  /** id-ct-TSTInfo: the eContentType of a time-stamp token. */
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  signedData: '1.2.840.113549.1.7.2',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
} as const;

/**
 * The policy under which the built-in TSA issues tokens unless configured otherwise: a UUID-based OID
 * (ITU-T X.667, arc 2.25), which needs no registration and names this software's policy only.
 */
export const DEFAULT_TSA_POLICY = '2.25.220442951442279759704376821117209531771';

/** The hash algorithms a request may use, with their digest sizes. SHA-1 is refused (badAlg). */
export const acceptedImprintHashes: Readonly<Record<string, number>> = {
  [TspOid.sha256]: 32,
  [TspOid.sha384]: 48,
  [TspOid.sha512]: 64,
};

/** PKIStatus (RFC 3161 §2.4.2). */
export const PkiStatus = {
  granted: 0,
  grantedWithMods: 1,
  rejection: 2,
  waiting: 3,
  revocationWarning: 4,
  revocationNotification: 5,
} as const;

/** PKIFailureInfo bit numbers (RFC 3161 §2.4.2). */
export const PkiFailure = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  timeNotAvailable: 14,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  addInfoNotAvailable: 17,
  systemFailure: 25,
} as const;

export type PkiFailureName = keyof typeof PkiFailure;

/** Dotted text of an OBJECT IDENTIFIER element's content; null when malformed. */
export function oidText(content: Uint8Array): string | null {
  if (content.length === 0 || content.length > 128 || (content[content.length - 1]! & 0x80) !== 0)
    return null;
  const arcs: bigint[] = [];
  let value = 0n;
  for (const byte of content) {
    value = (value << 7n) | BigInt(byte & 0x7f);
    if ((byte & 0x80) !== 0) continue;
    if (arcs.length === 0) {
      const top = value < 80n ? value / 40n : 2n;
      arcs.push(top, value - top * 40n);
    } else arcs.push(value);
    value = 0n;
  }
  return arcs.join('.');
}

const booleanTrue = Uint8Array.of(0x01, 0x01, 0xff);

function contentOf(bytes: Uint8Array, found: DerElement): Uint8Array {
  return bytes.subarray(found.contentStart, found.end);
}

function encodingOf(bytes: Uint8Array, found: DerElement): Uint8Array {
  return bytes.subarray(found.start, found.end);
}

/** A single DER element spanning all of `bytes`, or null. */
function whole(bytes: Uint8Array, tag: number): DerElement | null {
  const found = readElement(bytes, 0);
  return found !== null && found.tag === tag && found.end === bytes.length ? found : null;
}

function readOid(bytes: Uint8Array, found: DerElement | undefined): string | null {
  return found?.tag === Tag.objectIdentifier ? oidText(contentOf(bytes, found)) : null;
}

/** MessageImprint ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING }. */
export interface MessageImprint {
  /** Dotted OID of the hash algorithm. */
  readonly hashAlgorithm: string;
  readonly hashedMessage: Uint8Array;
}

function encodeMessageImprint(imprint: MessageImprint): Uint8Array {
  // RFC 5754 §2: SHA-2 AlgorithmIdentifiers carry no parameters.
  return sequence(sequence(objectIdentifier(imprint.hashAlgorithm)), octetString(imprint.hashedMessage));
}

function parseMessageImprint(bytes: Uint8Array, found: DerElement | undefined): MessageImprint | null {
  const parts = found?.tag === Tag.sequence ? readChildren(bytes, found, 2) : null;
  const algorithm = parts?.[0]?.tag === Tag.sequence ? readChildren(bytes, parts[0], 2) : null;
  const hashAlgorithm = readOid(bytes, algorithm?.[0]);
  // Parameters may be absent or NULL; anything else is not a hash AlgorithmIdentifier.
  const parameters = algorithm?.[1];
  if (parameters !== undefined && (parameters.tag !== Tag.null || parameters.end - parameters.start !== 2))
    return null;
  if (hashAlgorithm === null || parts?.length !== 2 || parts[1]!.tag !== Tag.octetString) return null;
  return { hashAlgorithm, hashedMessage: contentOf(bytes, parts[1]!) };
}

export interface TimeStampRequest {
  readonly messageImprint: MessageImprint;
  readonly reqPolicy: string | null;
  /** The whole DER INTEGER of the nonce, echoed verbatim in the token; null without one. */
  readonly nonce: Uint8Array | null;
  readonly certReq: boolean;
  /** Whether the request carries extensions (this TSA supports none). */
  readonly hasExtensions: boolean;
}

/** TimeStampReq (version 1). `nonce` is an unsigned big-endian magnitude. */
export function encodeTimeStampRequest(input: {
  messageImprint: MessageImprint;
  reqPolicy?: string;
  nonce?: Uint8Array;
  certReq?: boolean;
}): Uint8Array {
  const parts = [integer(1), encodeMessageImprint(input.messageImprint)];
  if (input.reqPolicy !== undefined) parts.push(objectIdentifier(input.reqPolicy));
  if (input.nonce !== undefined) parts.push(unsignedIntegerOf(input.nonce));
  if (input.certReq === true) parts.push(booleanTrue);
  return sequence(...parts);
}

function unsignedIntegerOf(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start += 1;
  const trimmed = magnitude.length === 0 ? Uint8Array.of(0) : magnitude.subarray(start);
  return (trimmed[0]! & 0x80) !== 0
    ? element(Tag.integer, Uint8Array.of(0), trimmed)
    : element(Tag.integer, trimmed);
}

/** A request the TSA cannot serve, with the failure bit it answers with. */
export interface RequestFailure {
  readonly failure: PkiFailureName;
  readonly problem: string;
}

/** Parses a TimeStampReq; a failure says which PKIFailureInfo bit the answer must carry. */
export function parseTimeStampRequest(bytes: Uint8Array): TimeStampRequest | RequestFailure {
  const bad = (problem: string): RequestFailure => ({ failure: 'badDataFormat', problem });
  const outer = whole(bytes, Tag.sequence);
  const fields = outer === null ? null : readChildren(bytes, outer, 8);
  if (fields === null) return bad('the request is not a DER TimeStampReq');
  const [version, imprintElement, ...rest] = fields;
  if (version?.tag !== Tag.integer || !sameBytes(encodingOf(bytes, version), integer(1)))
    return { failure: 'badRequest', problem: 'the request version is not 1' };
  const messageImprint = parseMessageImprint(bytes, imprintElement);
  if (messageImprint === null) return bad('the messageImprint is malformed');
  let reqPolicy: string | null = null;
  let nonce: Uint8Array | null = null;
  let certReq = false;
  let hasExtensions = false;
  let position = 0;
  if (rest[position]?.tag === Tag.objectIdentifier) {
    reqPolicy = readOid(bytes, rest[position]);
    if (reqPolicy === null) return bad('the reqPolicy is malformed');
    position += 1;
  }
  if (rest[position]?.tag === Tag.integer) {
    const found = rest[position]!;
    if (found.end - found.contentStart > 64) return bad('the nonce is longer than 64 bytes');
    nonce = encodingOf(bytes, found);
    position += 1;
  }
  if (rest[position]?.tag === 0x01) {
    const found = rest[position]!;
    if (found.end - found.contentStart !== 1) return bad('certReq is not a BOOLEAN');
    certReq = bytes[found.contentStart] !== 0;
    position += 1;
  }
  if (rest[position]?.tag === 0xa0) {
    hasExtensions = true;
    position += 1;
  }
  if (position !== rest.length) return bad('the request has fields in the wrong order or of the wrong type');
  return { messageImprint, reqPolicy, nonce, certReq, hasExtensions };
}

/**
 * GeneralizedTime with milliseconds when there are any, trailing zeros dropped as DER requires:
 * `YYYYMMDDHHMMSS[.f[f[f]]]Z`, written digit by digit (every token carries one).
 */
export function generalizedTimeMillis(time: Date): Uint8Array {
  const year = time.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) throw new Error(`TSP invariant: ${year} is not a four-digit year`);
  const digits = new Uint8Array(19);
  let length = 0;
  const put = (value: number, width: number) => {
    for (let place = width - 1; place >= 0; place -= 1) {
      digits[length + place] = 0x30 + (value % 10);
      value = Math.floor(value / 10);
    }
    length += width;
  };
  put(year, 4);
  put(time.getUTCMonth() + 1, 2);
  put(time.getUTCDate(), 2);
  put(time.getUTCHours(), 2);
  put(time.getUTCMinutes(), 2);
  put(time.getUTCSeconds(), 2);
  let millis = time.getUTCMilliseconds();
  if (millis !== 0) {
    let width = 3;
    while (millis % 10 === 0) {
      millis /= 10;
      width -= 1;
    }
    digits[length++] = 0x2e;
    put(millis, width);
  }
  digits[length++] = 0x5a;
  return element(Tag.generalizedTime, digits.subarray(0, length));
}

export interface TstInfoInput {
  readonly policy: string;
  readonly messageImprint: MessageImprint;
  /** Unsigned big-endian magnitude. */
  readonly serialNumber: Uint8Array;
  readonly genTime: Date;
  readonly accuracy?: { readonly seconds?: number; readonly millis?: number };
  /** The request's nonce as a whole DER INTEGER. */
  readonly nonce?: Uint8Array | null;
}

/** TSTInfo (version 1); ordering is left at its DEFAULT (false), no tsa name, no extensions. */
export function encodeTstInfo(input: TstInfoInput): Uint8Array {
  const parts = [
    integer(1),
    objectIdentifier(input.policy),
    encodeMessageImprint(input.messageImprint),
    unsignedIntegerOf(input.serialNumber),
    generalizedTimeMillis(input.genTime),
  ];
  const accuracy = input.accuracy;
  if (accuracy !== undefined && (accuracy.seconds !== undefined || accuracy.millis !== undefined)) {
    const fields: Uint8Array[] = [];
    if (accuracy.seconds !== undefined) fields.push(integer(accuracy.seconds));
    if (accuracy.millis !== undefined) {
      if (!Number.isInteger(accuracy.millis) || accuracy.millis < 1 || accuracy.millis > 999)
        throw new Error('TSP invariant: accuracy millis must be 1..999');
      fields.push(contextPrimitive(0, contentOfInteger(integer(accuracy.millis))));
    }
    parts.push(sequence(...fields));
  }
  if (input.nonce) parts.push(input.nonce);
  return sequence(...parts);
}

function contentOfInteger(encoded: Uint8Array): Uint8Array {
  return encoded.subarray(2);
}

export interface TstInfo {
  readonly policy: string;
  readonly messageImprint: MessageImprint;
  /** INTEGER content octets. */
  readonly serialNumber: Uint8Array;
  readonly genTime: Date;
  /** The whole DER INTEGER of the nonce; null without one. */
  readonly nonce: Uint8Array | null;
}

/** Parses a DER TSTInfo; the reason in English when it is not one. */
export function parseTstInfo(bytes: Uint8Array): TstInfo | string {
  const outer = whole(bytes, Tag.sequence);
  const fields = outer === null ? null : readChildren(bytes, outer, 10);
  if (fields === null || fields.length < 5) return 'the TSTInfo is malformed';
  const [version, policyElement, imprintElement, serial, time, ...rest] = fields;
  if (version?.tag !== Tag.integer || !sameBytes(encodingOf(bytes, version), integer(1)))
    return 'the TSTInfo version is not 1';
  const policy = readOid(bytes, policyElement);
  const messageImprint = parseMessageImprint(bytes, imprintElement);
  if (policy === null || messageImprint === null || serial?.tag !== Tag.integer)
    return 'the TSTInfo is malformed';
  const genTime = time?.tag === Tag.generalizedTime ? parseGeneralizedTime(contentOf(bytes, time)) : null;
  if (genTime === null) return 'the TSTInfo genTime is not a UTC GeneralizedTime';
  const nonceElement = rest.find((found) => found.tag === Tag.integer);
  return {
    policy,
    messageImprint,
    serialNumber: contentOf(bytes, serial),
    genTime,
    nonce: nonceElement === undefined ? null : encodingOf(bytes, nonceElement),
  };
}

/** "YYYYMMDDHHMMSS[.f+]Z" to a Date (milliseconds kept, finer digits dropped); null otherwise. */
export function parseGeneralizedTime(content: Uint8Array): Date | null {
  const text = new TextDecoder('latin1').decode(content);
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?Z$/.exec(text);
  if (match === null) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as number[];
  const millis = Number((match[7] ?? '0').padEnd(3, '0').slice(0, 3));
  const time = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!, millis);
  return Number.isNaN(time) ? null : new Date(time);
}

/** PKIFailureInfo as a DER named-bit BIT STRING (trailing zero bits removed). */
function failureBits(bit: number): Uint8Array {
  const octets = new Uint8Array((bit >> 3) + 1);
  octets[bit >> 3] = 0x80 >> (bit & 7);
  return element(Tag.bitString, Uint8Array.of(7 - (bit & 7)), octets);
}

/** TimeStampResp: a granted one carries the token, a rejection its failure bit and a reason. */
export function encodeTimeStampResponse(
  input: { granted: Uint8Array } | { failure: PkiFailureName; statusString: string },
): Uint8Array {
  if ('granted' in input) return sequence(sequence(integer(PkiStatus.granted)), input.granted);
  const text = element(Tag.utf8String, new TextEncoder().encode(input.statusString.slice(0, 200)));
  return sequence(
    sequence(integer(PkiStatus.rejection), sequence(text), failureBits(PkiFailure[input.failure])),
  );
}

export interface TimeStampResponse {
  readonly status: number;
  readonly statusString: string | null;
  /** The failure bits that are set. */
  readonly failures: readonly number[];
  /** The whole DER ContentInfo of the token; null when absent. */
  readonly token: Uint8Array | null;
}

export function parseTimeStampResponse(bytes: Uint8Array): TimeStampResponse | string {
  const outer = whole(bytes, Tag.sequence);
  const fields = outer === null ? null : readChildren(bytes, outer, 2);
  const statusInfo = fields?.[0]?.tag === Tag.sequence ? readChildren(bytes, fields[0], 3) : null;
  const status = statusInfo?.[0];
  if (statusInfo === null || status?.tag !== Tag.integer || status.end - status.contentStart !== 1)
    return 'the response is not a DER TimeStampResp';
  let statusString: string | null = null;
  const failures: number[] = [];
  for (const part of statusInfo.slice(1)) {
    if (part.tag === Tag.sequence) {
      const texts = readChildren(bytes, part, 8) ?? [];
      statusString = texts.map((text) => new TextDecoder().decode(contentOf(bytes, text))).join('; ');
    } else if (part.tag === Tag.bitString && part.end > part.contentStart) {
      const octets = bytes.subarray(part.contentStart + 1, part.end);
      octets.forEach((octet, index) => {
        for (let bit = 0; bit < 8; bit += 1)
          if ((octet & (0x80 >> bit)) !== 0) failures.push(index * 8 + bit);
      });
    }
  }
  const token = fields?.[1];
  if (token !== undefined && token.tag !== Tag.sequence) return 'the timeStampToken is not a ContentInfo';
  return {
    status: bytes[status.contentStart]!,
    statusString,
    failures,
    token: token === undefined ? null : encodingOf(bytes, token),
  };
}

/**
 * The DER TSTInfo inside a token (ContentInfo → SignedData → encapContentInfo → [0] OCTET STRING),
 * not checked cryptographically: the TSA client reads it to match imprint and nonce.
 */
export function tokenTstInfo(token: Uint8Array): Uint8Array | string {
  const outer = whole(token, Tag.sequence);
  const contentInfo = outer === null ? null : readChildren(token, outer, 2);
  if (contentInfo === null || readOid(token, contentInfo[0]) !== TspOid.signedData)
    return 'the token is not a CMS SignedData';
  const explicit = contentInfo[1];
  const signedData = explicit?.tag === 0xa0 ? readElement(token, explicit.contentStart, explicit.end) : null;
  const fields = signedData?.tag === Tag.sequence ? readChildren(token, signedData, 8) : null;
  const encapsulated = fields?.[2]?.tag === Tag.sequence ? readChildren(token, fields[2], 2) : null;
  if (encapsulated === null || readOid(token, encapsulated[0]) !== TspOid.tstInfo)
    return 'the token does not encapsulate a TSTInfo';
  const wrapper = encapsulated[1];
  const octets = wrapper?.tag === 0xa0 ? readElement(token, wrapper.contentStart, wrapper.end) : null;
  if (octets?.tag !== Tag.octetString) return 'the token has no TSTInfo content';
  return contentOf(token, octets);
}

export function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  if (left.length !== right.length) return false;
  for (let index = 0; index < left.length; index += 1) if (left[index] !== right[index]) return false;
  return true;
}
