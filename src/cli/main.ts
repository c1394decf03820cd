/**
 * The `bubuh` command. A refused input ends with exit 2 and `CODE: message` on stderr, never a stack
 * trace; `ledger check` exits 1 when an invariant fails.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Config, describeConfig, loadConfig } from '../config.js';
import { BubuhError, isBubuhError, renderErrorsMarkdown } from '../errors.js';
import { nodeInflateRaw } from '../pdf/inflate-node.js';
import { configuredPkiPaths } from '../pki/key-files.js';
import { createDrain } from '../cluster/drain.js';
import {
  onlineRegistry,
  pkiExport,
  pkiImport,
  pkiInit,
  pkiRevoke,
  pkiRotate,
  pkiShow,
  verifyCrls,
} from './pki-commands.js';
import { adminAllocate, adminMint } from '../commerce/admin-commands.js';
import { accountsApiKey, adminRole } from '../accounts/admin-commands.js';
import { createNodeStamper } from '../services/node-stamper.js';
import { verifyDocument } from '../verify/verify-document.js';
import { provisionDevelopmentQuota } from '../services/provision-development.js';
import { buildApp } from '../http/app.js';
import { missingServeNodeOptions, serveNodeOptions } from './serve-node-options.js';
import { checkLedger } from '../ledger/check.js';
import { createLogger } from '../logger.js';
import { createNode } from '../node.js';
import { migrationSchemaOf, openStorage } from '../storage/database.js';
import { migrateToLatest } from '../storage/migrations.js';

const usage = `usage: bubuh <command> [options]

commands:
  serve                 start the HTTP service (data in BUBUH_DATA_DIR, port PORT)
  migrate               bring the database schema to the latest version
  config                print the effective configuration (secrets redacted)
  ledger check          recompute every balance from the transfers and check conservation
  stamp IN.pdf -o OUT.pdf [--page N] [--at X,Y] [--size PT] [--password P] [--reason TEXT] [--lt]
                        put an e-meterai on IN.pdf (seal + PAdES B-T signature, appended as an
                        incremental update); default: last page, bottom right, 70 pt;
                        --lt adds a second update with the validation data (PAdES B-LT /DSS)
  verify FILE.pdf [--trust CERT ...] [--crl FILE ...] [--online URL] [--json]
                        check every signature and the e-meterai; exit 0 valid, 1 not, 2 unreadable
                        (trusts the data directory's development root, plus each --trust file)
                        --crl adds CRLs (DER or PEM; development adds its own); --online URL
                        asks that registry about each e-meterai (exists, same document, not revoked)
  pki init              create the development PKI in the data directory (never overwrites)
  pki import --root ROOT.pem --ca CA.pem --ca-key CA.key [--tsa TSA.pem --tsa-key TSA.key]
                        install a production hierarchy (no root key: it stays offline) after
                        checking it; without --tsa the issuing CA issues the TSA certificate
  pki show [--json]     certificates (subject, serial, validity, SHA-256, key) and the CRL
  pki rotate            issue a fresh signer certificate now (BUBUH_SIGNER_VALIDITY_DAYS)
  pki revoke SERIAL --reason R
                        revoke an e-meterai serial or a certificate serial (hex); R is an RFC 5280
                        reason: keyCompromise, cACompromise, affiliationChanged, superseded,
                        cessationOfOperation, privilegeWithdrawn, aACompromise, unspecified
  pki export --out DIR  write root.der, ca.der and crl.der (the bytes /pki/* serves)
  admin mint --quantity N
                        mint N e-meterai from the issuer into the operator's stock
  admin allocate --channel ID --quantity N [--fee RUPIAH]
                        move N from the operator's stock to a sales channel's stock (a new
                        channel is created with its fee per unit, default Rp0)
  admin role --phone P --add ROLE | --remove ROLE
                        grant or withdraw a role (customer, channel_operator, platform_operator,
                        issuer) of the account signed in with phone P
  accounts api-key create --phone P --name N
                        create an API key for the account of phone P (for a reseller's or an
                        institution's program); the key is printed once and never stored
  accounts api-key revoke ID
                        revoke an API key by its id (the 16 hex digits after "bbh_")
  docs errors           print docs/errors.md from the error registry

options:
  --data DIR            data directory (overrides BUBUH_DATA_DIR)
  --json                machine-readable output where offered
`;

interface Flags {
  readonly json: boolean;
  readonly positionals: readonly string[];
  readonly options: Readonly<Record<string, string | undefined>>;
  readonly lists: Readonly<Record<string, readonly string[] | undefined>>;
}

type Command = (config: Config, flags: Flags) => Promise<number>;

async function storageFor(config: Config) {
  return openStorage({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    postgresPoolMax: 2,
    sqliteBusyTimeoutMs: config.sqliteBusyTimeoutMs,
  });
}

const serve: Command = async (config) => {
  // The node id is in every log line (its requests' too: the server logs through this logger).
  const logger = createLogger(config.logLevel).child({ node: config.nodeId });
  const node = await createNode(config, logger);
  const expired = await node.sweep();
  node.startSweeper();
  const drain = createDrain(config.drainDelayMs);
  const app = await buildApp(node, { draining: () => drain.draining });
  // A deep accept queue: in a connection storm the kernel holds new connections until the event loop
  // takes them (and admission answers at once) instead of dropping SYNs that clients resend only
  // after 1, 3 and 7 seconds. Node's default is 511.
  const address = await app.listen({ host: config.host, port: config.port, backlog: config.listenBacklog });
  const missing = missingServeNodeOptions(process.execArgv, process.env['NODE_OPTIONS']);
  if (missing.length > 0) {
    logger.warn(
      { missing },
      `started without the Node options bubuh serve is meant to run with (npm start uses them): node ${serveNodeOptions.join(' ')} bin/bubuh.js serve`,
    );
  }
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
    // Draining: /readyz answers 503 so the load balancer stops sending here, while requests that
    // still arrive are served; then no new connections, the admitted requests finish, and close.
    logger.info({ signal, drainDelayMs: config.drainDelayMs }, 'draining: /readyz answers 503');
    await drain.start();
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
    const report = await migrateToLatest(
      storage.db,
      migrationSchemaOf(storage, { dataDir: config.dataDir, databaseUrl: config.databaseUrl }),
    );
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

function invalid(problem: string): never {
  throw new BubuhError('REQUEST_INVALID', { problem });
}

function parseStampOptions(flags: Flags) {
  const input = flags.positionals[1];
  const output = flags.options['output'];
  if (!input) invalid('name the PDF to stamp: bubuh stamp IN.pdf -o OUT.pdf');
  if (!output) invalid('name the output with -o OUT.pdf');
  const number = (name: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value)) invalid(`--${name} must be a number, not "${text}"`);
    return value;
  };
  const at = flags.options['at'];
  let corner: { x: number; y: number } | undefined;
  if (at !== undefined) {
    const parts = at.split(',');
    if (parts.length !== 2) invalid(`--at takes X,Y in points, not "${at}"`);
    corner = { x: number('at', parts[0])!, y: number('at', parts[1])! };
  }
  const page = number('page', flags.options['page']);
  if (page !== undefined && (!Number.isInteger(page) || page < 1)) invalid('--page is a page number from 1');
  return { input, output, corner, page, sizePt: number('size', flags.options['size']) };
}

function readInput(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new BubuhError('INPUT_FILE_UNREADABLE', { path, problem: (error as Error).message });
  }
}

const stamp: Command = async (config, flags) => {
  const options = parseStampOptions(flags);
  const pdf = readInput(options.input);
  const node = await createNode(config, createLogger('silent'));
  try {
    // B-LT: the /DSS also carries the issuing CA's current CRL, read from (and reissued against) the
    // revocations in the database.
    const longTerm = flags.options['lt'] === 'yes';
    const stamper = await createNodeStamper(config, node.ledger, longTerm ? { storage: node.storage } : {});
    const quota = await provisionDevelopmentQuota(node.ledger);
    const issued = await stamper.issue({
      pdf,
      quotaAccountId: quota.accountId,
      page: options.page ?? 'last',
      ...(options.corner ? options.corner : {}),
      ...(options.sizePt !== undefined ? { sizePt: options.sizePt } : {}),
      ...(flags.options['password'] !== undefined ? { password: flags.options['password'] } : {}),
      ...(flags.options['reason'] !== undefined ? { reason: flags.options['reason'] } : {}),
      ...(longTerm ? { longTerm: true } : {}),
    });
    writeFileSync(options.output, issued.pdf);
    const [account] = await node.ledger.lookupAccounts([quota.accountId]);
    const left = account ? account.creditsPosted - account.debitsPosted - account.debitsPending : 0;
    if (flags.json) {
      process.stdout.write(
        `${JSON.stringify({ serial: issued.serial, page: issued.pageNumber, added_bytes: issued.addedBytes, normalised: issued.normalised, output: options.output, quota_left: left })}\n`,
      );
      return 0;
    }
    const lines = [
      `stamped ${options.input} -> ${options.output}`,
      `  serial   ${issued.serial}`,
      `  page     ${issued.pageNumber}`,
      `  added    ${issued.addedBytes} bytes`,
      `  verify   ${config.publicBaseUrl}/s/${issued.serial}`,
      issued.normalised
        ? "  note     the file's cross-reference table was damaged and was rebuilt before stamping, so the output does not begin with the original bytes"
        : '  the original bytes are kept unchanged at the start of the output',
      `development mode: signed with this data directory's development keys (NOT FOR PRODUCTION)${stamper.developmentPkiCreated ? ', generated just now' : ''}; one unit spent from its development quota${quota.minted ? ` (topped up with ${quota.minted} units first)` : ''}, ${left} left`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    await node.close();
  }
};

/** A certificate file in PEM or DER. */
function readCertificate(path: string): Uint8Array {
  const bytes = readInput(path);
  const text = new TextDecoder('latin1').decode(bytes);
  const pem = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(text);
  return pem ? new Uint8Array(Buffer.from(pem[1]!.replace(/\s+/g, ''), 'base64')) : bytes;
}

