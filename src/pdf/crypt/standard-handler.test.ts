/**
 * Self-contained tests of the standard security handler: RC4 test vectors, the encryption
 * dictionaries of corpus files a26 and a37 copied here as constants (so the known answers hold without
 * the corpus), encrypt/decrypt round trips in every method, refusals, and the permission rule.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isBubuhError } from '../../errors.js';
import type { PdfObject } from '../objects.js';
import { PdfDict, PdfName, PdfString } from '../objects.js';
import { rc4 } from './rc4.js';
import {
  canSign,
  canSignExistingField,
  describePermissions,
  openStandardSecurityHandler,
} from './standard-handler.js';

const fromHex = (hex: string): Uint8Array =>
  Uint8Array.from(hex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
const toHex = (bytes: Uint8Array): string =>
  Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
const latin1 = (text: string): Uint8Array => PdfString.fromLatin1(text).bytes;

function dict(entries: Record<string, PdfObject>): PdfDict {
  return new PdfDict(new Map(Object.entries(entries)));
}

function standardFilter(method: string, lengthBytes: number): PdfDict {
  const filter = dict({ AuthEvent: PdfName.of('DocOpen'), CFM: PdfName.of(method), Length: lengthBytes });
  return dict({ StdCF: filter });
}

/** a37_owner_password_signing_allowed.pdf: AES-128 R4, empty user password, owner "bubuh-owner-A". */
function a37Encrypt(): PdfDict {
  return dict({
    CF: standardFilter('AESV2', 16),
    Filter: PdfName.of('Standard'),
    Length: 128,
    O: new PdfString(fromHex('8234d08d5a77dc6ee04956dc67004dd16a584541ad40d7978f0f2016bf5e25c3'), true),
    P: -1036,
    R: 4,
    StmF: PdfName.of('StdCF'),
    StrF: PdfName.of('StdCF'),
    U: new PdfString(fromHex('9e74c721e4a710eccf398b5bdaff55e90122456a91bae5134273a6db134c87c4'), true),
    V: 4,
  });
}
const a37FirstId = fromHex('a9ac5e682a91c6c640675dd54b56da55');

/** a26_encrypted_user_password.pdf: AES-256 R6, user password "rahasia123". */
function a26Encrypt(): PdfDict {
  const string = (hex: string) => new PdfString(fromHex(hex), true);
  return dict({
    CF: standardFilter('AESV3', 32),
    Filter: PdfName.of('Standard'),
    Length: 256,
    O: string(
      'bfda99c290e061f1a1b9091d5bd2ddfa9b05991c065a6636475910a41964ce1a7aa00ce9c797257db08b5c9dd21e2d08',
    ),
    OE: string('3095a43038d7aabf4d8889d2ef99da090cc6402d17e8a7fc4ca7a8317985ccf1'),
    P: -4,
    Perms: string('0b70430c89c6ab6614b4fd8f019bfec0'),
    R: 6,
    StmF: PdfName.of('StdCF'),
    StrF: PdfName.of('StdCF'),
    U: string(
      'eb482f9ba7158b47b1d8cc6b9212c012eba91e8d7f234f120e26facbc0d92c3d387dda8b7d21d6c63abbd29f93a71acd',
    ),
    UE: string('d037cf3225bb6413d245119a77afee180425cc68688a450e2458af7d5e247649'),
    V: 5,
  });
}
const a26FirstId = fromHex('90a29f086d90660fa281b0f09a4cb70a');

function expectError(action: () => unknown, code: string, detail?: RegExp): void {
  assert.throws(action, (error: unknown) => {
    return isBubuhError(error) && error.code === code && (detail === undefined || detail.test(error.message));
  });
}

/** A deterministic IV source: 0x00, 0x01, … continuing across calls. */
function countingBytes(): (lengthBytes: number) => Uint8Array {
  let next = 0;
  return (lengthBytes) => Uint8Array.from({ length: lengthBytes }, () => next++ & 0xff);
}

describe('rc4', () => {
  test('matches the published test vectors', () => {
    assert.equal(toHex(rc4(latin1('Key'), latin1('Plaintext'))), 'bbf316e8d940af0ad3');
    assert.equal(toHex(rc4(latin1('Wiki'), latin1('pedia'))), '1021bf0420');
    assert.equal(toHex(rc4(latin1('Secret'), latin1('Attack at dawn'))), '45a01f645fc35b383552544b9bf5');
  });
});

