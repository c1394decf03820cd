/**
 * The shared contract harness (STYLE habit 4): every storage-facing test runs against SQLite always
 * and against PostgreSQL when DATABASE_URL is set, each test in a fresh database (a temp directory, or
 * a fresh schema that is dropped afterwards). Without DATABASE_URL the PostgreSQL half is skipped and
 * says so.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { openStorage, type Storage } from '../storage/database.js';

export type BackendName = 'sqlite' | 'postgres';

export const postgresSkipReason =
  'postgres: DATABASE_URL is not set, so the PostgreSQL half of this contract test was skipped';

export interface Backend {
  readonly name: BackendName;
  /** Options that open this backend's fresh database again (e.g. from a child process). */
  readonly openOptions: { dataDir: string; databaseUrl?: string; postgresSchema?: string };
  readonly storage: Storage;
}

export const backendNames: readonly BackendName[] = ['sqlite', 'postgres'];

export function postgresUrl(): string | undefined {
  const url = process.env['DATABASE_URL'];
  return url && /^postgres(ql)?:\/\//.test(url) ? url : undefined;
}

/** Opens a fresh database of the named backend; returns null when that backend is not available. */
export async function openFreshBackend(name: BackendName, postgresPoolMax = 10): Promise<Backend | null> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bubuh-test-'));
  if (name === 'sqlite') {
    const storage = await openStorage({ dataDir });
    return { name, openOptions: { dataDir }, storage };
  }
  const databaseUrl = postgresUrl();
  if (!databaseUrl) return null;
  const postgresSchema = `t_${randomBytes(6).toString('hex')}`;
  try {
    const storage = await openStorage({ dataDir, databaseUrl, postgresSchema, postgresPoolMax });
    return { name, openOptions: { dataDir, databaseUrl, postgresSchema }, storage };
  } catch (error) {
    await dropSchema(databaseUrl, postgresSchema);
    throw error;
  }
}

/** Drops a test schema through a connection of its own (used when opening the storage failed). */
async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

export async function disposeBackend(backend: Backend): Promise<void> {
  const schema = backend.openOptions.postgresSchema;
  if (schema) await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(backend.storage.db);
  await backend.storage.close();
  rmSync(backend.openOptions.dataDir, { recursive: true, force: true });
}

/**
 * Runs `body` once per backend as a subtest named after it, with a fresh database that is removed
 * afterwards. A backend that is not available is reported as a skipped subtest with its reason.
 */
export async function eachBackend(
  t: TestContext,
  body: (backend: Backend, t: TestContext) => Promise<void>,
  options: { postgresPoolMax?: number } = {},
): Promise<void> {
  for (const name of backendNames) {
    await t.test(name, async (sub) => {
      const backend = await openFreshBackend(name, options.postgresPoolMax);
      if (!backend) {
        sub.skip(postgresSkipReason);
        return;
      }
      try {
        await body(backend, sub);
      } finally {
        await disposeBackend(backend);
      }
    });
  }
}
