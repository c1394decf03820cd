/**
 * CMS SignedData for PAdES baseline signatures (ETSI EN 319 142-1, `/SubFilter /ETSI.CAdES.detached`).
 *
 * The encapsulated content is detached (the PDF byte ranges), so the caller hashes the ranges and hands
 * over the SHA-256 digest; the private key stays behind the injected `Signer`. The signed attributes are
 * exactly content-type, message-digest and signing-certificate-v2: PAdES forbids signing-time in the CMS
 * because the signature dictionary's `/M` carries the claimed time. Pure: no `node:` imports.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { BubuhError } from '../errors.js';
import {
  contextConstructed,
  deferred,
  type DeferredElement,
  type DerElement,
  element,
  encodeDeferred,
  integer,
  lengthOfLength,
  nullValue,
  objectIdentifier,
  octetString,
  readChildren,
  readElement,
  sequence,
  setOf,
  sortSetOf,
  Tag,
} from './der.js';

export type SignatureAlgorithm = 'ECDSA-P256-SHA256' | 'RSA-PKCS1-SHA256';

/** Holds a private key somewhere (a file, an HSM) and signs with it; certificates are DER. */
export interface Signer {
  readonly algorithm: SignatureAlgorithm;
  /** The signer certificate, DER. */
  readonly certificate: Uint8Array;
  /** Issuing CA certificates, DER, nearest first; not the root. */
  readonly chain: readonly Uint8Array[];
  /** Signs `data` with SHA-256: ECDSA as a DER Ecdsa-Sig-Value, RSA as PKCS#1 v1.5. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** Object identifiers, encoded once. */
const Oid = {
  data: objectIdentifier('1.2.840.113549.1.7.1'),
  signedData: objectIdentifier('1.2.840.113549.1.7.2'),
  contentType: objectIdentifier('1.2.840.113549.1.9.3'),
  messageDigest: objectIdentifier('1.2.840.113549.1.9.4'),
  signingCertificateV2: objectIdentifier('1.2.840.113549.1.9.16.2.47'),
  sha256: objectIdentifier('2.16.840.1.101.3.4.2.1'),
  ecdsaWithSha256: objectIdentifier('1.2.840.10045.4.3.2'),
  sha256WithRsaEncryption: objectIdentifier('1.2.840.113549.1.1.11'),
  rsaEncryption: objectIdentifier('1.2.840.113549.1.1.1'),
} as const;

const VERSION_1 = integer(1);
/** RFC 5754 §2: SHA-2 AlgorithmIdentifiers carry no parameters. */
const SHA256_ALGORITHM = sequence(Oid.sha256);
const DIGEST_ALGORITHMS = setOf([SHA256_ALGORITHM]);
const DETACHED_DATA_CONTENT_INFO = sequence(Oid.data);
/** RFC 5758 §3.2: ECDSA signature AlgorithmIdentifiers have absent parameters; RSA (RFC 4055) has NULL. */
const SIGNATURE_ALGORITHMS: Readonly<Record<SignatureAlgorithm, Uint8Array>> = {
  'ECDSA-P256-SHA256': sequence(Oid.ecdsaWithSha256),
  'RSA-PKCS1-SHA256': sequence(Oid.sha256WithRsaEncryption, nullValue()),
};
const CONTENT_TYPE_ATTRIBUTE = sequence(Oid.contentType, setOf([Oid.data]));

/** A DER Ecdsa-Sig-Value for P-256 is at most 2 + (2 + 33) × 2 octets. */
export const ECDSA_P256_SIGNATURE_BYTES_MAX = 72;
const SHA256_DIGEST_BYTES = 32;

/**
 * Room reserved by `estimateCmsSize` for one unsigned attribute: the RFC 3161 signature time-stamp
 * token of PAdES B-T, counted as the whole encoded Attribute (SEQUENCE, OID, SET, token). A token from
 * an ECDSA P-256 TSA that embeds its certificate and one issuing CA is about 2 KiB; an RSA-2048 TSA with
 * the same two certificates about 3.3 KiB. 4096 bytes covers both; larger TSAs must pass their own bound.
 */
export const TIME_STAMP_ATTRIBUTE_BYTES_DEFAULT = 4096;

/** What the signature needs from a certificate, computed once per certificate. */
interface CertificateFacts {
  readonly issuerAndSerialNumber: Uint8Array;
  readonly signingCertificateAttribute: Uint8Array;
  /** Length in octets of the RSA modulus, which is the PKCS#1 signature length; null for EC keys. */
  readonly rsaModulusBytes: number | null;
}

const certificateFactsCache = new WeakMap<Uint8Array, CertificateFacts>();
const certificatesFieldCache = new WeakMap<Signer, Uint8Array>();

function certificateInvalid(problem: string): BubuhError {
  return new BubuhError('PADES_CERTIFICATE_INVALID', { problem });
}

function expectElement(bytes: Uint8Array, found: DerElement | null | undefined, tag: number, what: string) {
  if (found === null || found === undefined || found.tag !== tag)
    throw certificateInvalid(`${what} is missing`);
  return bytes.subarray(found.start, found.end);
}

/** The octet length of an RSA modulus in a SubjectPublicKeyInfo, or null when the key is not RSA. */
function rsaModulusBytes(bytes: Uint8Array, publicKeyInfo: DerElement): number | null {
  const parts = readChildren(bytes, publicKeyInfo, 2);
  const algorithm = parts?.[0];
  const bitString = parts?.[1];
  if (algorithm === undefined || bitString === undefined || bitString.tag !== Tag.bitString) {
    throw certificateInvalid('subjectPublicKeyInfo is malformed');
  }
  const algorithmOid = readElement(bytes, algorithm.contentStart, algorithm.end);
  const oidBytes = algorithmOid === null ? null : bytes.subarray(algorithmOid.start, algorithmOid.end);
  if (oidBytes === null || !equalBytes(oidBytes, Oid.rsaEncryption)) return null;
  // The BIT STRING starts with its unused-bits octet, then RSAPublicKey ::= SEQUENCE { modulus, exponent }.
  const rsaKey = readElement(bytes, bitString.contentStart + 1, bitString.end);
  const modulus = rsaKey === null ? null : readElement(bytes, rsaKey.contentStart, rsaKey.end);
  if (modulus === null || modulus.tag !== Tag.integer)
    throw certificateInvalid('RSA public key is malformed');
  const leadingZero = bytes[modulus.contentStart] === 0 ? 1 : 0;
  return modulus.end - modulus.contentStart - leadingZero;
}

function equalBytes(left: Uint8Array, right: Uint8Array): boolean {
  if (left.length !== right.length) return false;
  for (let index = 0; index < left.length; index += 1) if (left[index] !== right[index]) return false;
  return true;
}

/** Reads issuer, serial number and public key size out of a certificate's DER, and hashes it. */
function certificateFacts(certificate: Uint8Array): CertificateFacts {
  const cached = certificateFactsCache.get(certificate);
  if (cached !== undefined) return cached;
  const outer = readElement(certificate, 0);
  if (outer === null || outer.tag !== Tag.sequence || outer.end !== certificate.length) {
    throw certificateInvalid('not a single DER SEQUENCE');
  }
  const tbs = readElement(certificate, outer.contentStart, outer.end);
  const fields = tbs === null || tbs.tag !== Tag.sequence ? null : readChildren(certificate, tbs, 16);
  if (fields === null) throw certificateInvalid('tbsCertificate is malformed');
  // TBSCertificate: [0] version (optional), serialNumber, signature, issuer, validity, subject, spki, …
  const first = fields[0]?.tag === 0xa0 ? 1 : 0;
  const serial = expectElement(certificate, fields[first], Tag.integer, 'serialNumber');
  const issuer = expectElement(certificate, fields[first + 2], Tag.sequence, 'issuer');
  expectElement(certificate, fields[first + 5], Tag.sequence, 'subjectPublicKeyInfo');
  const issuerSerial = sequence(sequence(contextConstructed(4, issuer)), serial);
  // ESSCertIDv2 omits hashAlgorithm because SHA-256 is its DEFAULT, and DER forbids encoding defaults.
  const essCertId = sequence(octetString(sha256(certificate)), issuerSerial);
  const facts: CertificateFacts = {
    issuerAndSerialNumber: sequence(issuer, serial),
    signingCertificateAttribute: sequence(Oid.signingCertificateV2, setOf([sequence(sequence(essCertId))])),
    rsaModulusBytes: rsaModulusBytes(certificate, fields[first + 5]!),
  };
  certificateFactsCache.set(certificate, facts);
  return facts;
}

/**
 * The DER SET OF signed attributes (tag 0x31, the form that is signed): content-type id-data,
 * message-digest, signing-certificate-v2 with the signer certificate's SHA-256 and issuerSerial.
 */
export function buildSignedAttributes(input: {
  contentDigest: Uint8Array;
  signerCertificate: Uint8Array;
}): Uint8Array {
  if (input.contentDigest.length !== SHA256_DIGEST_BYTES) {
    throw new Error(`CMS invariant: content digest must be ${SHA256_DIGEST_BYTES} bytes (SHA-256)`);
  }
  const facts = certificateFacts(input.signerCertificate);
  const messageDigestAttribute = sequence(Oid.messageDigest, setOf([octetString(input.contentDigest)]));
  return setOf([CONTENT_TYPE_ATTRIBUTE, messageDigestAttribute, facts.signingCertificateAttribute]);
}

/** The `certificates [0] IMPLICIT` field: signer first, then the chain, as the signer gave them. */
function certificatesField(signer: Signer): Uint8Array {
  const cached = certificatesFieldCache.get(signer);
  if (cached !== undefined) return cached;
  for (const certificate of [signer.certificate, ...signer.chain]) {
    const outer = readElement(certificate, 0);
    if (outer === null || outer.tag !== Tag.sequence || outer.end !== certificate.length) {
      throw certificateInvalid('a chain certificate is not a single DER SEQUENCE');
    }
  }
  const field = contextConstructed(0, signer.certificate, ...signer.chain);
  certificatesFieldCache.set(signer, field);
  return field;
}

/** The signature octets a signer may return for its key: an upper bound, exact for RSA. */
function signatureBytesMax(signer: Signer): number {
  const rsaBytes = certificateFacts(signer.certificate).rsaModulusBytes;
  if (signer.algorithm === 'RSA-PKCS1-SHA256') {
    if (rsaBytes === null) throw certificateInvalid('algorithm is RSA but the certificate key is not');
    return rsaBytes;
  }
  if (rsaBytes !== null) throw certificateInvalid('algorithm is ECDSA but the certificate key is RSA');
  return ECDSA_P256_SIGNATURE_BYTES_MAX;
}

function checkSignature(signer: Signer, signature: Uint8Array): void {
  const bytesMax = signatureBytesMax(signer);
  if (signer.algorithm === 'RSA-PKCS1-SHA256') {
    if (signature.length !== bytesMax) {
      throw new BubuhError('PADES_SIGNATURE_INVALID', {
        problem: `RSA signature of ${signature.length} bytes`,
      });
    }
    return;
  }
  const outer = readElement(signature, 0);
  if (signature.length > bytesMax || outer?.tag !== Tag.sequence || outer.end !== signature.length) {
    throw new BubuhError('PADES_SIGNATURE_INVALID', {
      problem: 'ECDSA signature is not a DER Ecdsa-Sig-Value',
    });
  }
}

/** ContentInfo(SignedData) around already-made parts. */
function assembleContentInfo(
  signer: Signer,
  signedAttributes: Uint8Array,
  signature: Uint8Array,
  unsignedAttributes: readonly Uint8Array[],
): Uint8Array {
  const signerInfoParts: (Uint8Array | DeferredElement)[] = [
    VERSION_1,
    certificateFacts(signer.certificate).issuerAndSerialNumber,
    SHA256_ALGORITHM,
    signedAttributesField(signedAttributes),
    SIGNATURE_ALGORITHMS[signer.algorithm],
    deferred(Tag.octetString, signature),
  ];
  if (unsignedAttributes.length > 0) signerInfoParts.push(deferred(0xa1, ...sortSetOf(unsignedAttributes)));
  const signedData = deferred(
    Tag.sequence,
    VERSION_1,
    DIGEST_ALGORITHMS,
    DETACHED_DATA_CONTENT_INFO,
    certificatesField(signer),
    deferred(Tag.set, deferred(Tag.sequence, ...signerInfoParts)),
  );
  // Written once: nesting `sequence` calls would allocate and copy the certificates at every level.
  return encodeDeferred(deferred(Tag.sequence, Oid.signedData, deferred(0xa0, signedData)));
}

/**
 * The signature covers the SET OF encoding of the signed attributes (0x31); SignerInfo stores the same
 * content as [0] IMPLICIT (0xA0).
 */
function signedAttributesField(signedAttributes: Uint8Array): DeferredElement {
  const set = readElement(signedAttributes, 0);
  if (set === null || set.tag !== Tag.set || set.end !== signedAttributes.length) {
    throw new Error('CMS invariant: signed attributes are not one DER SET');
  }
  return deferred(0xa0, signedAttributes.subarray(set.contentStart));
}

/** id-aa-signatureTimeStampToken (RFC 3161 Appendix A): the unsigned attribute of PAdES B-T. */
export const SIGNATURE_TIME_STAMP_TOKEN_OID = '1.2.840.113549.1.9.16.2.14';
const signatureTimeStampTokenOid = objectIdentifier(SIGNATURE_TIME_STAMP_TOKEN_OID);

/** The whole unsigned Attribute that carries a time-stamp token (a DER ContentInfo). */
export function signatureTimeStampAttribute(token: Uint8Array): Uint8Array {
  return sequence(signatureTimeStampTokenOid, element(Tag.set, token));
}

/**
 * A detached CMS SignedData (DER ContentInfo) over a SHA-256 content digest. With `timeStamp`, the
 * signature value is handed to it once computed and the token it returns is added as the unsigned
 * attribute id-aa-signatureTimeStampToken (PAdES B-T).
 */
export async function buildCmsSignature(input: {
  contentDigest: Uint8Array;
  signer: Signer;
  unsignedAttributes?: Uint8Array[];
  timeStamp?: (signatureValue: Uint8Array) => Promise<Uint8Array>;
}): Promise<Uint8Array> {
  const { signer } = input;
  const signedAttributes = buildSignedAttributes({
    contentDigest: input.contentDigest,
    signerCertificate: signer.certificate,
  });
  const signature = await signer.sign(signedAttributes);
  checkSignature(signer, signature);
  const unsigned = [...(input.unsignedAttributes ?? [])];
  if (input.timeStamp !== undefined) {
    unsigned.push(signatureTimeStampAttribute(await input.timeStamp(signature)));
  }
  return assembleContentInfo(signer, signedAttributes, signature, unsigned);
}

/**
 * A CMS SignedData that encapsulates its content (RFC 5652 §5.2), as an RFC 3161 time-stamp token
 * does: signed attributes content-type `eContentType`, message-digest (SHA-256 of `eContent`) and
 * signing-certificate-v2; certificates (signer and chain) only when `includeCertificates`. The version
 * is 3 because the content type is not id-data.
 */
export async function buildEncapsulatedSignedData(input: {
  eContentType: string;
  eContent: Uint8Array;
  signer: Signer;
  includeCertificates: boolean;
}): Promise<Uint8Array> {
  const { signer } = input;
  const contentType = objectIdentifier(input.eContentType);
  const facts = certificateFacts(signer.certificate);
  const signedAttributes = setOf([
    sequence(Oid.contentType, setOf([contentType])),
    sequence(Oid.messageDigest, setOf([octetString(sha256(input.eContent))])),
    facts.signingCertificateAttribute,
  ]);
  const signature = await signer.sign(signedAttributes);
  checkSignature(signer, signature);
  const signerInfo = deferred(
    Tag.sequence,
    VERSION_1,
    facts.issuerAndSerialNumber,
    SHA256_ALGORITHM,
    signedAttributesField(signedAttributes),
    SIGNATURE_ALGORITHMS[signer.algorithm],
    deferred(Tag.octetString, signature),
  );
  const signedData = deferred(
    Tag.sequence,
    integer(3),
    DIGEST_ALGORITHMS,
    deferred(Tag.sequence, contentType, deferred(0xa0, deferred(Tag.octetString, input.eContent))),
    ...(input.includeCertificates ? [certificatesField(signer)] : []),
    deferred(Tag.set, signerInfo),
  );
  return encodeDeferred(deferred(Tag.sequence, Oid.signedData, deferred(0xa0, signedData)));
}

/** An OCTET STRING whose whole encoding is exactly `totalBytes` long, standing in for unknown content. */
function fillerElement(totalBytes: number): Uint8Array {
  for (let header = 2; header <= 5; header += 1) {
    const contentBytes = totalBytes - header;
    if (contentBytes >= 0 && 1 + lengthOfLength(contentBytes) === header) {
      return octetString(new Uint8Array(contentBytes));
    }
  }
  throw new Error(`CMS invariant: no filler of ${totalBytes} bytes`);
}

/**
 * An upper bound on the DER size of `buildCmsSignature` for this signer, to size the PDF `/Contents`
 * placeholder once. It builds the real structure with the longest signature the key can give and a
 * stand-in unsigned attribute of `unsignedAttributeBytes` (default: room for a time-stamp token; pass 0
 * for a B-B signature), so the bound is exact up to the ECDSA signature's variable length.
 */
export function estimateCmsSize(signer: Signer, options: { unsignedAttributeBytes?: number } = {}): number {
  const unsignedBytes = options.unsignedAttributeBytes ?? TIME_STAMP_ATTRIBUTE_BYTES_DEFAULT;
  if (!Number.isInteger(unsignedBytes) || unsignedBytes < 0 || unsignedBytes === 1) {
    throw new Error(`CMS invariant: unsignedAttributeBytes ${unsignedBytes} must be 0 or at least 2`);
  }
  // Every stamp asks, and the answer depends only on the signer's certificates and key: building the
  // stand-in structure each time cost about a third of the CMS work of a stamp.
  let sizes = estimateCache.get(signer);
  if (sizes === undefined) {
    sizes = new Map();
    estimateCache.set(signer, sizes);
  }
  const cached = sizes.get(unsignedBytes);
  if (cached !== undefined) return cached;
  const size = buildEstimate(signer, unsignedBytes);
  if (sizes.size < estimateSizesMax) sizes.set(unsignedBytes, size);
  return size;
}

/** Per signer, the estimates for the few unsigned-attribute sizes a deployment uses. */
const estimateCache = new WeakMap<Signer, Map<number, number>>();
const estimateSizesMax = 16;

function buildEstimate(signer: Signer, unsignedBytes: number): number {
  const signedAttributes = buildSignedAttributes({
    contentDigest: new Uint8Array(SHA256_DIGEST_BYTES),
    signerCertificate: signer.certificate,
  });
  const signature = new Uint8Array(signatureBytesMax(signer));
  const unsigned = unsignedBytes === 0 ? [] : [fillerElement(unsignedBytes)];
  return assembleContentInfo(signer, signedAttributes, signature, unsigned).length;
}
