/**
 * Configuration from the environment and an optional JSON file, validated once at start-up.
 * Every setting is declared in one table: its variable, kind, default and limits. A wrong value stops
 * start-up with CONFIG_INVALID naming the variable and what is allowed. The result is frozen.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BubuhError } from './errors.js';
import { clusterSettings, type ClusterConfig } from './cluster/settings.js';
import { connectionsSettings, type ConnectionsConfig } from './connections/settings.js';
import { overloadSettings, type OverloadConfig } from './overload/settings.js';
import { ratelimitSettings, type RatelimitConfig } from './ratelimit/settings.js';
import { waitingRoomSettings, type WaitingRoomConfig } from './waiting-room/settings.js';

type Kind =
  | { type: 'string'; pattern?: RegExp; allowed?: string }
  | { type: 'integer'; min: number; max: number }
  | { type: 'enum'; values: readonly string[] };

export interface Setting {
  readonly key: keyof Config;
  readonly variable: string;
  readonly kind: Kind;
  readonly fallback: string | number | undefined;
  readonly secret?: boolean;
  readonly help: string;
}

export interface Config
  extends OverloadConfig, RatelimitConfig, ConnectionsConfig, WaitingRoomConfig, ClusterConfig {
  readonly mode: 'development' | 'production';
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly databaseUrl: string | undefined;
  readonly redisUrl: string | undefined;
  readonly redisKeyPrefix: string;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly postgresPoolMax: number;
  readonly sqliteBusyTimeoutMs: number;
  readonly sqlitePageBytes: number;
  readonly sqliteCheckpointPages: number | undefined;
  readonly sqliteCacheKib: number;
  readonly sqliteCheckpointIntervalMs: number;
  readonly ledgerBatchTransfersMax: number;
  readonly ledgerQueueTransfersMax: number;
  readonly ledgerSweepIntervalMs: number;
  readonly ledgerSweepBatchMax: number;
  readonly shutdownGraceMs: number;
  readonly publicBaseUrl: string;
  readonly stampReservationTimeoutSeconds: number;
  readonly whatsappChannel: 'file' | 'http';
  readonly whatsappUrl: string | undefined;
  readonly whatsappSecret: string | undefined;
  readonly whatsappTimeoutMs: number;
  readonly sessionLifetimeSeconds: number;
  readonly otpSendsPerPhone: number;
  readonly otpSendsPerIp: number;
  readonly otpSendWindowSeconds: number;
  readonly idempotencyLeaseSeconds: number;
  readonly idempotencyRetentionHours: number;
  readonly signerValidityDays: number;
  readonly crlValidityDays: number;
  readonly paymentGateway: 'sandbox' | 'midtrans' | undefined;
  readonly paymentServerKey: string | undefined;
  readonly midtransSnapUrl: string;
  readonly midtransApiUrl: string;
  readonly paymentNotificationUrl: string | undefined;
  readonly paymentWindowSeconds: number;
  readonly paymentGatewayTimeoutMs: number;
  readonly paymentReconcileIntervalMs: number;
  readonly paymentReconcileDelaySeconds: number;
  readonly paymentReconcileBatchMax: number;
  readonly stampFileBytesMax: number;
  readonly stampPagesMax: number;
  readonly stampRetentionHours: number;
  readonly stampWorkers: number;
  readonly stampWorkerNice: number;
  readonly stampTasksPerThread: number;
  readonly stampQueueMax: number;
  readonly stampDeadlineMs: number;
  readonly stampUploadsPerAccount: number;
  readonly filesDir: string | undefined;
  readonly metricsToken: string | undefined;
  readonly batchBytesMax: number;
  readonly tsaUrl: string | undefined;
  readonly tsaTimeoutMs: number;
  readonly tsaPolicy: string | undefined;
  readonly keyStore: 'files' | 'pkcs11';
  readonly pkcs11Module: string | undefined;
  readonly pkcs11TokenLabel: string | undefined;
  readonly pkcs11Pin: string | undefined;
  readonly pkcs11KeyLabel: string;
}

const coreSettings: readonly Setting[] = [
  {
    key: 'mode',
    variable: 'BUBUH_MODE',
    kind: { type: 'enum', values: ['development', 'production'] },
    fallback: 'development',
    help: 'development generates its own keys and test stock and says so; production does neither',
  },
  {
    key: 'dataDir',
    variable: 'BUBUH_DATA_DIR',
    kind: { type: 'string', pattern: /^.+$/, allowed: 'a directory path' },
    fallback: './data',
    help: 'where the embedded database, keys and stamped files live',
  },
  {
    key: 'host',
    variable: 'HOST',
    kind: { type: 'string', pattern: /^[0-9A-Za-z.:-]+$/, allowed: 'an IP address or host name' },
    fallback: '127.0.0.1',
    help: 'address the HTTP server listens on (0.0.0.0 for all interfaces)',
  },
  {
    key: 'port',
    variable: 'PORT',
    kind: { type: 'integer', min: 0, max: 65535 },
    fallback: 8080,
    help: 'HTTP port (0 picks a free one)',
  },
  {
    key: 'databaseUrl',
    variable: 'DATABASE_URL',
    kind: {
      type: 'string',
      pattern: /^postgres(ql)?:\/\/.+/,
      allowed: 'a postgres:// URL, or unset for SQLite',
    },
    fallback: undefined,
    secret: true,
    help: 'PostgreSQL for many nodes; unset means the embedded SQLite file in the data directory',
  },
  {
    key: 'redisUrl',
    variable: 'REDIS_URL',
    kind: {
      type: 'string',
      pattern: /^rediss?:\/\/.+/,
      allowed: 'a redis:// or rediss:// URL, or unset for one node',
    },
    fallback: undefined,
    secret: true,
    help: 'Redis shared by many nodes for rate limits and the waiting room; unset keeps both in this node',
  },
  {
    key: 'redisKeyPrefix',
    variable: 'BUBUH_REDIS_PREFIX',
    kind: {
      type: 'string',
      pattern: /^[A-Za-z0-9:_-]{1,64}$/,
      allowed: '1 to 64 letters, digits, colons, dashes or underscores',
    },
    fallback: 'bubuh:',
    help: 'prefix of every Redis key, so one Redis can serve several deployments',
  },
  {
    key: 'logLevel',
    variable: 'LOG_LEVEL',
    kind: { type: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    fallback: 'info',
    help: 'pino log level',
  },
  {
    key: 'postgresPoolMax',
    variable: 'BUBUH_PG_POOL_MAX',
    kind: { type: 'integer', min: 1, max: 256 },
    fallback: 10,
    help: 'PostgreSQL connections per node',
  },
  {
    key: 'sqliteBusyTimeoutMs',
    variable: 'BUBUH_SQLITE_BUSY_TIMEOUT_MS',
    kind: { type: 'integer', min: 0, max: 60_000 },
    fallback: 5000,
    help: 'how long SQLite waits for another process holding the write lock',
  },
  {
    key: 'sqlitePageBytes',
    variable: 'BUBUH_SQLITE_PAGE_BYTES',
    kind: { type: 'integer', min: 512, max: 65536 },
    fallback: 1024,
    help: 'SQLite page size for a new database (a power of two); an existing database keeps its own',
  },
  {
    key: 'sqliteCheckpointPages',
    variable: 'BUBUH_SQLITE_CHECKPOINT_PAGES',
    kind: { type: 'integer', min: 100, max: 1_000_000 },
    fallback: undefined,
    help: 'WAL pages written before SQLite copies them back into the database file (a checkpoint); unset: 32 MiB of pages of the database’s size',
  },
  {
    key: 'sqliteCacheKib',
    variable: 'BUBUH_SQLITE_CACHE_KIB',
    kind: { type: 'integer', min: 64, max: 1_048_576 },
    fallback: 4000,
    help: 'SQLite page cache of the node’s connection, KiB; kept small because SQLite walks the whole cache at the end of most write transactions',
  },
  {
    key: 'sqliteCheckpointIntervalMs',
    variable: 'BUBUH_SQLITE_CHECKPOINT_INTERVAL_MS',
    kind: { type: 'integer', min: 0, max: 60_000 },
    fallback: 250,
    help: 'how often a thread of its own copies the WAL back into the SQLite file, so that the event loop finds little left to copy at its own checkpoint; 0 leaves checkpoints to SQLite alone',
  },
  {
    key: 'ledgerBatchTransfersMax',
    variable: 'BUBUH_LEDGER_BATCH_TRANSFERS_MAX',
    kind: { type: 'integer', min: 1, max: 8192 },
    fallback: 1024,
    help: 'most transfers committed together in one group-commit transaction',
  },
  {
    key: 'ledgerQueueTransfersMax',
    variable: 'BUBUH_LEDGER_QUEUE_TRANSFERS_MAX',
    kind: { type: 'integer', min: 1, max: 1_000_000 },
    fallback: 16_384,
    help: 'most transfers waiting for a commit; past it the ledger refuses with LEDGER_OVERLOADED',
  },
  {
    key: 'ledgerSweepIntervalMs',
    variable: 'BUBUH_LEDGER_SWEEP_INTERVAL_MS',
    kind: { type: 'integer', min: 10, max: 3_600_000 },
    fallback: 1000,
    help: 'how often expired pending transfers are voided',
  },
  {
    key: 'ledgerSweepBatchMax',
    variable: 'BUBUH_LEDGER_SWEEP_BATCH_MAX',
    kind: { type: 'integer', min: 1, max: 100_000 },
    fallback: 1000,
    help: 'most expired pending transfers voided in one sweep transaction',
  },
  {
    key: 'shutdownGraceMs',
    variable: 'BUBUH_SHUTDOWN_GRACE_MS',
    kind: { type: 'integer', min: 0, max: 600_000 },
    fallback: 10_000,
    help: 'how long a stopping node lets admitted work finish',
  },
  {
    key: 'publicBaseUrl',
    variable: 'BUBUH_PUBLIC_URL',
    // The QR code holds `<url>/s/<serial>` and stays small only up to 80 characters in all.
    kind: {
      type: 'string',
      pattern: /^https?:\/\/[^\s/]+(:\d+)?$/,
      allowed: 'http(s)://host[:port] with no path',
    },
    fallback: 'http://localhost:8080',
    help: 'public address of this service; seals link to <url>/s/<serial>',
  },
  {
    key: 'stampReservationTimeoutSeconds',
    variable: 'BUBUH_STAMP_RESERVATION_TIMEOUT_S',
    kind: { type: 'integer', min: 5, max: 3600 },
    fallback: 120,
    help: 'a unit reserved for a stamp returns by itself after this long if the stamp never finishes',
  },
  {
    key: 'signerValidityDays',
    variable: 'BUBUH_SIGNER_VALIDITY_DAYS',
    kind: { type: 'integer', min: 2, max: 825 },
    fallback: 30,
    help: 'lifetime of a node signer certificate issued by `bubuh pki init`/`rotate` or renewed before expiry',
  },
  {
    key: 'crlValidityDays',
    variable: 'BUBUH_CRL_VALIDITY_DAYS',
    kind: { type: 'integer', min: 1, max: 90 },
    fallback: 7,
    help: "days between a CRL's thisUpdate and nextUpdate; the CRL is reissued on a revocation and a day before",
  },
  {
    key: 'paymentGateway',
    variable: 'BUBUH_PAYMENT_GATEWAY',
    kind: { type: 'enum', values: ['sandbox', 'midtrans'] },
    fallback: undefined,
    help: 'payment gateway: sandbox (built in, fake money; the default in development) or midtrans (the default in production)',
  },
  {
    key: 'paymentServerKey',
    variable: 'BUBUH_PAYMENT_SERVER_KEY',
    kind: {
      type: 'string',
      pattern: /^[A-Za-z0-9_-]{8,200}$/,
      allowed: 'a gateway server key (letters, digits, - and _)',
    },
    fallback: undefined,
    secret: true,
    help: 'the gateway server key: authenticates calls to the gateway and signs its notifications (development sandbox: a built-in key when unset)',
  },
  {
    key: 'midtransSnapUrl',
    variable: 'BUBUH_MIDTRANS_SNAP_URL',
    kind: {
      type: 'string',
      pattern: /^https?:\/\/[^\s]+[^/\s]$/,
      allowed: 'http(s)://host[/path] without a trailing slash',
    },
    fallback: 'https://app.sandbox.midtrans.com/snap',
    help: 'Midtrans Snap base URL (POST <url>/v1/transactions); production: https://app.midtrans.com/snap',
  },
  {
    key: 'midtransApiUrl',
    variable: 'BUBUH_MIDTRANS_API_URL',
    kind: {
      type: 'string',
      pattern: /^https?:\/\/[^\s]+[^/\s]$/,
      allowed: 'http(s)://host[/path] without a trailing slash',
    },
    fallback: 'https://api.sandbox.midtrans.com',
    help: 'Midtrans Core API base URL (status and refund); production: https://api.midtrans.com',
  },
  {
    key: 'paymentNotificationUrl',
    variable: 'BUBUH_PAYMENT_NOTIFICATION_URL',
    kind: { type: 'string', pattern: /^https?:\/\/[^\s]+$/, allowed: 'an http(s) URL' },
    fallback: undefined,
    help: 'where the built-in sandbox sends its notifications; unset: this node, /v1/payments/notifications',
  },
  {
    key: 'paymentWindowSeconds',
    variable: 'BUBUH_PAYMENT_WINDOW_S',
    kind: { type: 'integer', min: 1, max: 604_800 },
    fallback: 3600,
    help: 'how long an order waits for payment; its stock is reserved that long and released after',
  },
  {
    key: 'paymentGatewayTimeoutMs',
    variable: 'BUBUH_PAYMENT_GATEWAY_TIMEOUT_MS',
    kind: { type: 'integer', min: 100, max: 120_000 },
    fallback: 10_000,
    help: 'longest wait for one call to the payment gateway',
  },
  {
    key: 'paymentReconcileIntervalMs',
    variable: 'BUBUH_PAYMENT_RECONCILE_INTERVAL_MS',
    kind: { type: 'integer', min: 100, max: 86_400_000 },
    fallback: 60_000,
    help: 'how often orders left waiting (and refunds not yet paid out) are checked with the gateway',
  },
  {
    key: 'paymentReconcileDelaySeconds',
    variable: 'BUBUH_PAYMENT_RECONCILE_DELAY_S',
    kind: { type: 'integer', min: 0, max: 86_400 },
    fallback: 120,
    help: 'an order is asked about only once it has waited this long (its notification usually comes first)',
  },
  {
    key: 'paymentReconcileBatchMax',
    variable: 'BUBUH_PAYMENT_RECONCILE_BATCH_MAX',
    kind: { type: 'integer', min: 1, max: 10_000 },
    fallback: 200,
    help: 'most orders (and refunds) one reconciliation round asks the gateway about',
  },
  {
    key: 'stampFileBytesMax',
    variable: 'BUBUH_STAMP_FILE_BYTES_MAX',
    kind: { type: 'integer', min: 1024, max: 200 * 1024 * 1024 },
    fallback: 20 * 1024 * 1024,
    help: 'largest PDF accepted for stamping, in bytes (checked while the upload streams in)',
  },
  {
    key: 'stampPagesMax',
    variable: 'BUBUH_STAMP_PAGES_MAX',
    kind: { type: 'integer', min: 1, max: 1_000_000 },
    fallback: 5000,
    help: 'most pages a PDF may have to be stamped (PDF_TOO_MANY_PAGES past it; the quota comes back)',
  },
  {
    key: 'stampRetentionHours',
    variable: 'BUBUH_STAMP_RETENTION_HOURS',
    kind: { type: 'integer', min: 1, max: 24 * 90 },
    fallback: 72,
    help: 'how long a stamped file can be downloaded again; then it is deleted',
  },
  {
    key: 'stampWorkers',
    variable: 'BUBUH_STAMP_WORKERS',
    kind: { type: 'integer', min: 0, max: 256 },
    fallback: 0,
    help: 'worker threads that stamp; 0 means one per CPU core',
  },
  {
    key: 'stampWorkerNice',
    variable: 'BUBUH_STAMP_WORKER_NICE',
    kind: { type: 'integer', min: 0, max: 19 },
    fallback: 10,
    help: 'scheduling niceness of the stamping threads (Linux): the thread that admits and refuses requests runs first when the CPU is short; 0 leaves them equal',
  },
  {
    key: 'stampTasksPerThread',
    variable: 'BUBUH_STAMP_TASKS_PER_THREAD',
    kind: { type: 'integer', min: 1, max: 64 },
    fallback: 16,
    help: "stamps a stamping thread holds at once: one stamping, the others waiting for their file's write and fsync; a disk with slow fsyncs wants more; each holds its upload and result in memory",
  },
  {
    key: 'stampQueueMax',
    variable: 'BUBUH_STAMP_QUEUE_MAX',
    kind: { type: 'integer', min: 1, max: 100000 },
    fallback: 256,
    help: 'stamps that may wait for a worker; past this a stamp is refused at once with Retry-After',
  },
  {
    key: 'stampDeadlineMs',
    variable: 'BUBUH_STAMP_DEADLINE_MS',
    kind: { type: 'integer', min: 100, max: 600000 },
    fallback: 10000,
    help: 'a stamp that cannot start within this long is refused at once rather than left waiting',
  },
  {
    key: 'stampUploadsPerAccount',
    variable: 'BUBUH_STAMP_UPLOADS_PER_ACCOUNT',
    kind: { type: 'integer', min: 1, max: 1000 },
    fallback: 4,
    help: 'stamps one account may have in progress at once on this node',
  },
  {
    key: 'filesDir',
    variable: 'BUBUH_FILES_DIR',
    kind: { type: 'string', pattern: /^.+$/, allowed: 'a directory path' },
    fallback: undefined,
    help: 'where stamped files are kept for download (default <data dir>/files; share it between nodes)',
  },
  {
    key: 'batchBytesMax',
    variable: 'BUBUH_BATCH_BYTES_MAX',
    kind: { type: 'integer', min: 1024, max: 2 * 1024 * 1024 * 1024 },
    fallback: 200 * 1024 * 1024,
    help: 'largest upload of one bulk stamping job (all files, or the ZIP expanded), in bytes',
  },
  {
    key: 'metricsToken',
    variable: 'BUBUH_METRICS_TOKEN',
    kind: { type: 'string', pattern: /^\S{16,256}$/, allowed: '16–256 characters without spaces' },
    fallback: undefined,
    secret: true,
    help: 'when set, GET /metrics requires "Authorization: Bearer <token>"; unset, it is open',
  },
  {
    key: 'tsaUrl',
    variable: 'BUBUH_TSA_URL',
    kind: { type: 'string', pattern: /^https?:\/\/\S+$/, allowed: 'an http(s):// URL' },
    fallback: undefined,
    help: 'an external RFC 3161 time-stamping authority for PAdES B-T stamps; unset means the built-in TSA',
  },
  {
    key: 'tsaTimeoutMs',
    variable: 'BUBUH_TSA_TIMEOUT_MS',
    kind: { type: 'integer', min: 100, max: 60_000 },
    fallback: 5000,
    help: 'how long a stamp waits for the external TSA before it fails with TSA_UNAVAILABLE (and is refunded)',
  },
  {
    key: 'tsaPolicy',
    variable: 'BUBUH_TSA_POLICY',
    kind: { type: 'string', pattern: /^[0-2](\.\d{1,40}){1,30}$/, allowed: 'a dotted object identifier' },
    fallback: undefined,
    help: 'the policy OID the built-in TSA issues tokens under (default: its own 2.25 UUID policy)',
  },
  {
    key: 'keyStore',
    variable: 'BUBUH_KEYSTORE',
    kind: { type: 'enum', values: ['files', 'pkcs11'] },
    fallback: 'files',
    help: "where the node's signing key lives: files (PKCS#8 in <data>/pki, mode 0600) or pkcs11 (an HSM token; the key never leaves it)",
  },
  {
    key: 'pkcs11Module',
    variable: 'BUBUH_PKCS11_MODULE',
    kind: { type: 'string', pattern: /^\S.*$/, allowed: 'the path of a PKCS#11 module (.so)' },
    fallback: undefined,
    help: 'the PKCS#11 module of the HSM, e.g. /usr/lib/softhsm/libsofthsm2.so (required with BUBUH_KEYSTORE=pkcs11)',
  },
  {
    key: 'pkcs11TokenLabel',
    variable: 'BUBUH_PKCS11_TOKEN_LABEL',
    kind: {
      type: 'string',
      pattern: /^[^\s](.{0,30}[^\s])?$/,
      allowed: 'a token label of 1 to 32 characters',
    },
    fallback: undefined,
    help: 'label of the token that holds the signing key (required with BUBUH_KEYSTORE=pkcs11)',
  },
  {
    key: 'pkcs11Pin',
    variable: 'BUBUH_PKCS11_PIN',
    kind: { type: 'string', pattern: /^.{1,255}$/, allowed: 'the token user PIN' },
    fallback: undefined,
    secret: true,
    help: "the token's user PIN (required with BUBUH_KEYSTORE=pkcs11)",
  },
  {
    key: 'pkcs11KeyLabel',
    variable: 'BUBUH_PKCS11_KEY_LABEL',
    kind: { type: 'string', pattern: /^[A-Za-z0-9._-]{1,64}$/, allowed: 'letters, digits, . _ - (1 to 64)' },
    fallback: 'bubuh-signer',
    help: "CKA_LABEL of the node's signing key in the token; generated there on first start when absent",
  },
  {
    key: 'whatsappChannel',
    variable: 'BUBUH_WHATSAPP_CHANNEL',
    kind: { type: 'enum', values: ['file', 'http'] },
    fallback: 'file',
    help: 'how sign-in codes leave: file appends to <data>/outbox/whatsapp.jsonl (development only); http posts signed requests to BUBUH_WHATSAPP_URL (required in production)',
  },
  {
    key: 'whatsappUrl',
    variable: 'BUBUH_WHATSAPP_URL',
    kind: { type: 'string', pattern: /^https?:\/\/\S+$/, allowed: 'an http(s):// URL' },
    fallback: undefined,
    help: 'the WhatsApp Business API-style endpoint the http channel posts messages to',
  },
  {
    key: 'whatsappSecret',
    variable: 'BUBUH_WHATSAPP_SECRET',
    kind: { type: 'string', pattern: /^\S{16,}$/, allowed: 'at least 16 characters without spaces' },
    fallback: undefined,
    secret: true,
    help: 'key of the HMAC-SHA256 body signature the http channel sends in X-Bubuh-Signature',
  },
  {
    key: 'whatsappTimeoutMs',
    variable: 'BUBUH_WHATSAPP_TIMEOUT_MS',
    kind: { type: 'integer', min: 100, max: 60_000 },
    fallback: 5000,
    help: 'how long one http channel attempt may take before it counts as failed and is retried later',
  },
  {
    key: 'sessionLifetimeSeconds',
    variable: 'BUBUH_SESSION_LIFETIME_S',
    kind: { type: 'integer', min: 60, max: 31_536_000 },
    fallback: 2_592_000,
    help: 'how long a sign-in session (bearer token) lasts; default 30 days',
  },
  {
    key: 'otpSendsPerPhone',
    variable: 'BUBUH_OTP_SENDS_PER_PHONE',
    kind: { type: 'integer', min: 1, max: 100 },
    fallback: 3,
    help: 'most sign-in codes sent to one phone number per window; more are refused with OTP_SEND_LIMITED',
  },
  {
    key: 'otpSendsPerIp',
    variable: 'BUBUH_OTP_SENDS_PER_IP',
    kind: { type: 'integer', min: 1, max: 1_000_000 },
    fallback: 30,
    help: 'most sign-in codes requested from one client address per window (a post office counter shares one)',
  },
  {
    key: 'otpSendWindowSeconds',
    variable: 'BUBUH_OTP_SEND_WINDOW_S',
    kind: { type: 'integer', min: 60, max: 86_400 },
    fallback: 900,
    help: 'the sliding window of both sign-in code limits; default 15 minutes',
  },
  {
    key: 'idempotencyLeaseSeconds',
    variable: 'BUBUH_IDEMPOTENCY_LEASE_S',
    kind: { type: 'integer', min: 5, max: 3600 },
    fallback: 300,
    help: 'a request left in progress by a crashed node may be retried with the same Idempotency-Key after this long',
  },
  {
    key: 'idempotencyRetentionHours',
    variable: 'BUBUH_IDEMPOTENCY_RETENTION_H',
    kind: { type: 'integer', min: 24, max: 8760 },
    fallback: 24,
    help: 'how long an Idempotency-Key and its first response are kept (at least 24 hours)',
  },
];

const settings: readonly Setting[] = [
  ...coreSettings,
  ...overloadSettings,
  ...ratelimitSettings,
  ...connectionsSettings,
  ...waitingRoomSettings,
  ...clusterSettings,
];

export const configSettings: readonly Setting[] = settings;

function parseValue(setting: Setting, raw: string): string | number {
  const kind = setting.kind;
  const refuse = (problem: string): never => {
    throw new BubuhError('CONFIG_INVALID', { variable: setting.variable, problem });
  };
  if (kind.type === 'integer') {
    if (!/^-?\d+$/.test(raw.trim()))
      refuse(`"${raw}" is not a whole number (allowed: ${kind.min}..${kind.max})`);
    const value = Number(raw.trim());
    if (value < kind.min || value > kind.max) refuse(`${value} is outside ${kind.min}..${kind.max}`);
    return value;
  }
  if (kind.type === 'enum') {
    if (!kind.values.includes(raw)) refuse(`"${raw}" is not one of ${kind.values.join(', ')}`);
    return raw;
  }
  if (kind.pattern && !kind.pattern.test(raw)) refuse(`"${raw}" is not ${kind.allowed ?? 'allowed'}`);
  return raw;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new BubuhError('CONFIG_FILE_UNREADABLE', { path, problem: (error as Error).message });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new BubuhError('CONFIG_FILE_UNREADABLE', {
      path,
      problem: `not JSON: ${(error as Error).message}`,
    });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new BubuhError('CONFIG_FILE_UNREADABLE', {
      path,
      problem: 'expected a JSON object of VARIABLE: value',
    });
  }
  const known = new Set(settings.map((setting) => setting.variable));
  for (const name of Object.keys(parsed)) {
    if (!known.has(name)) {
      throw new BubuhError('CONFIG_INVALID', { variable: name, problem: `unknown setting in ${path}` });
    }
  }
  return parsed as Record<string, unknown>;
}

/**
 * Builds the configuration: environment variables win over the file named by BUBUH_CONFIG_FILE, which
 * wins over the defaults. `overrides` (variable names) win over everything; tests and the CLI use them.
 */
