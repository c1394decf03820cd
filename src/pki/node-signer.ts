/**
 * The fast signer: a private key held in the process as a `node:crypto` KeyObject, created once, and
 * one synchronous OpenSSL signature per stamp. PKCS#11 keys will implement the same `Signer` interface.
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign, X509Certificate } from 'node:crypto';
import { BubuhError } from '../errors.js';
import type { SignatureAlgorithm, Signer } from '../pades/cms.js';

export interface NodeSignerInput {
  /** PKCS#8 PEM (or any PEM private key Node can read). */
  readonly privateKeyPem: string;
  /** The signer certificate, DER. */
  readonly certificate: Uint8Array;
  /** Issuing CA certificates, DER, nearest first; not the root. */
  readonly chain: readonly Uint8Array[];
}

function signatureAlgorithmOf(key: KeyObject): SignatureAlgorithm {
  if (key.asymmetricKeyType === 'rsa') {
    const modulusBits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (modulusBits < 2048) {
      throw new BubuhError('PADES_CERTIFICATE_INVALID', {
        problem: `RSA key of ${modulusBits} bits; 2048 or more needed`,
      });
    }
    return 'RSA-PKCS1-SHA256';
  }
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return 'ECDSA-P256-SHA256';
  }
  throw new BubuhError('PADES_CERTIFICATE_INVALID', {
    problem: `key type ${key.asymmetricKeyType ?? 'unknown'} is not ECDSA P-256 or RSA`,
  });
}

/** Refuses a key that does not belong to the certificate, which would make every signature invalid. */
function checkKeyMatchesCertificate(privateKey: KeyObject, certificate: Uint8Array): void {
  let certificateKey: KeyObject;
  try {
    certificateKey = new X509Certificate(certificate).publicKey;
  } catch (error) {
    throw new BubuhError(
      'PADES_CERTIFICATE_INVALID',
      { problem: 'the certificate is not valid DER' },
      { cause: error },
    );
  }
  const fromPrivate = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const fromCertificate = certificateKey.export({ type: 'spki', format: 'der' });
  if (!fromPrivate.equals(fromCertificate)) {
    throw new BubuhError('PADES_CERTIFICATE_INVALID', {
      problem: 'the private key does not match the certificate',
    });
  }
}

export function createNodeSigner(input: NodeSignerInput): Signer {
  const key = createPrivateKey({ key: input.privateKeyPem, format: 'pem' });
  const algorithm = signatureAlgorithmOf(key);
  checkKeyMatchesCertificate(key, input.certificate);
  const certificate = input.certificate;
  const chain = Object.freeze([...input.chain]);
  return Object.freeze({
    algorithm,
    certificate,
    chain,
    // node:crypto signs synchronously; the Promise keeps the interface open for HSMs and remote keys.
    sign: async (data: Uint8Array): Promise<Uint8Array> => {
      const signature = sign('sha256', data, { key, dsaEncoding: 'der' });
      return new Uint8Array(signature.buffer, signature.byteOffset, signature.length);
    },
  });
}
