/**
 * X.509 certificates (RFC 5280) as far as a signature verifier needs them: the signed part, names,
 * validity, public key and the CA extensions. Parsed by hand over the BER reader, once per distinct
 * certificate: a verifier that checks thousands of documents from the same few signers keeps the
 * parsed certificate, its imported WebCrypto key and the results of chain checks in a bounded cache.
 */
import {
  berChildren,
  berContent,
  type BerElement,
  berEncoding,
  readBer,
  readObjectIdentifier,
} from './ber.js';
import type { VerifyKey } from './webcrypto.js';

export type NamedCurve = 'P-256' | 'P-384' | 'P-521';

export interface Certificate {
  readonly der: Uint8Array;
  /** The certificate's bytes as a Latin-1 string: its identity in caches. */
  readonly identity: string;
  readonly tbs: Uint8Array;
  /** INTEGER content octets of the serial number. */
  readonly serialNumber: Uint8Array;
  /** Whole DER encodings of the issuer and subject Names. */
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly subjectText: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The whole SubjectPublicKeyInfo, as WebCrypto imports it. */
  readonly publicKeyInfo: Uint8Array;
  readonly keyType: 'ec' | 'rsa' | 'other';
  readonly namedCurve: NamedCurve | null;
  readonly signatureAlgorithm: string;
  readonly signatureValue: Uint8Array;
  /** basicConstraints cA; false when the extension is absent. */
  readonly isCertificateAuthority: boolean;
  /** keyUsage keyCertSign; null when the certificate has no keyUsage extension. */
  readonly keyCertSign: boolean | null;
  readonly subjectKeyIdentifier: Uint8Array | null;
  /** Imported keys by algorithm, filled by `webcrypto.ts`. */
  readonly keys: Map<string, Promise<VerifyKey>>;
  /** Issuers (by identity) whose signature on this certificate was checked, and the outcome. */
  readonly issuerChecks: Map<string, boolean>;
  /** Digests of the certificate by hash name, for signing-certificate-v2. */
  readonly digests: Map<string, Promise<Uint8Array>>;
}

const Oid = {
  ecPublicKey: '1.2.840.10045.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectKeyIdentifier: '2.5.29.14',
} as const;

const curves: Readonly<Record<string, NamedCurve>> = {
  '1.2.840.10045.3.1.7': 'P-256',
  '1.3.132.0.34': 'P-384',
  '1.3.132.0.35': 'P-521',
};

const attributeNames: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '1.2.840.113549.1.9.1': 'E',
};

/** Parsed certificates by identity; cleared when full so a stream of distinct certificates stays bounded. */
const cache = new Map<string, Certificate>();
const cacheEntriesMax = 512;

export function latin1Identity(bytes: Uint8Array): string {
  let text = '';
  // Chunks keep the argument list of fromCharCode well below engine limits.
  for (let start = 0; start < bytes.length; start += 4096) {
    text += String.fromCharCode(...bytes.subarray(start, start + 4096));
  }
  return text;
}

/** The parsed certificate, or null when the bytes are not a certificate this verifier understands. */
export function parseCertificate(der: Uint8Array): Certificate | null {
  const identity = latin1Identity(der);
  const cached = cache.get(identity);
  if (cached !== undefined) return cached;
  let parsed: Certificate | null;
  try {
    parsed = parseFresh(der.slice(), identity);
  } catch {
    // Hand-made certificates reach this parser from untrusted PDFs; any inconsistency means "not a certificate".
    parsed = null;
  }
  if (parsed === null) return null;
  if (cache.size >= cacheEntriesMax) cache.clear();
  cache.set(identity, parsed);
  return parsed;
}

function parseFresh(der: Uint8Array, identity: string): Certificate | null {
  const outer = readBer(der, 0);
  const parts = outer === null || outer.tag !== 0x30 ? null : berChildren(der, outer, 3);
  const [tbsElement, algorithmElement, signatureElement] = parts ?? [];
  if (tbsElement?.tag !== 0x30 || algorithmElement?.tag !== 0x30 || signatureElement?.tag !== 0x03)
    return null;
  const fields = berChildren(der, tbsElement, 12);
  if (fields === null) return null;
  const first = fields[0]?.tag === 0xa0 ? 1 : 0;
  const [serial, , issuer, validity, subject, publicKeyInfo] = fields.slice(first);
  if (serial?.tag !== 0x02 || issuer?.tag !== 0x30 || subject?.tag !== 0x30) return null;
  if (validity?.tag !== 0x30 || publicKeyInfo?.tag !== 0x30) return null;
  const times = berChildren(der, validity, 2);
  const notBefore = times?.[0] === undefined ? null : readTime(der, times[0]);
  const notAfter = times?.[1] === undefined ? null : readTime(der, times[1]);
  const key = readPublicKeyType(der, publicKeyInfo);
  const algorithm = berChildren(der, algorithmElement, 2);
  const signatureAlgorithm = readObjectIdentifier(der, algorithm?.[0]);
  if (notBefore === null || notAfter === null || key === null || signatureAlgorithm === null) return null;
  const extensions = readExtensions(der, fields.slice(first + 6));
  return {
    der,
    identity,
    tbs: berEncoding(der, tbsElement),
    serialNumber: berContent(der, serial),
    issuer: berEncoding(der, issuer),
    subject: berEncoding(der, subject),
    subjectText: nameText(der, subject),
    notBefore,
    notAfter,
    publicKeyInfo: berEncoding(der, publicKeyInfo),
    ...key,
    signatureAlgorithm,
    // A BIT STRING's first content octet counts unused bits; signatures always use whole octets.
    signatureValue: der.subarray(signatureElement.contentStart + 1, signatureElement.contentEnd),
    ...extensions,
    keys: new Map(),
    issuerChecks: new Map(),
    digests: new Map(),
  };
}

