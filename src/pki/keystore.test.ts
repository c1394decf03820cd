/**
 * The key store contract on both stores — PKCS#8 files and a PKCS#11 token (a throw-away SoftHSM2
 * token, skipped with a reason when SoftHSM2 is absent) — then what only one store has: file
 * permissions; a token key that cannot be read out, survives a restart, and answers wrong PINs,
 * unknown tokens, unloadable modules and missing mechanisms with their codes.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { certifySignerPublicKey, generateDevPki } from './dev-pki.js';
import { ecdsaRawToDer, type KeyStore } from './keystore.js';
import { keyStoreContract } from './keystore.contract.js';
import { createFilesKeyStore } from './keystore-files.js';
import { openPkcs11KeyStore, type Pkcs11KeyStoreOptions } from './keystore-pkcs11.js';
import { createSoftHsmTokens, type SoftHsmTokens, softHsmSkipReason } from './testing/softhsm.js';

const directory = mkdtempSync(join(tmpdir(), 'bubuh-keystore-'));
const pkcs11SkipReason = softHsmSkipReason();
const CONTRACT_TOKEN = { label: 'bubuh-contract', pin: '246810' };
const SECOND_TOKEN = { label: 'bubuh-second', pin: '135790' };
let tokens: SoftHsmTokens | null = null;

/** The throw-away tokens, made once, before the module is first loaded. */
function softHsm(): SoftHsmTokens {
  if (tokens === null) {
    tokens = createSoftHsmTokens();
    tokens.initToken(CONTRACT_TOKEN.label, CONTRACT_TOKEN.pin);
    tokens.initToken(SECOND_TOKEN.label, SECOND_TOKEN.pin);
  }
  return tokens;
}

function tokenOptions(token: { label: string; pin: string } = CONTRACT_TOKEN): Pkcs11KeyStoreOptions {
  return { modulePath: softHsm().modulePath, tokenLabel: token.label, pin: token.pin };
}

after(() => {
  tokens?.remove();
  rmSync(directory, { recursive: true, force: true });
});

async function assertRefusal(
  promise: Promise<unknown>,
  code: string,
  details: Record<string, unknown>,
): Promise<void> {
  await assert.rejects(promise, (error: { code?: string; details?: unknown }) => {
    assert.equal(error.code, code);
    assert.deepEqual(error.details, details);
    return true;
  });
}

test('ecdsaRawToDer: r‖s becomes a DER Ecdsa-Sig-Value, minimal and positive', () => {
  const r = new Uint8Array(32);
  r[31] = 0x01;
  const s = new Uint8Array(32);
  s[0] = 0x80;
  const der = ecdsaRawToDer(new Uint8Array([...r, ...s]));
  const expected = Buffer.concat([
    Buffer.from('3026020101022100', 'hex'),
    Buffer.from([0x80]),
    Buffer.alloc(31),
  ]);
  assert.equal(Buffer.from(der).toString('hex'), expected.toString('hex'));
  assert.throws(() => ecdsaRawToDer(new Uint8Array(63)), { code: 'PADES_SIGNATURE_INVALID' });
});

test('ecdsaRawToDer agrees with OpenSSL on 200 real P-256 signatures', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  for (let index = 0; index < 200; index += 1) {
    const data = Buffer.from(`message ${index}`);
    const raw = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    assert.equal(raw.length, 64);
    const der = ecdsaRawToDer(raw);
    assert.equal(verify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, der), true);
    assert.ok(der.length >= 8 && der.length <= 72, `${der.length} bytes`);
  }
});

let filesCount = 0;
keyStoreContract({
  name: 'files',
  skipReason: null,
  open: async (): Promise<KeyStore> => {
    filesCount += 1;
    return createFilesKeyStore(join(directory, `keys-${filesCount}`));
  },
});

keyStoreContract({
  name: 'pkcs11 (SoftHSM2)',
  skipReason: pkcs11SkipReason,
  open: () => openPkcs11KeyStore(tokenOptions()),
});

// --- files only ------------------------------------------------------------------------------