function trustAnchors(config: Config, files: readonly string[]): Uint8Array[] {
  const anchors = files.map(readCertificate);
  const developmentRoot = join(configuredPkiPaths(config).shared, 'root.pem');
  if (config.mode === 'development' && existsSync(developmentRoot))
    anchors.push(readCertificate(developmentRoot));
  return anchors;
}

const verify: Command = async (config, flags) => {
  const file = flags.positionals[1];
  if (!file) invalid('name the PDF to verify: bubuh verify FILE.pdf');
  const pdf = readInput(file);
  const online = flags.options['online'];
  const report = await verifyDocument(pdf, {
    trustAnchors: trustAnchors(config, flags.lists['trust'] ?? []),
    inflate: nodeInflateRaw,
    crls: await verifyCrls(config, flags.lists['crl'] ?? []),
    ...(online !== undefined ? { online: onlineRegistry(online) } : {}),
  });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    const lines = [`${file}: ${report.verdict}`];
    for (const signature of report.signatures) {
      const kind = signature.isEmeterai
        ? `e-meterai ${signature.serial}`
        : `signature "${signature.fieldName}"`;
      lines.push(`  ${kind}: ${signature.verdict} (signed by ${signature.signerSubject ?? 'unknown'})`);
      for (const finding of signature.findings) lines.push(`    ${finding.code}: ${finding.en}`);
    }
    for (const finding of report.reasons) lines.push(`  ${finding.code}: ${finding.en}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return report.verdict === 'valid' || report.verdict === 'valid_with_later_changes' ? 0 : 1;
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
  stamp,
  verify,
  'docs errors': docsErrors,
  'admin mint': adminMint,
  'admin allocate': adminAllocate,
  'admin role': adminRole,
  'accounts api-key': accountsApiKey,
  'pki init': pkiInit,
  'pki import': pkiImport,
  'pki show': pkiShow,
  'pki rotate': pkiRotate,
  'pki revoke': pkiRevoke,
  'pki export': pkiExport,
};

export async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      data: { type: 'string' },
      output: { type: 'string', short: 'o' },
      page: { type: 'string' },
      at: { type: 'string' },
      size: { type: 'string' },
      password: { type: 'string' },
      reason: { type: 'string' },
      trust: { type: 'string', multiple: true },
      quantity: { type: 'string' },
      channel: { type: 'string' },
      fee: { type: 'string' },
      phone: { type: 'string' },
      name: { type: 'string' },
      add: { type: 'string' },
      remove: { type: 'string' },
      crl: { type: 'string', multiple: true },
      online: { type: 'string' },
      out: { type: 'string' },
      root: { type: 'string' },
      ca: { type: 'string' },
      'ca-key': { type: 'string' },
      tsa: { type: 'string' },
      'tsa-key': { type: 'string' },
      json: { type: 'boolean', default: false },
      lt: { type: 'boolean', default: false },
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
  const { json, help: _help, data: _data, trust, crl, lt, ...rest } = values;
  const options = { ...rest, lt: lt ? 'yes' : undefined };
  return command(config, { json: json ?? false, positionals, options, lists: { trust, crl } });
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
