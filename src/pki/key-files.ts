/**
 * The development PKI on disk, in `<dataDirectory>/pki/`: `root.pem`, `ca.pem`, `signer.pem`, `tsa.pem`
 * and the PKCS#8 keys `root.key`, `ca.key`, `signer.key`, `tsa.key` (mode 0600). It is generated once per data directory
 * and reused; the short-lived signer certificate is renewed from the issuing CA when it nears expiry.
 * Every certificate the issuing CA issues is also kept in `issued/<serial>.pem`, so an old signer
 * certificate can still be revoked after rotation; the CA's CRL is `crl.der`.
 */
import { chmod, mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { BubuhError } from '../errors.js';
import { certificateSerialOf } from './crl.js';
import {
  type CertifiedKey,
  type DevPki,
  generateDevPki,
  issueSignerCertificate,
  issueTsaCertificate,
  type SignerCertificateOptions,
  type SignerKeyAlgorithm,
  signatureAlgorithmFor,
} from './dev-pki.js';

export const PKI_DIRECTORY_NAME = 'pki';
const KEY_FILE_MODE = 0o600;
const CERTIFICATE_FILE_MODE = 0o644;
/** PEM files above this size are refused: a certificate or key is a few kilobytes. */
export const PKI_FILE_BYTES_MAX = 64 * 1024;
/** A signer certificate this close to its end is replaced on start, so no stamp is made with a dying one. */
export const SIGNER_RENEWAL_MARGIN_MS = 24 * 60 * 60 * 1000;

const FILES = {
  root: { certificate: 'root.pem', key: 'root.key' },
  issuingCa: { certificate: 'ca.pem', key: 'ca.key' },
  signer: { certificate: 'signer.pem', key: 'signer.key' },
  tsa: { certificate: 'tsa.pem', key: 'tsa.key' },
} as const;

export function pkiDirectory(dataDirectory: string): string {
  return join(dataDirectory, PKI_DIRECTORY_NAME);
}

export async function readBoundedText(path: string): Promise<string> {
  const info = await stat(path);
  if (info.size > PKI_FILE_BYTES_MAX) {
    throw new BubuhError('KEY_FILE_INVALID', { path, problem: `larger than ${PKI_FILE_BYTES_MAX} bytes` });
  }
  return readFile(path, 'utf8');
}

/**
 * Reads a private key file, refusing one that group or others can access: a signing key readable by
 * other accounts is as good as published. (Windows has no such mode bits, so the check is POSIX only.)
 */
export async function readPrivateKeyFile(path: string): Promise<string> {
  const info = await stat(path);
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
    throw new BubuhError('KEY_FILE_PERMISSIONS', {
      path,
      mode: (info.mode & 0o777).toString(8).padStart(4, '0'),
    });
  }
  return readBoundedText(path);
}

/** Writes through a temporary file and a rename, so a crash never leaves half a key behind. */
export async function writeFileAtomically(path: string, text: string, mode: number): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode, flag: 'w' });
  await chmod(temporary, mode);
  await rename(temporary, path);
}

/** Where every certificate the issuing CA issued is kept, named by its serial. */
export const ISSUED_DIRECTORY_NAME = 'issued';
export const CRL_FILE_NAME = 'crl.der';
/** A CRL above this size is refused when read back; thousands of entries fit. */
export const CRL_FILE_BYTES_MAX = 4 * 1024 * 1024;

/** Keeps a copy of a certificate the issuing CA issued (signer or TSA) as `issued/<serial>.pem`. */
export async function archiveIssuedCertificate(
  dataDirectory: string,
  value: Pick<CertifiedKey, 'certificate' | 'certificatePem'>,
): Promise<void> {
  const directory = join(pkiDirectory(dataDirectory), ISSUED_DIRECTORY_NAME);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const path = join(directory, `${certificateSerialOf(value.certificate)}.pem`);
  if (!(await fileExists(path))) await writeFileAtomically(path, value.certificatePem, CERTIFICATE_FILE_MODE);
}

