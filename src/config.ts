/**
 * Configuration from the environment and an optional JSON file, validated once at start-up.
 * Every setting is declared in one table: its variable, kind, default and limits. A wrong value stops
 * start-up with CONFIG_INVALID naming the variable and what is allowed. The result is frozen.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BubuhError } from './errors.js';

type Kind =
  | { type: 'string'; pattern?: RegExp; allowed?: string }
  | { type: 'integer'; min: number; max: number }
  | { type: 'enum'; values: readonly string[] };

interface Setting {
  readonly key: keyof Config;
  readonly variable: string;
  readonly kind: Kind;
  readonly fallback: string | number | undefined;
  readonly secret?: boolean;
  readonly help: string;
}

export interface Config {
  readonly mode: 'development' | 'production';
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly databaseUrl: string | undefined;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly postgresPoolMax: number;
  readonly sqliteBusyTimeoutMs: number;
  readonly sqlitePageBytes: number;
  readonly sqliteCheckpointPages: number;
  readonly ledgerBatchTransfersMax: number;
  readonly ledgerQueueTransfersMax: number;
  readonly ledgerSweepIntervalMs: number;
  readonly ledgerSweepBatchMax: number;
  readonly shutdownGraceMs: number;
  readonly publicBaseUrl: string;
  readonly stampReservationTimeoutSeconds: number;
}

const settings: readonly Setting[] = [
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
    help: 'SQLite page size for a new database (a power of two); small pages write less per commit',
  },
  {
    key: 'sqliteCheckpointPages',
    variable: 'BUBUH_SQLITE_CHECKPOINT_PAGES',
    kind: { type: 'integer', min: 100, max: 1_000_000 },
    fallback: 32768,
    help: 'WAL pages written before SQLite copies them back into the database file (a checkpoint)',
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
  return Object.freeze(result) as unknown as Config;
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
    if (setting.secret && typeof value === 'string') value = redactUrl(value);
    out[setting.variable] = { value: value ?? null, help: setting.help };
  }
  return out;
}
