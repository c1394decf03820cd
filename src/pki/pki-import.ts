/**
 * `bubuh pki import`: installs an externally made production hierarchy into the shared PKI directory —
 * the root certificate (never its key: production keeps the root offline), the issuing CA's certificate
 * and key, and optionally the TSA's certificate and key (otherwise the imported CA issues one, as in
 * development). Everything is checked before anything is written: the root is a valid self-signed CA,
 * the issuing CA is a CA signed by that root, each key belongs to its certificate, every certificate is
 * valid now, and every key is of an algorithm the node can use. Nodes then issue their own short-lived
 * signer certificates from the imported CA on start, exactly as in development.
 */
import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { BubuhError } from '../errors.js';
import { type CertifiedKey, issueTsaCertificate } from './dev-pki.js';
import {
  archiveIssuedCertificate,
  fileExists,
  issuedBy,
  type PkiLocation,
  pkiPaths,
  readBoundedText,
  writeFileAtomically,
} from './key-files.js';

export interface PkiImportFiles {
  /** The root certificate, PEM or DER. */
  readonly root: string;
  /** The issuing CA certificate, PEM or DER. */
  readonly ca: string;
  /** The issuing CA's private key, PEM (PKCS#8, or any PEM private key Node reads). */
  readonly caKey: string;
  /** The TSA certificate and key; both or neither. */
  readonly tsa?: string | undefined;
  readonly tsaKey?: string | undefined;
}

export interface ImportedPki {
  readonly root: { readonly certificatePem: string; readonly certificate: Uint8Array };
  readonly issuingCa: CertifiedKey;
  readonly tsa: CertifiedKey;
  /** True when the TSA certificate was issued here from the imported CA (no --tsa given). */
  readonly tsaIssued: boolean;
}

const KEY_FILE_MODE = 0o600;
const CERTIFICATE_FILE_MODE = 0o644;
const LOCK_FILE_NAME = '.init.lock';
const TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

interface LoadedCertificate {
  readonly der: Uint8Array;
  readonly pem: string;
  readonly parsed: x509.X509Certificate;
  readonly node: X509Certificate;
}

async function readCertificate(path: string, role: string): Promise<LoadedCertificate> {
  let text: string;
  try {
    text = await readBoundedText(path);
  } catch (error) {
    if (error instanceof BubuhError) throw error;
    throw new BubuhError(
      'PKI_IMPORT_FILE_INVALID',
      { path, role, problem: (error as Error).message },
      { cause: error },
    );
  }
  try {
    const der = text.includes('-----BEGIN')
      ? new Uint8Array(x509.PemConverter.decodeFirst(text))
      : new Uint8Array(Buffer.from(text, 'latin1'));
    const parsed = new x509.X509Certificate(der);
    return { der, pem: parsed.toString('pem'), parsed, node: new X509Certificate(der) };
  } catch (error) {
    throw new BubuhError(
      'PKI_IMPORT_FILE_INVALID',
      { path, role, problem: 'not an X.509 certificate (PEM or DER)' },
      { cause: error },
    );
  }
}

async function readPrivateKey(path: string, role: string): Promise<{ key: KeyObject; pem: string }> {
  let text: string;
  try {
    text = await readBoundedText(path);
  } catch (error) {
    if (error instanceof BubuhError) throw error;
    throw new BubuhError(
      'PKI_IMPORT_FILE_INVALID',
      { path, role, problem: (error as Error).message },
      { cause: error },
    );
  }
  try {
    const key = createPrivateKey({ key: text, format: 'pem' });
    // Saved as PKCS#8 whatever the input's PEM flavour (SEC1 "EC PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY").
    const pem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
    return { key, pem };
  } catch (error) {
    throw new BubuhError(
      'PKI_IMPORT_FILE_INVALID',
      { path, role, problem: 'not a readable, unencrypted PEM private key' },
      { cause: error },
    );
  }
}

function checkValidNow(certificate: LoadedCertificate, role: string, now: Date): void {
  const { notBefore, notAfter } = certificate.parsed;
  if (now.getTime() < notBefore.getTime() || now.getTime() > notAfter.getTime()) {
    throw new BubuhError('PKI_IMPORT_NOT_VALID_NOW', {
      role,
      subject: certificate.parsed.subject,
      now: now.toISOString(),
      notBefore: notBefore.toISOString(),
      notAfter: notAfter.toISOString(),
    });
  }
}