describe('opening with the corpus dictionaries (copied as constants)', () => {
  test('a37 (R4) opens without a password, with user rights, and allows signing', () => {
    const handler = openStandardSecurityHandler(a37Encrypt(), a37FirstId, undefined);
    assert.deepEqual(
      [handler.version, handler.revision, handler.method, handler.permissions, handler.ownerAuthenticated],
      [4, 4, 'AESV2', -1036, false],
    );
    assert.equal(handler.encryptMetadata, true);
    assert.equal(canSign(handler), true);
  });

  test('a37 with its owner password "bubuh-owner-A" is owner-authenticated', () => {
    const handler = openStandardSecurityHandler(a37Encrypt(), a37FirstId, 'bubuh-owner-A');
    assert.equal(handler.ownerAuthenticated, true);
    expectError(
      () => openStandardSecurityHandler(a37Encrypt(), a37FirstId, 'bubuh-owner-B'),
      'PDF_PASSWORD_INCORRECT',
    );
  });

  test('a37 with a different first /ID element no longer opens', () => {
    const otherId = fromHex('a9ac5e682a91c6c640675dd54b56da56');
    expectError(() => openStandardSecurityHandler(a37Encrypt(), otherId, undefined), 'PDF_PASSWORD_REQUIRED');
  });

  test('a26 (R6) needs "rahasia123": none is REQUIRED, another is INCORRECT', () => {
    const handler = openStandardSecurityHandler(a26Encrypt(), a26FirstId, 'rahasia123');
    assert.deepEqual(
      [handler.version, handler.revision, handler.method, handler.permissions],
      [5, 6, 'AESV3', -4],
    );
    assert.equal(handler.ownerAuthenticated, false);
    expectError(
      () => openStandardSecurityHandler(a26Encrypt(), a26FirstId, undefined),
      'PDF_PASSWORD_REQUIRED',
    );
    expectError(
      () => openStandardSecurityHandler(a26Encrypt(), a26FirstId, 'Rahasia123'),
      'PDF_PASSWORD_INCORRECT',
    );
  });

  test('a26 with a tampered /Perms block is refused as damaged', () => {
    const encrypt = a26Encrypt().set('Perms', new PdfString(fromHex('0b70430c89c6ab6614b4fd8f019bfec1')));
    expectError(
      () => openStandardSecurityHandler(encrypt, a26FirstId, 'rahasia123'),
      'PDF_ENCRYPTION_DAMAGED',
      /Perms/,
    );
  });
});

describe('encrypt and decrypt round trips', () => {
  const plainTexts = ['', 'x', '0123456789abcdef', 'e-Meterai 10000: Surat Pernyataan (bubuh) \u00e9'];

  test('AES-128: the IV comes first, PKCS#7 pads to whole blocks, decryption inverts it', () => {
    const handler = openStandardSecurityHandler(a37Encrypt(), a37FirstId, undefined, {
      randomBytes: countingBytes(),
    });
    for (const plain of plainTexts) {
      const encrypted = handler.encryptStream(12, 0, latin1(plain));
      assert.equal(encrypted.length, 16 + (Math.floor(plain.length / 16) + 1) * 16);
      assert.deepEqual(handler.decryptStream(12, 0, encrypted), latin1(plain));
      assert.deepEqual(
        handler.decryptString(12, 0, handler.encryptString(12, 0, latin1(plain))),
        latin1(plain),
      );
    }
    const first = openStandardSecurityHandler(a37Encrypt(), a37FirstId, undefined, {
      randomBytes: countingBytes(),
    });
    assert.equal(
      toHex(first.encryptString(1, 0, latin1('x')).subarray(0, 16)),
      '000102030405060708090a0b0c0d0e0f',
    );
  });

  test('AES-128: the object number and generation select the key', () => {
    const handler = openStandardSecurityHandler(a37Encrypt(), a37FirstId, undefined, {
      randomBytes: countingBytes(),
    });
    const encrypted = handler.encryptString(7, 0, latin1('Bea meterai'));
    assert.notDeepEqual(handler.decryptString(8, 0, encrypted), latin1('Bea meterai'));
    assert.notDeepEqual(handler.decryptString(7, 1, encrypted), latin1('Bea meterai'));
  });

  test('AES-256: round trips, and two encryptions of one string differ by their IV', () => {
    const handler = openStandardSecurityHandler(a26Encrypt(), a26FirstId, 'rahasia123');
    for (const plain of plainTexts) {
      assert.deepEqual(
        handler.decryptString(3, 0, handler.encryptString(3, 0, latin1(plain))),
        latin1(plain),
      );
    }
    const once = handler.encryptStream(3, 0, latin1('sama'));
    const twice = handler.encryptStream(3, 0, latin1('sama'));
    assert.notDeepEqual(once, twice);
  });

  test('AES decryption is lenient with IV-only input and a trailing partial block', () => {
    const handler = openStandardSecurityHandler(a37Encrypt(), a37FirstId, undefined, {
      randomBytes: countingBytes(),
    });
    assert.deepEqual(handler.decryptString(5, 0, new Uint8Array(16)), new Uint8Array(0));
    assert.deepEqual(handler.decryptString(5, 0, new Uint8Array(0)), new Uint8Array(0));
    const encrypted = handler.encryptStream(5, 0, latin1('BT ET'));
    const withNewline = new Uint8Array([...encrypted, 0x0a]);
    assert.deepEqual(handler.decryptStream(5, 0, withNewline), latin1('BT ET'));
  });

  test('an /Identity crypt filter leaves strings and streams unchanged', () => {
    const encrypt = a37Encrypt().set('StrF', PdfName.of('Identity'));
    const handler = openStandardSecurityHandler(encrypt, a37FirstId, undefined);
    assert.deepEqual(handler.encryptString(4, 0, latin1('apa adanya')), latin1('apa adanya'));
    assert.equal(handler.method, 'AESV2');
  });
});

