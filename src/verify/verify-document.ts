/**
 * The verifier: every signature of a PDF, checked offline against the caller's trust anchors, with a
 * verdict a person can act on and reasons in English and Bahasa Indonesia. Pure and isomorphic: only
 * WebCrypto and `Uint8Array`, so the server, the command line and the browser give the same answer.
 */
import { isBubuhError } from '../errors.js';
import { openStandardSecurityHandler } from '../pdf/crypt/standard-handler.js';
import type { RawInflate } from '../pdf/filters.js';
import type { PdfLimits } from '../pdf/limits.js';
import { openPdf, type PdfDocument } from '../pdf/reader.js';
import { type Certificate, parseCertificate } from './certificate.js';
import { type Finding, finding } from './findings.js';
import { classifyLaterChanges } from './later-changes.js';
import { checkSignature, type SignatureFinding } from './check-signature.js';
import { checkRegistry, type OnlineOptions } from './registry.js';
import { documentSecurityStoreCrls, parseCrls } from './revocation.js';
import { findSignatureFields } from './signature-fields.js';

export type { Finding } from './findings.js';
export type { SignatureChecks, SignatureFinding } from './check-signature.js';
export type { OnlineOptions, RegistryFetch, RegistryResponse } from './registry.js';

export interface VerifyOptions {
  /** DER root certificates the verifier trusts. */
  readonly trustAnchors: readonly Uint8Array[];
  /** The verification time, used when a signature states no signing time; defaults to now. */
  readonly now?: Date;
  /** The user password of an encrypted document. */
  readonly password?: string;
  /** A faster raw inflate from the host (the server passes Node's zlib). */
  readonly inflate?: RawInflate;
  readonly limits?: Partial<PdfLimits>;
  /** DER CRLs; each counts only if signed by a CA in a validated chain (the document's /DSS adds its own). */
  readonly crls?: readonly Uint8Array[];
  /** Ask the registry about each e-meterai (online mode); offline without it. */
  readonly online?: OnlineOptions;
}

export type Verdict =
  'valid' | 'valid_with_later_changes' | 'modified' | 'invalid' | 'untrusted' | 'no_stamp';

export interface VerificationReport {
  readonly verdict: Verdict;
  /** In revision order: the signature over the shortest prefix first. */
  readonly signatures: readonly SignatureFinding[];
  /** Document-level reasons. */
  readonly reasons: readonly Finding[];
}

/** Worst first: the overall verdict is the worst verdict among the e-meterai signatures. */
const verdictSeverity: readonly Verdict[] = [
  'invalid',
  'untrusted',
  'modified',
  'valid_with_later_changes',
  'valid',
];

const byteRangeMarker = new TextEncoder().encode('/ByteRange');

function openDocument(bytes: Uint8Array, options: VerifyOptions): PdfDocument {
  // Plain properties (undefined when absent), not conditional spreads: see PdfDocument.decodeContext.
  return openPdf(bytes, {
    limits: options.limits,
    password: options.password,
    inflate: options.inflate,
    openSecurityHandler: (encrypt, firstId, password) =>
      openStandardSecurityHandler(encrypt, firstId, password),
  });
}

/** Parsed anchors per anchor list, so a server passing the same array each time parses it once. */
const anchorCache = new WeakMap<readonly Uint8Array[], { certificates: Certificate[]; reasons: Finding[] }>();

function parseAnchors(trustAnchors: readonly Uint8Array[]): {
  certificates: Certificate[];
  reasons: Finding[];
} {
  const cached = anchorCache.get(trustAnchors);
  if (cached !== undefined) return cached;
  const certificates: Certificate[] = [];
  const reasons: Finding[] = [];
  for (const [index, anchor] of trustAnchors.entries()) {
    const certificate = parseCertificate(anchor);
    if (certificate === null) reasons.push(finding('trust_anchor_invalid', { index: index + 1 }));
    else certificates.push(certificate);
  }
  const parsed = { certificates, reasons };
  anchorCache.set(trustAnchors, parsed);
  return parsed;
}

