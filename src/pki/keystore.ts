/**
 * Where a node's signing key lives. A key store makes keys, finds them by label, and hands out a
 * `Signer` whose private key never leaves the store: PKCS#8 files in a 0700 directory (the fast
 * in-process signer) or a PKCS#11 token (an HSM, or SoftHSM2 in tests), where the key is generated
 * inside the token as sensitive and non-extractable and every signature is made by the token.
 */
import { X509Certificate, verify } from 'node:crypto';
import { BubuhError } from '../errors.js';
import type { Signer } from '../pades/cms.js';
import { sequence, unsignedInteger } from '../pades/der.js';
import type { SignerKeyAlgorithm } from './dev-pki.js';

export type KeyStoreKind = 'files' | 'pkcs11';

/** Key labels: a file name in the files store, CKA_LABEL in a token. */
export const KEY_LABEL_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export interface KeyStore {
  readonly kind: KeyStoreKind;
  /**
   * Generates a key pair inside the store under `label` and returns its public key (SPKI DER).
   * An existing label is refused (KEYSTORE_KEY_EXISTS): a key is never overwritten.
   */
  generateKey(label: string, algorithm: SignerKeyAlgorithm): Promise<Uint8Array>;
  /** Whether a private key with this label exists. */
  hasKey(label: string): Promise<boolean>;
  /** The public key of `label` as SPKI DER; KEYSTORE_KEY_NOT_FOUND when absent. */
  publicKey(label: string): Promise<Uint8Array>;
  /**
   * A signer for the key `label` and its certificate. Refuses a certificate that does not belong to
   * the key (PADES_CERTIFICATE_INVALID), since every signature would then be invalid.
   */
  signer(label: string, certificate: Uint8Array, chain: readonly Uint8Array[]): Promise<Signer>;
  /** Deletes the key pair; false when there was none. */
  deleteKey(label: string): Promise<boolean>;
  /** Releases the store (sessions, modules). Signers handed out stop working. */
  close(): Promise<void>;
}

/** Programmer error: labels come from validated configuration or from code. */
export function checkKeyLabel(label: string): void {
  if (!KEY_LABEL_PATTERN.test(label)) throw new Error(`key store invariant: bad key label ${label}`);
}

/**
 * A raw ECDSA signature r‖s (PKCS#11 CKM_ECDSA, IEEE P1363) as the DER Ecdsa-Sig-Value CMS carries.
 */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0 || raw.length > 132) {
    throw new BubuhError('PADES_SIGNATURE_INVALID', {
      problem: `an ECDSA signature of ${raw.length} bytes is not r‖s`,
    });
  }
  const half = raw.length / 2;
  return sequence(unsignedInteger(raw.subarray(0, half)), unsignedInteger(raw.subarray(half)));
}

/** The SPKI DER of a certificate's public key, or PADES_CERTIFICATE_INVALID. */
export function certificatePublicKey(certificate: Uint8Array): Uint8Array {
  try {
    const der = new X509Certificate(certificate).publicKey.export({ type: 'spki', format: 'der' });
    return new Uint8Array(der.buffer, der.byteOffset, der.length);
  } catch (error) {
    throw new BubuhError(
      'PADES_CERTIFICATE_INVALID',
      { problem: 'the certificate is not valid DER' },
      { cause: error },
    );
  }
}

/**
 * Signs a random challenge through `signer` and verifies it with the certificate's public key: proves
 * the key in the store, the mechanism and the signature encoding all agree with the certificate before
 * the first stamp, for stores whose private key cannot be compared directly.
 */
export async function checkSignerMatchesCertificate(signer: Signer): Promise<void> {
  const challenge = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const signature = await signer.sign(challenge);
  const key = new X509Certificate(signer.certificate).publicKey;
  const valid = verify('sha256', challenge, { key, dsaEncoding: 'der' }, signature);
  if (!valid) {
    throw new BubuhError('PADES_CERTIFICATE_INVALID', {
      problem: 'the private key does not match the certificate',
    });
  }
}