/** The reason a certificate cannot issue certificates, or null when it can. */
function notACaProblem(certificate: LoadedCertificate): string | null {
  const constraints = certificate.parsed.getExtension(x509.BasicConstraintsExtension);
  if (constraints === null) return 'no basicConstraints extension';
  if (!constraints.ca) return 'basicConstraints cA is false';
  const usages = certificate.parsed.getExtension(x509.KeyUsagesExtension);
  if (usages !== null && (usages.usages & x509.KeyUsageFlags.keyCertSign) === 0)
    return 'keyUsage lacks keyCertSign';
  return null;
}

function checkIsCa(certificate: LoadedCertificate, role: string): void {
  const problem = notACaProblem(certificate);
  if (problem !== null)
    throw new BubuhError('PKI_IMPORT_NOT_A_CA', { role, subject: certificate.parsed.subject, problem });
}

function checkKeyMatches(key: KeyObject, certificate: LoadedCertificate, role: string, path: string): void {
  const fromKey = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const fromCertificate = certificate.node.publicKey.export({ type: 'spki', format: 'der' });
  if (!fromKey.equals(fromCertificate))
    throw new BubuhError('PKI_IMPORT_KEY_MISMATCH', { path, role, subject: certificate.parsed.subject });
}

function keyDescription(key: KeyObject): string {
  if (key.asymmetricKeyType === 'ec') return `EC ${key.asymmetricKeyDetails?.namedCurve ?? 'unknown curve'}`;
  if (key.asymmetricKeyType === 'rsa') return `RSA ${key.asymmetricKeyDetails?.modulusLength ?? '?'} bits`;
  return key.asymmetricKeyType ?? 'unknown';
}

