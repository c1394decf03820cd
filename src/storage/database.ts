/**
 * The single switch point between the embedded default (SQLite file, zero set-up) and PostgreSQL
 * (many nodes). Everything above this file talks Kysely and reads capability flags; nothing else
 * asks which database it is on.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  type Compilable,
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  type SqliteDialectConfig,
  sql,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import { BubuhError } from '../errors.js';
import { migrateToLatest } from './migrations.js';
import type { Database } from './schema.js';
import { Checkpointer } from './checkpointer.js';
import { WalSync } from './wal-sync.js';

export type DialectName = 'sqlite' | 'postgres';

export interface Capabilities {
  /** The statement that opens a write transaction and takes the locks it needs up front. */
  readonly beginWriteSql: string;
  /** Row locks with `FOR UPDATE` exist (PostgreSQL); SQLite locks the whole database instead. */
  readonly supportsRowLocks: boolean;
  /** More than one connection can write at once (PostgreSQL); SQLite has one writer. */
  readonly supportsConcurrentWriters: boolean;
}

export interface Storage {
  readonly dialect: DialectName;
  readonly capabilities: Capabilities;
  readonly db: Kysely<Database>;
  /**
   * The embedded database handle, for hot paths that run cached prepared statements synchronously.
   * Use it only inside `withSqliteConnection`, which holds Kysely's connection lock.
   */
  readonly sqlite: SqliteDatabase.Database | null;
  /** A short description without secrets, for logs. */
  readonly description: string;
  /**
   * Resolves once every change made so far is durable. On SQLite this is the WAL's fsync (every
   * Kysely query already waits for it; see `withSqliteConnection`'s `settle` option for work that
   * waits for it separately); on PostgreSQL a committed transaction is already durable.
   */
  settle(): Promise<void>;
  /**
   * SQLite only, for `withSqliteConnection`: called by the holder of the connection so that giving it
   * back does not wait for the WAL's fsync.
   */
  readonly skipSettleOnRelease?: () => void;
  /** SQLite with `sqliteCheckpointIntervalMs`: the thread that checkpoints off the event loop. */
  readonly checkpointer?: Checkpointer;
  close(): Promise<void>;
}

export interface StorageOptions {
  readonly dataDir: string;
  readonly databaseUrl?: string | undefined;
  readonly postgresPoolMax?: number;
  readonly sqliteBusyTimeoutMs?: number;
  /** Page size of a new SQLite database (default 1024; an existing one keeps its own). */
  readonly sqlitePageBytes?: number;
  /** WAL pages before an automatic checkpoint (default: 32 MiB of the database's pages). */
  readonly sqliteCheckpointPages?: number | undefined;
  /** The connection's page cache in KiB (default 4000). */
  readonly sqliteCacheKib?: number;
  /**
   * Run a PASSIVE checkpoint this often (ms) on a thread of its own (`checkpointer.ts`), so that the
   * automatic one on the event loop finds little left to copy; 0 or absent: no such thread.
   */
  readonly sqliteCheckpointIntervalMs?: number;
  /** Hears of a failed background checkpoint (the next one tries again), with the failures so far. */
  readonly onCheckpointFailure?: (message: string, failures: number) => void;
  /** PostgreSQL schema to use instead of `public` (tests isolate themselves this way). */
  readonly postgresSchema?: string;
  /** SQLite file name inside dataDir. */
  readonly sqliteFile?: string;
}

const int8Oid = 20;
const numericOid = 1700;

function parseSafeInteger(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value))
    throw new Error(`integer ${text} is beyond 2^53; refusing to lose precision`);
  return value;
}

