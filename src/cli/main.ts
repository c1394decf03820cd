/**
 * The `bubuh` command. A refused input ends with exit 2 and `CODE: message` on stderr, never a stack
 * trace; `ledger check` exits 1 when an invariant fails.
 */
import { parseArgs } from 'node:util';
import { type Config, describeConfig, loadConfig } from '../config.js';
import { isBubuhError, renderErrorsMarkdown } from '../errors.js';
import { buildApp } from '../http/app.js';
import { checkLedger } from '../ledger/check.js';
import { createLogger } from '../logger.js';
import { createNode } from '../node.js';
import { openStorage } from '../storage/database.js';
import { migrateToLatest } from '../storage/migrations.js';

const usage = `usage: bubuh <command> [options]

commands:
  serve                 start the HTTP service (data in BUBUH_DATA_DIR, port PORT)
  migrate               bring the database schema to the latest version
  config                print the effective configuration (secrets redacted)
  ledger check          recompute every balance from the transfers and check conservation
  docs errors           print docs/errors.md from the error registry

options:
  --data DIR            data directory (overrides BUBUH_DATA_DIR)
  --json                machine-readable output where offered
`;

type Command = (config: Config, flags: { json: boolean }) => Promise<number>;

async function storageFor(config: Config) {
  return openStorage({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    postgresPoolMax: 2,
    sqliteBusyTimeoutMs: config.sqliteBusyTimeoutMs,
  });
}

const serve: Command = async (config) => {
  const logger = createLogger(config.logLevel);
  const node = await createNode(config, logger);
  const expired = await node.sweep();
  node.startSweeper();
  const app = await buildApp(node);
  const address = await app.listen({ host: config.host, port: config.port });
  logger.info(
    { address, storage: node.storage.description, mode: config.mode, expiredAtStart: expired },
    config.mode === 'development'
      ? 'bubuh is serving in DEVELOPMENT mode (embedded defaults; not for real money)'
      : 'bubuh is serving',
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing admitted work');
    const force = setTimeout(() => process.exit(1), config.shutdownGraceMs);
    force.unref();
    await app.close();
    await node.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  return new Promise<number>(() => {});
};

const migrate: Command = async (config) => {
  const storage = await storageFor(config);
  try {
    const report = await migrateToLatest(storage.db);
    process.stdout.write(`${storage.description}: schema at ${report.latest}\n`);
  } finally {
    await storage.close();
  }
  return 0;
};

const printConfig: Command = async (config) => {
  process.stdout.write(`${JSON.stringify(describeConfig(config), null, 2)}\n`);
  return 0;
};

const ledgerCheck: Command = async (config, flags) => {
  const storage = await storageFor(config);
  try {
    const report = await checkLedger(storage);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } else {
      const lines = [
        `ledger check (${storage.description})`,
        `  accounts: ${report.accounts}`,
        `  transfers: ${report.transfers}`,
        `  pending (open): ${report.pendingOpen}`,
        `  posted: debits ${report.totals.debitsPosted} = credits ${report.totals.creditsPosted}`,
        `  pending: debits ${report.totals.debitsPending} = credits ${report.totals.creditsPending}`,
        ...report.problems.map((problem) => `  PROBLEM: ${problem}`),
        report.ok ? 'result: PASS (every balance recomputes, conservation holds)' : 'result: FAIL',
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    return report.ok ? 0 : 1;
  } finally {
    await storage.close();
  }
};

const docsErrors: Command = async () => {
  process.stdout.write(renderErrorsMarkdown());
  return 0;
};

const commands: Record<string, Command> = {
  serve,
  migrate,
  config: printConfig,
  'ledger check': ledgerCheck,
  'docs errors': docsErrors,
};

export async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      data: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const name = positionals.slice(0, 2).join(' ');
  const command = commands[name] ?? commands[positionals[0] ?? ''];
  if (values.help || !command) {
    process.stdout.write(usage);
    return values.help ? 0 : 2;
  }
  const config = loadConfig(process.env, { BUBUH_DATA_DIR: values.data });
  return command(config, { json: values.json ?? false });
}

export function runCli(argv: readonly string[]): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (isBubuhError(error)) {
        process.stderr.write(`${error.code}: ${error.message}\n`);
        const cause = (error as { cause?: unknown }).cause;
        if (cause instanceof Error) process.stderr.write(`  cause: ${cause.message}\n`);
      } else if (
        error instanceof TypeError &&
        (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
      ) {
        process.stderr.write(`REQUEST_INVALID: ${error.message}\n${usage}`);
      } else {
        process.stderr.write(`INTERNAL: ${(error as Error)?.stack ?? String(error)}\n`);
        process.exitCode = 70;
        return;
      }
      process.exitCode = 2;
    },
  );
}
