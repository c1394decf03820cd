/**
 * Benchmark (a script, not a test): building one CMS SignedData with the hand DER encoder against
 * building the same structure through pkijs object graphs, and the Node signer's cost per signature.
 *
 *   npx tsc -p tsconfig.json --outDir .build-pades && node .build-pades/src/pades/cms.bench.js
 */
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { generateDevPki, type SignerKeyAlgorithm } from '../pki/dev-pki.js';
import { createNodeSigner } from '../pki/node-signer.js';
import { formatMicroseconds, medianMicroseconds } from './bench-timing.js';
import { buildCmsSignature, buildSignedAttributes, type Signer } from './cms.js';

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  sha256: '2.16.840.1.101.3.4.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
};

/** The same SignedData built the pkijs way, certificates parsed once beforehand as a service would. */
function pkijsBuilder(signerCertificate: Uint8Array, chain: readonly Uint8Array[]) {
  const certificates = [signerCertificate, ...chain].map((der) => pkijs.Certificate.fromBER(der));
  const signerParsed = certificates[0]!;
  const certificateHash = createHash('sha256').update(signerCertificate).digest();
  return (contentDigest: Uint8Array, sign: (data: Uint8Array) => Uint8Array): Uint8Array => {
    const issuerSerial = new asn1js.Sequence({
      value: [
        new asn1js.Sequence({
          value: [
            new asn1js.Constructed({
              idBlock: { tagClass: 3, tagNumber: 4 },
              value: [signerParsed.issuer.toSchema()],
            }),
          ],
        }),
        new asn1js.Integer({ valueHex: signerParsed.serialNumber.valueBlock.valueHexView }),
      ],
    });
    const essCertId = new asn1js.Sequence({
      value: [new asn1js.OctetString({ valueHex: certificateHash }), issuerSerial],
    });
    const attributes = [
      new pkijs.Attribute({
        type: OID.contentType,
        values: [new asn1js.ObjectIdentifier({ value: OID.data })],
      }),
      new pkijs.Attribute({
        type: OID.messageDigest,
        values: [new asn1js.OctetString({ valueHex: contentDigest })],
      }),
      new pkijs.Attribute({
        type: OID.signingCertificateV2,
        values: [new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [essCertId] })] })],
      }),
    ];
    const signedAttrs = new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes });
    const toSign = new Uint8Array(signedAttrs.toSchema().toBER());
    toSign[0] = 0x31;
    const signerInfo = new pkijs.SignerInfo({
      version: 1,
      sid: new pkijs.IssuerAndSerialNumber({
        issuer: signerParsed.issuer,
        serialNumber: signerParsed.serialNumber,
      }),
      digestAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OID.sha256 }),
      signedAttrs,
      signatureAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OID.ecdsaWithSha256 }),
      signature: new asn1js.OctetString({ valueHex: sign(toSign) }),
    });
    const signedData = new pkijs.SignedData({
      version: 1,
      digestAlgorithms: [new pkijs.AlgorithmIdentifier({ algorithmId: OID.sha256 })],
      encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID.data }),
      certificates,
      signerInfos: [signerInfo],
    });
    const contentInfo = new pkijs.ContentInfo({
      contentType: OID.signedData,
      content: signedData.toSchema(true),
    });
    return new Uint8Array(contentInfo.toSchema().toBER());
  };
}

async function nodeSignerFor(keyAlgorithm: SignerKeyAlgorithm): Promise<Signer> {
  const pki = await generateDevPki({ keyAlgorithm });
  return createNodeSigner({
    privateKeyPem: pki.signer.privateKeyPem,
    certificate: pki.signer.certificate,
    chain: [pki.issuingCa.certificate],
  });
}

async function main(): Promise<void> {
  const runs = 5000;
  const digest = new Uint8Array(createHash('sha256').update('bench').digest());
  const ecdsa = await nodeSignerFor('ECDSA-P256');
  const fixedSignature = await ecdsa.sign(digest);
  const constantSigner: Signer = { ...ecdsa, sign: async () => fixedSignature };
  const buildWithPkijs = pkijsBuilder(ecdsa.certificate, ecdsa.chain);
  const handBytes = await buildCmsSignature({ contentDigest: digest, signer: constantSigner });
  const pkijsBytes = buildWithPkijs(digest, () => fixedSignature);
  const rows: Array<[string, number]> = [];
  const measure = async (name: string, work: () => unknown) => {
    rows.push([name, (await medianMicroseconds(work, runs)).medianMicroseconds]);
  };
  await measure('build SignedData, hand DER (constant signature)', () =>
    buildCmsSignature({ contentDigest: digest, signer: constantSigner }),
  );
  await measure('build SignedData, pkijs (constant signature)', () =>
    buildWithPkijs(digest, () => fixedSignature),
  );
  await measure('signed attributes only, hand DER', () =>
    buildSignedAttributes({ contentDigest: digest, signerCertificate: ecdsa.certificate }),
  );
  for (const keyAlgorithm of ['ECDSA-P256', 'RSA-2048', 'RSA-3072'] as const) {
    const signer = keyAlgorithm === 'ECDSA-P256' ? ecdsa : await nodeSignerFor(keyAlgorithm);
    const attributes = buildSignedAttributes({
      contentDigest: digest,
      signerCertificate: signer.certificate,
    });
    await measure(`node signer sign(), ${keyAlgorithm}`, () => signer.sign(attributes));
    await measure(`buildCmsSignature with node signer, ${keyAlgorithm}`, () =>
      buildCmsSignature({ contentDigest: digest, signer }),
    );
  }
  console.log(
    `hand DER ${handBytes.length} bytes, pkijs ${pkijsBytes.length} bytes, identical: ${Buffer.from(handBytes).equals(Buffer.from(pkijsBytes))}`,
  );
  console.log('| case | median µs |\n|---|---|');
  for (const [name, value] of rows) console.log(`| ${name} | ${formatMicroseconds(value)} |`);
  console.log(JSON.stringify({ bench: 'pades-cms', runs, medianMicroseconds: Object.fromEntries(rows) }));
}

await main();
