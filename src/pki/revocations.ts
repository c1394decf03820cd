/**
 * Revocations, kept in the database so every node agrees: a certificate the issuing CA issued (it goes
 * on the CRL) or an e-meterai serial (the registry row turns 'revoked' in the same transaction, and the
 * public serial record says so). The CRL file is derived from the rows: reissued when a revocation is
 * missing from it, when its nextUpdate comes near, or when it is absent, unreadable or not the CA's.
 */
import { createHash } from 'node:crypto';
import { BubuhError } from '../errors.js';
import { type Storage, withWriteTransaction } from '../storage/database.js';
import {
  type CrlFacts,
  crlSignedBy,
  isRevocationReason,
  issueCrl,
  nextCrlNumber,
  readCrlFacts,
  type RevocationReason,
  revocationReasons,
} from './crl.js';
import type { DevPki } from './dev-pki.js';
import { type PkiLocation, pkiPaths, readCrlFile, writeCrlFile } from './key-files.js';
import * as x509 from '@peculiar/x509';

export type RevocationKind = 'certificate' | 'stamp';

export interface RevocationRecord {
  readonly kind: RevocationKind;
  readonly serial: string;
  readonly reason: RevocationReason;
  readonly revokedAt: Date;
  readonly issuerFingerprint: string | null;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Lowercase hex SHA-256 of DER bytes: how the registry and the revocations name a certificate. */
export function fingerprintOf(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/** The reason named on the command line; REVOCATION_REASON_UNKNOWN for anything else. */
export function parseRevocationReason(text: string): RevocationReason {
  if (isRevocationReason(text)) return text;
  throw new BubuhError('REVOCATION_REASON_UNKNOWN', { reason: text, allowed: revocationReasons.join(', ') });
}

function recordOf(row: {
  kind: string;
  serial: string;
  reason: string;
  revoked_at: number;
  issuer_fingerprint: string | null;
}): RevocationRecord {
  return {
    kind: row.kind as RevocationKind,
    serial: row.serial,
    reason: isRevocationReason(row.reason) ? row.reason : 'unspecified',
    revokedAt: new Date(Number(row.revoked_at)),
    issuerFingerprint: row.issuer_fingerprint,
  };
}

export async function findRevocation(
  storage: Storage,
  kind: RevocationKind,
  serial: string,
): Promise<RevocationRecord | null> {
  const row = await storage.db
    .selectFrom('revocations')
    .selectAll()
    .where('kind', '=', kind)
    .where('serial', '=', serial)
    .executeTakeFirst();
  return row === undefined ? null : recordOf(row);
}

/** The certificates revoked under one issuing CA, oldest first. */
export async function certificateRevocations(
  storage: Storage,
  issuerFingerprint: string,
): Promise<RevocationRecord[]> {
  const rows = await storage.db
    .selectFrom('revocations')
    .selectAll()
    .where('kind', '=', 'certificate')
    .where('issuer_fingerprint', '=', issuerFingerprint)
    .orderBy('revoked_at')
    .orderBy('serial')
    .execute();
  return rows.map(recordOf);
}

function alreadyRevoked(existing: RevocationRecord): BubuhError {
  return new BubuhError('REVOCATION_EXISTS', {
    kind: existing.kind === 'stamp' ? 'e-meterai' : 'certificate',
    serial: existing.serial,
    revokedAt: existing.revokedAt.toISOString(),
    reason: existing.reason,
  });
}

export interface RevokeInput {
  readonly serial: string;
  readonly reason: RevocationReason;
  readonly now?: Date;
}

/** Records a certificate revocation; the caller reissues the CRL. */
export async function revokeCertificate(
  storage: Storage,
  input: RevokeInput & { readonly issuerFingerprint: string },
): Promise<RevocationRecord> {
  const record: RevocationRecord = {
    kind: 'certificate',
    serial: input.serial,
    reason: input.reason,
    revokedAt: new Date(Math.floor((input.now ?? new Date()).getTime() / 1000) * 1000),
    issuerFingerprint: input.issuerFingerprint,
  };
  return insertRevocation(storage, record, async () => {});
}

/** Revokes an e-meterai: the revocation row and the registry's status change commit together. */
export async function revokeStamp(storage: Storage, input: RevokeInput): Promise<RevocationRecord> {
  const record: RevocationRecord = {
    kind: 'stamp',
    serial: input.serial,
    reason: input.reason,
    revokedAt: new Date(Math.floor((input.now ?? new Date()).getTime() / 1000) * 1000),
    issuerFingerprint: null,
  };
  return insertRevocation(storage, record, async (trx) => {
    const updated = await trx
      .updateTable('stamp_registry')
      .set({ status: 'revoked' })
      .where('serial', '=', input.serial)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) {
      throw new BubuhError('REVOCATION_SERIAL_UNKNOWN', { serial: input.serial });
    }
  });
}

type Executor = Parameters<Parameters<typeof withWriteTransaction>[1]>[0];

async function insertRevocation(
  storage: Storage,
  record: RevocationRecord,
  alongside: (trx: Executor) => Promise<void>,
): Promise<RevocationRecord> {
  try {
    return await withWriteTransaction(storage, async (trx) => {
      const existing = await trx
        .selectFrom('revocations')
        .selectAll()
        .where('kind', '=', record.kind)
        .where('serial', '=', record.serial)
        .executeTakeFirst();
      if (existing !== undefined) throw alreadyRevoked(recordOf(existing));
      await alongside(trx);
      await trx
        .insertInto('revocations')
        .values({
          kind: record.kind,
          serial: record.serial,
          reason: record.reason,
          revoked_at: record.revokedAt.getTime(),
          issuer_fingerprint: record.issuerFingerprint,
        })
        .execute();
      return record;
    });
  } catch (error) {
    if (error instanceof BubuhError) throw error;
    // Another node revoked the same serial between our check and our insert: answer as if we had seen it.
    const existing = await findRevocation(storage, record.kind, record.serial);
    if (existing !== null) throw alreadyRevoked(existing);
    throw error;
  }
}

export interface CrlOptions {
  readonly validityDays: number;
  readonly now?: Date;
  /** Reissue even when the saved CRL is still good. */
  readonly force?: boolean;
}

export interface CurrentCrl {
  readonly der: Uint8Array;
  readonly facts: CrlFacts;
  readonly reissued: boolean;
}

/** Reissue when less than this is left before nextUpdate: a day, or half the lifetime when shorter. */
export function crlRenewalMarginMs(validityDays: number): number {
  return Math.min(DAY_MS, (validityDays * DAY_MS) / 2);
}

/** CRL bytes (as Latin-1 identity) this process already checked against the CA, bounded. */
const verifiedCrls = new Set<string>();

function identityOf(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

function entryKey(entries: readonly { serial: string; reason: string }[]): string {
  return entries
    .map((entry) => `${entry.serial}/${entry.reason}`)
    .sort()
    .join(',');
}

async function staleReason(
  saved: Uint8Array | null,
  pki: DevPki,
  revoked: readonly RevocationRecord[],
  options: CrlOptions,
  now: Date,
): Promise<{ facts: CrlFacts | null; stale: boolean }> {
  if (saved === null) return { facts: null, stale: true };
  let facts: CrlFacts;
  try {
    facts = readCrlFacts(saved);
  } catch {
    return { facts: null, stale: true };
  }
  const caSubject = new x509.X509Certificate(pki.issuingCa.certificate).subject;
  if (options.force || facts.issuer !== caSubject) return { facts, stale: true };
  const identity = identityOf(saved);
  if (!verifiedCrls.has(`${fingerprintOf(pki.issuingCa.certificate)}/${identity}`)) {
    if (!(await crlSignedBy(saved, pki.issuingCa.certificate))) return { facts, stale: true };
    if (verifiedCrls.size >= 64) verifiedCrls.clear();
    verifiedCrls.add(`${fingerprintOf(pki.issuingCa.certificate)}/${identity}`);
  }
  if (facts.nextUpdate === null) return { facts, stale: true };
  if (facts.nextUpdate.getTime() - now.getTime() < crlRenewalMarginMs(options.validityDays)) {
    return { facts, stale: true };
  }
  return { facts, stale: entryKey(facts.entries) !== entryKey(revoked) };
}

/**
 * One reissue at a time per PKI directory in this process. Nodes sharing the directory may reissue at
 * the same moment: each writes a complete CRL with the same entries through a rename, and the CRL
 * number never goes behind the clock, so whichever file stays is right.
 */
const crlLocks = new Map<string, Promise<unknown>>();

/**
 * The issuing CA's CRL as it must be now: the saved `crl.der` when it lists exactly the revocations in
 * the database and is not near its nextUpdate; otherwise a new one, saved before it is returned.
 */
export async function currentCrl(
  location: PkiLocation,
  storage: Storage,
  pki: DevPki,
  options: CrlOptions,
): Promise<CurrentCrl> {
  const lockKey = pkiPaths(location).shared;
  const previous = crlLocks.get(lockKey) ?? Promise.resolve();
  const run = previous.then(async () => {
    const now = options.now ?? new Date();
    const revoked = await certificateRevocations(storage, fingerprintOf(pki.issuingCa.certificate));
    const saved = await readCrlFile(location);
    const { facts, stale } = await staleReason(saved, pki, revoked, options, now);
    if (!stale && saved !== null && facts !== null) return { der: saved, facts, reissued: false };
    const der = await issueCrl(
      pki.issuingCa,
      revoked.map((record) => ({
        serial: record.serial,
        revokedAt: record.revokedAt,
        reason: record.reason,
      })),
      {
        thisUpdate: now,
        validityDays: options.validityDays,
        number: nextCrlNumber(facts?.number ?? null, now),
      },
    );
    await writeCrlFile(location, der);
    return { der, facts: readCrlFacts(der), reissued: true };
  });
  const settled = run.catch(() => {});
  crlLocks.set(lockKey, settled);
  void settled.then(() => {
    if (crlLocks.get(lockKey) === settled) crlLocks.delete(lockKey);
  });
  return run;
}
