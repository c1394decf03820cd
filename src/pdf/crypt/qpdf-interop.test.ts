/**
 * Known-answer tests against qpdf: a tiny PDF built here is encrypted by `qpdf --encrypt` in every
 * revision bubuh supports; the handler must open it with each kind of password, decrypt its content
 * stream and `/Info` title exactly, and encrypt new objects that qpdf decrypts back to the plaintext.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isBubuhError } from '../../errors.js';
import { PdfDict, PdfName, type PdfRef, type PdfString } from '../objects.js';
import { buildPlainPdf, latin1Bytes, readEncryption, readObject, refOf } from './pdf-fixture.js';
import {
  canSign,
  canSignExistingField,
  describePermissions,
  openStandardSecurityHandler,
} from './standard-handler.js';

const qpdfSkipReason = spawnSync('qpdf', ['--version']).error
  ? 'qpdf is not installed (Debian package qpdf), so the known-answer tests against qpdf were skipped'
  : undefined;

const contentText = 'BT /F1 24 Tf 72 700 Td (Bea meterai 10000 - Surat Pernyataan) Tj ET';
const titleText = 'Surat Pernyataan CPNS 2024';
const userPassword = 'pengguna-1';
const ownerPassword = 'pemilik-Rahasia';

const workDirectory = qpdfSkipReason ? '' : mkdtempSync(join(tmpdir(), 'bubuh-crypt-'));
after(() => {
  if (workDirectory) rmSync(workDirectory, { recursive: true, force: true });
});

/** Encrypts the plain fixture with qpdf and returns the encrypted file's path and bytes. */
function encryptWithQpdf(
  name: string,
  user: string,
  keyArguments: readonly string[],
  extra: readonly string[] = [],
) {
  const input = join(workDirectory, 'plain.pdf');
  writeFileSync(input, buildPlainPdf(contentText, titleText));
  const output = join(workDirectory, `${name}.pdf`);
  const qdf = ['--qdf', '--object-streams=disable', '--allow-weak-crypto'];
  execFileSync('qpdf', [
    ...qdf,
    '--encrypt',
    user,
    ownerPassword,
    ...keyArguments,
    ...extra,
    '--',
    input,
    output,
  ]);
  return { path: output, bytes: new Uint8Array(readFileSync(output)) };
}

function expectError(action: () => unknown, code: string): void {
  assert.throws(action, (error: unknown) => isBubuhError(error) && error.code === code);
}

/** The content stream and title of the fixture as stored (encrypted), with their object numbers. */
function encryptedParts(file: Uint8Array) {
  const { trailer } = readEncryption(file);
  const info = refOf(trailer, 'Info');
  const title = (readObject(file, info.objectNumber).value as PdfDict).get('Title') as PdfString;
  const pages = refOf(readObject(file, refOf(trailer, 'Root').objectNumber).value as PdfDict, 'Pages');
  const kids = (readObject(file, pages.objectNumber).value as PdfDict).get('Kids') as PdfRef[];
  const page = readObject(file, kids[0]?.objectNumber ?? -1).value as PdfDict;
  const contents = refOf(page, 'Contents');
  const stream = readObject(file, contents.objectNumber).stream ?? new Uint8Array(0);
  return { info, title: title.bytes, contents, stream };
}

function text(bytes: Uint8Array): string {
  return new TextDecoder('latin1').decode(bytes);
}

const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');

/** Appends a string object and a stream object in a hand-written incremental update. */
function appendObjects(file: Uint8Array, encryptedString: Uint8Array, encryptedStream: Uint8Array) {
  const { trailer } = readEncryption(file);
  const size = trailer.get('Size') as number;
  const ids = trailer.get('ID') as PdfString[];
  const previous = Number(/startxref\s+(\d+)\s+%%EOF\s*$/.exec(text(file))?.[1]);
  const head = `${size} 0 obj\n<${hex(encryptedString)}>\nendobj\n${size + 1} 0 obj\n<< /Length ${encryptedStream.length} >>\nstream\n`;
  const tail = '\nendstream\nendobj\n';
  const secondOffset = file.length + head.indexOf(`${size + 1} 0 obj`);
  const xrefOffset = file.length + head.length + encryptedStream.length + tail.length;
  const entry = (offset: number) => `${String(offset).padStart(10, '0')} 00000 n \n`;
  const reference = (key: string) => `/${key} ${refOf(trailer, key).objectNumber} 0 R`;
  const trailerText =
    `xref\n${size} 2\n${entry(file.length)}${entry(secondOffset)}trailer\n<< /Size ${size + 2} ${reference('Root')} ` +
    `${reference('Info')} ${reference('Encrypt')} /ID [<${hex(ids[0]?.bytes ?? new Uint8Array(0))}><${hex(ids[1]?.bytes ?? new Uint8Array(0))}>] ` +
    `/Prev ${previous} >>\nstartxref\n${xrefOffset}\n%%EOF\n`;
  const parts = [file, latin1Bytes(head), encryptedStream, latin1Bytes(tail + trailerText)];
  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return { bytes: joined, stringObject: size, streamObject: size + 1 };
}

