/**
 * Certification path building and checking (a subset of RFC 5280 §6): from the signer certificate,
 * through the intermediates the signature carries, to one of the caller's trust anchors. Each link's
 * signature is checked with WebCrypto and remembered on the child certificate, so verifying the next
 * document from the same signer costs no certificate signature checks at all.
 */
import { equalBytes } from './ber.js';
import type { Certificate } from './certificate.js';
import { signatureSchemeFor, verifySignature } from './webcrypto.js';

export type ChainOutcome = 'ok' | 'untrusted' | 'certificate_signature_invalid' | 'issuer_not_ca';
export type ValidityOutcome = 'ok' | 'certificate_expired' | 'certificate_not_yet_valid';

export interface ChainResult {
  readonly chain: ChainOutcome;
  /** Signer first; ends with the anchor when one was reached. */
  readonly path: readonly Certificate[];
  readonly validity: ValidityOutcome;
  /** Subject of the first certificate whose validity check failed, for the finding's text. */
  readonly invalidSubject: string | null;
}

/** Longer paths than this are not a PKI but a loop or an attack. */
export const pathLengthMax = 8;

async function issuedBy(child: Certificate, issuer: Certificate): Promise<boolean> {
  if (!equalBytes(child.issuer, issuer.subject)) return false;
  const known = child.issuerChecks.get(issuer.identity);
  if (known !== undefined) return known;
  const scheme = signatureSchemeFor(child.signatureAlgorithm, null);
  const valid = scheme !== null && (await verifySignature(issuer, scheme, child.signatureValue, child.tbs));
  child.issuerChecks.set(issuer.identity, valid);
  return valid;
}

/** The issuer of `child` among `candidates` whose signature verifies; null when none does. */
async function findIssuer(
  child: Certificate,
  candidates: readonly Certificate[],
): Promise<Certificate | null> {
  for (const candidate of candidates) {
    if (candidate.identity === child.identity) continue;
    if (await issuedBy(child, candidate)) return candidate;
  }
  return null;
}

function isAnchor(certificate: Certificate, anchors: readonly Certificate[]): boolean {
  return anchors.some((anchor) => anchor.identity === certificate.identity);
}

export async function checkChain(
  signer: Certificate,
  intermediates: readonly Certificate[],
  anchors: readonly Certificate[],
  signingTime: Date,
): Promise<ChainResult> {
  const path: Certificate[] = [signer];
  let outcome: ChainOutcome = 'untrusted';
  let current = signer;
  for (let step = 0; step < pathLengthMax; step += 1) {
    if (isAnchor(current, anchors)) {
      outcome = 'ok';
      break;
    }
    const anchor = await findIssuer(current, anchors);
    const issuer = anchor ?? (await findIssuer(current, intermediates));
    if (issuer === null) {
      // A carried intermediate with the right name but the wrong signature is a broken chain; an anchor
      // with the right name but another key is simply a different root, so the signer is untrusted.
      outcome = anyNamedIssuer(current, intermediates) ? 'certificate_signature_invalid' : 'untrusted';
      break;
    }
    path.push(issuer);
    if (!issuer.isCertificateAuthority || issuer.keyCertSign === false) {
      outcome = 'issuer_not_ca';
      break;
    }
    current = issuer;
  }
  return { chain: outcome, path, ...validityAt(path, signingTime) };
}

/** True when some candidate has the issuer's name although none of them signed the certificate. */
function anyNamedIssuer(child: Certificate, candidates: readonly Certificate[]): boolean {
  if (equalBytes(child.issuer, child.subject)) return false;
  return candidates.some((candidate) => equalBytes(child.issuer, candidate.subject));
}

function validityAt(
  path: readonly Certificate[],
  time: Date,
): { validity: ValidityOutcome; invalidSubject: string | null } {
  const instant = time.getTime();
  for (const certificate of path) {
    if (instant > certificate.notAfter.getTime()) {
      return { validity: 'certificate_expired', invalidSubject: certificate.subjectText };
    }
    if (instant < certificate.notBefore.getTime()) {
      return { validity: 'certificate_not_yet_valid', invalidSubject: certificate.subjectText };
    }
  }
  return { validity: 'ok', invalidSubject: null };
}