function openPostgres(options: StorageOptions, url: string): Storage {
  const schema = options.postgresSchema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`invalid schema name ${schema}`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.postgresPoolMax ?? 10,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
    types: {
      getTypeParser: ((oid: number, format?: string) => {
        if (oid === int8Oid || oid === numericOid) return parseSafeInteger;
        return pg.types.getTypeParser(oid, format as 'text');
      }) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const parsed = new URL(url);
  return {
    dialect: 'postgres',
    capabilities: Object.freeze({
      beginWriteSql: 'begin',
      supportsRowLocks: true,
      supportsConcurrentWriters: true,
    }),
    db,
    sqlite: null,
    description: `postgres ${parsed.host}${parsed.pathname}${schema ? ` schema ${schema}` : ''}`,
    settle: () => Promise.resolve(),
    close: () => db.destroy(),
  };
}

/** Prepared statements kept per SQL text; past this many the cache starts over. */
const statementCacheMax = 512;

/**
 * Kysely's SQLite driver prepares every statement again on every query; compiling SQL cost more than
 * running it on the stamping path (measured with --cpu-prof). Queries come from a fixed set of query
 * builders, so their SQL texts repeat: this hands Kysely a view of the database whose `prepare` reuses
 * the statement for a text it has seen. better-sqlite3 statements are synchronous and re-prepare
 * themselves after a schema change, so reusing one is safe.
 */
function withStatementCache(database: SqliteDatabase.Database): SqliteDatabase.Database {
  const statements = new Map<string, SqliteDatabase.Statement>();
  const prepare = (source: string) => {
    let statement = statements.get(source);
    if (statement === undefined) {
      if (statements.size >= statementCacheMax) statements.clear();
      statement = database.prepare(source);
      statements.set(source, statement);
    }
    return statement;
  };
  return new Proxy(database, {
    get(target, property, receiver) {
      if (property === 'prepare') return prepare;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** WAL written before SQLite's own checkpoint, unless `sqliteCheckpointPages` says otherwise. */
const walCheckpointBytes = 32 * 1024 * 1024;

function openSqlite(options: StorageOptions): Storage {
  mkdirSync(options.dataDir, { recursive: true });
  const file = join(options.dataDir, options.sqliteFile ?? 'bubuh.sqlite');
  const database = new SqliteDatabase(file, { timeout: options.sqliteBusyTimeoutMs ?? 5000 });
  // 1 KiB pages: a stamp dirties leaves of several randomly keyed indexes (the serial, the document's
  // digest, the stamp's id), one leaf per row whatever the page size. 4 KiB pages make fewer system
  // calls a commit and win on the hot-account ledger benchmark, but the stamping service did about 5 %
  // fewer stamps a second with them in ABBA-ordered runs (docs/benchmarks.md). page_size only applies
  // before the first table exists: an existing database keeps its size. Rare, large checkpoints (32 MiB
  // of WAL): hot pages rewritten by many commits are copied back once.
  database.pragma(`page_size = ${options.sqlitePageBytes ?? 1024}`);
  const pageBytes = database.pragma('page_size', { simple: true }) as number;
  const checkpointPages = options.sqliteCheckpointPages ?? Math.round(walCheckpointBytes / pageBytes);
  database.pragma(`wal_autocheckpoint = ${checkpointPages}`);
  // A small page cache. At the end of a write transaction SQLite drops the cached pages past the end of
  // the database; a B-tree rebalance that reorders its pages parks one, for a moment, under the number
  // of the lock page (1 GiB in), so nearly every commit of a busy database walks the whole cache to
  // find it. With better-sqlite3's default of 16,000 KiB and 1 KiB pages that walk was ~150 µs a
  // commit; 4,000 KiB made a 20-row batch on a 100 MB database about a fifth cheaper, and misses are
  // served from the operating system's cache (docs/benchmarks.md).
  database.pragma(`cache_size = ${-(options.sqliteCacheKib ?? 4000)}`);
  // WAL lets readers run beside the writer. Durability before acknowledgement comes from WalSync
  // (wal-sync.ts): commits write the WAL without waiting (synchronous=NORMAL), and the WAL is fsync'd
  // off the event loop before anyone is answered — one fsync for every commit made before it.
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.defaultSafeIntegers(false);
  const totalChanges = database.prepare('select total_changes()').pluck();
  const wal = new WalSync(`${file}-wal`, () => totalChanges.get() as number);
  const dialect = new DurableSqliteDialect({ database: withStatementCache(database) }, wal);
  const db = new Kysely<Database>({ dialect });
  return {
    dialect: 'sqlite',
    capabilities: Object.freeze({
      beginWriteSql: 'begin immediate',
      supportsRowLocks: false,
      supportsConcurrentWriters: false,
    }),
    db,
    sqlite: database,
    description: `sqlite ${file}`,
    settle: () => wal.settle(),
    skipSettleOnRelease: () => {
      dialect.skipSettle = true;
    },
    close: async () => {
      await db.destroy();
      await wal.close();
    },
  };
}

/**
 * Kysely's SQLite dialect, except that giving the connection back also waits for the WAL to be on
 * disk (`WalSync.settle`), after the connection is free for the next holder. Every query, transaction
 * and `withSqliteConnection` goes through it, so no result reaches its caller before it is durable.
 */
class DurableSqliteDialect extends SqliteDialect {
  /**
   * Set by the current holder of the (single) connection when its caller settles later itself; read
   * and cleared as that holder gives the connection back, before anyone else can take it.
   */
  skipSettle = false;

  constructor(
    config: SqliteDialectConfig,
    private readonly wal: WalSync,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    const release = driver.releaseConnection.bind(driver);
    driver.releaseConnection = async (connection: DatabaseConnection) => {
      const skip = this.skipSettle;
      this.skipSettle = false;
      await release(connection);
      if (!skip) await this.wal.settle();
    };
    return driver;
  }
}

/** Where the migrator keeps its tables: the node's schema on PostgreSQL (`public` by default). */
export function migrationSchemaOf(storage: Storage, options: StorageOptions): string | undefined {
  return storage.dialect === 'postgres' ? (options.postgresSchema ?? 'public') : undefined;
}

/** Opens storage from configuration and brings its schema to the latest migration. */
export async function openStorage(options: StorageOptions): Promise<Storage> {
  const storage = options.databaseUrl ? openPostgres(options, options.databaseUrl) : openSqlite(options);
  try {
    if (storage.dialect === 'postgres' && options.postgresSchema) {
      await sql`create schema if not exists ${sql.id(options.postgresSchema)}`.execute(storage.db);
    }
    await migrateToLatest(storage.db, migrationSchemaOf(storage, options));
  } catch (error) {
    await storage.close().catch(() => {});
    throw new BubuhError('STORAGE_UNAVAILABLE', {}, { cause: error });
  }
  const intervalMs = options.sqliteCheckpointIntervalMs ?? 0;
  if (storage.sqlite === null || intervalMs <= 0) return storage;
  // Started once the migrations have made the file: the thread opens it, never creates it.
  const checkpointer = new Checkpointer(storage.sqlite.name, intervalMs, options.onCheckpointFailure);
  return {
    ...storage,
    checkpointer,
    close: async () => {
      await checkpointer.close();
      await storage.close();
    },
  };
}

/**
 * Runs `work` in one write transaction on one connection. The transaction commits only if `work`
 * resolves; any throw rolls it back and is rethrown.
 */
export async function withWriteTransaction<T>(
  storage: Storage,
  work: (trx: Transaction<Database> | Kysely<Database>) => Promise<T>,
): Promise<T> {
  return storage.db.connection().execute(async (connection) => {
    await sql.raw(storage.capabilities.beginWriteSql).execute(connection);
    let result: T;
    try {
      result = await work(connection);
    } catch (error) {
      await sql`rollback`.execute(connection).catch(() => {});
      throw error;
    }
    await sql`commit`.execute(connection);
    return result;
  });
}

/**
 * Runs synchronous work on the embedded database while holding Kysely's single connection, so no
 * Kysely transaction can be open on it at the same time. The work opens and ends its own transaction.
 *
 * Like every query, it resolves only once the WAL is durable — unless `settle: false`: then it resolves
 * as soon as the work is done, and the caller must `storage.settle()` before it tells anyone anything
 * that depends on what it wrote or read (a later commit's fsync covers earlier ones: the WAL is a log).
 */
export async function withSqliteConnection<T>(
  storage: Storage,
  work: (database: SqliteDatabase.Database) => T,
  options: { readonly settle?: boolean } = {},
): Promise<T> {
  const database = storage.sqlite;
  if (!database) throw new Error('withSqliteConnection: storage is not SQLite');
  const skipSettle = options.settle === false ? storage.skipSettleOnRelease : undefined;
  return storage.db.connection().execute(async () => {
    const result = work(database);
    skipSettle?.();
    return result;
  });
}

/**
 * A query Kysely builds and compiles once and then runs with new parameters, for lookups on every
 * request: building and compiling the same query each time costs more than running it (the session
 * lookup was most of Kysely's share of a busy event loop: docs/benchmarks.md). `build` uses placeholder
 * values; each run passes as many parameters, in the compiled order.
 */
export function compiledOnce<Row>(
  db: Kysely<Database>,
  build: (db: Kysely<Database>) => Compilable<Row>,
): (parameters: readonly unknown[]) => Promise<Row[]> {
  let compiled: CompiledQuery<Row> | null = null;
  return async (parameters) => {
    compiled ??= build(db).compile();
    if (parameters.length !== compiled.parameters.length) {
      throw new Error(
        `compiledOnce: ${parameters.length} parameters for a query that takes ${compiled.parameters.length}`,
      );
    }
    return (await db.executeQuery<Row>({ ...compiled, parameters })).rows;
  };
}

/** True when the storage answers a trivial query. */
export async function pingStorage(storage: Storage): Promise<boolean> {
  try {
    await sql`select 1`.execute(storage.db);
    return true;
  } catch {
    return false;
  }
}
