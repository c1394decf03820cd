/**
 * The issuing CA's certificate revocation list (RFC 5280 §5): version 2, signed by the issuing CA with
 * ECDSA P-256/SHA-256, listing every revoked certificate the CA issued with its revocation date and
 * reason code, thisUpdate/nextUpdate, a CRL number and the authority key identifier. Generated with
 * @peculiar/x509; read back here for `bubuh pki show` and to decide when it must be reissued.
 */
import * as x509 from '@peculiar/x509';
import { importCaSigningKey } from './dev-pki.js';

export type RevocationReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'privilegeWithdrawn'
  | 'aACompromise';

/**
 * The RFC 5280 CRLReason values a revocation may name. certificateHold (6) and removeFromCRL (8) are
 * left out: a revocation here is permanent, and there are no delta CRLs.
 */
export const revocationReasonCodes: Readonly<Record<RevocationReason, number>> = Object.freeze({
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  privilegeWithdrawn: 9,
  aACompromise: 10,
});

export const revocationReasons = Object.keys(revocationReasonCodes) as RevocationReason[];

export function isRevocationReason(text: string): text is RevocationReason {
  return Object.hasOwn(revocationReasonCodes, text);
}

const reasonNames = new Map<number, RevocationReason>(
  revocationReasons.map((name) => [revocationReasonCodes[name], name]),
);

export interface CrlEntryInput {
  /** Lowercase hex, as `normaliseCertificateSerial` gives it. */
  readonly serial: string;
  readonly revokedAt: Date;
  readonly reason: RevocationReason;
}

export interface IssueCrlOptions {
  readonly thisUpdate: Date;
  readonly validityDays: number;
  /** The CRL number (monotonically increasing). */
  readonly number: bigint;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const crlNumberOid = '2.5.29.20';

/** Lowercase hex of a certificate serial number without colons, spaces or leading zero octets. */
export function normaliseCertificateSerial(text: string): string {
  const hex = text.replace(/[\s:]/g, '').toLowerCase();
  const stripped = hex.replace(/^0+/, '');
  return stripped === '' ? '0' : stripped;
}

/** The serial number of a DER certificate, normalised. */
export function certificateSerialOf(der: Uint8Array): string {
  return normaliseCertificateSerial(new x509.X509Certificate(der).serialNumber);
}

/** Whole octets, with a leading zero octet where the first bit would make the INTEGER negative. */
function serialForEncoding(serial: string): string {
  const even = serial.length % 2 === 1 ? `0${serial}` : serial;
  return Number.parseInt(even.slice(0, 2), 16) >= 0x80 ? `00${even}` : even;
}

/** A non-negative INTEGER's DER encoding. */
function derInteger(value: bigint): Uint8Array {
  if (value < 0n) throw new Error(`crl invariant: negative CRL number ${value}`);
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  const content = Buffer.from(hex, 'hex');
  if (content.length > 20)
    throw new Error('crl invariant: CRL numbers are at most 20 octets (RFC 5280 §5.2.3)');
  return Uint8Array.of(0x02, content.length, ...content);
}

/** The CRL number to use next: one more than the last, and never behind the clock in seconds. */
export function nextCrlNumber(previous: bigint | null, thisUpdate: Date): bigint {
  const fromClock = BigInt(Math.floor(thisUpdate.getTime() / 1000));
  const next = previous === null ? fromClock : previous + 1n;
  return next > fromClock ? next : fromClock;
}

/** Signs a CRL with the issuing CA's key; returns its DER bytes. */
export async function issueCrl(
  issuingCa: { readonly certificatePem: string; readonly privateKeyPem: string },
  entries: readonly CrlEntryInput[],
  options: IssueCrlOptions,
): Promise<Uint8Array> {
  const caCertificate = new x509.X509Certificate(issuingCa.certificatePem);
  const keyIdentifier = caCertificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const authorityKeyIdentifier =
    keyIdentifier === undefined
      ? await x509.AuthorityKeyIdentifierExtension.create(caCertificate.publicKey)
      : new x509.AuthorityKeyIdentifierExtension(keyIdentifier);
  // dev-pki.ts hands @peculiar/x509 Node's WebCrypto when it is imported.
  const crl = await x509.X509CrlGenerator.create({
    // The issuer Name bytes exactly as the CA certificate encodes its subject.
    issuer: new x509.Name(caCertificate.subjectName.toArrayBuffer()),
    thisUpdate: options.thisUpdate,
    nextUpdate: new Date(options.thisUpdate.getTime() + options.validityDays * DAY_MS),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    signingKey: await importCaSigningKey(issuingCa.privateKeyPem),
    extensions: [authorityKeyIdentifier, new x509.Extension(crlNumberOid, false, derInteger(options.number))],
    entries: [...entries]
      .sort((left, right) => left.revokedAt.getTime() - right.revokedAt.getTime())
      .map((entry) => ({
        serialNumber: serialForEncoding(entry.serial),
        revocationDate: entry.revokedAt,
        reason: revocationReasonCodes[entry.reason] as x509.X509CrlReason,
      })),
  });
  return new Uint8Array(crl.rawData);
}

export interface CrlEntryFacts {
  readonly serial: string;
  readonly revokedAt: Date;
  /** The reason name; 'unspecified' when the entry carries no reason code. */
  readonly reason: RevocationReason | 'certificateHold' | 'removeFromCRL';
}

export interface CrlFacts {
  readonly issuer: string;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
  readonly number: bigint | null;
  readonly entries: readonly CrlEntryFacts[];
}

function reasonName(code: number | undefined): CrlEntryFacts['reason'] {
  if (code === undefined) return 'unspecified';
  if (code === 6) return 'certificateHold';
  if (code === 8) return 'removeFromCRL';
  return reasonNames.get(code) ?? 'unspecified';
}

/** Reads what a CRL says; throws when the bytes are not a CRL. */
export function readCrlFacts(der: Uint8Array): CrlFacts {
  const crl = new x509.X509Crl(der);
  const numberExtension = crl.getExtension(crlNumberOid);
  let number: bigint | null = null;
  if (numberExtension !== null) {
    const value = new Uint8Array(numberExtension.value);
    // INTEGER: tag, short length, content.
    if (value[0] === 0x02 && value[1] === value.length - 2) {
      number = BigInt(`0x${Buffer.from(value.subarray(2)).toString('hex') || '0'}`);
    }
  }
  return {
    issuer: crl.issuer,
    thisUpdate: crl.thisUpdate,
    nextUpdate: crl.nextUpdate ?? null,
    number,
    entries: crl.entries.map((entry) => ({
      serial: normaliseCertificateSerial(entry.serialNumber),
      revokedAt: entry.revocationDate,
      reason: reasonName(entry.reason),
    })),
  };
}

/** True when the CRL's signature verifies with the CA certificate's key. */
export async function crlSignedBy(der: Uint8Array, caCertificate: Uint8Array): Promise<boolean> {
  try {
    return await new x509.X509Crl(der).verify({ publicKey: new x509.X509Certificate(caCertificate) });
  } catch {
    return false;
  }
}
