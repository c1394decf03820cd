/**
 * The development PKI: root CA → issuing CA → one short-lived signer certificate per node, generated
 * with @peculiar/x509 over Node's WebCrypto. Production keeps the root offline and never runs this;
 * development mode makes the whole hierarchy on first start, clearly marked NOT FOR PRODUCTION.
 */
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { SignatureAlgorithm } from '../pades/cms.js';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

// The project compiles without DOM types, so Node's WebCrypto is handed over under x509's own type name.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export type SignerKeyAlgorithm = 'ECDSA-P256' | 'RSA-2048' | 'RSA-3072';

/** A certificate with its private key, both as text ready for files and the certificate as DER. */
export interface CertifiedKey {
  readonly certificatePem: string;
  readonly certificate: Uint8Array;
  /** PKCS#8 PEM. */
  readonly privateKeyPem: string;
}

export interface DevPki {
  /** The root's key is null where it is kept offline (production installs only `root.pem`). */
  readonly root: Omit<CertifiedKey, 'privateKeyPem'> & { readonly privateKeyPem: string | null };
  readonly issuingCa: CertifiedKey;
  readonly signer: CertifiedKey;
  readonly signerAlgorithm: SignatureAlgorithm;
  /** The time-stamping authority (RFC 3161): extended key usage id-kp-timeStamping only, critical. */
  readonly tsa: CertifiedKey;
}

export interface SignerCertificateOptions {
  /** Default 'ECDSA-P256'. */
  readonly keyAlgorithm?: SignerKeyAlgorithm;
  /** Default 30 days: signer certificates are short-lived and renewed from the issuing CA. */
  readonly validityDays?: number;
  /** Goes into the signer's common name (the node id, BUBUH_NODE_ID); default 'node-1'. */
  readonly nodeName?: string;
  /** The issue time; default now. */
  readonly now?: Date;
  /**
   * A signer certificate that must not sign any more (it was revoked): when it is still this node's
   * current one, a fresh one is issued whatever its remaining life.
   */
  readonly replacing?: Uint8Array;
}

export const ROOT_CA_SUBJECT = 'CN=bubuh Development Root CA (NOT FOR PRODUCTION), O=bubuh, C=ID';
export const ISSUING_CA_SUBJECT = 'CN=bubuh Development Issuing CA (NOT FOR PRODUCTION), O=bubuh, C=ID';
export const ROOT_CA_VALIDITY_DAYS = 3652;
export const ISSUING_CA_VALIDITY_DAYS = 1826;
export const SIGNER_VALIDITY_DAYS_DEFAULT = 30;
export const SIGNER_VALIDITY_DAYS_MAX = 825;
/** The TSA certificate outlives many signer certificates: tokens it signed must verify for years. */
export const TSA_VALIDITY_DAYS = 1095;
/** Certificates start a little in the past so a verifier whose clock lags does not see them as future. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * id-kp-documentSigning (RFC 9336) says what the key is for; id-kp-emailProtection is there too
 * because poppler's pdfsig validates signer certificates through NSS for the e-mail-signer usage,
 * which rejects a certificate whose extended key usage lacks emailProtection.
 */
export const SIGNER_EXTENDED_KEY_USAGES: readonly string[] = [
  '1.3.6.1.5.5.7.3.36',
  x509.ExtendedKeyUsage.emailProtection,
];

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

function rsaParameters(modulusLength: number) {
  return {
    name: 'RSASSA-PKCS1-v1_5',
    modulusLength,
    publicExponent: Uint8Array.of(1, 0, 1),
    hash: 'SHA-256',
  };
}

async function generateKeys(algorithm: SignerKeyAlgorithm): Promise<CryptoKeyPair> {
  const parameters =
    algorithm === 'ECDSA-P256' ? EC_P256 : rsaParameters(algorithm === 'RSA-2048' ? 2048 : 3072);
  return (await webcrypto.subtle.generateKey(parameters, true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** A random positive 16-octet serial number, in the hexadecimal form @peculiar/x509 takes. */
function randomSerialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return Buffer.from(bytes).toString('hex');
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
}

async function certifiedKey(certificate: x509.X509Certificate, key: CryptoKey): Promise<CertifiedKey> {
  return {
    certificatePem: certificate.toString('pem'),
    certificate: new Uint8Array(certificate.rawData),
    privateKeyPem: await privateKeyPem(key),
  };
}

function validity(now: Date, days: number): { notBefore: Date; notAfter: Date } {
  return {
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(now.getTime() + days * DAY_MS),
  };
}

/**
 * Whether an issuing CA is a development one (its subject says NOT FOR PRODUCTION): the certificates it
 * issues say so too. An imported production CA issues signer and TSA certificates without the label.
 */
export function isDevelopmentCa(certificate: x509.X509Certificate): boolean {
  return certificate.subject.includes('(NOT FOR PRODUCTION)');
}

/** Imports an issuing CA's PKCS#8 key (always ECDSA P-256 here) for signing certificates. */
export async function importCaSigningKey(privateKeyPemText: string): Promise<CryptoKey> {
  const pkcs8 = x509.PemConverter.decodeFirst(privateKeyPemText);
  return webcrypto.subtle.importKey('pkcs8', pkcs8, EC_P256, false, ['sign']);
}

async function createRoot(now: Date): Promise<{ certificate: x509.X509Certificate; keys: CryptoKeyPair }> {
  const keys = await generateKeys('ECDSA-P256');
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: ROOT_CA_SUBJECT,
    ...validity(now, ROOT_CA_VALIDITY_DAYS),
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate, keys };
}

async function createIssuingCa(
  root: { certificate: x509.X509Certificate; keys: CryptoKeyPair },
  now: Date,
): Promise<{ certificate: x509.X509Certificate; keys: CryptoKeyPair }> {
  const keys = await generateKeys('ECDSA-P256');
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: ISSUING_CA_SUBJECT,
    issuer: root.certificate.subject,
    ...validity(now, ISSUING_CA_VALIDITY_DAYS),
    publicKey: keys.publicKey,
    signingKey: root.keys.privateKey,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(root.keys.publicKey),
    ],
  });
  return { certificate, keys };
}

