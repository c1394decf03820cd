/**
 * Reading a detached CMS SignedData (RFC 5652) out of a PDF signature's /Contents: the signer's
 * identifier, digest and signature algorithms, the signed attributes (and the DER SET form that is
 * actually signed), message-digest, signing-certificate-v2 and the embedded certificates.
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
import { type Certificate, parseCertificate } from './certificate.js';

export interface SigningCertificateReference {
  /** Dotted OID of the hash (SHA-256 when the DEFAULT was left out). */
  readonly hashAlgorithm: string;
  readonly certificateHash: Uint8Array;
}

export interface SignerIdentifier {
  readonly issuer: Uint8Array | null;
  readonly serialNumber: Uint8Array | null;
  readonly subjectKeyIdentifier: Uint8Array | null;
}

export interface ParsedSignedData {
  readonly digestAlgorithm: string | null;
  readonly signatureAlgorithm: string | null;
  readonly signature: Uint8Array;
  /** The signed attributes re-tagged as SET OF (0x31): the bytes the signature covers. Null when absent. */
  readonly signedAttributes: Uint8Array | null;
  readonly messageDigest: Uint8Array | null;
  readonly signingCertificate: SigningCertificateReference | null;
  readonly signerIdentifier: SignerIdentifier;
  readonly certificates: readonly Certificate[];
}

