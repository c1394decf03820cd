/**
 * `bubuh pki init|import|show|rotate|revoke|export`, and the CRL and registry inputs of `bubuh verify`.
 * The PKI is the shared PKI directory (BUBUH_PKI_DIR, default `<data>/pki`): the development hierarchy
 * `pki init` makes, or a production one `pki import` installs; revocations live in the database
 * so every node sees them, and the CRL file is derived from them (see src/pki/revocations.ts).
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as x509 from '@peculiar/x509';
import type { Config } from '../config.js';
import { BubuhError } from '../errors.js';
import {
  certificateSerialOf,
  type CrlFacts,
  issueCrl,
  nextCrlNumber,
  normaliseCertificateSerial,
  readCrlFacts,
} from '../pki/crl.js';
import { type DevPki, generateDevPki } from '../pki/dev-pki.js';
import {
  CRL_FILE_NAME,
  issuedCertificates,
  loadDevPki,
  configuredPkiPaths,
  readCrlFile,
  rotateSigner,
  saveDevPki,
  writeCrlFile,
} from '../pki/key-files.js';
import {
  currentCrl,
  fingerprintOf,
  parseRevocationReason,
  revokeCertificate,
  revokeStamp,
} from '../pki/revocations.js';
import { importPki } from '../pki/pki-import.js';
import { normaliseSerial, serialLength, serialProblem } from '../seal/serial.js';
import { openStorage, type Storage } from '../storage/database.js';
import type { OnlineOptions } from '../verify/registry.js';

export interface PkiCommandFlags {
  readonly json: boolean;
  readonly positionals: readonly string[];
  readonly options: Readonly<Record<string, string | undefined>>;
}

export type PkiCommand = (config: Config, flags: PkiCommandFlags) => Promise<number>;

/** How long `bubuh verify --online` waits for the registry per serial. */
export const registryTimeoutMs = 10_000;

interface CertificateView {
  readonly subject: string;
  readonly issuer: string;
  readonly serial: string;
  readonly not_before: string;
  readonly not_after: string;
  readonly sha256: string;
  readonly key_algorithm: string;
}

interface CrlView {
  readonly number: string | null;
  readonly this_update: string;
  readonly next_update: string | null;
  readonly revoked: readonly { serial: string; revoked_at: string; reason: string }[];
}

function keyAlgorithmText(certificate: x509.X509Certificate): string {
  const algorithm = certificate.publicKey.algorithm as {
    name: string;
    namedCurve?: string;
    modulusLength?: number;
  };
  if (algorithm.name === 'ECDSA') return `ECDSA ${algorithm.namedCurve ?? '?'}`;
  if (algorithm.modulusLength !== undefined) return `RSA ${algorithm.modulusLength}`;
  return algorithm.name;
}

export function describeCertificate(der: Uint8Array): CertificateView {
  const certificate = new x509.X509Certificate(der);
  return {
    subject: certificate.subject,
    issuer: certificate.issuer,
    serial: certificateSerialOf(der),
    not_before: certificate.notBefore.toISOString(),
    not_after: certificate.notAfter.toISOString(),
    sha256: fingerprintOf(der),
    key_algorithm: keyAlgorithmText(certificate),
  };
}

function describeCrl(facts: CrlFacts): CrlView {
  return {
    number: facts.number === null ? null : facts.number.toString(),
    this_update: facts.thisUpdate.toISOString(),
    next_update: facts.nextUpdate?.toISOString() ?? null,
    revoked: facts.entries.map((entry) => ({
      serial: entry.serial,
      revoked_at: entry.revokedAt.toISOString(),
      reason: entry.reason,
    })),
  };
}

function hierarchyView(pki: DevPki) {
  return {
    root: describeCertificate(pki.root.certificate),
    issuing_ca: describeCertificate(pki.issuingCa.certificate),
    signer: describeCertificate(pki.signer.certificate),
    tsa: describeCertificate(pki.tsa.certificate),
  };
}

const labels: readonly [keyof ReturnType<typeof hierarchyView>, string][] = [
  ['root', 'root CA'],
  ['issuing_ca', 'issuing CA'],
  ['signer', 'signer'],
  ['tsa', 'time-stamping'],
];

