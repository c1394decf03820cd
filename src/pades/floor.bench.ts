/**
 * The floor of one stamp (a script, not a test): one SHA-256 pass over the whole file plus one
 * signature, for every `expect: stamp` corpus file. No stamping pipeline can be faster than this.
 *
 *   npx tsc -p tsconfig.json --outDir .build-pades && node .build-pades/src/pades/floor.bench.js
 */
import { createHash } from 'node:crypto';
import { generateDevPki, type SignerKeyAlgorithm } from '../pki/dev-pki.js';
import { createNodeSigner } from '../pki/node-signer.js';
import { corpusDirectory, corpusSkipReason, loadCorpus, readCorpusFile } from '../testing/corpus.js';
import { formatMicroseconds, medianMicroseconds } from './bench-timing.js';
import { buildSignedAttributes, type Signer } from './cms.js';

/** Fewer runs for large files keep the whole script near a minute on a 2-core machine. */
function runsFor(bytes: number): number {
  if (bytes > 4_000_000) return 15;
  if (bytes > 400_000) return 60;
  return 300;
}

async function signerFor(keyAlgorithm: SignerKeyAlgorithm): Promise<Signer> {
  const pki = await generateDevPki({ keyAlgorithm });
  return createNodeSigner({
    privateKeyPem: pki.signer.privateKeyPem,
    certificate: pki.signer.certificate,
    chain: [pki.issuingCa.certificate],
  });
}

/** Hash the file, then sign the signed attributes over that digest: the two costs no stamp avoids. */
async function floorOnce(bytes: Uint8Array, signer: Signer): Promise<void> {
  const contentDigest = new Uint8Array(createHash('sha256').update(bytes).digest());
  await signer.sign(buildSignedAttributes({ contentDigest, signerCertificate: signer.certificate }));
}

async function main(): Promise<void> {
  const directory = corpusDirectory();
  if (directory === null) {
    console.log(corpusSkipReason);
    return;
  }
  const signers = { 'ECDSA-P256': await signerFor('ECDSA-P256'), 'RSA-2048': await signerFor('RSA-2048') };
  const results: Array<{ file: string; bytes: number; ecdsaMicroseconds: number; rsaMicroseconds: number }> =
    [];
  console.log('| file | bytes | P-256 median µs | RSA-2048 median µs |\n|---|---:|---:|---:|');
  for (const entry of loadCorpus(directory).filter((item) => item.expect === 'stamp')) {
    const bytes = readCorpusFile(directory, entry.file);
    const runs = runsFor(bytes.length);
    const ecdsa = await medianMicroseconds(() => floorOnce(bytes, signers['ECDSA-P256']), runs, 5);
    const rsa = await medianMicroseconds(() => floorOnce(bytes, signers['RSA-2048']), runs, 5);
    results.push({
      file: entry.file,
      bytes: bytes.length,
      ecdsaMicroseconds: ecdsa.medianMicroseconds,
      rsaMicroseconds: rsa.medianMicroseconds,
    });
    console.log(
      `| ${entry.file} | ${bytes.length} | ${formatMicroseconds(ecdsa.medianMicroseconds)} | ${formatMicroseconds(rsa.medianMicroseconds)} |`,
    );
  }
  console.log(JSON.stringify({ bench: 'pades-floor', files: results }));
}

await main();
