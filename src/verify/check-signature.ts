/**
 * One signature, checked from the bytes up: byte range, message digest, CMS signature,
 * signing-certificate-v2, certification path, validity at the signing time, and for an e-meterai its
 * serial and seal; then what later revisions changed. Each check has an outcome ('ok' or a stable
 * code) and every failure also becomes a finding with English and Indonesian text.
 */
import { concatBytes } from '../bytes.js';
import { isName } from '../pdf/objects.js';
import type { PdfDocument } from '../pdf/reader.js';
import { serialProblem } from '../seal/serial.js';
import { equalBytes } from './ber.js';
import { checkByteRange } from './byte-range.js';
import type { Certificate } from './certificate.js';
import { checkChain } from './chain.js';
import { findSignerCertificate, type ParsedSignedData, parseSignedData } from './cms.js';
import { type Finding, finding, type FindingCode } from './findings.js';
import type { LaterChanges } from './later-changes.js';
import { checkRevocation, type ParsedCrl, type RevocationOutcome } from './revocation.js';
import { checkSeal } from './seal.js';
import { parsePdfDate, type SignatureField, textOf } from './signature-fields.js';
import { checkSignatureTimeStamp, timeStampFinding } from './time-stamp.js';
import {
  digest,
  digestAlgorithmFor,
  type HashName,
  signatureSchemeFor,
  verifySignature,
} from './webcrypto.js';

/** 'ok', or the code of what failed; 'not_checked' when an earlier failure made the check impossible. */
export interface SignatureChecks {
  readonly byteRange: string;
  readonly digest: string;
  readonly signature: string;
  /** 'absent' when the signature carries no signing-certificate-v2 attribute. */
  readonly signingCertificateV2: string;
  /** 'untrusted' when no trust anchor was reached. */
  readonly chain: string;
  readonly validityAtSigningTime: string;
  /** 'not_applicable' for signatures that are not e-meterai. */
  readonly seal: string;
  /** From CRLs (see revocation.ts): 'ok', 'unknown' without a covering CRL, or a revocation code. */
  readonly revocation: string;
  /** The online registry (see registry.ts): 'not_checked' offline, 'ok', or a registry code. */
  readonly registry: string;
  /** The RFC 3161 signature time-stamp (time-stamp.ts): 'absent', 'ok', or a time-stamp code. */
  readonly timeStamp: string;
}

export type SignatureVerdict = 'valid' | 'valid_with_later_changes' | 'modified' | 'invalid' | 'untrusted';

export interface SignatureFinding {
  readonly fieldName: string;
  readonly subFilter: string | null;
  readonly isEmeterai: boolean;
  readonly serial: string | null;
  /** b + c of the /ByteRange: where the signed revision ends. */
  readonly signedRevisionEnd: number;
  readonly coversWholeFile: boolean;
  readonly signerSubject: string | null;
  /** /M as ISO 8601, or null when absent or unreadable. */
  readonly signingTime: string | null;
  /** genTime of a valid, trusted signature time-stamp (ISO 8601): the time certificates were checked at. */
  readonly timeStampTime: string | null;
  /** Lowercase hex digest of the signed byte ranges (the CMS digest algorithm); null when not computed. */
  readonly contentDigest: string | null;
  readonly checks: SignatureChecks;
  readonly laterRevisions: 'none' | 'harmless' | 'content_changes';
  readonly verdict: SignatureVerdict;
  readonly findings: readonly Finding[];
}

export interface CheckSignatureInput {
  readonly document: PdfDocument;
  readonly field: SignatureField;
  readonly anchors: readonly Certificate[];
  readonly now: Date;
  /** The document as of the revision ending at `end` (a byte prefix); null when it cannot be opened. */
  readonly signedRevision: (end: number) => PdfDocument | null;
  readonly classifyLaterChanges: (signed: PdfDocument, current: PdfDocument) => LaterChanges;
  /** CRLs to check the validated path against (caller's and the document's /DSS). */
  readonly crls?: readonly ParsedCrl[];
}

const notChecked = 'not_checked';
const emeteraiSubFilter = 'ETSI.CAdES.detached';

interface Cryptography {
  readonly digest: string;
  readonly signature: string;
  readonly signingCertificateV2: string;
  readonly signer: Certificate | null;
  readonly certificates: readonly Certificate[];
  readonly contentDigest?: Uint8Array;
}