const Oid = {
  signedData: '1.2.840.113549.1.7.2',
  messageDigest: '1.2.840.113549.1.9.4',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;

/** A SignedData with more certificates than this is not a PDF signature a person made. */
const certificatesMax = 64;

/** The parsed SignedData, or a short English reason why the bytes are not one. */
export function parseSignedData(bytes: Uint8Array): ParsedSignedData | string {
  const contentInfo = readBer(bytes, 0);
  const outer = contentInfo?.tag === 0x30 ? berChildren(bytes, contentInfo, 2) : null;
  if (outer === null || readObjectIdentifier(bytes, outer[0]) !== Oid.signedData)
    return 'not a CMS SignedData';
  const explicit = outer[1];
  const signedData =
    explicit?.tag === 0xa0 ? readBer(bytes, explicit.contentStart, explicit.contentEnd) : null;
  const fields = signedData?.tag === 0x30 ? berChildren(bytes, signedData, 8) : null;
  if (fields === null) return 'the SignedData is malformed';
  const certificatesField = fields.find((field) => field.tag === 0xa0);
  const signerInfos = fields[fields.length - 1];
  const signerInfo = signerInfos?.tag === 0x31 ? berChildren(bytes, signerInfos, 4) : null;
  if (signerInfo === null || signerInfo.length !== 1)
    return 'the SignedData must hold exactly one SignerInfo';
  const certificates = readCertificates(bytes, certificatesField);
  if (typeof certificates === 'string') return certificates;
  const signer = readSignerInfo(bytes, signerInfo[0]!);
  return typeof signer === 'string' ? signer : { ...signer, certificates };
}

function readCertificates(bytes: Uint8Array, field: BerElement | undefined): Certificate[] | string {
  if (field === undefined) return [];
  const elements = berChildren(bytes, field, certificatesMax);
  if (elements === null) return 'the certificate set is malformed or too large';
  const certificates: Certificate[] = [];
  // Other certificate formats (attribute certificates, tagged choices) are skipped, not refused.
  for (const element of elements) {
    if (element.tag !== 0x30) continue;
    const certificate = parseCertificate(berEncoding(bytes, element));
    if (certificate !== null) certificates.push(certificate);
  }
  return certificates;
}

function readSignerInfo(
  bytes: Uint8Array,
  signerInfo: BerElement,
): Omit<ParsedSignedData, 'certificates'> | string {
  const fields = signerInfo.tag === 0x30 ? berChildren(bytes, signerInfo, 8) : null;
  if (fields === null || fields.length < 5) return 'the SignerInfo is malformed';
  const [, sid, digestAlgorithm] = fields;
  const hasSignedAttributes = fields[3]?.tag === 0xa0;
  const signatureAlgorithm = fields[hasSignedAttributes ? 4 : 3];
  const signature = fields[hasSignedAttributes ? 5 : 4];
  if (sid === undefined || digestAlgorithm?.tag !== 0x30 || signatureAlgorithm?.tag !== 0x30) {
    return 'the SignerInfo is malformed';
  }
  if (signature?.tag !== 0x04) return 'the SignerInfo has no signature value';
  const attributes = hasSignedAttributes ? readSignedAttributes(bytes, fields[3]!) : null;
  if (typeof attributes === 'string') return attributes;
  return {
    digestAlgorithm: readObjectIdentifier(bytes, berChildren(bytes, digestAlgorithm, 2)?.[0]),
    signatureAlgorithm: readObjectIdentifier(bytes, berChildren(bytes, signatureAlgorithm, 2)?.[0]),
    signature: berContent(bytes, signature),
    signedAttributes: attributes?.encoding ?? null,
    messageDigest: attributes?.messageDigest ?? null,
    signingCertificate: attributes?.signingCertificate ?? null,
    signerIdentifier: readSignerIdentifier(bytes, sid),
  };
}

function readSignerIdentifier(bytes: Uint8Array, sid: BerElement): SignerIdentifier {
  if (sid.tag === 0x80)
    return { issuer: null, serialNumber: null, subjectKeyIdentifier: berContent(bytes, sid) };
  const [issuer, serial] = sid.tag === 0x30 ? (berChildren(bytes, sid, 2) ?? []) : [];
  return {
    issuer: issuer?.tag === 0x30 ? berEncoding(bytes, issuer) : null,
    serialNumber: serial?.tag === 0x02 ? berContent(bytes, serial) : null,
    subjectKeyIdentifier: null,
  };
}

interface SignedAttributes {
  readonly encoding: Uint8Array;
  readonly messageDigest: Uint8Array | null;
  readonly signingCertificate: SigningCertificateReference | null;
}

function readSignedAttributes(bytes: Uint8Array, field: BerElement): SignedAttributes | string {
  // The signature covers the DER SET OF, so the attributes must have come with a definite length.
  if (bytes[field.start + 1] === 0x80) return 'the signed attributes are not DER';
  const encoding = bytes.slice(field.start, field.end);
  encoding[0] = 0x31;
  const attributes = berChildren(bytes, field, 32);
  if (attributes === null) return 'the signed attributes are malformed';
  let messageDigest: Uint8Array | null = null;
  let signingCertificate: SigningCertificateReference | null = null;
  for (const attribute of attributes) {
    const [type, values] = berChildren(bytes, attribute, 2) ?? [];
    const oid = readObjectIdentifier(bytes, type);
    const value = values?.tag === 0x31 ? berChildren(bytes, values, 2)?.[0] : undefined;
    if (value === undefined) continue;
    if (oid === Oid.messageDigest && value.tag === 0x04) messageDigest = berContent(bytes, value);
    if (oid === Oid.signingCertificateV2) signingCertificate = readSigningCertificate(bytes, value);
  }
  return { encoding, messageDigest, signingCertificate };
}

/** The first ESSCertIDv2 of a SigningCertificateV2 (RFC 5035): the one naming the signer's certificate. */
function readSigningCertificate(bytes: Uint8Array, value: BerElement): SigningCertificateReference | null {
  const certificates = value.tag === 0x30 ? berChildren(bytes, value, 2)?.[0] : undefined;
  const identifier = certificates?.tag === 0x30 ? berChildren(bytes, certificates, 16)?.[0] : undefined;
  const parts = identifier?.tag === 0x30 ? berChildren(bytes, identifier, 3) : null;
  if (parts === null || parts.length === 0) return null;
  const hasAlgorithm = parts[0]!.tag === 0x30;
  const hash = parts[hasAlgorithm ? 1 : 0];
  if (hash?.tag !== 0x04) return null;
  const algorithm = hasAlgorithm
    ? readObjectIdentifier(bytes, berChildren(bytes, parts[0]!, 2)?.[0])
    : Oid.sha256;
  return algorithm === null ? null : { hashAlgorithm: algorithm, certificateHash: berContent(bytes, hash) };
}

/** The certificate the SignerInfo names, among those the SignedData carries. */
export function findSignerCertificate(signedData: ParsedSignedData): Certificate | null {
  const { issuer, serialNumber, subjectKeyIdentifier } = signedData.signerIdentifier;
  for (const certificate of signedData.certificates) {
    if (subjectKeyIdentifier !== null) {
      const own = certificate.subjectKeyIdentifier;
      if (own !== null && equalBytes(own, subjectKeyIdentifier)) return certificate;
      continue;
    }
    if (issuer === null || serialNumber === null) return null;
    if (equalBytes(certificate.issuer, issuer) && equalBytes(certificate.serialNumber, serialNumber))
      return certificate;
  }
  return null;
}
