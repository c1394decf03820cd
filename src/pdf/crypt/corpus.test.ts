/**
 * The encrypted corpus files: each opens with the right (or no) password through its real `/Encrypt`
 * dictionary, the permission decision matches the manifest, and the first page's content stream
 * decrypts and inflates to page-description operators.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { unzlibSync } from 'fflate';
import { isBubuhError } from '../../errors.js';
import { corpusDirectory, corpusSkipReason, readCorpusFile } from '../../testing/corpus.js';
import type { PdfDict, PdfRef, PdfString } from '../objects.js';
import type { SecurityHandler } from '../security.js';
import { readEncryption, readObject, refOf } from './pdf-fixture.js';
import { canSign, openStandardSecurityHandler } from './standard-handler.js';

const directory = corpusDirectory();

/** The first page's first content stream: Root → Pages → first kid (descending) → Contents. */
function firstContents(file: Uint8Array): { reference: PdfRef; stream: Uint8Array } {
  const { trailer } = readEncryption(file);
  let node = readObject(
    file,
    refOf(readObject(file, refOf(trailer, 'Root').objectNumber).value as PdfDict, 'Pages').objectNumber,
  ).value as PdfDict;
  for (let depth = 0; depth < 32 && node.has('Kids'); depth += 1) {
    const first = (node.get('Kids') as PdfRef[])[0] as PdfRef;
    node = readObject(file, first.objectNumber).value as PdfDict;
  }
  const contents = node.get('Contents');
  const reference = (Array.isArray(contents) ? contents[0] : contents) as PdfRef;
  const { stream } = readObject(file, reference.objectNumber);
  assert.ok(stream, 'the first page has a content stream');
  return { reference, stream };
}

function openCorpusFile(
  name: string,
  password: string | undefined,
): { handler: SecurityHandler; file: Uint8Array } {
  const file = readCorpusFile(directory as string, name);
  const { encrypt, firstId } = readEncryption(file);
  return { handler: openStandardSecurityHandler(encrypt, firstId, password), file };
}

function assertContentDecrypts(handler: SecurityHandler, file: Uint8Array): void {
  const { reference, stream } = firstContents(file);
  const inflated = unzlibSync(handler.decryptStream(reference.objectNumber, reference.generation, stream));
  const operators = new TextDecoder('latin1').decode(inflated.subarray(0, 2000));
  assert.match(operators, /\b(BT|q|cm|re|Tf)\b/);
  assert.match(operators, /\b(ET|Q)\s*$|\b(Tj|TJ|Do|f|S)\b/);
}

function producer(handler: SecurityHandler, file: Uint8Array): string {
  const info = refOf(readEncryption(file).trailer, 'Info');
  const value = (readObject(file, info.objectNumber).value as PdfDict).get('Producer') as PdfString;
  const bytes = handler.decryptString(info.objectNumber, info.generation, value.bytes);
  // LibreOffice writes text strings as UTF-16BE with a byte order mark (ISO 32000-2 §7.9.2.2).
  assert.deepEqual([bytes[0], bytes[1]], [0xfe, 0xff]);
  return new TextDecoder('utf-16be').decode(bytes.subarray(2));
}

describe('encrypted corpus files', () => {
  test('a26 (AES-256 R6) opens only with "rahasia123" and its page content decrypts', (t) => {
    if (directory === null) return t.skip(corpusSkipReason);
    const { handler, file } = openCorpusFile('a26_encrypted_user_password.pdf', 'rahasia123');
    assert.deepEqual(
      [handler.revision, handler.method, handler.ownerAuthenticated, canSign(handler)],
      [6, 'AESV3', false, true],
    );
    assertContentDecrypts(handler, file);
    assert.throws(
      () => openCorpusFile('a26_encrypted_user_password.pdf', undefined),
      (error: unknown) => isBubuhError(error) && error.code === 'PDF_PASSWORD_REQUIRED',
    );
  });

  test('a27 (AES-128 R4, --modify=none) opens without a password but may not be signed', (t) => {
    if (directory === null) return t.skip(corpusSkipReason);
    const { handler, file } = openCorpusFile('a27_encrypted_owner_password_only.pdf', undefined);
    assert.deepEqual(
      [handler.revision, handler.method, handler.permissions, handler.ownerAuthenticated],
      [4, 'AESV2', -3372, false],
    );
    assert.equal(canSign(handler), false);
    assertContentDecrypts(handler, file);
    assert.equal(producer(handler, file), 'LibreOffice 7.4');
  });

  test('a37 (AES-128 R4, signing allowed) opens without a password and may be signed', (t) => {
    if (directory === null) return t.skip(corpusSkipReason);
    const { handler, file } = openCorpusFile('a37_owner_password_signing_allowed.pdf', undefined);
    assert.deepEqual(
      [handler.revision, handler.permissions, handler.ownerAuthenticated, canSign(handler)],
      [4, -1036, false, true],
    );
    assertContentDecrypts(handler, file);
    const owner = openCorpusFile('a37_owner_password_signing_allowed.pdf', 'bubuh-owner-A').handler;
    assert.equal(owner.ownerAuthenticated, true);
  });
});