const variants = [
  { name: 'rc4-40-r2', keyArguments: ['40'], version: 1, revision: 2, method: 'RC4' },
  { name: 'rc4-128-r3', keyArguments: ['128', '--use-aes=n'], version: 2, revision: 3, method: 'RC4' },
  { name: 'aes-128-r4', keyArguments: ['128', '--use-aes=y'], version: 4, revision: 4, method: 'AESV2' },
  { name: 'aes-256-r5', keyArguments: ['256', '--force-R5'], version: 5, revision: 5, method: 'AESV3' },
  { name: 'aes-256-r6', keyArguments: ['256'], version: 5, revision: 6, method: 'AESV3' },
] as const;

for (const variant of variants) {
  describe(`qpdf ${variant.name}`, { skip: qpdfSkipReason }, () => {
    let file = new Uint8Array(0);
    let path = '';
    before(() => {
      ({ bytes: file, path } = encryptWithQpdf(variant.name, userPassword, variant.keyArguments));
    });

    for (const [label, password, owner] of [
      ['user', userPassword, false],
      ['owner', ownerPassword, true],
    ] as const) {
      test(`the ${label} password opens it and decrypts the content stream and title exactly`, () => {
        const { encrypt, firstId } = readEncryption(file);
        const handler = openStandardSecurityHandler(encrypt, firstId, password);
        assert.deepEqual(
          [
            handler.version,
            handler.revision,
            handler.method,
            handler.ownerAuthenticated,
            handler.permissions,
          ],
          [variant.version, variant.revision, variant.method, owner, -4],
        );
        const parts = encryptedParts(file);
        assert.equal(text(handler.decryptStream(parts.contents.objectNumber, 0, parts.stream)), contentText);
        assert.equal(text(handler.decryptString(parts.info.objectNumber, 0, parts.title)), titleText);
      });
    }

    test('no password or the empty one: PDF_PASSWORD_REQUIRED; a wrong one: PDF_PASSWORD_INCORRECT', () => {
      const { encrypt, firstId } = readEncryption(file);
      expectError(() => openStandardSecurityHandler(encrypt, firstId, undefined), 'PDF_PASSWORD_REQUIRED');
      expectError(() => openStandardSecurityHandler(encrypt, firstId, ''), 'PDF_PASSWORD_REQUIRED');
      expectError(
        () => openStandardSecurityHandler(encrypt, firstId, 'pengguna-2'),
        'PDF_PASSWORD_INCORRECT',
      );
    });

    test('a string and a stream encrypted by the handler are decrypted by qpdf to the plaintext', () => {
      const { encrypt, firstId } = readEncryption(file);
      const handler = openStandardSecurityHandler(encrypt, firstId, userPassword);
      const { trailer } = readEncryption(file);
      const objectNumber = trailer.get('Size') as number;
      const stringPlain = 'e-Meterai 10000 (bubuh)';
      const streamPlain = `q 1 0 0 1 400 80 cm 0 0 1 rg 0 0 120 60 re f Q\n${'% padding line\n'.repeat(40)}`;
      const encryptedString = handler.encryptString(objectNumber, 0, latin1Bytes(stringPlain));
      const encryptedStream = handler.encryptStream(objectNumber + 1, 0, latin1Bytes(streamPlain));
      const updated = appendObjects(file, encryptedString, encryptedStream);
      const updatedPath = `${path}.updated.pdf`;
      writeFileSync(updatedPath, updated.bytes);
      const run = (...extra: string[]) =>
        execFileSync('qpdf', [`--password=${userPassword}`, ...extra, updatedPath], { encoding: 'latin1' });
      assert.equal(run(`--show-object=${updated.stringObject}`).trim(), '(e-Meterai 10000 \\(bubuh\\))');
      assert.equal(run(`--show-object=${updated.streamObject}`, '--filtered-stream-data'), streamPlain);
      assert.match(run('--check'), /No syntax or stream encoding errors found/);
    });
  });
}

