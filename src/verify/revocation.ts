/**
 * Revocation checking from CRLs (RFC 5280 §5, §6.3), pure: CRLs come from the caller (`crls` in the
 * verify options) and from the document's own /DSS. A CRL counts only when its issuer is the issuer of
 * a certificate in the validated path and its signature verifies with that issuer's key; anything else
 * (foreign, forged, unreadable) is ignored.
 *
 * The rules, for each certificate of the path below the trust anchor, against the validation time (the
 * signing time):
 * - revoked at or before the validation time → `certificate_revoked`: the signature is invalid;
 * - revoked after it for a reason that says the key may be in other hands (keyCompromise, cACompromise,
 *   aACompromise, unspecified or no reason) → `certificate_revoked_after_signing`: the signing time is
 *   the signer's own claim, which a holder of a stolen key can backdate, so the signature is untrusted;
 * - revoked after it for an administrative reason (superseded, cessationOfOperation,
 *   affiliationChanged, privilegeWithdrawn), or for any reason when the validation time is a trusted
 *   time-stamp's rather than the signer's claim → `certificate_revoked_later`: a note, the signature stands;
 * - not listed → 'ok' when a trusted CRL issued at or after the validation time covers the signer
 *   certificate, else 'unknown' (offline verification with only the root stays possible).
 */
import type { PdfDocument } from '../pdf/reader.js';
import { isArray, isDict, isRef, PdfStream } from '../pdf/objects.js';
import {
  type BerElement,
  berChildren,
  berContent,
  berEncoding,
  equalBytes,
  readBer,
  readObjectIdentifier,
} from './ber.js';
import { type Certificate, latin1Identity, readTime } from './certificate.js';
import { signatureSchemeFor, verifySignature } from './webcrypto.js';

export interface CrlEntry {
  readonly revokedAt: Date;
  /** The RFC 5280 reason name, or null when the entry has no reasonCode. */
  readonly reason: string | null;
}

export interface ParsedCrl {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  /** Whole DER encoding of the issuer Name. */
  readonly issuer: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
  readonly signatureAlgorithm: string;
  readonly signatureValue: Uint8Array;
  /** By serial number (hex of the INTEGER content without leading zero octets). */
  readonly entries: ReadonlyMap<string, CrlEntry>;
  /** Issuer certificates (by identity) whose signature on this CRL was checked, and the outcome. */
  readonly issuerChecks: Map<string, boolean>;
}

export type RevocationOutcome =
  | 'ok'
  | 'unknown'
  | 'not_checked'
  | 'certificate_revoked'
  | 'certificate_revoked_after_signing'
  | 'certificate_revoked_later';

export interface RevocationResult {
  readonly outcome: RevocationOutcome;
  /** For the revoked outcomes: which certificate, when and why. */
  readonly subject: string | null;
  readonly revokedAt: Date | null;
  readonly reason: string | null;
}

const reasonNames: Readonly<Record<number, string>> = {
  0: 'unspecified',
  1: 'keyCompromise',
  2: 'cACompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
  6: 'certificateHold',
  8: 'removeFromCRL',
  9: 'privilegeWithdrawn',
  10: 'aACompromise',
};

/** Reasons after which a signature dated before the revocation is still believed. */
const administrativeReasons = new Set([
  'superseded',
  'cessationOfOperation',
  'affiliationChanged',
  'privilegeWithdrawn',
]);

const reasonCodeOid = '2.5.29.21';
/** A CRL this large is not one this verifier reads (a national CA's full CRL is far smaller). */
export const crlBytesMax = 8 * 1024 * 1024;
/** Entries beyond this are not read. */
export const crlEntriesMax = 200_000;

function hex(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += byte.toString(16).padStart(2, '0');
  return text;
}

/** Serial number octets as lowercase hex without leading zero octets. */
export function serialKey(content: Uint8Array): string {
  let start = 0;
  while (start < content.length - 1 && content[start] === 0) start += 1;
  return hex(content.subarray(start));
}