function failedCryptography(code: string): Cryptography {
  return { digest: code, signature: code, signingCertificateV2: notChecked, signer: null, certificates: [] };
}

function hexOf(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += byte.toString(16).padStart(2, '0');
  return text;
}

export async function checkSignature(input: CheckSignatureInput): Promise<SignatureFinding> {
  const { document, field } = input;
  const signature = field.signature;
  const findings: Finding[] = [];
  const subFilterValue = document.resolve(signature.get('SubFilter'));
  const subFilter = isName(subFilterValue) ? subFilterValue.value : null;
  const identity = stampIdentity(
    subFilter,
    textOf(document.resolve(signature.get('Reason'))),
    field.fieldName,
    findings,
  );
  const signingTime = parsePdfDate(textOf(document.resolve(signature.get('M'))));
  const range = checkByteRange(
    document,
    document.resolve(signature.get('ByteRange')),
    document.resolve(signature.get('Contents')),
    field.signatureObjectNumber,
  );
  let cryptography: Cryptography;
  if (range.outcome === 'ok') {
    cryptography = await checkCryptography(range.contents, range.ranges, findings);
  } else {
    findings.push(finding(range.outcome, { problem: range.problem }));
    cryptography = failedCryptography(notChecked);
  }
  // A valid, trusted time-stamp proves when the signature existed; that time replaces the claimed /M.
  const timeStamp =
    range.outcome === 'ok'
      ? await checkSignatureTimeStamp(range.contents, input.anchors, cryptography.certificates)
      : null;
  const timeStampReason = timeStamp === null ? null : timeStampFinding(timeStamp);
  if (timeStampReason !== null) findings.push(timeStampReason);
  const trust = await checkTrust(
    cryptography,
    input,
    timeStamp?.time ?? signingTime,
    findings,
    !!timeStamp?.time,
  );
  const signed = range.outcome === 'ok' ? input.signedRevision(range.revisionEnd) : null;
  // With a broken byte range there is no signed revision to compare; the seal is judged as it is now.
  const sealBase = range.outcome === 'ok' ? signed : document;
  const seal = identity.isEmeterai ? checkSeal(document, field, sealBase) : 'not_applicable';
  if (seal !== 'ok' && seal !== 'not_applicable') findings.push(finding(seal));
  const later = laterRevisions(
    input,
    range.outcome === 'ok' ? range.revisionEnd : document.bytes.length,
    signed,
    findings,
  );
  const checks: SignatureChecks = {
    byteRange: range.outcome,
    digest: cryptography.digest,
    signature: cryptography.signature,
    signingCertificateV2: cryptography.signingCertificateV2,
    chain: trust.chain,
    validityAtSigningTime: trust.validity,
    seal,
    revocation: trust.revocation,
    registry: notChecked,
    timeStamp: timeStamp?.outcome ?? notChecked,
  };
  return {
    fieldName: field.fieldName,
    subFilter,
    isEmeterai: identity.isEmeterai,
    serial: identity.serial,
    signedRevisionEnd: range.revisionEnd,
    coversWholeFile: range.outcome === 'ok' && range.revisionEnd === document.bytes.length,
    signerSubject: cryptography.signer?.subjectText ?? null,
    signingTime: signingTime?.toISOString() ?? null,
    timeStampTime: timeStamp?.time?.toISOString() ?? null,
    contentDigest: cryptography.contentDigest === undefined ? null : hexOf(cryptography.contentDigest),
    checks,
    laterRevisions: later,
    verdict: signatureVerdict(checks, later, identity.serialValid),
    findings,
  };
}

interface StampIdentity {
  readonly isEmeterai: boolean;
  readonly serial: string | null;
  readonly serialValid: boolean;
}