describe('qpdf empty user password (owner-only protection)', { skip: qpdfSkipReason }, () => {
  for (const [name, keyArguments] of [
    ['aes-128-r4-empty', ['128', '--use-aes=y']],
    ['aes-256-r6-empty', ['256']],
  ] as const) {
    test(`${name}: opens without a password; the owner password grants owner rights`, () => {
      const { bytes } = encryptWithQpdf(name, '', keyArguments, ['--modify=none']);
      const { encrypt, firstId } = readEncryption(bytes);
      const anonymous = openStandardSecurityHandler(encrypt, firstId, undefined);
      const owner = openStandardSecurityHandler(encrypt, firstId, ownerPassword);
      assert.deepEqual([anonymous.ownerAuthenticated, canSign(anonymous)], [false, false]);
      assert.deepEqual([owner.ownerAuthenticated, canSign(owner)], [true, true]);
      const parts = encryptedParts(bytes);
      assert.equal(text(anonymous.decryptStream(parts.contents.objectNumber, 0, parts.stream)), contentText);
      assert.equal(text(owner.decryptString(parts.info.objectNumber, 0, parts.title)), titleText);
      expectError(() => openStandardSecurityHandler(encrypt, firstId, 'salah'), 'PDF_PASSWORD_INCORRECT');
    });
  }
});

describe('qpdf permission flags', { skip: qpdfSkipReason }, () => {
  // qpdf's --modify levels and what bubuh decides for a new visible signature field.
  const cases = [
    ['none', -1324, false, false],
    ['assembly', -300, false, false],
    ['form', -44, false, true],
    ['annotate', -12, true, true],
    ['all', -4, true, true],
  ] as const;
  for (const [level, expectedP, newField, existingField] of cases) {
    test(`--modify=${level}: /P ${expectedP}, canSign ${newField}, canSignExistingField ${existingField}`, () => {
      const { bytes } = encryptWithQpdf(`modify-${level}`, '', ['128', '--use-aes=y'], [`--modify=${level}`]);
      const { encrypt, firstId } = readEncryption(bytes);
      const handler = openStandardSecurityHandler(encrypt, firstId, undefined);
      assert.deepEqual(
        [handler.permissions, canSign(handler), canSignExistingField(handler)],
        [expectedP, newField, existingField],
      );
      assert.equal(describePermissions(handler.permissions).annotate, newField);
    });
  }
});

describe('qpdf damaged or tampered dictionaries', { skip: qpdfSkipReason }, () => {
  test('R6 with /P changed (the /Perms check fails): PDF_ENCRYPTION_DAMAGED', () => {
    const { bytes } = encryptWithQpdf('tamper-r6', userPassword, ['256'], ['--modify=none']);
    const { encrypt, firstId } = readEncryption(bytes);
    const tampered = encrypt.clone().set('P', -4);
    expectError(() => openStandardSecurityHandler(tampered, firstId, userPassword), 'PDF_ENCRYPTION_DAMAGED');
    const unchanged = openStandardSecurityHandler(encrypt, firstId, userPassword);
    assert.equal(unchanged.permissions, -1324);
  });

  test('R4 with /P changed no longer authenticates (P is part of the key)', () => {
    const { bytes } = encryptWithQpdf('tamper-r4', '', ['128', '--use-aes=y'], ['--modify=none']);
    const { encrypt, firstId } = readEncryption(bytes);
    const tampered = encrypt.clone().set('P', -4);
    expectError(() => openStandardSecurityHandler(tampered, firstId, undefined), 'PDF_PASSWORD_REQUIRED');
  });

  test('a public-key handler is refused as unsupported, naming it', () => {
    const dict = new PdfDict().set('Filter', PdfName.of('Adobe.PubSec')).set('V', 4).set('R', 4);
    assert.throws(
      () => openStandardSecurityHandler(dict, new Uint8Array(16), undefined),
      (error: unknown) =>
        isBubuhError(error) &&
        error.code === 'PDF_ENCRYPTION_UNSUPPORTED' &&
        /Adobe\.PubSec/.test(error.message),
    );
  });
});
