/**
 * The development PKI on disk, in two places that are one directory for a single node:
 *
 * - the shared directory (`BUBUH_PKI_DIR`, default `<dataDirectory>/pki/`), the same for every node:
 *   `root.pem` (and `root.key` in development; production keeps the root key offline and has none),
 *   `ca.pem` + `ca.key`, `tsa.pem` + `tsa.key`, the CRL `crl.der`, and `issued/<serial>.pem` — every
 *   certificate the issuing CA issued, so an old or another node's signer can still be revoked;
 * - the node's own directory, always `<dataDirectory>/pki/`: `signer.pem` + `signer.key` (and the
 *   certificate of a PKCS#11 key), so each node signs with its own key and certificate.
 *
 * Keys are PKCS#8, mode 0600. The shared hierarchy is generated once — by whichever node starts first,
 * under a lock file so two nodes starting together never make two roots — and reused; each node's
 * short-lived signer certificate is issued by the shared issuing CA on first start and renewed when it
 * nears expiry.
 */
import { chmod, mkdir, open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { join, resolve } from 'node:path';
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

/** Where a node's PKI lives: the hierarchy all nodes share, and this node's own signer. */
export interface PkiPaths {
  readonly shared: string;
  readonly node: string;
}

/** A data directory (both halves in its `pki/`, as for one node) or explicit paths. */
export type PkiLocation = string | PkiPaths;

export function pkiPaths(location: PkiLocation): PkiPaths {
  if (typeof location !== 'string') return location;
  const directory = pkiDirectory(location);
  return { shared: directory, node: directory };
}

/** The paths a configuration names: `BUBUH_PKI_DIR` (default `<data>/pki`) and `<data>/pki`. */
export function configuredPkiPaths(config: {
  readonly dataDir: string;
  readonly pkiDir?: string | undefined;
}): PkiPaths {
  const node = pkiDirectory(config.dataDir);
  return { shared: config.pkiDir === undefined ? node : resolve(config.pkiDir), node };
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
  location: PkiLocation,
  value: Pick<CertifiedKey, 'certificate' | 'certificatePem'>,
): Promise<void> {
  const directory = join(pkiPaths(location).shared, ISSUED_DIRECTORY_NAME);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const path = join(directory, `${certificateSerialOf(value.certificate)}.pem`);
  if (!(await fileExists(path))) await writeFileAtomically(path, value.certificatePem, CERTIFICATE_FILE_MODE);
}

/**
 * Every certificate the issuing CA issued (archived — every node's signers — plus this node's current
 * signer and the TSA), by serial.
 */
export async function issuedCertificates(location: PkiLocation): Promise<Map<string, Uint8Array>> {
  const found = new Map<string, Uint8Array>();
  const directory = join(pkiPaths(location).shared, ISSUED_DIRECTORY_NAME);
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
  // Read only: listing never issues this node a signer it does not have yet.
  const paths = pkiPaths(location);
  const current: string[] = [
    join(paths.node, FILES.signer.certificate),
    join(paths.shared, FILES.tsa.certificate),
  ];
  for (const path of current) {
    if (!(await fileExists(path))) continue;
    const { certificate } = await loadCertificate(path);
    found.set(certificateSerialOf(certificate), certificate);
  }
  return found;
}

/** The saved CRL, or null when there is none yet. */
export async function readCrlFile(location: PkiLocation): Promise<Uint8Array | null> {
  const path = join(pkiPaths(location).shared, CRL_FILE_NAME);
  try {
    const info = await stat(path);
    if (info.size > CRL_FILE_BYTES_MAX) return null;
    return new Uint8Array(await readFile(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export async function writeCrlFile(location: PkiLocation, der: Uint8Array): Promise<void> {
  const path = join(pkiPaths(location).shared, CRL_FILE_NAME);
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temporary, der, { mode: CERTIFICATE_FILE_MODE });
  await rename(temporary, path);
}

async function saveCertifiedKey(
  directory: string,
  names: { certificate: string; key: string },
  value: Pick<CertifiedKey, 'certificatePem'> & { readonly privateKeyPem: string | null },
) {
  if (value.privateKeyPem !== null)
    await writeFileAtomically(join(directory, names.key), value.privateKeyPem, KEY_FILE_MODE);
  await writeFileAtomically(join(directory, names.certificate), value.certificatePem, CERTIFICATE_FILE_MODE);
}

async function loadCertificate(path: string): Promise<{ certificatePem: string; certificate: Uint8Array }> {
  const certificatePem = await readBoundedText(path);
  try {
    const certificate = new Uint8Array(x509.PemConverter.decodeFirst(certificatePem));
    new x509.X509Certificate(certificate);
    return { certificatePem, certificate };
  } catch (error) {
    throw new BubuhError('KEY_FILE_INVALID', { path, problem: 'not a PEM certificate' }, { cause: error });
  }
}

async function loadCertifiedKey(
  directory: string,
  names: { certificate: string; key: string },
): Promise<CertifiedKey> {
  const { certificatePem, certificate } = await loadCertificate(join(directory, names.certificate));
  return { certificatePem, certificate, privateKeyPem: await readPrivateKeyFile(join(directory, names.key)) };
}

/** The root: its key only where it exists (development); production keeps it offline. */
async function loadRoot(directory: string): Promise<DevPki['root']> {
  const { certificatePem, certificate } = await loadCertificate(join(directory, FILES.root.certificate));
  const keyPath = join(directory, FILES.root.key);
  const privateKeyPem = (await fileExists(keyPath)) ? await readPrivateKeyFile(keyPath) : null;
  return { certificatePem, certificate, privateKeyPem };
}

async function saveNodeSigner(paths: PkiPaths, signer: CertifiedKey): Promise<void> {
  await mkdir(paths.node, { recursive: true, mode: 0o700 });
  await saveCertifiedKey(paths.node, FILES.signer, signer);
}

/**
 * Saves a hierarchy (directories 0700, keys 0600): the shared part in the shared directory — `root.pem`
 * last, since its presence is what says a hierarchy is complete — and the signer in the node's own.
 */
export async function saveDevPki(location: PkiLocation, pki: DevPki): Promise<void> {
  const paths = pkiPaths(location);
  await mkdir(paths.shared, { recursive: true, mode: 0o700 });
  await saveCertifiedKey(paths.shared, FILES.issuingCa, pki.issuingCa);
  await saveCertifiedKey(paths.shared, FILES.tsa, pki.tsa);
  await saveNodeSigner(paths, pki.signer);
  await archiveIssuedCertificate(paths, pki.signer);
  await archiveIssuedCertificate(paths, pki.tsa);
  await saveCertifiedKey(paths.shared, FILES.root, pki.root);
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

type SharedPki = Pick<DevPki, 'root' | 'issuingCa' | 'tsa'>;

/** The shared part of a hierarchy; null when the shared directory holds none yet (no `root.pem`). */
async function loadSharedPki(paths: PkiPaths): Promise<SharedPki | null> {
  if (!(await fileExists(join(paths.shared, FILES.root.certificate)))) return null;
  const issuingCa = await loadCertifiedKey(paths.shared, FILES.issuingCa);
  // A directory made before the TSA existed gets one from its issuing CA on first load.
  let tsa: CertifiedKey;
  if (await fileExists(join(paths.shared, FILES.tsa.certificate))) {
    tsa = await loadCertifiedKey(paths.shared, FILES.tsa);
  } else {
    tsa = await issueTsaCertificate(issuingCa);
    await saveCertifiedKey(paths.shared, FILES.tsa, tsa);
  }
  return { root: await loadRoot(paths.shared), issuingCa, tsa };
}

/**
 * Loads a saved hierarchy; null when the shared directory holds none yet (no `root.pem`). A node whose
 * own directory has no signer yet (a new node joining a shared PKI) gets one from the issuing CA here.
 */
export async function loadDevPki(
  location: PkiLocation,
  options: SignerCertificateOptions = {},
): Promise<DevPki | null> {
  const paths = pkiPaths(location);
  const shared = await loadSharedPki(paths);
  if (shared === null) return null;
  let signer: CertifiedKey;
  if (await fileExists(join(paths.node, FILES.signer.certificate))) {
    signer = await loadCertifiedKey(paths.node, FILES.signer);
  } else {
    signer = await issueSignerCertificate(shared.issuingCa, options);
    await archiveIssuedCertificate(paths, signer);
    await saveNodeSigner(paths, signer);
  }
  return {
    ...shared,
    signer,
    signerAlgorithm: signatureAlgorithmFor(signerKeyAlgorithmOf(signer.certificate)),
  };
}

export interface LoadedDevPki {
  readonly pki: DevPki;
  /** True when the whole hierarchy was generated by this call. */
  readonly created: boolean;
  /** True when an existing hierarchy got a new signer certificate (near expiry, other key algorithm or node). */
  readonly signerRenewed: boolean;
}

/** The node name in a signer certificate's subject, as `issueSignerCertificate` wrote it. */
export function signerNodeNameOf(certificate: Uint8Array): string | null {
  const subject = new x509.X509Certificate(certificate).subject;
  return (
    /CN=bubuh (?:Development )?Signer ([A-Za-z0-9._-]{1,64})(?: \(NOT FOR PRODUCTION\))?(?:,|$)/.exec(
      subject,
    )?.[1] ?? null
  );
}

/** Whether `certificate` was issued and signed by `issuer` (both DER). */
export function issuedBy(certificate: Uint8Array, issuer: Uint8Array): boolean {
  try {
    const ca = new X509Certificate(issuer);
    const child = new X509Certificate(certificate);
    return child.checkIssued(ca) && child.verify(ca.publicKey);
  } catch {
    return false;
  }
}

/** True when a signer certificate is within SIGNER_RENEWAL_MARGIN_MS of its end at `now`. */
export function signerRenewalDue(certificate: Uint8Array, now: Date): boolean {
  const notAfter = new x509.X509Certificate(certificate).notAfter;
  return notAfter.getTime() - now.getTime() < SIGNER_RENEWAL_MARGIN_MS;
}

function signerNeedsRenewal(pki: DevPki, options: SignerCertificateOptions, now: Date): boolean {
  if (options.replacing !== undefined && Buffer.from(options.replacing).equals(pki.signer.certificate))
    return true;
  // A signer left from an earlier hierarchy (a production CA imported over it) chains to nothing.
  if (!issuedBy(pki.signer.certificate, pki.issuingCa.certificate)) return true;
  const keyAlgorithm = options.keyAlgorithm ?? signerKeyAlgorithmOf(pki.signer.certificate);
  if (keyAlgorithm !== signerKeyAlgorithmOf(pki.signer.certificate)) return true;
  // A data directory moved to a node of another name must not sign under the old name.
  if (options.nodeName !== undefined && signerNodeNameOf(pki.signer.certificate) !== options.nodeName)
    return true;
  return signerRenewalDue(pki.signer.certificate, now);
}

/** How long a node waits for another node that is creating the shared hierarchy. */
export const SHARED_PKI_WAIT_MS = 30_000;
const SHARED_PKI_POLL_MS = 100;
const LOCK_FILE_NAME = '.init.lock';

/**
 * Generates and saves a whole hierarchy unless another process does so first. The lock file is created
 * exclusively (O_EXCL), which holds on one machine and on NFSv3+ alike: the process that creates it
 * generates; every other one waits until `root.pem` appears. Returns true when this call generated.
 */
async function createHierarchyOnce(paths: PkiPaths, options: SignerCertificateOptions & { now: Date }) {
  await mkdir(paths.shared, { recursive: true, mode: 0o700 });
  const lockPath = join(paths.shared, LOCK_FILE_NAME);
  let lock;
  try {
    lock = await open(lockPath, 'wx', KEY_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const until = Date.now() + SHARED_PKI_WAIT_MS;
    while (!(await fileExists(join(paths.shared, FILES.root.certificate)))) {
      if (Date.now() > until) {
        throw new BubuhError('CLUSTER_PKI_LOCKED', {
          path: paths.shared,
          lock: lockPath,
          seconds: SHARED_PKI_WAIT_MS / 1000,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, SHARED_PKI_POLL_MS));
    }
    return false;
  }
  try {
    // Another process may have finished between our look for root.pem and taking the lock.
    if (await fileExists(join(paths.shared, FILES.root.certificate))) return false;
    await saveDevPki(paths, await generateDevPki(options));
    return true;
  } finally {
    await lock.close();
    await unlink(lockPath).catch(() => {});
  }
}

/**
 * The development hierarchy: generated and saved on first use (the shared part once for all nodes),
 * loaded afterwards; this node's signer is issued when it has none and renewed when it nears expiry,
 * changes key algorithm or node name, or was issued by another issuing CA.
 */
export async function loadOrCreateDevPki(
  location: PkiLocation,
  options: SignerCertificateOptions = {},
): Promise<LoadedDevPki> {
  const loaded = await serialisedNodeLoad(pkiPaths(location), options, true);
  if (loaded === null) throw new BubuhError('PKI_MISSING', { path: pkiPaths(location).shared });
  return loaded;
}

/**
 * An installed hierarchy (production: imported with `bubuh pki import`), never generated: null when the
 * shared directory holds none. This node's signer is issued from the installed issuing CA when it has
 * none and renewed exactly as in development.
 */
export async function loadInstalledPki(
  location: PkiLocation,
  options: SignerCertificateOptions = {},
): Promise<LoadedDevPki | null> {
  return serialisedNodeLoad(pkiPaths(location), options, false);
}

/** The development hierarchy (generated on first use) or, in production, the installed one. */
export async function loadNodePki(
  location: PkiLocation,
  mode: 'development' | 'production',
  options: SignerCertificateOptions = {},
): Promise<LoadedDevPki> {
  if (mode === 'development') return loadOrCreateDevPki(location, options);
  const loaded = await loadInstalledPki(location, options);
  if (loaded === null) throw new BubuhError('PKI_NOT_CONFIGURED');
  return loaded;
}

// One at a time per node directory in this process: the stamping service and the /pki routes load
// at start-up together, and two of them must not each issue this node a different signer.
function serialisedNodeLoad(
  paths: PkiPaths,
  options: SignerCertificateOptions,
  create: boolean,
): Promise<LoadedDevPki | null> {
  const previous = nodeLoads.get(paths.node) ?? Promise.resolve();
  const run = previous.then(() => loadOrCreateDevPkiNow(paths, options, create));
  const settled = run.catch(() => {});
  nodeLoads.set(paths.node, settled);
  void settled.then(() => {
    if (nodeLoads.get(paths.node) === settled) nodeLoads.delete(paths.node);
  });
  return run;
}

const nodeLoads = new Map<string, Promise<unknown>>();

async function loadOrCreateDevPkiNow(
  paths: PkiPaths,
  options: SignerCertificateOptions,
  create: boolean,
): Promise<LoadedDevPki | null> {
  const now = options.now ?? new Date();
  let created = false;
  if ((await loadSharedPki(paths)) === null) {
    if (!create) return null;
    created = await createHierarchyOnce(paths, { ...options, now });
  }
  const existing = await loadDevPki(paths, { ...options, now });
  if (existing === null) throw new BubuhError('PKI_MISSING', { path: paths.shared });
  if (created || !signerNeedsRenewal(existing, options, now))
    return { pki: existing, created, signerRenewed: false };
  // Other threads (the stamping pool's workers) and processes on this node may find the same signer
  // due at the same moment: one renews under the lock, the others then load what it saved.
  return withSignerLock(paths, async () => {
    const current = await loadDevPki(paths, { ...options, now });
    if (current === null) throw new BubuhError('PKI_MISSING', { path: paths.shared });
    if (!signerNeedsRenewal(current, options, now))
      return { pki: current, created: false, signerRenewed: false };
    const keyAlgorithm = options.keyAlgorithm ?? signerKeyAlgorithmOf(current.signer.certificate);
    await archiveIssuedCertificate(paths, current.signer);
    const pki = await replaceSigner(paths, current, { ...options, keyAlgorithm, now });
    return { pki, created: false, signerRenewed: true };
  });
}

const SIGNER_LOCK_FILE_NAME = '.signer.lock';
/** A signer lock older than this was left by a process that died while renewing, and is taken over. */
const SIGNER_LOCK_STALE_MS = 60_000;

async function withSignerLock<T>(paths: PkiPaths, work: () => Promise<T>): Promise<T> {
  await mkdir(paths.node, { recursive: true, mode: 0o700 });
  const lockPath = join(paths.node, SIGNER_LOCK_FILE_NAME);
  const until = Date.now() + SHARED_PKI_WAIT_MS;
  for (;;) {
    try {
      const lock = await open(lockPath, 'wx', KEY_FILE_MODE);
      try {
        return await work();
      } finally {
        await lock.close();
        await unlink(lockPath).catch(() => {});
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const held = await stat(lockPath).catch(() => null);
      if (held !== null && Date.now() - held.mtimeMs > SIGNER_LOCK_STALE_MS) {
        await unlink(lockPath).catch(() => {});
        continue;
      }
      if (Date.now() > until) {
        throw new BubuhError('CLUSTER_PKI_LOCKED', {
          path: paths.node,
          lock: lockPath,
          seconds: SHARED_PKI_WAIT_MS / 1000,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, SHARED_PKI_POLL_MS));
    }
  }
}

/** Issues a fresh signer certificate and key from the issuing CA, archives it and makes it current. */
async function replaceSigner(
  paths: PkiPaths,
  existing: DevPki,
  options: SignerCertificateOptions & { keyAlgorithm: SignerKeyAlgorithm },
): Promise<DevPki> {
  const signer = await issueSignerCertificate(existing.issuingCa, options);
  await archiveIssuedCertificate(paths, signer);
  await saveNodeSigner(paths, signer);
  return { ...existing, signer, signerAlgorithm: signatureAlgorithmFor(options.keyAlgorithm) };
}

/**
 * `bubuh pki rotate`: a fresh signer certificate for this node now, whatever the old one's remaining
 * life. The old certificate is not revoked: stamps it made stay valid (revoke it separately if its key
 * leaked).
 */
export async function rotateSigner(
  location: PkiLocation,
  options: SignerCertificateOptions = {},
): Promise<{ previous: DevPki; pki: DevPki }> {
  const paths = pkiPaths(location);
  const previous = await loadDevPki(paths, options);
  if (previous === null) throw new BubuhError('PKI_MISSING', { path: paths.shared });
  await archiveIssuedCertificate(paths, previous.signer);
  const keyAlgorithm = options.keyAlgorithm ?? signerKeyAlgorithmOf(previous.signer.certificate);
  const nodeName = options.nodeName ?? signerNodeNameOf(previous.signer.certificate) ?? undefined;
  const pki = await replaceSigner(paths, previous, {
    ...options,
    ...(nodeName === undefined ? {} : { nodeName }),
    keyAlgorithm,
    now: options.now ?? new Date(),
  });
  return { previous, pki };
}
