/**
 * The signature time-stamp of PAdES B-T (RFC 3161 token in the unsigned attribute
 * id-aa-signatureTimeStampToken): the token's TSTInfo must time-stamp this signature's value, its CMS
 * signature must verify, its signing-certificate(-v2) must name the TSA certificate, and that
 * certificate must chain to a trust anchor, be valid at genTime and be meant for time-stamping. A token
 * that passes proves the signature existed at genTime, which then replaces the claimed /M as the time
 * the signer's certificate is checked at. Pure: WebCrypto and the BER reader only.
 */
import {
  berChildren,
  berContent,
  type BerElement,
  berEncoding,
  equalBytes,
  readBer,
  readObjectIdentifier,
} from './ber.js';
import type { Certificate } from './certificate.js';
import { checkChain } from './chain.js';
import { findSignerCertificate, parseSignedData, type SigningCertificateReference } from './cms.js';
import { type Finding, finding } from './findings.js';
import {
  type CryptoBytes,
  digest,
  digestAlgorithmFor,
  signatureSchemeFor,
  verifySignature,
} from './webcrypto.js';

export type TimeStampOutcome = 'absent' | 'ok' | 'time_stamp_invalid' | 'time_stamp_untrusted';

export interface TimeStampCheck {
  readonly outcome: TimeStampOutcome;
  /** genTime of a token that passed every check; null otherwise. */
  readonly time: Date | null;
  /** The TSA certificate's subject, when the token names one. */
  readonly authority: string | null;
  /** Why the token failed, in English, for the finding. */
  readonly problem: string | null;
}

const Oid = {
  signatureTimeStampToken: '1.2.840.113549.1.9.16.2.14',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentType: '1.2.840.113549.1.9.3',
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  extendedKeyUsage: '2.5.29.37',
  timeStamping: '1.3.6.1.5.5.7.3.8',
} as const;

const absent: TimeStampCheck = { outcome: 'absent', time: null, authority: null, problem: null };

function failed(
  outcome: 'time_stamp_invalid' | 'time_stamp_untrusted',
  problem: string,
  authority: string | null = null,
): TimeStampCheck {
  return { outcome, time: null, authority, problem };
}

/** The SignerInfo's signature value and its signature time-stamp tokens, from a CMS ContentInfo. */
function signatureAndTokens(cms: Uint8Array): { signature: Uint8Array; tokens: Uint8Array[] } | null {
  const contentInfo = readBer(cms, 0);
  const outer = contentInfo?.tag === 0x30 ? berChildren(cms, contentInfo, 2) : null;
  const explicit = outer?.[1];
  const signedData = explicit?.tag === 0xa0 ? readBer(cms, explicit.contentStart, explicit.contentEnd) : null;
  const fields = signedData?.tag === 0x30 ? berChildren(cms, signedData, 8) : null;
  const signerInfos = fields?.[fields.length - 1];
  const signerInfo = signerInfos?.tag === 0x31 ? berChildren(cms, signerInfos, 4)?.[0] : undefined;
  const parts = signerInfo?.tag === 0x30 ? berChildren(cms, signerInfo, 8) : null;
  if (parts === null) return null;
  const signature = parts.find((part, index) => index >= 4 && part.tag === 0x04);
  if (signature === undefined) return null;
  const tokens: Uint8Array[] = [];
  const unsigned = parts.find((part) => part.tag === 0xa1);
  for (const attribute of unsigned === undefined ? [] : (berChildren(cms, unsigned, 32) ?? [])) {
    const [type, values] = berChildren(cms, attribute, 2) ?? [];
    if (readObjectIdentifier(cms, type) !== Oid.signatureTimeStampToken || values?.tag !== 0x31) continue;
    for (const value of berChildren(cms, values, 4) ?? []) tokens.push(berEncoding(cms, value));
  }
  return { signature: berContent(cms, signature), tokens };
}

interface TokenContent {
  readonly eContentType: string | null;
  readonly eContent: Uint8Array | null;
  /** content-type signed attribute; null when absent. */
  readonly contentTypeAttribute: string | null;
  /** certHash of the first ESSCertID of a signing-certificate (v1, SHA-1) attribute. */
  readonly signingCertificateV1: Uint8Array | null;
}

