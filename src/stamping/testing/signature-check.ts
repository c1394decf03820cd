/**
 * Test-only: checks a stamp's CMS signature without OpenSSL. The CMS is taken out of the /Contents gap
 * of the file, walked with a DER reader written here (deliberately not the one that built it), and
 * the ECDSA or RSA signature over the signed attributes is verified with node:crypto and the public key
 * of the certificate the SignerInfo names.
 */
import { verify, X509Certificate } from 'node:crypto';

interface Element {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

/** Object identifiers this check looks for, as dotted strings. */
export const oids = {
  signedData: '1.2.840.113549.1.7.2',
  data: '1.2.840.113549.1.7.1',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  sha256: '2.16.840.1.101.3.4.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  sha256WithRsaEncryption: '1.2.840.113549.1.1.11',
} as const;

/** Children of one element; a CMS has a handful, so the bound is generous. */
const childrenMax = 1000;

function readElement(bytes: Uint8Array, offset: number, limit: number): Element {
  const tag = bytes[offset];
  const first = bytes[offset + 1];
  if (tag === undefined || first === undefined) throw new Error(`DER: element at ${offset} is truncated`);
  let length = first;
  let contentStart = offset + 2;
  if (first >= 0x80) {
    const octets = first & 0x7f;
    if (octets === 0 || octets > 4) throw new Error(`DER: length form at ${offset} is not DER`);
    length = 0;
    for (let index = 0; index < octets; index += 1)
      length = length * 256 + (bytes[contentStart + index] ?? 0);
    contentStart += octets;
  }
  const end = contentStart + length;
  if (end > limit) throw new Error(`DER: element at ${offset} runs past its container`);
  return { tag, start: offset, contentStart, end };
}

function childrenOf(bytes: Uint8Array, parent: Element): Element[] {
  const children: Element[] = [];
  let position = parent.contentStart;
  while (position < parent.end) {
    if (children.length >= childrenMax) throw new Error('DER: too many children');
    const child = readElement(bytes, position, parent.end);
    children.push(child);
    position = child.end;
  }
  return children;
}

function child(bytes: Uint8Array, parent: Element, index: number, tag: number): Element {
  const found = childrenOf(bytes, parent)[index];
  if (found === undefined || found.tag !== tag) {
    throw new Error(`DER: child ${index} of the element at ${parent.start} is not tag 0x${tag.toString(16)}`);
  }
  return found;
}

function decodeOid(bytes: Uint8Array, element: Element): string {
  if (element.tag !== 0x06) throw new Error(`DER: element at ${element.start} is not an OID`);
  const arcs: number[] = [];
  let value = 0;
  for (let position = element.contentStart; position < element.end; position += 1) {
    const byte = bytes[position]!;
    value = value * 128 + (byte & 0x7f);
    if (byte < 0x80) {
      if (arcs.length === 0)
        arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}

function hexToBytes(hex: string): Uint8Array {
  if (!/^(?:[0-9A-Fa-f]{2})*$/.test(hex))
    throw new Error('the /Contents gap is not an even run of hex digits');
  const bytes = new Uint8Array(hex.length / 2);
  for (let index = 0; index < bytes.length; index += 1) {
    bytes[index] = Number.parseInt(hex.slice(index * 2, index * 2 + 2), 16);
  }
  return bytes;
}

/**
 * The CMS in the gap `[a, b)` of `/ByteRange [0 a b c]`: the gap must be exactly `<hex>`; the DER
 * length of the outer SEQUENCE says where the signature ends, and everything after it must be zero
 * padding. Returns the DER and the number of padding bytes.
 */
export function cmsFromGap(
  pdf: Uint8Array,
  byteRange: readonly [number, number, number, number],
): { readonly der: Uint8Array; readonly paddingBytes: number } {
  const [, gapStart, gapEnd] = byteRange;
  if (pdf[gapStart] !== 0x3c || pdf[gapEnd - 1] !== 0x3e) throw new Error('the gap is not delimited by < >');
  const hex = new TextDecoder('latin1').decode(pdf.subarray(gapStart + 1, gapEnd - 1));
  const contents = hexToBytes(hex);
  const outer = readElement(contents, 0, contents.length);
  if (outer.tag !== 0x30) throw new Error('the signature does not start with a DER SEQUENCE');
  const padding = contents.subarray(outer.end);
  if (padding.some((byte) => byte !== 0)) throw new Error('bytes after the CMS are not zero padding');
  return { der: contents.subarray(0, outer.end), paddingBytes: padding.length };
}

export interface CmsFacts {
  readonly contentType: string;
  readonly encapsulatedContentType: string;
  /** Whether the encapsulated content is absent (a detached signature). */
  readonly detached: boolean;
  readonly digestAlgorithm: string;
  readonly signatureAlgorithm: string;
  /** The OIDs of the signed attributes, in their encoded order. */
  readonly signedAttributeTypes: readonly string[];
  readonly messageDigest: Uint8Array;
  readonly certificates: readonly Uint8Array[];
  /** The certificate whose issuer and serial number the SignerInfo names. */
  readonly signerCertificate: Uint8Array;
  /** node:crypto's verdict on the signature over the DER SET OF the signed attributes. */
  readonly signatureValid: boolean;
  readonly hasUnsignedAttributes: boolean;
}

function attributeValue(bytes: Uint8Array, attributes: Element, type: string): Element | undefined {
  for (const attribute of childrenOf(bytes, attributes)) {
    const [oid, values] = childrenOf(bytes, attribute);
    if (oid !== undefined && values !== undefined && decodeOid(bytes, oid) === type) {
      return childrenOf(bytes, values)[0];
    }
  }
  return undefined;
}

/** The certificate whose TBS issuer and serial number equal the SignerInfo's IssuerAndSerialNumber. */
function findSignerCertificate(
  cms: Uint8Array,
  sid: Element,
  certificates: readonly Uint8Array[],
): Uint8Array {
  const [issuer, serial] = childrenOf(cms, sid);
  if (issuer === undefined || serial === undefined)
    throw new Error('the SignerInfo has no IssuerAndSerialNumber');
  const wanted = Buffer.from(cms.subarray(issuer.start, serial.end));
  for (const certificate of certificates) {
    const tbs = child(certificate, readElement(certificate, 0, certificate.length), 0, 0x30);
    const parts = childrenOf(certificate, tbs);
    const offset = parts[0]?.tag === 0xa0 ? 1 : 0;
    const serialElement = parts[offset];
    const issuerElement = parts[offset + 2];
    if (serialElement === undefined || issuerElement === undefined) continue;
    const found = Buffer.concat([
      certificate.subarray(issuerElement.start, issuerElement.end),
      certificate.subarray(serialElement.start, serialElement.end),
    ]);
    if (found.equals(wanted)) return certificate;
  }
  throw new Error('no certificate in the CMS matches the SignerInfo');
}

/** Walks ContentInfo → SignedData → the one SignerInfo and verifies its signature. */
export function inspectCms(cms: Uint8Array): CmsFacts {
  const contentInfo = readElement(cms, 0, cms.length);
  const contentType = decodeOid(cms, child(cms, contentInfo, 0, 0x06));
  const signedData = child(cms, child(cms, contentInfo, 1, 0xa0), 0, 0x30);
  const parts = childrenOf(cms, signedData);
  const encapsulated = child(cms, signedData, 2, 0x30);
  const certificatesField = parts.find((part) => part.tag === 0xa0);
  const certificates = certificatesField
    ? childrenOf(cms, certificatesField).map((element) => cms.slice(element.start, element.end))
    : [];
  const signerInfos = parts[parts.length - 1];
  if (signerInfos === undefined || signerInfos.tag !== 0x31) throw new Error('SignedData has no signerInfos');
  const signerInfoList = childrenOf(cms, signerInfos);
  if (signerInfoList.length !== 1) throw new Error(`${signerInfoList.length} SignerInfos, expected 1`);
  const signerInfo = signerInfoList[0]!;
  const fields = childrenOf(cms, signerInfo);
  const signedAttributes = child(cms, signerInfo, 3, 0xa0);
  const signature = child(cms, signerInfo, 5, 0x04);
  const signerCertificate = findSignerCertificate(cms, child(cms, signerInfo, 1, 0x30), certificates);
  // The signature covers the attributes encoded as a SET OF (tag 0x31), not as the [0] IMPLICIT field.
  const signedBytes = cms.slice(signedAttributes.start, signedAttributes.end);
  signedBytes[0] = 0x31;
  const publicKey = new X509Certificate(signerCertificate).publicKey;
  const signatureValid = verify(
    'sha256',
    signedBytes,
    { key: publicKey, dsaEncoding: 'der' },
    cms.subarray(signature.contentStart, signature.end),
  );
  const digest = attributeValue(cms, signedAttributes, oids.messageDigest);
  if (digest === undefined || digest.tag !== 0x04) throw new Error('no messageDigest attribute');
  return {
    contentType,
    encapsulatedContentType: decodeOid(cms, child(cms, encapsulated, 0, 0x06)),
    detached: childrenOf(cms, encapsulated).length === 1,
    digestAlgorithm: decodeOid(cms, child(cms, child(cms, signerInfo, 2, 0x30), 0, 0x06)),
    signatureAlgorithm: decodeOid(cms, child(cms, child(cms, signerInfo, 4, 0x30), 0, 0x06)),
    signedAttributeTypes: childrenOf(cms, signedAttributes).map((attribute) =>
      decodeOid(cms, child(cms, attribute, 0, 0x06)),
    ),
    messageDigest: cms.slice(digest.contentStart, digest.end),
    certificates,
    signerCertificate,
    signatureValid,
    hasUnsignedAttributes: fields.some((field) => field.tag === 0xa1),
  };
}
