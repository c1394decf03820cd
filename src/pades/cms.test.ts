import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { isBubuhError } from '../errors.js';
import {
  buildCmsSignature,
  buildSignedAttributes,
  ECDSA_P256_SIGNATURE_BYTES_MAX,
  estimateCmsSize,
  type Signer,
  TIME_STAMP_ATTRIBUTE_BYTES_DEFAULT,
} from './cms.js';
import { objectIdentifier, octetString, sequence, setOf } from './der.js';

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function fromHex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

/** A self-signed P-256 certificate "CN=t, O=bubuh" made once with OpenSSL; its bytes are the fixture. */
const FIXTURE_CERTIFICATE = new Uint8Array(
  Buffer.from(
    'MIIBjDCCATOgAwIBAgIUOh1YNq8kgggDS8Sdv/vrNid1RVUwCgYIKoZIzj0EAwIwHDEKMAgGA1UEAwwBdDEOMAwGA1UECgwFYnVidWgwHhcNMjYxMTIzMDcyMDE1WhcNMjYxMTI0MDcyMDE1WjAcMQowCAYDVQQDDAF0MQ4wDAYDVQQKDAVidWJ1aDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABHaqVo2hxv6PsrmpD3UPD/HwuiRIQpFsi+8UzU1vFDkF05IW7SL9fp1FYdJka/RKCRbPyvNnXbgq0GlEpsuZBjGjUzBRMB0GA1UdDgQWBBQIB5bb7L5vPJqw3sftPVi6pXO5EzAfBgNVHSMEGDAWgBQIB5bb7L5vPJqw3sftPVi6pXO5EzAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIDsrtD7VJp2oQGBs03GXViUYpvRZqWa6TPOK9zAP1pKDAiBsRKdC4COx7Z5nujxUc0kqQXcnwPQ4Zi7VIaZwr+6YcQ==',
    'base64',
  ),
);
const FIXTURE_CERTIFICATE_SHA256 = 'ce5c4e4c74b9d7a0b407bc030ab2d0fedf917b1707befb42639b55be02386e6e';
const FIXTURE_ISSUER = '301c310a300806035504030c0174310e300c060355040a0c056275627568';
const FIXTURE_SERIAL = '02143a1d5836af248208034bc49dbffbeb3627754555';
const DIGEST = Uint8Array.from({ length: 32 }, (_, index) => index);

/** The signed attributes for DIGEST and the fixture certificate, written out by hand from RFC 5652/5035. */
const EXPECTED_SIGNED_ATTRIBUTES = [
  '3181be',
  // content-type: id-data
  '3018 06092a864886f70d010903 310b 06092a864886f70d010701',
  // message-digest
  '302f 06092a864886f70d010904 3122 0420',
  hex(DIGEST),
  // signing-certificate-v2 { certs { ESSCertIDv2 { certHash, issuerSerial { {[4] issuer}, serial } } } }
  '3071 060b2a864886f70d010910022f 3162 3060 305e 305c 0420',
  FIXTURE_CERTIFICATE_SHA256,
  '3038 3020 a41e',
  FIXTURE_ISSUER,
  FIXTURE_SERIAL,
].join('');

/** A fixed DER Ecdsa-Sig-Value of the longest form (both integers with a leading zero). */
const LONGEST_ECDSA_SIGNATURE = fromHex(`3046 022100${'81'.repeat(32)} 022100${'82'.repeat(32)}`);

function fixedSigner(signature: Uint8Array, seen: Uint8Array[] = []): Signer {
  return {
    algorithm: 'ECDSA-P256-SHA256',
    certificate: FIXTURE_CERTIFICATE,
    chain: [FIXTURE_CERTIFICATE],
    sign: async (data) => {
      seen.push(data);
      return signature;
    },
  };
}

test('signed attributes are exactly content-type, message-digest and signing-certificate-v2, DER-sorted', () => {
  assert.equal(LONGEST_ECDSA_SIGNATURE.length, ECDSA_P256_SIGNATURE_BYTES_MAX);
  const attributes = buildSignedAttributes({ contentDigest: DIGEST, signerCertificate: FIXTURE_CERTIFICATE });
  assert.equal(hex(attributes), EXPECTED_SIGNED_ATTRIBUTES.replace(/\s+/g, ''));
  assert.throws(
    () =>
      buildSignedAttributes({ contentDigest: new Uint8Array(20), signerCertificate: FIXTURE_CERTIFICATE }),
    /invariant/,
  );
});

test('the signer signs the SET OF form and SignerInfo stores it under [0] IMPLICIT', async () => {
  const seen: Uint8Array[] = [];
  const signer = fixedSigner(LONGEST_ECDSA_SIGNATURE, seen);
  const cms = await buildCmsSignature({ contentDigest: DIGEST, signer });
  assert.equal(seen.length, 1);
  assert.equal(hex(seen[0]!), EXPECTED_SIGNED_ATTRIBUTES.replace(/\s+/g, ''));
  const stored = `a0${hex(seen[0]!).slice(2)}`;
  assert.equal(hex(cms).split(stored).length, 2, 'the implicit [0] attributes appear once');
  assert.equal(hex(cms).slice(0, 4), '3082');
  assert.equal(hex(cms).slice(8, 34), '06092a864886f70d010702a082');
  assert.equal(Number.parseInt(hex(cms).slice(4, 8), 16), cms.length - 4);
});