/** What `parseSignedData` does not read: the encapsulated content and two signed attributes. */
function tokenContent(token: Uint8Array): TokenContent {
  const empty = {
    eContentType: null,
    eContent: null,
    contentTypeAttribute: null,
    signingCertificateV1: null,
  };
  const contentInfo = readBer(token, 0);
  const explicit = contentInfo?.tag === 0x30 ? berChildren(token, contentInfo, 2)?.[1] : undefined;
  const signedData =
    explicit?.tag === 0xa0 ? readBer(token, explicit.contentStart, explicit.contentEnd) : null;
  const fields = signedData?.tag === 0x30 ? berChildren(token, signedData, 8) : null;
  const encapsulated = fields?.[2]?.tag === 0x30 ? berChildren(token, fields[2], 2) : null;
  if (fields === null || encapsulated === null) return empty;
  const wrapper = encapsulated[1];
  const octets = wrapper?.tag === 0xa0 ? readBer(token, wrapper.contentStart, wrapper.contentEnd) : null;
  const signerInfos = fields[fields.length - 1];
  const signerInfo = signerInfos?.tag === 0x31 ? berChildren(token, signerInfos, 4)?.[0] : undefined;
  const attributes = signerInfo?.tag === 0x30 ? berChildren(token, signerInfo, 8)?.[3] : undefined;
  let contentTypeAttribute: string | null = null;
  let signingCertificateV1: Uint8Array | null = null;
  for (const attribute of attributes?.tag === 0xa0 ? (berChildren(token, attributes, 32) ?? []) : []) {
    const [type, values] = berChildren(token, attribute, 2) ?? [];
    const value = values?.tag === 0x31 ? berChildren(token, values, 2)?.[0] : undefined;
    const oid = readObjectIdentifier(token, type);
    if (oid === Oid.contentType) contentTypeAttribute = readObjectIdentifier(token, value);
    if (oid === Oid.signingCertificate && value !== undefined)
      signingCertificateV1 = essCertIdHash(token, value);
  }
  return {
    eContentType: readObjectIdentifier(token, encapsulated[0]),
    // A constructed (BER) OCTET STRING is not what a TSA writes; only the primitive form is read.
    eContent: octets?.tag === 0x04 ? berContent(token, octets) : null,
    contentTypeAttribute,
    signingCertificateV1,
  };
}

/** SigningCertificate ::= SEQUENCE { certs SEQUENCE OF ESSCertID, … }; ESSCertID starts with certHash. */
function essCertIdHash(bytes: Uint8Array, value: BerElement): Uint8Array | null {
  const certificates = value.tag === 0x30 ? berChildren(bytes, value, 2)?.[0] : undefined;
  const first = certificates?.tag === 0x30 ? berChildren(bytes, certificates, 16)?.[0] : undefined;
  const hash = first?.tag === 0x30 ? berChildren(bytes, first, 2)?.[0] : undefined;
  return hash?.tag === 0x04 ? berContent(bytes, hash) : null;
}

interface TstInfoFacts {
  readonly hashAlgorithm: string | null;
  readonly hashedMessage: Uint8Array;
  readonly genTime: Date;
}

/** version, policy, messageImprint, serialNumber, genTime — the rest is not needed here. */
function readTstInfo(bytes: Uint8Array): TstInfoFacts | null {
  const outer = readBer(bytes, 0);
  const fields = outer?.tag === 0x30 ? berChildren(bytes, outer, 10) : null;
  if (fields === null || fields.length < 5) return null;
  const [version, , imprint, serial, time] = fields;
  if (version?.tag !== 0x02 || serial?.tag !== 0x02 || time?.tag !== 0x18) return null;
  const imprintParts = imprint?.tag === 0x30 ? berChildren(bytes, imprint, 2) : null;
  const algorithm = imprintParts?.[0]?.tag === 0x30 ? berChildren(bytes, imprintParts[0], 2) : null;
  const hashed = imprintParts?.[1];
  if (algorithm === null || hashed?.tag !== 0x04) return null;
  const text = new TextDecoder('latin1').decode(berContent(bytes, time));
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?Z$/.exec(text);
  if (match === null) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as number[];
  const millis = Number((match[7] ?? '0').padEnd(3, '0').slice(0, 3));
  const genTime = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!, millis);
  if (Number.isNaN(genTime)) return null;
  return {
    hashAlgorithm: readObjectIdentifier(bytes, algorithm[0]),
    hashedMessage: berContent(bytes, hashed),
    genTime: new Date(genTime),
  };
}

/** The extended key usages of a certificate; null when it has no such extension. */
function extendedKeyUsages(certificate: Certificate): string[] | null {
  const tbs = readBer(certificate.tbs, 0);
  const fields = tbs?.tag === 0x30 ? berChildren(certificate.tbs, tbs, 16) : null;
  const wrapper = fields?.find((field) => field.tag === 0xa3);
  const list =
    wrapper === undefined ? null : readBer(certificate.tbs, wrapper.contentStart, wrapper.contentEnd);
  for (const extension of list === null ? [] : (berChildren(certificate.tbs, list) ?? [])) {
    const parts = berChildren(certificate.tbs, extension, 3);
    if (parts === null || readObjectIdentifier(certificate.tbs, parts[0]) !== Oid.extendedKeyUsage) continue;
    const value = parts[parts.length - 1]!;
    const inner = value.tag === 0x04 ? readBer(certificate.tbs, value.contentStart, value.contentEnd) : null;
    const usages = inner?.tag === 0x30 ? berChildren(certificate.tbs, inner, 32) : null;
    return (usages ?? []).map((usage) => readObjectIdentifier(certificate.tbs, usage) ?? '?');
  }
  return null;
}