function isP256(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

function checkKeyAlgorithm(key: KeyObject, certificate: LoadedCertificate, role: 'issuing CA' | 'TSA'): void {
  // The issuing CA signs signer certificates and CRLs with ECDSA P-256/SHA-256; the TSA signs tokens
  // through the same signer as stamps, which takes P-256 or RSA of 2048 bits or more.
  const supported =
    isP256(key) ||
    (role === 'TSA' &&
      key.asymmetricKeyType === 'rsa' &&
      (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048);
  if (!supported) {
    throw new BubuhError('PKI_IMPORT_KEY_UNSUPPORTED', {
      role,
      subject: certificate.parsed.subject,
      problem: `the key is ${keyDescription(key)}`,
    });
  }
}

function checkRoot(root: LoadedCertificate, now: Date): void {
  const subject = root.parsed.subject;
  if (!root.node.checkIssued(root.node) || !root.node.verify(root.node.publicKey))
    throw new BubuhError('PKI_IMPORT_ROOT_INVALID', { subject, problem: 'it is not self-signed' });
  checkIsCa(root, 'root');
  checkValidNow(root, 'root', now);
}

function checkTsa(tsa: LoadedCertificate, ca: LoadedCertificate, now: Date): void {
  const subject = tsa.parsed.subject;
  if (!issuedBy(tsa.der, ca.der))
    throw new BubuhError('PKI_IMPORT_TSA_INVALID', {
      subject,
      problem: `it is not signed by the issuing CA ${ca.parsed.subject}`,
    });
  // RFC 3161 §2.3: exactly id-kp-timeStamping, critical.
  const usages = tsa.parsed.getExtension(x509.ExtendedKeyUsageExtension);
  if (
    usages === null ||
    !usages.critical ||
    usages.usages.length !== 1 ||
    String(usages.usages[0]) !== TIME_STAMPING
  ) {
    throw new BubuhError('PKI_IMPORT_TSA_INVALID', {
      subject,
      problem: 'its extended key usage must be exactly id-kp-timeStamping, marked critical (RFC 3161 §2.3)',
    });
  }
  checkValidNow(tsa, 'TSA', now);
}

/**
 * Reads and checks the files of a production hierarchy; writes nothing. The TSA, when none is given,
 * is issued from the imported CA (in memory only).
 */
export async function checkPkiImport(files: PkiImportFiles, now: Date = new Date()): Promise<ImportedPki> {
  if ((files.tsa === undefined) !== (files.tsaKey === undefined)) {
    throw new BubuhError('REQUEST_INVALID', {
      problem: 'give the TSA certificate and its key together (--tsa FILE --tsa-key FILE), or neither',
    });
  }
  const root = await readCertificate(files.root, 'root');
  const ca = await readCertificate(files.ca, 'issuing CA');
  const caKey = await readPrivateKey(files.caKey, 'issuing CA key');
  checkRoot(root, now);
  if (!issuedBy(ca.der, root.der)) {
    throw new BubuhError('PKI_IMPORT_CA_NOT_SIGNED_BY_ROOT', {
      subject: ca.parsed.subject,
      root: root.parsed.subject,
    });
  }
  checkIsCa(ca, 'issuing CA');
  checkValidNow(ca, 'issuing CA', now);
  checkKeyAlgorithm(caKey.key, ca, 'issuing CA');
  checkKeyMatches(caKey.key, ca, 'issuing CA', files.caKey);
  const issuingCa: CertifiedKey = { certificatePem: ca.pem, certificate: ca.der, privateKeyPem: caKey.pem };
  let tsa: CertifiedKey;
  let tsaIssued = false;
  if (files.tsa !== undefined && files.tsaKey !== undefined) {
    const certificate = await readCertificate(files.tsa, 'TSA');
    const key = await readPrivateKey(files.tsaKey, 'TSA key');
    checkTsa(certificate, ca, now);
    checkKeyAlgorithm(key.key, certificate, 'TSA');
    checkKeyMatches(key.key, certificate, 'TSA', files.tsaKey);
    tsa = { certificatePem: certificate.pem, certificate: certificate.der, privateKeyPem: key.pem };
  } else {
    tsa = await issueTsaCertificate(issuingCa, { now });
    tsaIssued = true;
  }
  return { root: { certificatePem: root.pem, certificate: root.der }, issuingCa, tsa, tsaIssued };
}

/**
 * Checks the files, then installs them into the shared PKI directory: `ca.pem` + `ca.key`, `tsa.pem` +
 * `tsa.key`, and `root.pem` last (its presence is what says a hierarchy is complete). Refuses, before
 * writing anything, when the directory already holds a hierarchy. A refusal leaves the directory as it
 * was; a write that fails part-way removes what it wrote.
 */
export async function importPki(
  location: PkiLocation,
  files: PkiImportFiles,
  options: { readonly now?: Date } = {},
): Promise<ImportedPki> {
  const paths = pkiPaths(location);
  const rootPath = join(paths.shared, 'root.pem');
  if (await fileExists(rootPath)) throw new BubuhError('PKI_IMPORT_EXISTS', { path: paths.shared });
  const imported = await checkPkiImport(files, options.now ?? new Date());
  await mkdir(paths.shared, { recursive: true, mode: 0o700 });
  const lockPath = join(paths.shared, LOCK_FILE_NAME);
  let lock;
  try {
    // The same lock a development node takes to generate a hierarchy: never two installs at once.
    lock = await open(lockPath, 'wx', KEY_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    throw new BubuhError('PKI_IMPORT_EXISTS', { path: paths.shared });
  }
  const written: string[] = [];
  const put = async (name: string, text: string, mode: number) => {
    const path = join(paths.shared, name);
    await writeFileAtomically(path, text, mode);
    written.push(path);
  };
  try {
    if (await fileExists(rootPath)) throw new BubuhError('PKI_IMPORT_EXISTS', { path: paths.shared });
    await put('ca.key', imported.issuingCa.privateKeyPem, KEY_FILE_MODE);
    await put('ca.pem', imported.issuingCa.certificatePem, CERTIFICATE_FILE_MODE);
    await put('tsa.key', imported.tsa.privateKeyPem, KEY_FILE_MODE);
    await put('tsa.pem', imported.tsa.certificatePem, CERTIFICATE_FILE_MODE);
    await archiveIssuedCertificate(paths, imported.tsa);
    await put('root.pem', imported.root.certificatePem, CERTIFICATE_FILE_MODE);
  } catch (error) {
    // Without root.pem the directory holds no hierarchy: what was written is removed again.
    for (const path of written) await unlink(path).catch(() => {});
    throw error;
  } finally {
    await lock.close();
    await unlink(lockPath).catch(() => {});
  }
  return imported;
}
