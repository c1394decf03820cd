/**
 * The node's signer through the configured key store (BUBUH_KEYSTORE).
 *
 * - `files` (default): the development hierarchy's own `signer.key`, exactly as before key stores.
 * - `pkcs11`: a key in an HSM token. On first start the key is generated inside the token (sensitive,
 *   never extractable) and its certificate is issued by the issuing CA — in development mode the
 *   development issuing CA — and saved as `<data>/pki/pkcs11-<label>.pem`. Later starts reuse that
 *   certificate while it belongs to the token's key, was issued by the current issuing CA and is not
 *   within a day of its end; otherwise a fresh one is issued for the same key. Only the certificate
 *   is written to disk, never the key.
 */
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import type { Config } from '../config.js';
import { BubuhError } from '../errors.js';
import type { Signer } from '../pades/cms.js';
import { certifySignerPublicKey, type DevPki } from './dev-pki.js';
import {
  archiveIssuedCertificate,
  configuredPkiPaths,
  fileExists,
  pkiDirectory,
  readBoundedText,
  SIGNER_RENEWAL_MARGIN_MS,
  writeFileAtomically,
} from './key-files.js';
import { certificatePublicKey, type KeyStore } from './keystore.js';
import { createFilesKeyStore } from './keystore-files.js';

/** The label of the development hierarchy's signer key in the files store (`pki/signer.key`). */
export const FILES_SIGNER_LABEL = 'signer';
const CERTIFICATE_FILE_MODE = 0o644;

export interface ConfiguredSigner {
  readonly signer: Signer;
  /** The store the key lives in; close it when the node stops. */
  readonly keyStore: KeyStore;
  /** pkcs11: true when the key was generated in the token by this call. */
  readonly keyGenerated: boolean;
  /** pkcs11: true when a new certificate was issued for the token key by this call. */
  readonly certificateIssued: boolean;
}

export function pkcs11CertificatePath(dataDirectory: string, keyLabel: string): string {
  return join(pkiDirectory(dataDirectory), `pkcs11-${keyLabel}.pem`);
}

function required(value: string | undefined, variable: string): string {
  if (value === undefined || value === '') {
    throw new BubuhError('CONFIG_INVALID', { variable, problem: 'required with BUBUH_KEYSTORE=pkcs11' });
  }
  return value;
}

/** The saved certificate when it can still be used for `spki`; null when a new one is needed. */
async function usableCertificate(
  path: string,
  spki: Uint8Array,
  issuingCa: DevPki['issuingCa'],
  now: Date,
): Promise<Uint8Array | null> {
  if (!(await fileExists(path))) return null;
  let certificate: x509.X509Certificate;
  try {
    certificate = new x509.X509Certificate(await readBoundedText(path));
  } catch {
    return null; // unreadable: replaced by a fresh one
  }
  const der = new Uint8Array(certificate.rawData);
  if (!Buffer.from(certificatePublicKey(der)).equals(Buffer.from(spki))) return null;
  const ca = new X509Certificate(issuingCa.certificate);
  if (!new X509Certificate(der).checkIssued(ca) || !new X509Certificate(der).verify(ca.publicKey))
    return null;
  if (certificate.notAfter.getTime() - now.getTime() < SIGNER_RENEWAL_MARGIN_MS) return null;
  return der;
}

export async function createConfiguredSigner(
  config: Config,
  pki: DevPki,
  options: { readonly now?: Date } = {},
): Promise<ConfiguredSigner> {
  const chain = [pki.issuingCa.certificate];
  if (config.keyStore === 'files') {
    const keyStore = createFilesKeyStore(pkiDirectory(config.dataDir));
    const signer = await keyStore.signer(FILES_SIGNER_LABEL, pki.signer.certificate, chain);
    return { signer, keyStore, keyGenerated: false, certificateIssued: false };
  }
  const modulePath = required(config.pkcs11Module, 'BUBUH_PKCS11_MODULE');
  const tokenLabel = required(config.pkcs11TokenLabel, 'BUBUH_PKCS11_TOKEN_LABEL');
  const pin = required(config.pkcs11Pin, 'BUBUH_PKCS11_PIN');
  const label = config.pkcs11KeyLabel;
  // Loaded only when configured: the files store never loads the native PKCS#11 binding.
  const { openPkcs11KeyStore } = await import('./keystore-pkcs11.js');
  const keyStore = await openPkcs11KeyStore({ modulePath, tokenLabel, pin });
  try {
    let keyGenerated = false;
    let spki: Uint8Array;
    if (await keyStore.hasKey(label)) {
      spki = await keyStore.publicKey(label);
    } else {
      spki = await keyStore.generateKey(label, 'ECDSA-P256');
      keyGenerated = true;
    }
    const now = options.now ?? new Date();
    const path = pkcs11CertificatePath(config.dataDir, label);
    let certificate = await usableCertificate(path, spki, pki.issuingCa, now);
    const certificateIssued = certificate === null;
    if (certificate === null) {
      const issued = await certifySignerPublicKey(pki.issuingCa, spki, {
        now,
        validityDays: config.signerValidityDays,
      });
      // Archived like every certificate the issuing CA issues, so it can be revoked by serial.
      await archiveIssuedCertificate(configuredPkiPaths(config), issued);
      await writeFileAtomically(path, issued.certificatePem, CERTIFICATE_FILE_MODE);
      certificate = issued.certificate;
    }
    const signer = await keyStore.signer(label, certificate, chain);
    return { signer, keyStore, keyGenerated, certificateIssued };
  } catch (error) {
    await keyStore.close();
    throw error;
  }
}