function hierarchyLines(pki: DevPki, crl: CrlView | null): string[] {
  const view = hierarchyView(pki);
  const lines: string[] = [];
  for (const [key, label] of labels) {
    const certificate = view[key];
    lines.push(
      `  ${label.padEnd(14)}${certificate.subject}`,
      `  ${''.padEnd(14)}serial  ${certificate.serial}`,
      `  ${''.padEnd(14)}valid   ${certificate.not_before} to ${certificate.not_after}`,
      `  ${''.padEnd(14)}sha256  ${certificate.sha256}`,
      `  ${''.padEnd(14)}key     ${certificate.key_algorithm}`,
    );
  }
  if (crl === null) {
    lines.push(
      `  ${'CRL'.padEnd(14)}none yet (made on the first request for /pki/crl.der or by \`bubuh pki export\`)`,
    );
  } else {
    lines.push(
      `  ${'CRL'.padEnd(14)}number ${crl.number ?? '?'}, this update ${crl.this_update}, next update ${crl.next_update ?? 'none'}`,
      `  ${''.padEnd(14)}${crl.revoked.length === 0 ? 'no revoked certificates' : `${crl.revoked.length} revoked: ${crl.revoked.map((entry) => `${entry.serial} (${entry.reason})`).join(', ')}`}`,
    );
  }
  return lines;
}

async function requirePki(config: Config): Promise<DevPki> {
  const paths = configuredPkiPaths(config);
  const pki = await loadDevPki(paths, { validityDays: config.signerValidityDays, nodeName: config.nodeId });
  if (pki === null) throw new BubuhError('PKI_MISSING', { path: paths.shared });
  return pki;
}

async function withStorage<T>(config: Config, work: (storage: Storage) => Promise<T>): Promise<T> {
  const storage = await openStorage({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    postgresPoolMax: 2,
    sqliteBusyTimeoutMs: config.sqliteBusyTimeoutMs,
  });
  try {
    return await work(storage);
  } finally {
    await storage.close();
  }
}