/** An e-meterai is a CAdES signature whose /Reason starts with `[SERIAL]` or whose field is `e-meterai SERIAL`. */
function stampIdentity(
  subFilter: string | null,
  reason: string | null,
  fieldName: string,
  findings: Finding[],
): StampIdentity {
  const reasonSerial = /^\[([^\]\s]{1,40})\]/.exec(reason ?? '')?.[1] ?? null;
  const fieldSerial = /(?:^|\.)e-meterai ([^.\s]{1,40})$/.exec(fieldName)?.[1] ?? null;
  const serial = reasonSerial ?? fieldSerial;
  if (subFilter !== emeteraiSubFilter || serial === null)
    return { isEmeterai: false, serial: null, serialValid: false };
  let serialValid = true;
  if (reasonSerial !== null && fieldSerial !== null && reasonSerial !== fieldSerial) {
    findings.push(finding('serial_mismatch', { reasonSerial, fieldSerial }));
    serialValid = false;
  }
  const problem = serialProblem(serial);
  if (problem !== null) {
    findings.push(finding('serial_invalid', { serial, problem }));
    serialValid = false;
  }
  return { isEmeterai: true, serial, serialValid };
}

async function checkCryptography(
  contents: Uint8Array,
  ranges: readonly Uint8Array[],
  findings: Finding[],
): Promise<Cryptography> {
  const signedData = parseSignedData(contents);
  if (typeof signedData === 'string') {
    findings.push(finding('cms_malformed', { problem: signedData }));
    return failedCryptography('cms_malformed');
  }
  const hash = digestAlgorithmFor(signedData.digestAlgorithm);
  if (hash === null) {
    findings.push(finding('digest_algorithm_unsupported', { algorithm: signedData.digestAlgorithm ?? '?' }));
    return { ...failedCryptography('digest_algorithm_unsupported'), certificates: signedData.certificates };
  }
  const signer = findSignerCertificate(signedData);
  // The signature covers the signed attributes, not the content digest, so both run at once: WebCrypto
  // does the work off the main thread and most of each call's cost is the round trip.
  const [contentDigest, signatureOutcome, signingCertificateV2] = await Promise.all([
    digest(hash, ranges),
    signer === null
      ? 'signer_certificate_missing'
      : checkSignatureValue(signedData, signer, hash, ranges, findings),
    signer === null ? notChecked : checkSigningCertificate(signedData, signer),
  ]);
  const digestOutcome = checkMessageDigest(signedData, contentDigest);
  if (digestOutcome !== 'ok') findings.push(finding('digest_mismatch'));
  if (signer === null) {
    findings.push(finding('signer_certificate_missing'));
    return {
      ...failedCryptography('signer_certificate_missing'),
      digest: digestOutcome,
      certificates: signedData.certificates,
      contentDigest,
    };
  }
  if (signingCertificateV2 !== 'ok' && signingCertificateV2 !== 'absent')
    findings.push(finding('signing_certificate_mismatch'));
  return {
    // Without signed attributes the signature itself is over the content, so it is the digest check.
    digest: signedData.signedAttributes === null ? signatureOutcome : digestOutcome,
    signature: signatureOutcome,
    signingCertificateV2,
    signer,
    certificates: signedData.certificates,
    contentDigest,
  };
}

function checkMessageDigest(signedData: ParsedSignedData, contentDigest: Uint8Array): string {
  if (signedData.signedAttributes === null) return 'ok';
  const claimed = signedData.messageDigest;
  return claimed !== null && equalBytes(claimed, contentDigest) ? 'ok' : 'digest_mismatch';
}

async function checkSignatureValue(
  signedData: ParsedSignedData,
  signer: Certificate,
  hash: HashName,
  ranges: readonly Uint8Array[],
  findings: Finding[],
): Promise<string> {
  const scheme = signatureSchemeFor(signedData.signatureAlgorithm, hash);
  if (scheme === null) {
    findings.push(
      finding('signature_algorithm_unsupported', { algorithm: signedData.signatureAlgorithm ?? '?' }),
    );
    return 'signature_algorithm_unsupported';
  }
  const signedBytes = signedData.signedAttributes ?? concatBytes(ranges);
  const valid = await verifySignature(signer, scheme, signedData.signature, signedBytes);
  if (!valid) findings.push(finding('signature_invalid'));
  return valid ? 'ok' : 'signature_invalid';
}