test('files: a key is PKCS#8 in a 0600 file of a 0700 directory', async () => {
  const keys = join(directory, 'modes');
  const store = createFilesKeyStore(keys);
  await store.generateKey('signer', 'ECDSA-P256');
  assert.equal(statSync(keys).mode & 0o777, 0o700);
  assert.equal(statSync(join(keys, 'signer.key')).mode & 0o777, 0o600);
  assert.match(readFileSync(join(keys, 'signer.key'), 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
});

test('files: a key file group or others can read is refused with KEY_FILE_PERMISSIONS', async () => {
  const keys = join(directory, 'loose');
  const store = createFilesKeyStore(keys);
  const spki = await store.generateKey('signer', 'ECDSA-P256');
  const pki = await generateDevPki();
  const issued = await certifySignerPublicKey(pki.issuingCa, spki);
  const path = join(keys, 'signer.key');
  chmodSync(path, 0o640);
  await assertRefusal(store.signer('signer', issued.certificate, []), 'KEY_FILE_PERMISSIONS', {
    path,
    mode: '0640',
  });
  chmodSync(path, 0o600);
  const signer = await store.signer('signer', issued.certificate, []);
  assert.equal(signer.algorithm, 'ECDSA-P256-SHA256');
});

// --- PKCS#11 only ----------------------------------------------------------------------------

test('pkcs11: the signing keys are sensitive, never extractable token objects', async (t) => {
  if (pkcs11SkipReason !== null) return t.skip(pkcs11SkipReason);
  const store = await openPkcs11KeyStore(tokenOptions());
  try {
    for (const label of ['contract-ecdsa-p256', 'contract-rsa-2048']) {
      assert.deepEqual(await store.keyProtection(label), {
        token: true,
        private: true,
        sensitive: true,
        extractable: false,
        alwaysSensitive: true,
        neverExtractable: true,
        secretRead: 'CKR_ATTRIBUTE_SENSITIVE',
      });
    }
  } finally {
    await store.close();
  }
});

test('pkcs11: a key outlives the store that made it (a restart signs with the same key)', async (t) => {
  if (pkcs11SkipReason !== null) return t.skip(pkcs11SkipReason);
  const pki = await generateDevPki();
  const first = await openPkcs11KeyStore(tokenOptions());
  const spki = await first.generateKey('restart', 'ECDSA-P256');
  await first.close();
  await assertRefusal(first.hasKey('restart'), 'PKCS11_OPERATION_FAILED', {
    operation: 'a key operation',
    problem: 'the key store is closed',
  });
  const second = await openPkcs11KeyStore(tokenOptions());
  try {
    assert.deepEqual(await second.publicKey('restart'), spki);
    const issued = await certifySignerPublicKey(pki.issuingCa, spki);
    const signer = await second.signer('restart', issued.certificate, [pki.issuingCa.certificate]);
    const data = Buffer.from('after a restart');
    const key = { key: Buffer.from(spki), format: 'der', type: 'spki', dsaEncoding: 'der' } as const;
    assert.equal(verify('sha256', data, key, await signer.sign(data)), true);
  } finally {
    await second.close();
  }
});

test('pkcs11: a session the token dropped is reopened and the signature retried once', async (t) => {
  if (pkcs11SkipReason !== null) return t.skip(pkcs11SkipReason);
  const pki = await generateDevPki();
  const store = await openPkcs11KeyStore(tokenOptions());
  try {
    const spki = await store.publicKey('restart');
    const issued = await certifySignerPublicKey(pki.issuingCa, spki);
    const signer = await store.signer('restart', issued.certificate, []);
    // Test-only reach into the store: close its session behind its back, as a token reset would.
    const inside = store as unknown as { pkcs11: { C_CloseSession(session: Buffer): void }; session: Buffer };
    const dropped = inside.session;
    inside.pkcs11.C_CloseSession(dropped);
    const data = Buffer.from('after the session was dropped');
    const key = { key: Buffer.from(spki), format: 'der', type: 'spki', dsaEncoding: 'der' } as const;
    assert.equal(verify('sha256', data, key, await signer.sign(data)), true);
  } finally {
    await store.close();
  }
});

test('pkcs11: a wrong PIN is PKCS11_PIN_INCORRECT, and the right one still opens the token', async (t) => {
  if (pkcs11SkipReason !== null) return t.skip(pkcs11SkipReason);
  await assertRefusal(
    openPkcs11KeyStore(tokenOptions({ label: SECOND_TOKEN.label, pin: '000000' })),
    'PKCS11_PIN_INCORRECT',
    { token: SECOND_TOKEN.label },
  );
  const store = await openPkcs11KeyStore(tokenOptions(SECOND_TOKEN));
  assert.equal(await store.hasKey('anything'), false);
  await store.close();
});

test('pkcs11: an unknown token is PKCS11_TOKEN_NOT_FOUND, naming the tokens present', async (t) => {
  if (pkcs11SkipReason !== null) return t.skip(pkcs11SkipReason);
  await assertRefusal(
    openPkcs11KeyStore(tokenOptions({ label: 'no-such-token', pin: '1234' })),
    'PKCS11_TOKEN_NOT_FOUND',
    { token: 'no-such-token', available: '"bubuh-contract", "bubuh-second"' },
  );
});

test('pkcs11: a module that cannot be loaded is PKCS11_MODULE_UNLOADABLE', async () => {
  const missing = join(directory, 'no-such-module.so');
  await assert.rejects(
    openPkcs11KeyStore({ modulePath: missing, tokenLabel: 'x', pin: '1' }),
    (error: { code?: string; details?: Record<string, unknown> }) => {
      assert.equal(error.code, 'PKCS11_MODULE_UNLOADABLE');
      assert.equal(error.details?.['module'], missing);
      assert.match(String(error.details?.['problem']), /No such file or directory/);
      return true;
    },
  );
  const notALibrary = join(directory, 'not-a-library.so');
  writeFileSync(notALibrary, 'this is text, not a shared library\n'.repeat(100));
  await assert.rejects(
    openPkcs11KeyStore({ modulePath: notALibrary, tokenLabel: 'x', pin: '1' }),
    (error: { code?: string; details?: Record<string, unknown> }) => {
      assert.equal(error.code, 'PKCS11_MODULE_UNLOADABLE');
      assert.match(String(error.details?.['problem']), /invalid ELF header/);
      return true;
    },
  );
});

test('pkcs11: a token without the signing mechanism is PKCS11_MECHANISM_UNSUPPORTED', async (t) => {
  if (pkcs11SkipReason !== null) return t.skip(pkcs11SkipReason);
  const pki = await generateDevPki();
  let spki: Uint8Array;
  const store = await openPkcs11KeyStore(tokenOptions());
  try {
    spki = await store.publicKey('contract-ecdsa-p256');
  } finally {
    await store.close();
  }
  const issued = await certifySignerPublicKey(pki.issuingCa, spki);
  // Every store is closed, so the module is initialised again and reads this configuration. SoftHSM
  // 2.6 ignores the first name of a "-" list, so CKM_MD5 stands first.
  softHsm().useConfig(['slots.mechanisms = -CKM_MD5,CKM_ECDSA,CKM_EC_KEY_PAIR_GEN']);
  const limited = await openPkcs11KeyStore(tokenOptions());
  try {
    await assertRefusal(
      limited.signer('contract-ecdsa-p256', issued.certificate, []),
      'PKCS11_MECHANISM_UNSUPPORTED',
      { token: CONTRACT_TOKEN.label, mechanism: 'CKM_ECDSA', purpose: 'sign with ECDSA' },
    );
    await assertRefusal(limited.generateKey('limited', 'ECDSA-P256'), 'PKCS11_MECHANISM_UNSUPPORTED', {
      token: CONTRACT_TOKEN.label,
      mechanism: 'CKM_EC_KEY_PAIR_GEN',
      purpose: 'generate an ECDSA-P256 key',
    });
  } finally {
    await limited.close();
    softHsm().useConfig([]);
  }
});