export function loadConfig(
  environment: Readonly<Record<string, string | undefined>> = process.env,
  overrides: Readonly<Record<string, string | number | undefined>> = {},
): Config {
  const filePath = environment['BUBUH_CONFIG_FILE'];
  const fromFile = filePath ? readConfigFile(filePath) : {};
  const result: Record<string, unknown> = {};
  for (const setting of settings) {
    const raw =
      overrides[setting.variable] ?? environment[setting.variable] ?? fromFile[setting.variable] ?? undefined;
    if (raw === undefined || raw === '') {
      result[setting.key] = setting.fallback;
      continue;
    }
    result[setting.key] = parseValue(setting, String(raw));
  }
  result['dataDir'] = resolve(String(result['dataDir']));
  const pageBytes = Number(result['sqlitePageBytes']);
  if ((pageBytes & (pageBytes - 1)) !== 0) {
    throw new BubuhError('CONFIG_INVALID', {
      variable: 'BUBUH_SQLITE_PAGE_BYTES',
      problem: `${pageBytes} is not a power of two (512, 1024, 2048, … 65536)`,
    });
  }
  const publicBaseUrl = String(result['publicBaseUrl']);
  if (publicBaseUrl.length > 55) {
    throw new BubuhError('CONFIG_INVALID', {
      variable: 'BUBUH_PUBLIC_URL',
      problem: `"${publicBaseUrl}" is ${publicBaseUrl.length} characters; at most 55 fit the seal's QR code`,
    });
  }
  checkWhatsappChannel(result);
  return Object.freeze(result) as unknown as Config;
}