/** The parsed CRL, or null when the bytes are not a CRL this verifier understands. */
export function parseCrl(der: Uint8Array): ParsedCrl | null {
  if (der.length > crlBytesMax) return null;
  try {
    return parseFresh(der.slice());
  } catch {
    return null;
  }
}

function parseFresh(der: Uint8Array): ParsedCrl | null {
  const outer = readBer(der, 0);
  if (outer === null || outer.tag !== 0x30 || outer.end !== der.length) return null;
  const [tbsElement, algorithmElement, signatureElement] = berChildren(der, outer, 3) ?? [];
  if (tbsElement?.tag !== 0x30 || algorithmElement?.tag !== 0x30 || signatureElement?.tag !== 0x03)
    return null;
  const fields = berChildren(der, tbsElement, 8);
  if (fields === null) return null;
  let index = fields[0]?.tag === 0x02 ? 1 : 0;
  index += 1; // the inner signature AlgorithmIdentifier
  const issuer = fields[index++];
  const thisUpdateElement = fields[index++];
  if (issuer?.tag !== 0x30 || thisUpdateElement === undefined) return null;
  const thisUpdate = readTime(der, thisUpdateElement);
  let nextUpdate: Date | null = null;
  const maybeNext = fields[index];
  if (maybeNext !== undefined && (maybeNext.tag === 0x17 || maybeNext.tag === 0x18)) {
    nextUpdate = readTime(der, maybeNext);
    index += 1;
  }
  const entries = new Map<string, CrlEntry>();
  const list = fields[index];
  if (list !== undefined && list.tag === 0x30) {
    for (const entry of berChildren(der, list, crlEntriesMax) ?? []) {
      const [serial, date, extensions] = berChildren(der, entry, 3) ?? [];
      if (serial?.tag !== 0x02 || date === undefined) return null;
      const revokedAt = readTime(der, date);
      if (revokedAt === null) return null;
      entries.set(serialKey(berContent(der, serial)), {
        revokedAt,
        reason: extensions === undefined ? null : readReason(der, extensions),
      });
    }
  }
  const algorithm = berChildren(der, algorithmElement, 2);
  const signatureAlgorithm = readObjectIdentifier(der, algorithm?.[0]);
  if (thisUpdate === null || signatureAlgorithm === null) return null;
  return {
    der,
    tbs: berEncoding(der, tbsElement),
    issuer: berEncoding(der, issuer),
    thisUpdate,
    nextUpdate,
    signatureAlgorithm,
    // A BIT STRING's first content octet counts unused bits; signatures always use whole octets.
    signatureValue: der.subarray(signatureElement.contentStart + 1, signatureElement.contentEnd),
    entries,
    issuerChecks: new Map(),
  };
}

function readReason(der: Uint8Array, extensions: BerElement): string | null {
  for (const extension of berChildren(der, extensions) ?? []) {
    const parts = berChildren(der, extension, 3);
    if (parts === null || readObjectIdentifier(der, parts[0]) !== reasonCodeOid) continue;
    const value = parts[parts.length - 1];
    if (value?.tag !== 0x04) continue;
    const inner = readBer(der, value.contentStart, value.contentEnd);
    if (inner === null || inner.tag !== 0x0a || inner.contentEnd - inner.contentStart !== 1) return null;
    return reasonNames[der[inner.contentStart]!] ?? 'unspecified';
  }
  return null;
}

async function signedBy(crl: ParsedCrl, issuer: Certificate): Promise<boolean> {
  if (!equalBytes(crl.issuer, issuer.subject)) return false;
  const known = crl.issuerChecks.get(issuer.identity);
  if (known !== undefined) return known;
  const scheme = signatureSchemeFor(crl.signatureAlgorithm, null);
  const valid = scheme !== null && (await verifySignature(issuer, scheme, crl.signatureValue, crl.tbs));
  crl.issuerChecks.set(issuer.identity, valid);
  return valid;
}