/** Every certificate the issuing CA issued here (archived, plus the current signer and TSA), by serial. */
export async function issuedCertificates(dataDirectory: string): Promise<Map<string, Uint8Array>> {
  const found = new Map<string, Uint8Array>();
  const directory = join(pkiDirectory(dataDirectory), ISSUED_DIRECTORY_NAME);
  const names = await readdir(directory).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  for (const name of names.filter((entry) => /^[0-9a-f]{1,40}\.pem$/.test(entry)).sort()) {
    const path = join(directory, name);
    try {
      const der = new Uint8Array(x509.PemConverter.decodeFirst(await readBoundedText(path)));
      found.set(certificateSerialOf(der), der);
    } catch (error) {
      throw new BubuhError('KEY_FILE_INVALID', { path, problem: 'not a PEM certificate' }, { cause: error });
    }
  }
  const pki = await loadDevPki(dataDirectory);
  for (const current of pki === null ? [] : [pki.signer, pki.tsa]) {
    found.set(certificateSerialOf(current.certificate), current.certificate);
  }
  return found;
}

/** The saved CRL, or null when there is none yet. */
export async function readCrlFile(dataDirectory: string): Promise<Uint8Array | null> {
  const path = join(pkiDirectory(dataDirectory), CRL_FILE_NAME);
  try {
    const info = await stat(path);
    if (info.size > CRL_FILE_BYTES_MAX) return null;
    return new Uint8Array(await readFile(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export async function writeCrlFile(dataDirectory: string, der: Uint8Array): Promise<void> {
  const path = join(pkiDirectory(dataDirectory), CRL_FILE_NAME);
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temporary, der, { mode: CERTIFICATE_FILE_MODE });
  await rename(temporary, path);
}

async function saveCertifiedKey(
  directory: string,
  names: { certificate: string; key: string },
  value: CertifiedKey,
) {
  await writeFileAtomically(join(directory, names.key), value.privateKeyPem, KEY_FILE_MODE);
  await writeFileAtomically(join(directory, names.certificate), value.certificatePem, CERTIFICATE_FILE_MODE);
}

async function loadCertifiedKey(
  directory: string,
  names: { certificate: string; key: string },
): Promise<CertifiedKey> {
  const certificatePath = join(directory, names.certificate);
  const certificatePem = await readBoundedText(certificatePath);
  let certificate: Uint8Array;
  try {
    certificate = new Uint8Array(x509.PemConverter.decodeFirst(certificatePem));
    new x509.X509Certificate(certificate);
  } catch (error) {
    throw new BubuhError(
      'KEY_FILE_INVALID',
      { path: certificatePath, problem: 'not a PEM certificate' },
      { cause: error },
    );
  }
  return { certificatePem, certificate, privateKeyPem: await readPrivateKeyFile(join(directory, names.key)) };
}

/** Saves a hierarchy into `<dataDirectory>/pki/` (directory 0700, keys 0600). */
export async function saveDevPki(dataDirectory: string, pki: DevPki): Promise<void> {
  const directory = pkiDirectory(dataDirectory);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  await saveCertifiedKey(directory, FILES.root, pki.root);
  await saveCertifiedKey(directory, FILES.issuingCa, pki.issuingCa);
  await saveCertifiedKey(directory, FILES.signer, pki.signer);
  await saveCertifiedKey(directory, FILES.tsa, pki.tsa);
  await archiveIssuedCertificate(dataDirectory, pki.signer);
  await archiveIssuedCertificate(dataDirectory, pki.tsa);
}

export async function fileExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
}

/** The key algorithm of a signer certificate, as the generator names it. */
export function signerKeyAlgorithmOf(certificate: Uint8Array): SignerKeyAlgorithm {
  const algorithm = new x509.X509Certificate(certificate).publicKey.algorithm as {
    name: string;
    modulusLength?: number;
  };
  if (algorithm.name === 'ECDSA') return 'ECDSA-P256';
  return algorithm.modulusLength === 3072 ? 'RSA-3072' : 'RSA-2048';
}

/** Loads a saved hierarchy; null when the directory holds none yet (no `root.pem`). */
export async function loadDevPki(dataDirectory: string): Promise<DevPki | null> {
  const directory = pkiDirectory(dataDirectory);
  if (!(await fileExists(join(directory, FILES.root.certificate)))) return null;
  const signer = await loadCertifiedKey(directory, FILES.signer);
  const issuingCa = await loadCertifiedKey(directory, FILES.issuingCa);
  // A directory made before the TSA existed gets one from its issuing CA on first load.
  let tsa: CertifiedKey;
  if (await fileExists(join(directory, FILES.tsa.certificate))) {
    tsa = await loadCertifiedKey(directory, FILES.tsa);
  } else {
    tsa = await issueTsaCertificate(issuingCa);
    await saveCertifiedKey(directory, FILES.tsa, tsa);
  }
  return {
    root: await loadCertifiedKey(directory, FILES.root),
    issuingCa,
    signer,
    signerAlgorithm: signatureAlgorithmFor(signerKeyAlgorithmOf(signer.certificate)),
    tsa,
  };
}

export interface LoadedDevPki {
  readonly pki: DevPki;
  /** True when the whole hierarchy was generated by this call. */
  readonly created: boolean;
  /** True when an existing hierarchy got a new signer certificate (near expiry or other key algorithm). */
  readonly signerRenewed: boolean;
}

function signerNeedsRenewal(pki: DevPki, keyAlgorithm: SignerKeyAlgorithm, now: Date): boolean {
  if (keyAlgorithm !== signerKeyAlgorithmOf(pki.signer.certificate)) return true;
  const notAfter = new x509.X509Certificate(pki.signer.certificate).notAfter;
  return notAfter.getTime() - now.getTime() < SIGNER_RENEWAL_MARGIN_MS;
}

/**
 * The development hierarchy of a data directory: generated and saved on first use, loaded afterwards.
 * Two processes starting on one fresh data directory at the same moment could both generate; the
 * development server starts one node per data directory, so this is not guarded against.
 */
export async function loadOrCreateDevPki(
  dataDirectory: string,
  options: SignerCertificateOptions = {},
): Promise<LoadedDevPki> {
  const now = options.now ?? new Date();
  const existing = await loadDevPki(dataDirectory);
  if (existing === null) {
    const pki = await generateDevPki({ ...options, now });
    await saveDevPki(dataDirectory, pki);
    return { pki, created: true, signerRenewed: false };
  }
  const keyAlgorithm = options.keyAlgorithm ?? signerKeyAlgorithmOf(existing.signer.certificate);
  if (!signerNeedsRenewal(existing, keyAlgorithm, now))
    return { pki: existing, created: false, signerRenewed: false };
  await archiveIssuedCertificate(dataDirectory, existing.signer);
  const pki = await replaceSigner(dataDirectory, existing, { ...options, keyAlgorithm, now });
  return { pki, created: false, signerRenewed: true };
}

/** Issues a fresh signer certificate and key from the issuing CA, archives it and makes it current. */
async function replaceSigner(
  dataDirectory: string,
  existing: DevPki,
  options: SignerCertificateOptions & { keyAlgorithm: SignerKeyAlgorithm },
): Promise<DevPki> {
  const signer = await issueSignerCertificate(existing.issuingCa, options);
  await archiveIssuedCertificate(dataDirectory, signer);
  await saveCertifiedKey(pkiDirectory(dataDirectory), FILES.signer, signer);
  return { ...existing, signer, signerAlgorithm: signatureAlgorithmFor(options.keyAlgorithm) };
}

/**
 * `bubuh pki rotate`: a fresh signer certificate now, whatever the old one's remaining life. The old
 * certificate is not revoked: stamps it made stay valid (revoke it separately if its key leaked).
 */
export async function rotateSigner(
  dataDirectory: string,
  options: SignerCertificateOptions = {},
): Promise<{ previous: DevPki; pki: DevPki }> {
  const previous = await loadDevPki(dataDirectory);
  if (previous === null) throw new BubuhError('PKI_MISSING', { path: pkiDirectory(dataDirectory) });
  await archiveIssuedCertificate(dataDirectory, previous.signer);
  const keyAlgorithm = options.keyAlgorithm ?? signerKeyAlgorithmOf(previous.signer.certificate);
  const pki = await replaceSigner(dataDirectory, previous, {
    ...options,
    keyAlgorithm,
    now: options.now ?? new Date(),
  });
  return { previous, pki };
}
