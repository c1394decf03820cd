/**
 * `bubuh pki …` and `bubuh verify --online/--crl` as a person runs them: real processes of this build,
 * real exit codes and output, a real node listening on port 0 for the registry, OpenSSL for the CRL.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as x509 from '@peculiar/x509';
import { loadConfig } from '../config.js';
import { buildApp } from '../http/app.js';
import { createLogger } from '../logger.js';
import { createNode } from '../node.js';
import { minimalPdf } from '../pdf/fixture-builder.js';
import { certificateSerialOf, readCrlFacts } from '../pki/crl.js';
import { generateDevPki } from '../pki/dev-pki.js';
import { runTool, toolSkipReason } from '../stamping/testing/tools.js';

const mainUrl = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'main.js')).href;
const DAY_MS = 86_400_000;
const FIVE_MINUTES_MS = 300_000;

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs this build's CLI in a child process (asynchronously, so an in-process server can answer it). */
function bubuh(args: string[], environment: Record<string, string> = {}): Promise<Run> {
  const { DATABASE_URL: _ignored, BUBUH_MODE: _mode, ...inherited } = process.env;
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { runCli } from ${JSON.stringify(mainUrl)}; runCli(process.argv.slice(1));`,
      '--',
      ...args,
    ],
    { env: { ...inherited, LOG_LEVEL: 'silent', ...environment }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

function pemDer(path: string): Uint8Array {
  return new Uint8Array(x509.PemConverter.decodeFirst(readFileSync(path, 'utf8')));
}

function expectedView(der: Uint8Array) {
  const certificate = new x509.X509Certificate(der);
  return {
    subject: certificate.subject,
    issuer: certificate.issuer,
    serial: certificateSerialOf(der),
    not_before: certificate.notBefore.toISOString(),
    not_after: certificate.notAfter.toISOString(),
    sha256: createHash('sha256').update(der).digest('hex'),
    key_algorithm: 'ECDSA P-256',
  };
}

test('pki init, show, rotate and export on a fresh data directory', async (t) => {
  const data = mkdtempSync(join(tmpdir(), 'bubuh-pki-cli-'));
  t.after(() => rmSync(data, { recursive: true, force: true }));
  const directory = join(data, 'pki');

  const missing = await bubuh(['pki', 'show', '--data', data]);
  assert.equal(missing.status, 2);
  assert.equal(
    missing.stderr,
    `PKI_MISSING: There is no PKI in ${directory}. Run \`bubuh pki init\` first.\n`,
  );

  const init = await bubuh(['pki', 'init', '--data', data], { BUBUH_SIGNER_VALIDITY_DAYS: '10' });
  assert.equal(init.status, 0, init.stderr);
  const root = expectedView(pemDer(join(directory, 'root.pem')));
  const lines = init.stdout.split('\n');
  assert.equal(lines[0], `created a development PKI in ${directory} (NOT FOR PRODUCTION)`);
  assert.equal(lines[1], `  root CA       ${root.subject}`);
  assert.equal(lines[2], `                serial  ${root.serial}`);
  assert.equal(lines[4], `                sha256  ${root.sha256}`);
  assert.equal(lines[5], '                key     ECDSA P-256');
  assert.match(lines[21]!, /^ {2}CRL {11}number \d+, this update \S+, next update \S+$/);
  assert.equal(lines[22], '                no revoked certificates');
  assert.deepEqual(readdirSync(directory).sort(), [
    'ca.key',
    'ca.pem',
    'crl.der',
    'issued',
    'root.key',
    'root.pem',
    'signer.key',
    'signer.pem',
    'tsa.key',
    'tsa.pem',
  ]);

  const again = await bubuh(['pki', 'init', '--data', data]);
  assert.equal(again.status, 2);
  assert.equal(
    again.stderr,
    `PKI_EXISTS: The directory ${directory} already holds a PKI; \`bubuh pki init\` never overwrites keys. Look at it with \`bubuh pki show\`, or choose another data directory.\n`,
  );

  const shown = await bubuh(['pki', 'show', '--json', '--data', data]);
  assert.equal(shown.status, 0, shown.stderr);
  const view = JSON.parse(shown.stdout);
  const firstSigner = pemDer(join(directory, 'signer.pem'));
  assert.deepEqual(view.root, root);
  assert.deepEqual(view.issuing_ca, expectedView(pemDer(join(directory, 'ca.pem'))));
  assert.deepEqual(view.signer, expectedView(firstSigner));
  assert.deepEqual(view.tsa, expectedView(pemDer(join(directory, 'tsa.pem'))));
  assert.equal(
    Date.parse(view.signer.not_after) - Date.parse(view.signer.not_before),
    10 * DAY_MS + FIVE_MINUTES_MS,
  );
  const crl = readCrlFacts(new Uint8Array(readFileSync(join(directory, 'crl.der'))));
  assert.deepEqual(view.crl, {
    number: String(crl.number),
    this_update: crl.thisUpdate.toISOString(),
    next_update: new Date(crl.thisUpdate.getTime() + 7 * DAY_MS).toISOString(),
    revoked: [],
  });

  const rotated = await bubuh(['pki', 'rotate', '--json', '--data', data], {
    BUBUH_SIGNER_VALIDITY_DAYS: '20',
  });
  assert.equal(rotated.status, 0, rotated.stderr);
  const rotation = JSON.parse(rotated.stdout);
  const secondSigner = pemDer(join(directory, 'signer.pem'));
  assert.deepEqual(rotation, { previous: expectedView(firstSigner), signer: expectedView(secondSigner) });
  assert.notEqual(rotation.signer.serial, rotation.previous.serial);
  assert.equal(
    Date.parse(rotation.signer.not_after) - Date.parse(rotation.signer.not_before),
    20 * DAY_MS + FIVE_MINUTES_MS,
  );
  assert.deepEqual(
    readdirSync(join(directory, 'issued')).sort(),
    [certificateSerialOf(firstSigner), certificateSerialOf(secondSigner), view.tsa.serial]
      .map((serial) => `${serial}.pem`)
      .sort(),
  );

  const out = join(data, 'public');
  const exported = await bubuh(['pki', 'export', '--out', out, '--data', data]);
  assert.equal(exported.status, 0, exported.stderr);
  assert.equal(exported.stdout.split('\n')[0], `exported the public PKI to ${out}`);
  assert.deepEqual(readdirSync(out).sort(), ['ca.der', 'crl.der', 'root.der']);
  assert.deepEqual(new Uint8Array(readFileSync(join(out, 'root.der'))), pemDer(join(directory, 'root.pem')));
  assert.deepEqual(new Uint8Array(readFileSync(join(out, 'ca.der'))), pemDer(join(directory, 'ca.pem')));
  assert.deepEqual(readFileSync(join(out, 'crl.der')), readFileSync(join(directory, 'crl.der')));

  const noOut = await bubuh(['pki', 'export', '--data', data]);
  assert.equal(noOut.status, 2);
  assert.equal(
    noOut.stderr,
    'REQUEST_INVALID: The request is not valid: name the directory with --out DIR.\n',
  );

  const opensslSkip = toolSkipReason('openssl');
  if (opensslSkip !== null) return t.diagnostic(opensslSkip);
  const chain = join(data, 'chain.pem');
  writeFileSync(
    chain,
    `${readFileSync(join(directory, 'ca.pem'), 'utf8')}\n${readFileSync(join(directory, 'root.pem'), 'utf8')}\n`,
  );
  const checked = await runTool('openssl', [
    'crl',
    '-inform',
    'DER',
    '-in',
    join(out, 'crl.der'),
    '-CAfile',
    chain,
    '-noout',
  ]);
  assert.equal(checked.status, 0, checked.stderr);
  assert.equal(checked.stderr.trim(), 'verify OK');
});