function write(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

const hierarchyFiles = /^(root|ca|signer|tsa)\.(pem|key)$/;

export const pkiInit: PkiCommand = async (config, flags) => {
  const paths = configuredPkiPaths(config);
  const directory = paths.shared;
  if (config.mode !== 'development') throw new BubuhError('PKI_DEVELOPMENT_ONLY', { path: directory });
  for (const place of new Set([paths.shared, paths.node])) {
    const present = await readdir(place).catch(() => [] as string[]);
    if (present.some((name) => hierarchyFiles.test(name)))
      throw new BubuhError('PKI_EXISTS', { path: place });
  }
  const now = new Date();
  const pki = await generateDevPki({ validityDays: config.signerValidityDays, now, nodeName: config.nodeId });
  await saveDevPki(paths, pki);
  const crl = await issueCrl(pki.issuingCa, [], {
    thisUpdate: now,
    validityDays: config.crlValidityDays,
    number: nextCrlNumber(null, now),
  });
  await writeCrlFile(paths, crl);
  const crlView = describeCrl(readCrlFacts(crl));
  if (flags.json) {
    write(JSON.stringify({ created: true, directory, ...hierarchyView(pki), crl: crlView }));
    return 0;
  }
  write(
    [
      `created a development PKI in ${directory} (NOT FOR PRODUCTION)`,
      ...hierarchyLines(pki, crlView),
      'private keys: root.key, ca.key, signer.key, tsa.key (mode 0600); publish root.pem and nothing else',
    ].join('\n'),
  );
  return 0;
};

/**
 * `bubuh pki import --root ROOT.pem --ca CA.pem --ca-key CA.key [--tsa TSA.pem --tsa-key TSA.key]`:
 * installs an externally made hierarchy (production) in the shared PKI directory after checking it;
 * see src/pki/pki-import.ts. The root's key is never asked for: production keeps it offline.
 */
export const pkiImport: PkiCommand = async (config, flags) => {
  const option = (name: string) => flags.options[name];
  const root = option('root');
  const ca = option('ca');
  const caKey = option('ca-key');
  if (!root || !ca || !caKey) {
    throw new BubuhError('REQUEST_INVALID', {
      problem:
        'name the files: bubuh pki import --root ROOT.pem --ca CA.pem --ca-key CA.key [--tsa TSA.pem --tsa-key TSA.key]',
    });
  }
  const paths = configuredPkiPaths(config);
  const now = new Date();
  const imported = await importPki(
    paths,
    { root, ca, caKey, tsa: option('tsa'), tsaKey: option('tsa-key') },
    { now },
  );
  const crl = await issueCrl(imported.issuingCa, [], {
    thisUpdate: now,
    validityDays: config.crlValidityDays,
    number: nextCrlNumber(null, now),
  });
  await writeCrlFile(paths, crl);
  const view = {
    root: describeCertificate(imported.root.certificate),
    issuing_ca: describeCertificate(imported.issuingCa.certificate),
    tsa: describeCertificate(imported.tsa.certificate),
  };
  if (flags.json) {
    write(
      JSON.stringify({ imported: true, directory: paths.shared, ...view, tsa_issued: imported.tsaIssued }),
    );
    return 0;
  }
  const lines = [`imported a PKI into ${paths.shared}`];
  for (const [key, label] of [
    ['root', 'root CA'],
    ['issuing_ca', 'issuing CA'],
    ['tsa', 'time-stamping'],
  ] as const) {
    const certificate = view[key];
    lines.push(
      `  ${label.padEnd(14)}${certificate.subject}`,
      `  ${''.padEnd(14)}serial  ${certificate.serial}`,
      `  ${''.padEnd(14)}valid   ${certificate.not_before} to ${certificate.not_after}`,
      `  ${''.padEnd(14)}sha256  ${certificate.sha256}`,
    );
  }
  lines.push(
    imported.tsaIssued
      ? '  the TSA certificate was issued just now by the imported issuing CA'
      : '  the TSA certificate and key were imported',
    '  no root key was installed (keep it offline); each node issues its own signer from the issuing CA on start',
  );
  write(lines.join('\n'));
  return 0;
};

export const pkiShow: PkiCommand = async (config, flags) => {
  const pki = await requirePki(config);
  const saved = await readCrlFile(configuredPkiPaths(config));
  let crl: CrlView | null = null;
  if (saved !== null) {
    try {
      crl = describeCrl(readCrlFacts(saved));
    } catch {
      crl = null;
    }
  }
  const directory = configuredPkiPaths(config).shared;
  if (flags.json) {
    write(JSON.stringify({ directory, ...hierarchyView(pki), crl }));
    return 0;
  }
  write([`PKI in ${directory}`, ...hierarchyLines(pki, crl)].join('\n'));
  return 0;
};

export const pkiRotate: PkiCommand = async (config, flags) => {
  const { previous, pki } = await rotateSigner(configuredPkiPaths(config), {
    validityDays: config.signerValidityDays,
    nodeName: config.nodeId,
  });
  const before = describeCertificate(previous.signer.certificate);
  const after = describeCertificate(pki.signer.certificate);
  if (flags.json) {
    write(JSON.stringify({ previous: before, signer: after }));
    return 0;
  }
  write(
    [
      `issued a new signer certificate: serial ${after.serial}, valid until ${after.not_after}`,
      `  it replaces serial ${before.serial}, which is not revoked: stamps it made stay valid`,
      '  a running node signs with the new certificate after it restarts',
    ].join('\n'),
  );
  return 0;
};

type RevocationTarget =
  | { readonly kind: 'stamp'; readonly serial: string }
  | { readonly kind: 'certificate'; readonly serial: string };

function revocationTarget(text: string): RevocationTarget {
  if (serialProblem(text) === null) return { kind: 'stamp', serial: normaliseSerial(text) };
  const typed = normaliseSerial(text);
  if (typed.length === serialLength && /^[0-9A-Z]+$/.test(typed) && !/^[0-9A-F]+$/.test(typed)) {
    throw new BubuhError('SERIAL_MALFORMED', { serial: text, problem: serialProblem(text) ?? 'check' });
  }
  if (/^[0-9a-fA-F:\s]{1,64}$/.test(text))
    return { kind: 'certificate', serial: normaliseCertificateSerial(text) };
  throw new BubuhError('REVOCATION_SERIAL_UNKNOWN', { serial: text.slice(0, 80) });
}

export const pkiRevoke: PkiCommand = async (config, flags) => {
  const text = flags.positionals[2];
  const reasonText = flags.options['reason'];
  if (!text)
    throw new BubuhError('REQUEST_INVALID', {
      problem: 'name what to revoke: bubuh pki revoke SERIAL --reason R',
    });
  if (!reasonText) {
    throw new BubuhError('REQUEST_INVALID', {
      problem: 'name the reason with --reason R (keyCompromise, superseded, cessationOfOperation, …)',
    });
  }
  const reason = parseRevocationReason(reasonText);
  const target = revocationTarget(text);
  return withStorage(config, async (storage) => {
    if (target.kind === 'stamp') {
      const record = await revokeStamp(storage, { serial: target.serial, reason });
      if (flags.json) {
        write(
          JSON.stringify({
            kind: 'stamp',
            serial: record.serial,
            reason,
            revoked_at: record.revokedAt.toISOString(),
          }),
        );
      } else {
        write(
          [
            `revoked e-meterai ${record.serial} (${reason}) at ${record.revokedAt.toISOString()}`,
            `  the registry now answers "revoked" at /v1/serials/${record.serial}; online verification fails`,
          ].join('\n'),
        );
      }
      return 0;
    }
    const pki = await requirePki(config);
    const issued = await issuedCertificates(configuredPkiPaths(config));
    const certificate = issued.get(target.serial);
    if (certificate === undefined) throw new BubuhError('REVOCATION_SERIAL_UNKNOWN', { serial: text });
    const record = await revokeCertificate(storage, {
      serial: target.serial,
      reason,
      issuerFingerprint: fingerprintOf(pki.issuingCa.certificate),
    });
    const crl = await currentCrl(configuredPkiPaths(config), storage, pki, {
      validityDays: config.crlValidityDays,
    });
    const wasSigner = certificateSerialOf(pki.signer.certificate) === target.serial;
    const rotated = wasSigner
      ? await rotateSigner(configuredPkiPaths(config), {
          validityDays: config.signerValidityDays,
          nodeName: config.nodeId,
        })
      : null;
    const subject = describeCertificate(certificate).subject;
    if (flags.json) {
      write(
        JSON.stringify({
          kind: 'certificate',
          serial: record.serial,
          subject,
          reason,
          revoked_at: record.revokedAt.toISOString(),
          crl: describeCrl(crl.facts),
          new_signer: rotated === null ? null : describeCertificate(rotated.pki.signer.certificate),
        }),
      );
      return 0;
    }
    const lines = [
      `revoked certificate ${record.serial} (${subject}), ${reason}, at ${record.revokedAt.toISOString()}`,
      `  CRL number ${crl.facts.number ?? '?'} lists ${crl.facts.entries.length} revoked; next update ${crl.facts.nextUpdate?.toISOString() ?? 'none'}`,
    ];
    if (rotated !== null) {
      const next = describeCertificate(rotated.pki.signer.certificate);
      lines.push(
        `  it was this node's signer certificate: a new one was issued (serial ${next.serial}); restart running nodes`,
      );
    }
    write(lines.join('\n'));
    return 0;
  });
};

export const pkiExport: PkiCommand = async (config, flags) => {
  const out = flags.options['out'];
  if (!out) throw new BubuhError('REQUEST_INVALID', { problem: 'name the directory with --out DIR' });
  const pki = await requirePki(config);
  const crl = await withStorage(config, (storage) =>
    currentCrl(configuredPkiPaths(config), storage, pki, { validityDays: config.crlValidityDays }),
  );
  const directory = resolve(out);
  const files: [string, Uint8Array][] = [
    ['root.der', pki.root.certificate],
    ['ca.der', pki.issuingCa.certificate],
    [CRL_FILE_NAME, crl.der],
  ];
  try {
    await mkdir(directory, { recursive: true });
    for (const [name, bytes] of files) await writeFile(join(directory, name), bytes);
  } catch (error) {
    throw new BubuhError('PKI_EXPORT_FAILED', { path: directory, problem: (error as Error).message });
  }
  if (flags.json) {
    write(
      JSON.stringify({
        directory,
        files: files.map(([name, bytes]) => ({ name, bytes: bytes.length, sha256: fingerprintOf(bytes) })),
      }),
    );
    return 0;
  }
  write(
    [
      `exported the public PKI to ${directory}`,
      ...files.map(
        ([name, bytes]) =>
          `  ${name.padEnd(8)} ${String(bytes.length).padStart(5)} bytes  sha256 ${fingerprintOf(bytes)}`,
      ),
    ].join('\n'),
  );
  return 0;
};

/** A CRL file in DER or PEM ("X509 CRL"). */
async function readCrlInput(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    throw new BubuhError('INPUT_FILE_UNREADABLE', { path, problem: (error as Error).message });
  }
  const text = new TextDecoder('latin1').decode(bytes);
  const pem = /-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]+)-----END X509 CRL-----/.exec(text);
  return pem ? new Uint8Array(Buffer.from(pem[1]!.replace(/\s+/g, ''), 'base64')) : bytes;
}

/** The CRLs `bubuh verify` uses: each --crl file, plus in development the data directory's own CRL. */
export async function verifyCrls(config: Config, files: readonly string[]): Promise<Uint8Array[]> {
  const crls: Uint8Array[] = [];
  for (const file of files) crls.push(await readCrlInput(file));
  const own = join(configuredPkiPaths(config).shared, CRL_FILE_NAME);
  if (config.mode === 'development' && existsSync(own)) crls.push(new Uint8Array(readFileSync(own)));
  return crls;
}

/** `--online URL`: the registry asked through the platform's fetch, with a time limit per request. */
export function onlineRegistry(url: string): OnlineOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BubuhError('REQUEST_INVALID', {
      problem: `--online takes the registry's address, not "${url}"`,
    });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new BubuhError('REQUEST_INVALID', { problem: `--online takes an http(s) address, not "${url}"` });
  }
  return {
    registryUrl: url,
    fetch: async (address, init) => {
      const response = await fetch(address, {
        headers: { ...init.headers },
        signal: AbortSignal.timeout(registryTimeoutMs),
      });
      return { status: response.status, json: () => response.json() as Promise<unknown> };
    },
  };
}
