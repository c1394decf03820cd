/**
 * The files key store: one PKCS#8 PEM file per key, `<directory>/<label>.key`, mode 0600 in a 0700
 * directory. The development hierarchy's signer is the key `signer` of `<dataDirectory>/pki/`. Signing
 * is the fast in-process signer (node:crypto, one synchronous OpenSSL call). A key file that group or
 * others can read is refused (KEY_FILE_PERMISSIONS) before it is used.
 */
import { generateKeyPair, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BubuhError } from '../errors.js';
import type { Signer } from '../pades/cms.js';
import type { SignerKeyAlgorithm } from './dev-pki.js';
import { fileExists, readPrivateKeyFile, writeFileAtomically } from './key-files.js';
import { checkKeyLabel, type KeyStore } from './keystore.js';
import { createNodeSigner } from './node-signer.js';

const generateKeyPairAsync = promisify(generateKeyPair);
const KEY_FILE_MODE = 0o600;
const DIRECTORY_MODE = 0o700;

function spkiOf(key: KeyObject): Uint8Array {
  const der = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return new Uint8Array(der.buffer, der.byteOffset, der.length);
}

async function generatePkcs8(algorithm: SignerKeyAlgorithm): Promise<{ pem: string; spki: Uint8Array }> {
  const { privateKey } =
    algorithm === 'ECDSA-P256'
      ? await generateKeyPairAsync('ec', { namedCurve: 'prime256v1' })
      : await generateKeyPairAsync('rsa', {
          modulusLength: algorithm === 'RSA-2048' ? 2048 : 3072,
          publicExponent: 0x10001,
        });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { pem, spki: spkiOf(privateKey) };
}

export function createFilesKeyStore(directory: string): KeyStore {
  const pathOf = (label: string): string => {
    checkKeyLabel(label);
    return join(directory, `${label}.key`);
  };
  const readKey = async (label: string): Promise<string> => {
    const path = pathOf(label);
    try {
      return await readPrivateKeyFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new BubuhError('KEYSTORE_KEY_NOT_FOUND', { store: 'files', label });
      }
      throw error;
    }
  };
  return Object.freeze({
    kind: 'files' as const,
    async generateKey(label: string, algorithm: SignerKeyAlgorithm): Promise<Uint8Array> {
      const path = pathOf(label);
      // Not guarded against two processes generating one label at the same instant; a node owns its store.
      if (await fileExists(path)) throw new BubuhError('KEYSTORE_KEY_EXISTS', { store: 'files', label });
      const { pem, spki } = await generatePkcs8(algorithm);
      await mkdir(directory, { recursive: true, mode: DIRECTORY_MODE });
      await writeFileAtomically(path, pem, KEY_FILE_MODE);
      return spki;
    },
    hasKey: (label: string): Promise<boolean> => fileExists(pathOf(label)),
    async publicKey(label: string): Promise<Uint8Array> {
      return spkiOf(createPrivateKey({ key: await readKey(label), format: 'pem' }));
    },
    async signer(label: string, certificate: Uint8Array, chain: readonly Uint8Array[]): Promise<Signer> {
      return createNodeSigner({ privateKeyPem: await readKey(label), certificate, chain });
    },
    async deleteKey(label: string): Promise<boolean> {
      try {
        await unlink(pathOf(label));
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      }
    },
    close: async (): Promise<void> => {},
  });
}