test('pki revoke and verify --online/--crl: an e-meterai and a signer certificate revoked', async (t) => {
  const data = mkdtempSync(join(tmpdir(), 'bubuh-revoke-cli-'));
  t.after(() => rmSync(data, { recursive: true, force: true }));
  const input = join(data, 'in.pdf');
  const stampedPath = join(data, 'stamped.pdf');
  writeFileSync(input, minimalPdf());
  const stamped = await bubuh(['stamp', input, '-o', stampedPath, '--json', '--data', data]);
  assert.equal(stamped.status, 0, stamped.stderr);
  const { serial } = JSON.parse(stamped.stdout) as { serial: string };

  const node = await createNode(
    loadConfig({}, { BUBUH_DATA_DIR: data, DATABASE_URL: undefined }),
    createLogger('silent'),
  );
  const app = await buildApp(node);
  t.after(async () => {
    await app.close();
    await node.close();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  assert.ok(address !== null && typeof address === 'object');
  const registry = `http://127.0.0.1:${address.port}`;

  const online = await bubuh(['verify', stampedPath, '--online', registry, '--data', data]);
  assert.equal(online.status, 0, online.stdout + online.stderr);
  assert.equal(online.stdout.split('\n')[0], `${stampedPath}: valid`);

  const noReason = await bubuh(['pki', 'revoke', serial, '--data', data]);
  assert.equal(noReason.status, 2);
  assert.match(
    noReason.stderr,
    /^REQUEST_INVALID: The request is not valid: name the reason with --reason R/,
  );
  const badReason = await bubuh(['pki', 'revoke', serial, '--reason', 'lost', '--data', data]);
  assert.equal(badReason.status, 2);
  assert.equal(
    badReason.stderr,
    'REVOCATION_REASON_UNKNOWN: Unknown revocation reason "lost". Use one of: unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn, aACompromise.\n',
  );
  const unknownCertificate = await bubuh([
    'pki',
    'revoke',
    '0a1b2c',
    '--reason',
    'superseded',
    '--data',
    data,
  ]);
  assert.equal(unknownCertificate.status, 2);
  assert.equal(
    unknownCertificate.stderr,
    'REVOCATION_SERIAL_UNKNOWN: "0a1b2c" is neither an e-meterai serial in the registry nor the serial of a certificate this issuing CA issued. Check it (`bubuh pki show` lists certificate serials).\n',
  );
  const mistyped = `${serial.slice(0, 20)}${serial.slice(21)}${serial.charAt(20)}`;
  if (mistyped !== serial) {
    const malformed = await bubuh(['pki', 'revoke', mistyped, '--reason', 'superseded', '--data', data]);
    assert.equal(malformed.status, 2);
    assert.match(malformed.stderr, /^(SERIAL_MALFORMED|REVOCATION_SERIAL_UNKNOWN): /);
  }

  const revoked = await bubuh([
    'pki',
    'revoke',
    serial,
    '--reason',
    'keyCompromise',
    '--json',
    '--data',
    data,
  ]);
  assert.equal(revoked.status, 0, revoked.stderr);
  const record = JSON.parse(revoked.stdout);
  assert.deepEqual(Object.keys(record), ['kind', 'serial', 'reason', 'revoked_at']);
  assert.deepEqual([record.kind, record.serial, record.reason], ['stamp', serial, 'keyCompromise']);
  const repeated = await bubuh(['pki', 'revoke', serial, '--reason', 'superseded', '--data', data]);
  assert.equal(repeated.status, 2);
  assert.equal(
    repeated.stderr,
    `REVOCATION_EXISTS: The e-meterai ${serial} was already revoked at ${record.revoked_at} (keyCompromise); a revocation is neither repeated nor undone.\n`,
  );

  const refused = await bubuh(['verify', stampedPath, '--online', registry, '--data', data]);
  assert.equal(refused.status, 1);
  const refusedLines = refused.stdout.split('\n');
  assert.equal(refusedLines[0], `${stampedPath}: invalid`);
  assert.ok(
    refusedLines.includes(
      `    registry_serial_revoked: The e-meterai ${serial} was revoked by the registry at ${record.revoked_at} (keyCompromise).`,
    ),
    refused.stdout,
  );
  // Offline the signature alone is still sound.
  const offline = await bubuh(['verify', stampedPath, '--data', data]);
  assert.equal(offline.status, 0, offline.stdout);

  // Now the signer certificate itself: the CRL lists it and the node gets a fresh signer at once.
  const signerPath = join(data, 'pki', 'signer.pem');
  const signerSerial = certificateSerialOf(pemDer(signerPath));
  const certificate = await bubuh([
    'pki',
    'revoke',
    signerSerial,
    '--reason',
    'keyCompromise',
    '--json',
    '--data',
    data,
  ]);
  assert.equal(certificate.status, 0, certificate.stderr);
  const certificateRecord = JSON.parse(certificate.stdout);
  assert.equal(certificateRecord.kind, 'certificate');
  assert.equal(certificateRecord.serial, signerSerial);
  assert.deepEqual(
    certificateRecord.crl.revoked.map((entry: { serial: string; reason: string }) => [
      entry.serial,
      entry.reason,
    ]),
    [[signerSerial, 'keyCompromise']],
  );
  assert.equal(certificateRecord.new_signer.serial, certificateSerialOf(pemDer(signerPath)));
  assert.notEqual(certificateRecord.new_signer.serial, signerSerial);

  // The CRL the node serves is the one the command wrote.
  const served = await fetch(`${registry}/pki/crl.der`);
  assert.deepEqual(
    new Uint8Array(await served.arrayBuffer()),
    new Uint8Array(readFileSync(join(data, 'pki', 'crl.der'))),
  );

  // The exported root and CRL given explicitly (--trust, --crl) give the same answer.
  const exported = join(data, 'public');
  assert.equal((await bubuh(['pki', 'export', '--out', exported, '--data', data])).status, 0);
  for (const extra of [[], ['--trust', join(exported, 'root.der'), '--crl', join(exported, 'crl.der')]]) {
    const report = await bubuh(['verify', stampedPath, '--json', ...extra, '--data', data]);
    const parsed = JSON.parse(report.stdout);
    const [signature] = parsed.signatures;
    // Revoked seconds after signing for key compromise: only a trusted time-stamp proves the signature
    // existed before; without one the claimed signing time cannot be relied on (revocation.ts).
    const proven = signature.checks.timeStamp === 'ok';
    assert.equal(
      signature.checks.revocation,
      proven ? 'certificate_revoked_later' : 'certificate_revoked_after_signing',
    );
    assert.equal(parsed.verdict, proven ? 'valid' : 'untrusted');
    assert.equal(report.status, proven ? 0 : 1);
  }
});

test('pki import installs a production hierarchy without its root key; a refused import writes nothing', async (t) => {
  const data = mkdtempSync(join(tmpdir(), 'bubuh-pki-import-cli-'));
  const input = mkdtempSync(join(tmpdir(), 'bubuh-pki-import-input-'));
  t.after(() => {
    rmSync(data, { recursive: true, force: true });
    rmSync(input, { recursive: true, force: true });
  });
  const directory = join(data, 'pki');
  const made = await generateDevPki();
  const other = await generateDevPki();
  writeFileSync(join(input, 'root.pem'), made.root.certificatePem);
  writeFileSync(join(input, 'ca.pem'), made.issuingCa.certificatePem);
  writeFileSync(join(input, 'ca.key'), made.issuingCa.privateKeyPem, { mode: 0o600 });
  writeFileSync(join(input, 'other-ca.pem'), other.issuingCa.certificatePem);
  const production = {
    BUBUH_MODE: 'production',
    BUBUH_NODE_ID: 'node-p',
    BUBUH_WHATSAPP_CHANNEL: 'http',
    BUBUH_WHATSAPP_URL: 'https://wa.example',
    BUBUH_WHATSAPP_SECRET: 's'.repeat(32),
  };
  const files = (ca: string) => [
    '--root',
    join(input, 'root.pem'),
    '--ca',
    join(input, ca),
    '--ca-key',
    join(input, 'ca.key'),
  ];

  const refused = await bubuh(['pki', 'import', '--data', data, ...files('other-ca.pem')], production);
  assert.equal(refused.status, 2);
  assert.equal(
    refused.stderr,
    `PKI_IMPORT_CA_NOT_SIGNED_BY_ROOT: The issuing CA ${new x509.X509Certificate(other.issuingCa.certificate).subject} is not signed by the root ${new x509.X509Certificate(made.root.certificate).subject}. Install the root that issued it, or a CA issued by this root.\n`,
  );
  assert.deepEqual(readdirSync(data), []);

  const imported = await bubuh(['pki', 'import', '--data', data, '--json', ...files('ca.pem')], production);
  assert.equal(imported.status, 0, imported.stderr);
  const view = JSON.parse(imported.stdout) as Record<string, unknown>;
  assert.equal(view['directory'], directory);
  assert.equal(view['tsa_issued'], true);
  assert.deepEqual(view['root'], expectedView(made.root.certificate));
  assert.deepEqual(view['issuing_ca'], expectedView(made.issuingCa.certificate));
  assert.deepEqual(readdirSync(directory).sort(), [
    'ca.key',
    'ca.pem',
    'crl.der',
    'issued',
    'root.pem',
    'tsa.key',
    'tsa.pem',
  ]);

  // `pki show` in production: this node's signer is issued from the imported CA.
  const shown = await bubuh(['pki', 'show', '--data', data, '--json'], production);
  assert.equal(shown.status, 0, shown.stderr);
  const shownView = JSON.parse(shown.stdout) as { signer: { issuer: string }; root: unknown };
  assert.equal(shownView.signer.issuer, new x509.X509Certificate(made.issuingCa.certificate).subject);
  assert.deepEqual(shownView.root, expectedView(made.root.certificate));

  const again = await bubuh(['pki', 'import', '--data', data, ...files('ca.pem')], production);
  assert.equal(again.status, 2);
  assert.equal(
    again.stderr,
    `PKI_IMPORT_EXISTS: The directory ${directory} already holds a PKI (root.pem); \`bubuh pki import\` never overwrites an installed hierarchy. Move the old directory aside or choose another BUBUH_PKI_DIR.\n`,
  );
});