async function certificateDigest(
  certificate: Certificate,
  hash: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512',
) {
  if (hash === 'SHA-1') {
    const subtle = globalThis.crypto.subtle;
    return new Uint8Array(await subtle.digest('SHA-1', certificate.der as CryptoBytes));
  }
  let cached = certificate.digests.get(hash);
  if (cached === undefined) {
    cached = digest(hash, [certificate.der]);
    certificate.digests.set(hash, cached);
  }
  return cached;
}

/**
 * Checks the signature time-stamp of the CMS in `contents`, if it has one. `certificates` are the
 * signature's own, offered as intermediates for the TSA's path next to the token's.
 */
export async function checkSignatureTimeStamp(
  contents: Uint8Array,
  anchors: readonly Certificate[],
  certificates: readonly Certificate[],
): Promise<TimeStampCheck> {
  const found = signatureAndTokens(contents);
  const token = found?.tokens[0];
  if (found === null || token === undefined) return absent;
  const parsed = parseSignedData(token);
  if (typeof parsed === 'string') return failed('time_stamp_invalid', `the token: ${parsed}`);
  const content = tokenContent(token);
  if (content.eContentType !== Oid.tstInfo || content.eContent === null)
    return failed('time_stamp_invalid', 'the token does not hold a TSTInfo');
  const info = readTstInfo(content.eContent);
  if (info === null) return failed('time_stamp_invalid', 'the TSTInfo is malformed');
  const imprintHash = digestAlgorithmFor(info.hashAlgorithm);
  const tokenHash = digestAlgorithmFor(parsed.digestAlgorithm);
  if (imprintHash === null || tokenHash === null)
    return failed('time_stamp_invalid', 'the token uses an unsupported digest algorithm');
  const authority = findSignerCertificate(parsed);
  if (authority === null) return failed('time_stamp_untrusted', 'the TSA certificate is not in the token');
  const subject = authority.subjectText;
  if (!equalBytes(await digest(imprintHash, [found.signature]), info.hashedMessage))
    return failed('time_stamp_invalid', 'it time-stamps another signature value', subject);
  if (parsed.signedAttributes === null || content.contentTypeAttribute !== Oid.tstInfo)
    return failed('time_stamp_invalid', 'the token lacks the signed content-type attribute', subject);
  const contentDigest = await digest(tokenHash, [content.eContent]);
  if (parsed.messageDigest === null || !equalBytes(parsed.messageDigest, contentDigest))
    return failed('time_stamp_invalid', 'the TSTInfo does not match its signed digest', subject);
  const scheme = signatureSchemeFor(parsed.signatureAlgorithm, tokenHash);
  if (
    scheme === null ||
    !(await verifySignature(authority, scheme, parsed.signature, parsed.signedAttributes))
  )
    return failed('time_stamp_invalid', "the TSA's signature does not verify", subject);
  if (!(await namesCertificate(parsed.signingCertificate, content.signingCertificateV1, authority)))
    return failed(
      'time_stamp_invalid',
      'its signing-certificate attribute does not name the TSA certificate',
      subject,
    );
  const chain = await checkChain(authority, [...parsed.certificates, ...certificates], anchors, info.genTime);
  if (chain.chain !== 'ok')
    return failed('time_stamp_untrusted', `the TSA certificate: ${chain.chain.replace(/_/g, ' ')}`, subject);
  if (chain.validity !== 'ok') {
    const what = chain.validity === 'certificate_expired' ? 'had expired' : 'was not yet valid';
    return failed(
      'time_stamp_untrusted',
      `"${chain.invalidSubject ?? '?'}" ${what} at the time-stamp`,
      subject,
    );
  }
  if (!(extendedKeyUsages(authority) ?? []).includes(Oid.timeStamping))
    return failed('time_stamp_untrusted', 'the TSA certificate is not for time-stamping', subject);
  return { outcome: 'ok', time: info.genTime, authority: subject, problem: null };
}

/** signing-certificate-v2 (any SHA-2) or, from older TSAs, signing-certificate (SHA-1). */
async function namesCertificate(
  v2: SigningCertificateReference | null,
  v1: Uint8Array | null,
  certificate: Certificate,
): Promise<boolean> {
  if (v2 !== null) {
    const hash = digestAlgorithmFor(v2.hashAlgorithm);
    return hash !== null && equalBytes(await certificateDigest(certificate, hash), v2.certificateHash);
  }
  if (v1 !== null) return equalBytes(await certificateDigest(certificate, 'SHA-1'), v1);
  return false;
}

/** The finding a time-stamp check reports; null without a token. */
export function timeStampFinding(check: TimeStampCheck): Finding | null {
  if (check.outcome === 'absent') return null;
  if (check.outcome === 'ok') {
    return finding('time_stamp_valid', { tsa: check.authority ?? '?', time: check.time!.toISOString() });
  }
  return finding(check.outcome, { tsa: check.authority ?? '?', problem: check.problem ?? '?' });
}