test('pkijs reads the result as a detached SignedData with the expected fields', async () => {
  const signer = fixedSigner(LONGEST_ECDSA_SIGNATURE);
  const cms = await buildCmsSignature({ contentDigest: DIGEST, signer });
  const contentInfo = pkijs.ContentInfo.fromBER(cms);
  assert.equal(contentInfo.contentType, '1.2.840.113549.1.7.2');
  const signedData = new pkijs.SignedData({ schema: contentInfo.content });
  assert.equal(signedData.version, 1);
  assert.deepEqual(
    signedData.digestAlgorithms.map((algorithm) => algorithm.algorithmId),
    ['2.16.840.1.101.3.4.2.1'],
  );
  assert.equal(signedData.encapContentInfo.eContentType, '1.2.840.113549.1.7.1');
  assert.equal(signedData.encapContentInfo.eContent, undefined);
  assert.equal(signedData.certificates?.length, 2);
  const [signerInfo] = signedData.signerInfos;
  assert.equal(signerInfo?.version, 1);
  assert.equal(signerInfo?.digestAlgorithm.algorithmId, '2.16.840.1.101.3.4.2.1');
  assert.equal(signerInfo?.signatureAlgorithm.algorithmId, '1.2.840.10045.4.3.2');
  assert.deepEqual(
    signerInfo?.signedAttrs?.attributes.map((attribute) => attribute.type),
    ['1.2.840.113549.1.9.3', '1.2.840.113549.1.9.4', '1.2.840.113549.1.9.16.2.47'],
  );
  assert.equal(
    hex(new Uint8Array(signerInfo!.signature.valueBlock.valueHexView)),
    hex(LONGEST_ECDSA_SIGNATURE),
  );
  assert.equal(signerInfo?.unsignedAttrs, undefined);
  const sid = signerInfo?.sid as pkijs.IssuerAndSerialNumber;
  assert.equal(hex(new Uint8Array(sid.serialNumber.toBER())), FIXTURE_SERIAL);
});

test('unsigned attributes go into [1] IMPLICIT, DER-sorted', async () => {
  const signer = fixedSigner(LONGEST_ECDSA_SIGNATURE);
  const first = sequence(objectIdentifier('1.2.840.113549.1.9.16.2.14'), setOf([octetString(fromHex('bb'))]));
  const second = sequence(
    objectIdentifier('1.2.840.113549.1.9.16.2.14'),
    setOf([octetString(fromHex('aa'))]),
  );
  const cms = await buildCmsSignature({ contentDigest: DIGEST, signer, unsignedAttributes: [first, second] });
  assert.ok(hex(cms).endsWith(`a128${hex(second)}${hex(first)}`));
  const signedData = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(cms).content });
  assert.equal(signedData.signerInfos[0]?.unsignedAttrs?.attributes.length, 2);
});

test('the size estimate is exact for the longest signature and an upper bound for shorter ones', async () => {
  const longest = fixedSigner(LONGEST_ECDSA_SIGNATURE);
  const withoutTimeStamp = estimateCmsSize(longest, { unsignedAttributeBytes: 0 });
  assert.equal(
    (await buildCmsSignature({ contentDigest: DIGEST, signer: longest })).length,
    withoutTimeStamp,
  );
  const shorter = fixedSigner(fromHex(`3044 0220${'11'.repeat(32)} 0220${'12'.repeat(32)}`));
  assert.equal(
    (await buildCmsSignature({ contentDigest: DIGEST, signer: shorter })).length,
    withoutTimeStamp - 2,
  );
  assert.equal(estimateCmsSize(longest), estimateCmsSize(longest, { unsignedAttributeBytes: 4096 }));
  assert.equal(TIME_STAMP_ATTRIBUTE_BYTES_DEFAULT, 4096);
  for (const tokenBytes of [10, 120, 300, 70000]) {
    const attribute = sequence(
      objectIdentifier('1.2.840.113549.1.9.16.2.14'),
      setOf([octetString(new Uint8Array(tokenBytes))]),
    );
    const actual = await buildCmsSignature({
      contentDigest: DIGEST,
      signer: longest,
      unsignedAttributes: [attribute],
    });
    assert.equal(estimateCmsSize(longest, { unsignedAttributeBytes: attribute.length }), actual.length);
  }
  assert.throws(() => estimateCmsSize(longest, { unsignedAttributeBytes: 1 }), /invariant/);
});

test('a signature of the wrong shape is refused, not embedded', async () => {
  for (const signature of [new Uint8Array(64), new Uint8Array(73).fill(0x30), fromHex('3003020101ff')]) {
    await assert.rejects(
      buildCmsSignature({ contentDigest: DIGEST, signer: fixedSigner(signature) }),
      (error) => isBubuhError(error) && error.code === 'PADES_SIGNATURE_INVALID',
    );
  }
  const rsaClaim: Signer = { ...fixedSigner(LONGEST_ECDSA_SIGNATURE), algorithm: 'RSA-PKCS1-SHA256' };
  await assert.rejects(
    buildCmsSignature({ contentDigest: DIGEST, signer: rsaClaim }),
    (error) => isBubuhError(error) && error.code === 'PADES_CERTIFICATE_INVALID',
  );
});

test('a certificate that is not DER is refused with PADES_CERTIFICATE_INVALID', () => {
  const broken = [
    new Uint8Array(0),
    fromHex('3003020101'),
    FIXTURE_CERTIFICATE.subarray(0, 200),
    fromHex('30020500'),
  ];
  for (const certificate of broken) {
    assert.throws(
      () => buildSignedAttributes({ contentDigest: DIGEST, signerCertificate: certificate }),
      (error) => isBubuhError(error) && error.code === 'PADES_CERTIFICATE_INVALID',
    );
  }
  const asn1 = asn1js.fromBER(FIXTURE_CERTIFICATE);
  assert.equal(asn1.offset, FIXTURE_CERTIFICATE.length, 'the fixture itself is well-formed');
});