function readPublicKeyType(
  der: Uint8Array,
  publicKeyInfo: BerElement,
): { keyType: 'ec' | 'rsa' | 'other'; namedCurve: NamedCurve | null } | null {
  const parts = berChildren(der, publicKeyInfo, 2);
  const algorithm = parts?.[0]?.tag === 0x30 ? berChildren(der, parts[0], 2) : null;
  if (algorithm === null) return null;
  const oid = readObjectIdentifier(der, algorithm[0]);
  if (oid === Oid.rsaEncryption) return { keyType: 'rsa', namedCurve: null };
  if (oid !== Oid.ecPublicKey) return { keyType: 'other', namedCurve: null };
  const curve = curves[readObjectIdentifier(der, algorithm[1]) ?? ''];
  return curve === undefined ? { keyType: 'other', namedCurve: null } : { keyType: 'ec', namedCurve: curve };
}

/** UTCTime or GeneralizedTime (RFC 5280 §4.1.2.5), always in UTC ("Z"). */
export function readTime(der: Uint8Array, element: BerElement): Date | null {
  const text = latin1Identity(berContent(der, element));
  const match =
    element.tag === 0x17
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
      : element.tag === 0x18
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(text)
        : null;
  if (match === null) return null;
  const [, yearText, month, day, hour, minute, second] = match.map(Number) as number[];
  let year = yearText!;
  if (element.tag === 0x17) year += year < 50 ? 2000 : 1900;
  const time = Date.UTC(year, month! - 1, day!, hour!, minute!, second!);
  return Number.isNaN(time) ? null : new Date(time);
}

interface ExtensionFacts {
  readonly isCertificateAuthority: boolean;
  readonly keyCertSign: boolean | null;
  readonly subjectKeyIdentifier: Uint8Array | null;
}

function readExtensions(der: Uint8Array, trailing: readonly BerElement[]): ExtensionFacts {
  const facts = {
    isCertificateAuthority: false,
    keyCertSign: null as boolean | null,
    subjectKeyIdentifier: null as Uint8Array | null,
  };
  const wrapper = trailing.find((element) => element.tag === 0xa3);
  const list = wrapper === undefined ? null : readBer(der, wrapper.contentStart, wrapper.contentEnd);
  const extensions = list === null ? [] : (berChildren(der, list) ?? []);
  for (const extension of extensions) {
    const parts = berChildren(der, extension, 3);
    if (parts === null) continue;
    const oid = readObjectIdentifier(der, parts[0]);
    const value = parts[parts.length - 1];
    if (value?.tag !== 0x04) continue;
    const inner = readBer(der, value.contentStart, value.contentEnd);
    if (inner === null) continue;
    if (oid === Oid.basicConstraints) {
      const first = berChildren(der, inner, 2)?.[0];
      facts.isCertificateAuthority = first?.tag === 0x01 && der[first.contentStart] !== 0;
    } else if (oid === Oid.keyUsage && inner.tag === 0x03) {
      // keyCertSign is bit 5: the sixth bit of the first octet after the unused-bits octet.
      const firstOctet = inner.contentEnd - inner.contentStart > 1 ? der[inner.contentStart + 1]! : 0;
      facts.keyCertSign = (firstOctet & 0x04) !== 0;
    } else if (oid === Oid.subjectKeyIdentifier && inner.tag === 0x04) {
      facts.subjectKeyIdentifier = berContent(der, inner);
    }
  }
  return facts;
}

/** "CN=…, O=…, C=…" in the order the Name encodes its attributes. */
function nameText(der: Uint8Array, name: BerElement): string {
  const parts: string[] = [];
  for (const relativeName of berChildren(der, name) ?? []) {
    for (const attribute of berChildren(der, relativeName) ?? []) {
      const [type, value] = berChildren(der, attribute, 2) ?? [];
      const oid = readObjectIdentifier(der, type);
      if (oid === null || value === undefined) continue;
      parts.push(`${attributeNames[oid] ?? oid}=${directoryString(der, value)}`);
    }
  }
  return parts.join(', ');
}

function directoryString(der: Uint8Array, value: BerElement): string {
  const content = berContent(der, value);
  if (value.tag === 0x0c) return new TextDecoder().decode(content);
  if (value.tag === 0x1e) {
    let text = '';
    for (let index = 0; index + 1 < content.length; index += 2) {
      text += String.fromCharCode((content[index]! << 8) | content[index + 1]!);
    }
    return text;
  }
  return latin1Identity(content);
}