/** Production must send codes over http, and the http channel needs its endpoint and secret. */
function checkWhatsappChannel(result: Record<string, unknown>): void {
  const channel = result['whatsappChannel'];
  if (result['mode'] === 'production' && channel !== 'http') {
    throw new BubuhError('CONFIG_INVALID', {
      variable: 'BUBUH_WHATSAPP_CHANNEL',
      problem: 'production sends sign-in codes over http; the file outbox is for development only',
    });
  }
  if (channel !== 'http') return;
  for (const [key, variable] of [
    ['whatsappUrl', 'BUBUH_WHATSAPP_URL'],
    ['whatsappSecret', 'BUBUH_WHATSAPP_SECRET'],
  ] as const) {
    if (result[key] === undefined) {
      throw new BubuhError('CONFIG_INVALID', {
        variable,
        problem: 'required when BUBUH_WHATSAPP_CHANNEL=http',
      });
    }
  }
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = 'REDACTED';
    return parsed.toString();
  } catch {
    return 'REDACTED';
  }
}

/** The effective configuration keyed by variable, secrets redacted, for `bubuh config`. */
export function describeConfig(config: Config): Record<string, { value: unknown; help: string }> {
  const out: Record<string, { value: unknown; help: string }> = {};
  for (const setting of settings) {
    let value: unknown = config[setting.key];
    if (setting.secret && typeof value === 'string')
      value = setting.key === 'databaseUrl' || setting.key === 'redisUrl' ? redactUrl(value) : 'REDACTED';
    out[setting.variable] = { value: value ?? null, help: setting.help };
  }
  return out;
}
