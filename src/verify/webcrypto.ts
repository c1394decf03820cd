/**
 * Signature and digest checks through WebCrypto (`globalThis.crypto.subtle`), the one primitive set
 * the server, the command line and the browser all have. Imported public keys are kept on the parsed
 * certificate, because importing costs about as much as verifying.
 */
import { berChildren, readBer } from './ber.js';
import type { Certificate } from './certificate.js';

/** WebCrypto types taken from the global, so this file needs neither DOM nor Node type libraries. */
type Subtle = (typeof globalThis.crypto)['subtle'];
export type VerifyKey = Awaited<ReturnType<Subtle['importKey']>>;
type ImportAlgorithm = Parameters<Subtle['importKey']>[2];
/**
 * WebCrypto's byte input. The DOM library wants an `ArrayBuffer`-backed view where Node's types accept
 * any `Uint8Array`; the verifier never hands it shared memory, so its views are cast to this.
 */
export type CryptoBytes = Parameters<Subtle['digest']>[1];

export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';

export interface SignatureScheme {
  readonly kind: 'ecdsa' | 'rsa-pkcs1';
  readonly hash: HashName;
}

const digestAlgorithms: Readonly<Record<string, HashName>> = {
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
};

/** Signature algorithm identifiers that name their own hash. */
const combinedAlgorithms: Readonly<Record<string, SignatureScheme>> = {
  '1.2.840.10045.4.3.2': { kind: 'ecdsa', hash: 'SHA-256' },
  '1.2.840.10045.4.3.3': { kind: 'ecdsa', hash: 'SHA-384' },
  '1.2.840.10045.4.3.4': { kind: 'ecdsa', hash: 'SHA-512' },
  '1.2.840.113549.1.1.11': { kind: 'rsa-pkcs1', hash: 'SHA-256' },
  '1.2.840.113549.1.1.12': { kind: 'rsa-pkcs1', hash: 'SHA-384' },
  '1.2.840.113549.1.1.13': { kind: 'rsa-pkcs1', hash: 'SHA-512' },
};

/** Key-only identifiers (rsaEncryption, id-ecPublicKey) that CMS signers also write as signature algorithms. */
const keyOnlyAlgorithms: Readonly<Record<string, SignatureScheme['kind']>> = {
  '1.2.840.113549.1.1.1': 'rsa-pkcs1',
  '1.2.840.10045.2.1': 'ecdsa',
};

export function digestAlgorithmFor(oid: string | null): HashName | null {
  return oid === null ? null : (digestAlgorithms[oid] ?? null);
}

/** The scheme of a signature algorithm identifier; a key-only identifier takes `digest` as its hash. */
export function signatureSchemeFor(oid: string | null, digest: HashName | null): SignatureScheme | null {
  if (oid === null) return null;
  const combined = combinedAlgorithms[oid];
  if (combined !== undefined) return combined;
  const kind = keyOnlyAlgorithms[oid];
  return kind === undefined || digest === null ? null : { kind, hash: digest };
}

function subtle(): Subtle {
  const found = globalThis.crypto?.subtle;
  if (found === undefined) throw new Error('verify invariant: WebCrypto (crypto.subtle) is not available');
  return found;
}

export async function digest(hash: HashName, parts: readonly Uint8Array[]): Promise<Uint8Array> {
  let data: Uint8Array;
  if (parts.length === 1) {
    data = parts[0]!;
  } else {
    let total = 0;
    for (const part of parts) total += part.length;
    data = new Uint8Array(total);
    let offset = 0;
    for (const part of parts) {
      data.set(part, offset);
      offset += part.length;
    }
  }
  return new Uint8Array(await subtle().digest(hash, data as CryptoBytes));
}

const coordinateBytes: Readonly<Record<string, number>> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };

/** A DER Ecdsa-Sig-Value as WebCrypto's fixed-width r‖s; null when it is not one. */
export function ecdsaRawSignature(der: Uint8Array, curve: string): Uint8Array | null {
  const size = coordinateBytes[curve];
  const outer = readBer(der, 0);
  if (size === undefined || outer === null || outer.tag !== 0x30 || outer.end !== der.length) return null;
  const parts = berChildren(der, outer, 3);
  if (parts === null || parts.length !== 2) return null;
  const raw = new Uint8Array(size * 2);
  for (const [index, part] of parts.entries()) {
    if (part.tag !== 0x02) return null;
    let start = part.contentStart;
    while (start < part.contentEnd - 1 && der[start] === 0) start += 1;
    const length = part.contentEnd - start;
    if (length > size) return null;
    raw.set(der.subarray(start, part.contentEnd), index * size + size - length);
  }
  return raw;
}

function importKey(certificate: Certificate, scheme: SignatureScheme): Promise<VerifyKey> | null {
  const cacheKey = `${scheme.kind}/${scheme.hash}`;
  const cached = certificate.keys.get(cacheKey);
  if (cached !== undefined) return cached;
  let algorithm: ImportAlgorithm;
  if (scheme.kind === 'ecdsa' && certificate.keyType === 'ec' && certificate.namedCurve !== null) {
    algorithm = { name: 'ECDSA', namedCurve: certificate.namedCurve };
  } else if (scheme.kind === 'rsa-pkcs1' && certificate.keyType === 'rsa') {
    algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: scheme.hash };
  } else {
    return null;
  }
  const key = subtle().importKey('spki', certificate.publicKeyInfo as CryptoBytes, algorithm, false, [
    'verify',
  ]);
  certificate.keys.set(cacheKey, key);
  return key;
}

/**
 * True when `signature` over `data` verifies with the certificate's key; false when it does not, when
 * the key does not fit the scheme, or when the key cannot be imported.
 */
export async function verifySignature(
  certificate: Certificate,
  scheme: SignatureScheme,
  signature: Uint8Array,
  data: Uint8Array,
): Promise<boolean> {
  const keyPromise = importKey(certificate, scheme);
  if (keyPromise === null) return false;
  try {
    const key = await keyPromise;
    if (scheme.kind === 'ecdsa') {
      const raw = ecdsaRawSignature(signature, certificate.namedCurve ?? '');
      if (raw === null) return false;
      return await subtle().verify(
        { name: 'ECDSA', hash: scheme.hash },
        key,
        raw as CryptoBytes,
        data as CryptoBytes,
      );
    }
    return await subtle().verify(
      { name: 'RSASSA-PKCS1-v1_5' },
      key,
      signature as CryptoBytes,
      data as CryptoBytes,
    );
  } catch {
    // A key WebCrypto refuses to import (an odd curve encoding, a tiny RSA modulus) verifies nothing.
    return false;
  }
}