describe('refusals', () => {
  const open = (encrypt: PdfDict) => () => openStandardSecurityHandler(encrypt, a37FirstId, undefined);

  test('unsupported handlers, versions, revisions and crypt filter methods name the feature', () => {
    expectError(
      open(a37Encrypt().set('Filter', PdfName.of('Adobe.PubSec'))),
      'PDF_ENCRYPTION_UNSUPPORTED',
      /PubSec/,
    );
    expectError(open(a37Encrypt().set('V', 3)), 'PDF_ENCRYPTION_UNSUPPORTED', /\/V 3/);
    expectError(open(a37Encrypt().set('R', 7)), 'PDF_ENCRYPTION_UNSUPPORTED', /\/R 7/);
    expectError(
      open(a37Encrypt().set('CF', standardFilter('None', 16))),
      'PDF_ENCRYPTION_UNSUPPORTED',
      /\/None/,
    );
    expectError(
      open(a37Encrypt().set('CF', standardFilter('AESV3', 32))),
      'PDF_ENCRYPTION_UNSUPPORTED',
      /AESV3/,
    );
  });

  test('malformed entries are refused as damaged', () => {
    const short = new PdfString(fromHex('9e74c721e4a710eccf398b5bdaff55e9'));
    expectError(open(a37Encrypt().set('U', short)), 'PDF_ENCRYPTION_DAMAGED', /\/U has 16 bytes where 32/);
    expectError(open(a37Encrypt().set('P', PdfName.of('P'))), 'PDF_ENCRYPTION_DAMAGED', /\/P/);
    expectError(open(a37Encrypt().set('StmF', PdfName.of('Missing'))), 'PDF_ENCRYPTION_DAMAGED', /Missing/);
    const rc4 = a37Encrypt().set('CF', standardFilter('V2', 16)).set('Length', 44);
    expectError(open(rc4), 'PDF_ENCRYPTION_DAMAGED', /Length 44/);
    const withoutUe = a26Encrypt();
    withoutUe.entries.delete('UE');
    expectError(open(withoutUe), 'PDF_ENCRYPTION_DAMAGED', /\/UE/);
  });
});

describe('permissions', () => {
  test('describePermissions of a37 (-1036) and a27 (-3372)', () => {
    assert.deepEqual(describePermissions(-1036), {
      print: true,
      modify: false,
      copy: true,
      annotate: true,
      fillForms: true,
      extract: true,
      assemble: false,
      printHighQuality: true,
    });
    assert.deepEqual(describePermissions(-3372), {
      print: true,
      modify: false,
      copy: true,
      annotate: false,
      fillForms: false,
      extract: true,
      assemble: false,
      printHighQuality: false,
    });
  });

  test('revision 2 reads form filling, assembly, extraction and quality from the older bits', () => {
    // -44 has bits 3, 5, 7, 8 and 9..32 set: for R2 form filling follows bit 6 (clear).
    assert.deepEqual(
      [
        describePermissions(-44, 2).fillForms,
        describePermissions(-44, 2).assemble,
        describePermissions(-44).fillForms,
      ],
      [false, false, true],
    );
  });

  test('canSign needs the owner or the annotate bit; an existing field also accepts fill-forms', () => {
    const view = (permissions: number, ownerAuthenticated = false, revision = 4) => ({
      permissions,
      ownerAuthenticated,
      revision,
    });
    assert.deepEqual(
      [canSign(view(-1036)), canSign(view(-3372)), canSign(view(-3372, true))],
      [true, false, true],
    );
    assert.deepEqual(
      [canSign(view(-44)), canSignExistingField(view(-44)), canSignExistingField(view(-44, false, 2))],
      [false, true, false],
    );
  });
});