const noRevocation = { subject: null, revokedAt: null, reason: null } as const;

/** Worst first. */
const severity: readonly RevocationOutcome[] = [
  'certificate_revoked',
  'certificate_revoked_after_signing',
  'certificate_revoked_later',
];

/**
 * Checks every certificate of a validated path (signer first, anchor last) against the CRLs. `path`
 * must be the path `checkChain` returned with outcome 'ok'; callers pass 'not_checked' otherwise.
 */
export async function checkRevocation(
  path: readonly Certificate[],
  crls: readonly ParsedCrl[],
  validationTime: Date,
  timeProven = false,
): Promise<RevocationResult> {
  let worst: RevocationResult | null = null;
  let signerCovered = false;
  for (let index = 0; index + 1 < path.length; index += 1) {
    const certificate = path[index]!;
    const issuer = path[index + 1]!;
    const key = serialKey(certificate.serialNumber);
    for (const crl of crls) {
      if (!(await signedBy(crl, issuer))) continue;
      const entry = crl.entries.get(key);
      if (entry === undefined) {
        if (index === 0 && crl.thisUpdate.getTime() >= validationTime.getTime()) signerCovered = true;
        continue;
      }
      const outcome: RevocationOutcome =
        entry.revokedAt.getTime() <= validationTime.getTime()
          ? 'certificate_revoked'
          : timeProven || (entry.reason !== null && administrativeReasons.has(entry.reason))
            ? 'certificate_revoked_later'
            : 'certificate_revoked_after_signing';
      if (worst === null || severity.indexOf(outcome) < severity.indexOf(worst.outcome)) {
        worst = {
          outcome,
          subject: certificate.subjectText,
          revokedAt: entry.revokedAt,
          reason: entry.reason ?? 'unspecified',
        };
      }
    }
  }
  if (worst !== null) return worst;
  return { outcome: signerCovered ? 'ok' : 'unknown', ...noRevocation };
}

/** Parsed CRLs per input list, so a server passing the same array each time parses it once. */
const crlCache = new WeakMap<readonly Uint8Array[], { crls: ParsedCrl[]; invalid: number[] }>();

/** Parses the caller's CRLs; `invalid` holds the 1-based positions of those that are not CRLs. */
export function parseCrls(list: readonly Uint8Array[]): { crls: ParsedCrl[]; invalid: number[] } {
  const cached = crlCache.get(list);
  if (cached !== undefined) return cached;
  const crls: ParsedCrl[] = [];
  const invalid: number[] = [];
  for (const [index, der] of list.entries()) {
    const parsed = parseCrl(der);
    if (parsed === null) invalid.push(index + 1);
    else crls.push(parsed);
  }
  const result = { crls, invalid };
  crlCache.set(list, result);
  return result;
}

/** CRLs a document carries in its Document Security Store (/Root /DSS /CRLs); unreadable ones are skipped. */
export function documentSecurityStoreCrls(document: PdfDocument): ParsedCrl[] {
  const found: ParsedCrl[] = [];
  try {
    const root = document.resolve(document.trailer.get('Root'));
    const dss = isDict(root) ? document.resolve(root.get('DSS')) : undefined;
    const list = isDict(dss) ? document.resolve(dss.get('CRLs')) : undefined;
    if (!isArray(list)) return found;
    const seen = new Set<string>();
    for (const item of list.slice(0, 64)) {
      try {
        const stream = document.resolve(item);
        if (!(stream instanceof PdfStream)) continue;
        const parsed = parseCrl(document.decodeStream(stream, isRef(item) ? item : undefined));
        if (parsed === null) continue;
        const identity = latin1Identity(parsed.signatureValue);
        if (seen.has(identity)) continue;
        seen.add(identity);
        found.push(parsed);
      } catch {
        // A damaged stream in the DSS is no reason to fail the signature checks.
      }
    }
  } catch {
    return found;
  }
  return found;
}