async function checkSigningCertificate(signedData: ParsedSignedData, signer: Certificate): Promise<string> {
  const reference = signedData.signingCertificate;
  if (reference === null) return 'absent';
  const hash = digestAlgorithmFor(reference.hashAlgorithm);
  if (hash === null) return 'digest_algorithm_unsupported';
  let certificateDigest = signer.digests.get(hash);
  if (certificateDigest === undefined) {
    certificateDigest = digest(hash, [signer.der]);
    signer.digests.set(hash, certificateDigest);
  }
  return equalBytes(await certificateDigest, reference.certificateHash)
    ? 'ok'
    : 'signing_certificate_mismatch';
}

async function checkTrust(
  cryptography: Cryptography,
  input: CheckSignatureInput,
  signingTime: Date | null,
  findings: Finding[],
  /** True when `signingTime` is a trusted time-stamp's, not the signer's own claim. */
  timeProven = false,
): Promise<{ chain: string; validity: string; revocation: string }> {
  if (cryptography.signer === null)
    return { chain: notChecked, validity: notChecked, revocation: notChecked };
  if (signingTime === null) findings.push(finding('signing_time_missing'));
  const time = signingTime ?? input.now;
  const result = await checkChain(cryptography.signer, cryptography.certificates, input.anchors, time);
  if (result.chain !== 'ok') findings.push(finding(result.chain));
  if (result.validity !== 'ok') {
    findings.push(
      finding(result.validity, { subject: result.invalidSubject ?? '?', signingTime: time.toISOString() }),
    );
  }
  let revocation: RevocationOutcome = notChecked;
  if (result.chain === 'ok') {
    const revoked = await checkRevocation(result.path, input.crls ?? [], time, timeProven);
    revocation = revoked.outcome;
    if (revoked.revokedAt !== null) {
      findings.push(
        finding(revoked.outcome as 'certificate_revoked', {
          subject: revoked.subject ?? '?',
          revokedAt: revoked.revokedAt.toISOString(),
          reason: revoked.reason ?? 'unspecified',
          signingTime: time.toISOString(),
        }),
      );
    }
  }
  return { chain: result.chain, validity: result.validity, revocation };
}

function laterRevisions(
  input: CheckSignatureInput,
  revisionEnd: number,
  signed: PdfDocument | null,
  findings: Finding[],
): SignatureFinding['laterRevisions'] {
  const current = input.document;
  if (revisionEnd >= current.bytes.length) return 'none';
  if (signed === null) {
    findings.push(
      finding('modified_after_stamp', { problem: 'the signed revision cannot be read on its own' }),
    );
    return 'content_changes';
  }
  const changes = input.classifyLaterChanges(signed, current);
  if (changes.kind === 'content_changes') {
    const objects = changes.changedObjects.join(', ');
    const problem = changes.pagesChanged
      ? 'pages were added, removed or replaced'
      : `objects changed: ${objects}`;
    findings.push(finding('modified_after_stamp', { problem }));
  } else {
    findings.push(finding('later_revisions_harmless'));
  }
  return changes.kind === 'none' ? 'harmless' : changes.kind;
}

const invalidCodes = new Set<string>(['seal_missing', 'seal_hidden', 'seal_not_signed']);

function signatureVerdict(
  checks: SignatureChecks,
  later: SignatureFinding['laterRevisions'],
  serialValid: boolean,
): SignatureVerdict {
  const cryptographic = checks.byteRange === 'ok' && checks.digest === 'ok' && checks.signature === 'ok';
  const certificateBound = checks.signingCertificateV2 === 'ok' || checks.signingCertificateV2 === 'absent';
  const sealed = checks.seal === 'not_applicable' ? true : !invalidCodes.has(checks.seal);
  if (!cryptographic || !certificateBound || !sealed || (checks.seal !== 'not_applicable' && !serialValid)) {
    return 'invalid';
  }
  if (checks.revocation === 'certificate_revoked') return 'invalid';
  if (checks.timeStamp === 'time_stamp_invalid') return 'invalid';
  if (checks.chain !== 'ok' || checks.validityAtSigningTime !== 'ok') return 'untrusted';
  if (checks.timeStamp === 'time_stamp_untrusted') return 'untrusted';
  if (checks.revocation === 'certificate_revoked_after_signing') return 'untrusted';
  if (later === 'content_changes' || checks.seal === 'seal_changed_after_stamp') return 'modified';
  return later === 'harmless' ? 'valid_with_later_changes' : 'valid';
}

export type { FindingCode };