export async function verifyDocument(pdf: Uint8Array, options: VerifyOptions): Promise<VerificationReport> {
  const anchors = parseAnchors(options.trustAnchors);
  let document: PdfDocument;
  try {
    document = openDocument(pdf, options);
  } catch (error) {
    return damagedReport(pdf, error, anchors.reasons);
  }
  const revisions = new Map<number, PdfDocument | null>();
  const signedRevision = (end: number): PdfDocument | null => {
    if (end === pdf.length) return document;
    if (!revisions.has(end)) revisions.set(end, tryOpen(pdf.subarray(0, end), options));
    return revisions.get(end) ?? null;
  };
  const callerCrls = parseCrls(options.crls ?? []);
  const crls = [...callerCrls.crls, ...documentSecurityStoreCrls(document)];
  let signatures: SignatureFinding[] = [];
  for (const field of findSignatureFields(document)) {
    signatures.push(
      await checkSignature({
        document,
        field,
        anchors: anchors.certificates,
        now: options.now ?? new Date(),
        signedRevision,
        classifyLaterChanges,
        crls,
      }),
    );
  }
  signatures.sort((left, right) => left.signedRevisionEnd - right.signedRevisionEnd);
  if (options.online !== undefined) signatures = await checkRegistry(signatures, options.online);
  const crlReasons = callerCrls.invalid.map((index) => finding('crl_invalid', { index }));
  return {
    verdict: overallVerdict(signatures),
    signatures,
    reasons: documentReasons(signatures, [...anchors.reasons, ...crlReasons]),
  };
}

/**
 * Adds the online registry check to an offline report. The server verifies offline in a worker thread
 * and then asks its own registry here, on the thread that holds the database.
 */
export async function withRegistryCheck(
  report: VerificationReport,
  online: OnlineOptions,
): Promise<VerificationReport> {
  const signatures = await checkRegistry(report.signatures, online);
  return { verdict: overallVerdict(signatures), signatures, reasons: report.reasons };
}

function tryOpen(bytes: Uint8Array, options: VerifyOptions): PdfDocument | null {
  try {
    return openDocument(bytes, options);
  } catch (error) {
    if (isBubuhError(error)) return null;
    throw error;
  }
}

/**
 * A file the reader cannot open is refused as the reader refuses it (not a PDF, a wrong password, a
 * limit), except when it is damaged and visibly held a signature: then the honest answer is that the
 * signed document is no longer intact.
 */
function damagedReport(pdf: Uint8Array, error: unknown, reasons: readonly Finding[]): VerificationReport {
  const damaged = isBubuhError(error) && error.code === 'PDF_DAMAGED';
  if (!damaged || !containsSequence(pdf, byteRangeMarker)) throw error;
  const problem = String(error.details['problem'] ?? error.message);
  return {
    verdict: 'invalid',
    signatures: [],
    reasons: [...reasons, finding('document_damaged', { problem })],
  };
}

function containsSequence(bytes: Uint8Array, pattern: Uint8Array): boolean {
  const first = pattern[0]!;
  for (let index = bytes.indexOf(first); index >= 0; index = bytes.indexOf(first, index + 1)) {
    let matched = true;
    for (let offset = 1; offset < pattern.length && matched; offset += 1) {
      matched = bytes[index + offset] === pattern[offset];
    }
    if (matched) return true;
  }
  return false;
}

function overallVerdict(signatures: readonly SignatureFinding[]): Verdict {
  const stamps = signatures.filter((signature) => signature.isEmeterai);
  if (stamps.length === 0) return 'no_stamp';
  for (const verdict of verdictSeverity) {
    if (stamps.some((stamp) => stamp.verdict === verdict)) return verdict;
  }
  throw new Error('verify invariant: a stamp verdict is outside the severity list');
}

function documentReasons(
  signatures: readonly SignatureFinding[],
  anchorReasons: readonly Finding[],
): Finding[] {
  const reasons = [...anchorReasons];
  if (!signatures.some((signature) => signature.isEmeterai)) reasons.push(finding('no_stamp'));
  return reasons;
}