/** Issues a fresh signer key and certificate from the issuing CA (PEM certificate + PKCS#8 key). */
export async function issueSignerCertificate(
  issuingCa: { certificatePem: string; privateKeyPem: string },
  options: SignerCertificateOptions = {},
): Promise<CertifiedKey> {
  const keys = await generateKeys(options.keyAlgorithm ?? 'ECDSA-P256');
  const certificate = await createSignerCertificate(issuingCa, keys.publicKey, options);
  return certifiedKey(certificate, keys.privateKey);
}

/**
 * Issues a signer certificate from the issuing CA for a public key (SPKI DER) whose private half lives
 * elsewhere — in a PKCS#11 token — and never passes through here.
 */
export async function certifySignerPublicKey(
  issuingCa: { certificatePem: string; privateKeyPem: string },
  publicKeySpki: Uint8Array,
  options: Omit<SignerCertificateOptions, 'keyAlgorithm'> = {},
): Promise<{ certificatePem: string; certificate: Uint8Array }> {
  const certificate = await createSignerCertificate(issuingCa, publicKeySpki.slice(), options);
  return { certificatePem: certificate.toString('pem'), certificate: new Uint8Array(certificate.rawData) };
}

async function createSignerCertificate(
  issuingCa: { certificatePem: string; privateKeyPem: string },
  publicKey: CryptoKey | Uint8Array,
  options: SignerCertificateOptions,
): Promise<x509.X509Certificate> {
  const validityDays = options.validityDays ?? SIGNER_VALIDITY_DAYS_DEFAULT;
  if (!Number.isInteger(validityDays) || validityDays < 1 || validityDays > SIGNER_VALIDITY_DAYS_MAX) {
    throw new Error(`dev PKI invariant: validityDays ${validityDays} must be 1…${SIGNER_VALIDITY_DAYS_MAX}`);
  }
  const nodeName = options.nodeName ?? 'node-1';
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(nodeName))
    throw new Error(`dev PKI invariant: bad node name ${nodeName}`);
  const caCertificate = new x509.X509Certificate(issuingCa.certificatePem);
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: isDevelopmentCa(caCertificate)
      ? `CN=bubuh Development Signer ${nodeName} (NOT FOR PRODUCTION), O=bubuh, C=ID`
      : `CN=bubuh Signer ${nodeName}, O=bubuh, C=ID`,
    issuer: caCertificate.subject,
    ...validity(options.now ?? new Date(), validityDays),
    publicKey,
    signingKey: await importCaSigningKey(issuingCa.privateKeyPem),
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([...SIGNER_EXTENDED_KEY_USAGES], false),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCertificate.publicKey),
    ],
  });
}

/**
 * Issues the time-stamping authority's key and certificate from the issuing CA. RFC 3161 §2.3: the
 * extended key usage is exactly id-kp-timeStamping and is critical; `openssl ts -verify` insists.
 */
export async function issueTsaCertificate(
  issuingCa: { certificatePem: string; privateKeyPem: string },
  options: { now?: Date; validityDays?: number } = {},
): Promise<CertifiedKey> {
  const caCertificate = new x509.X509Certificate(issuingCa.certificatePem);
  const keys = await generateKeys('ECDSA-P256');
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: isDevelopmentCa(caCertificate)
      ? 'CN=bubuh Development Time-Stamping Authority (NOT FOR PRODUCTION), O=bubuh, C=ID'
      : 'CN=bubuh Time-Stamping Authority, O=bubuh, C=ID',
    issuer: caCertificate.subject,
    ...validity(options.now ?? new Date(), options.validityDays ?? TSA_VALIDITY_DAYS),
    publicKey: keys.publicKey,
    signingKey: await importCaSigningKey(issuingCa.privateKeyPem),
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.timeStamping], true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCertificate.publicKey),
    ],
  });
  return certifiedKey(certificate, keys.privateKey);
}

export function signatureAlgorithmFor(keyAlgorithm: SignerKeyAlgorithm): SignatureAlgorithm {
  return keyAlgorithm === 'ECDSA-P256' ? 'ECDSA-P256-SHA256' : 'RSA-PKCS1-SHA256';
}

/** Generates a whole development hierarchy: root CA, issuing CA, one signer and the TSA. */
export async function generateDevPki(options: SignerCertificateOptions = {}): Promise<DevPki> {
  const now = options.now ?? new Date();
  const root = await createRoot(now);
  const issuingCa = await createIssuingCa(root, now);
  const issuingCaFiles = await certifiedKey(issuingCa.certificate, issuingCa.keys.privateKey);
  return {
    root: await certifiedKey(root.certificate, root.keys.privateKey),
    issuingCa: issuingCaFiles,
    signer: await issueSignerCertificate(issuingCaFiles, { ...options, now }),
    signerAlgorithm: signatureAlgorithmFor(options.keyAlgorithm ?? 'ECDSA-P256'),
    tsa: await issueTsaCertificate(issuingCaFiles, { now }),
  };
}
