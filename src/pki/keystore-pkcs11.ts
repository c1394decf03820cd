/**
 * The PKCS#11 key store (an HSM; SoftHSM2 in development and tests), through pkcs11js.
 *
 * Keys are generated inside the token as token objects (CKA_TOKEN), sensitive and never extractable:
 * the private key cannot be read out of the token by anyone, this process included, and every
 * signature is made by the token. ECDSA P-256 signs with CKM_ECDSA over a SHA-256 digest computed
 * here (the token returns r‖s, converted to the DER Ecdsa-Sig-Value CMS carries); RSA with
 * CKM_SHA256_RSA_PKCS, or CKM_RSA_PKCS over a DigestInfo when the token lacks the former.
 *
 * One logged-in session per store. A PKCS#11 session runs one operation at a time, so every call on
 * it goes through one FIFO lock: two async callers never interleave C_SignInit/C_Sign (or a search).
 * C_Sign and key generation run on libuv's thread pool (the pkcs11js async forms), so a slow token does
 * not stall the event loop. A session the token dropped (closed, logged out, device reset) is reopened
 * and the operation retried once.
 *
 * A module is loaded and C_Initialize'd once per process and path, shared by every store on it and
 * finalised when the last store closes: PKCS#11 allows one initialisation per process.
 */
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { BubuhError } from '../errors.js';
import type { SignatureAlgorithm, Signer } from '../pades/cms.js';
import type { SignerKeyAlgorithm } from './dev-pki.js';
import {
  certificatePublicKey,
  checkKeyLabel,
  checkSignerMatchesCertificate,
  ecdsaRawToDer,
  type KeyStore,
} from './keystore.js';

type Pkcs11 = pkcs11js.PKCS11;
type Handle = Buffer;
type Template = pkcs11js.Template;

export interface Pkcs11KeyStoreOptions {
  /** Path of the PKCS#11 module (shared library), e.g. SoftHSM2's libsofthsm2.so. */
  readonly modulePath: string;
  /** CKA_LABEL of the token (its label as set at initialisation, without the blank padding). */
  readonly tokenLabel: string;
  /** The token's user PIN. */
  readonly pin: string;
}

/** How a private key is protected, as the token reports it. */
export interface KeyProtection {
  readonly token: boolean;
  readonly private: boolean;
  readonly sensitive: boolean;
  readonly extractable: boolean;
  readonly alwaysSensitive: boolean;
  readonly neverExtractable: boolean;
  /**
   * The token's answer when asked for the secret itself (CKA_VALUE of an EC key, CKA_PRIVATE_EXPONENT
   * of an RSA key): the CKR_ code it refused with, or 'returned' if it handed the secret over.
   */
  readonly secretRead: string;
}

export interface Pkcs11KeyStore extends KeyStore {
  readonly kind: 'pkcs11';
  keyProtection(label: string): Promise<KeyProtection>;
}

/** DER OBJECT IDENTIFIER prime256v1 (1.2.840.10045.3.1.7), the CKA_EC_PARAMS of a P-256 key. */
const P256_EC_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');
/** DigestInfo prefix of SHA-256 (RFC 8017 §9.2 note 1), for CKM_RSA_PKCS. */
const SHA256_DIGEST_INFO_PREFIX = Buffer.from('3031300d060960864801650304020105000420', 'hex');
const RSA_PUBLIC_EXPONENT = Buffer.from([1, 0, 1]);
const SIGNATURE_BYTES_MAX = 1024;
const FIND_BATCH = 16;
/** Errors after which the session is reopened (and the operation retried once). */
const SESSION_LOST = new Set([
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_OBJECT_HANDLE_INVALID',
  'CKR_KEY_HANDLE_INVALID',
  'CKR_DEVICE_REMOVED',
  'CKR_TOKEN_NOT_PRESENT',
]);

interface LoadedModule {
  readonly pkcs11: Pkcs11;
  users: number;
  /** False when someone else in this process had already initialised the module. */
  readonly finalize: boolean;
}

const modules = new Map<string, LoadedModule>();

function problemOf(error: unknown): string {
  if (error instanceof pkcs11js.Pkcs11Error) return error.message;
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

function ckrOf(error: unknown): string | null {
  return error instanceof pkcs11js.Pkcs11Error ? error.message : null;
}

function acquireModule(modulePath: string): LoadedModule {
  const known = modules.get(modulePath);
  if (known !== undefined) {
    known.users += 1;
    return known;
  }
  const pkcs11 = new pkcs11js.PKCS11();
  try {
    pkcs11.load(modulePath);
  } catch (error) {
    throw new BubuhError(
      'PKCS11_MODULE_UNLOADABLE',
      { module: modulePath, problem: problemOf(error) },
      { cause: error },
    );
  }
  let finalize = true;
  try {
    // OS locking: C_Sign and key generation run on libuv's worker threads.
    pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (error) {
    if (ckrOf(error) === 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
      finalize = false;
    } else {
      pkcs11.close();
      throw new BubuhError(
        'PKCS11_MODULE_UNLOADABLE',
        { module: modulePath, problem: `C_Initialize: ${problemOf(error)}` },
        { cause: error },
      );
    }
  }
  const loaded: LoadedModule = { pkcs11, users: 1, finalize };
  modules.set(modulePath, loaded);
  return loaded;
}

function releaseModule(modulePath: string): void {
  const loaded = modules.get(modulePath);
  if (loaded === undefined) return;
  loaded.users -= 1;
  if (loaded.users > 0) return;
  modules.delete(modulePath);
  try {
    if (loaded.finalize) loaded.pkcs11.C_Finalize();
  } finally {
    loaded.pkcs11.close();
  }
}

/** A CK_ULONG attribute value (native byte order; every platform Node runs PKCS#11 on is little-endian). */
function ulong(value: Buffer | undefined): number {
  if (value === undefined || value.length === 0) return -1;
  return value.length >= 8 ? Number(value.readBigUInt64LE(0)) : value.readUInt32LE(0);
}

function bool(value: Buffer | undefined): boolean {
  return value !== undefined && value.length > 0 && value[0] !== 0;
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function spkiFromJwk(jwk: Record<string, string>): Uint8Array {
  const der = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
  return new Uint8Array(der.buffer, der.byteOffset, der.length);
}

/** CKA_EC_POINT is a DER OCTET STRING around the uncompressed point (some tokens give the bare point). */
function uncompressedPoint(value: Buffer): Buffer | null {
  if (value.length === 67 && value[0] === 0x04 && value[1] === 0x41 && value[2] === 0x04) {
    return value.subarray(2);
  }
  if (value.length === 65 && value[0] === 0x04) return value;
  return null;
}

type KeyKind = 'ec' | 'rsa';

class Pkcs11Store implements Pkcs11KeyStore {
  readonly kind = 'pkcs11' as const;
  private readonly pkcs11: Pkcs11;
  private slot: Handle;
  private session: Handle;
  private closed = false;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly keyHandles = new Map<string, Handle>();
  private mechanisms: ReadonlySet<number> | null = null;

  constructor(
    private readonly options: Pkcs11KeyStoreOptions,
    module: LoadedModule,
  ) {
    this.pkcs11 = module.pkcs11;
    const { slot, session } = this.openSession();
    this.slot = slot;
    this.session = session;
  }

  // --- sessions -------------------------------------------------------------------------------

  private findSlot(): Handle {
    const labels: string[] = [];
    const slots = this.call('C_GetSlotList', () => this.pkcs11.C_GetSlotList(true));
    for (const slot of slots) {
      const info = this.call('C_GetTokenInfo', () => this.pkcs11.C_GetTokenInfo(slot));
      if ((info.flags & pkcs11js.CKF_TOKEN_INITIALIZED) === 0) continue;
      const label = info.label.trimEnd();
      if (label === this.options.tokenLabel) return slot;
      labels.push(`"${label}"`);
    }
    throw new BubuhError('PKCS11_TOKEN_NOT_FOUND', {
      token: this.options.tokenLabel,
      available: labels.length === 0 ? 'none' : labels.sort().join(', '),
    });
  }

  private openSession(): { slot: Handle; session: Handle } {
    const slot = this.findSlot();
    const flags = pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION;
    const session = this.call('C_OpenSession', () => this.pkcs11.C_OpenSession(slot, flags));
    try {
      this.pkcs11.C_Login(session, pkcs11js.CKU_USER, this.options.pin);
    } catch (error) {
      const code = ckrOf(error);
      // Login is per application and token: another store of this process is already logged in.
      if (code === 'CKR_USER_ALREADY_LOGGED_IN') return { slot, session };
      try {
        this.pkcs11.C_CloseSession(session);
      } catch {
        // The login error is the one to report.
      }
      const token = this.options.tokenLabel;
      if (code === 'CKR_PIN_INCORRECT')
        throw new BubuhError('PKCS11_PIN_INCORRECT', { token }, { cause: error });
      if (code === 'CKR_PIN_LOCKED') throw new BubuhError('PKCS11_PIN_LOCKED', { token }, { cause: error });
      throw new BubuhError(
        'PKCS11_OPERATION_FAILED',
        { operation: 'C_Login', problem: problemOf(error) },
        { cause: error },
      );
    }
    return { slot, session };
  }

  private reopen(): void {
    try {
      this.pkcs11.C_CloseSession(this.session);
    } catch {
      // Already gone: that is why it is being reopened.
    }
    this.keyHandles.clear();
    this.mechanisms = null;
    const { slot, session } = this.openSession();
    this.slot = slot;
    this.session = session;
  }

  /** Runs `task` alone on the session, after every task queued before it (FIFO). */
  private exclusive<T>(task: () => T | Promise<T>): Promise<T> {
    const run = this.tail.then(() => {
      if (this.closed) {
        throw new BubuhError('PKCS11_OPERATION_FAILED', {
          operation: 'a key operation',
          problem: 'the key store is closed',
        });
      }
      return task();
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Runs a token call, reopening a lost session and retrying once. */
  private async withSession<T>(task: () => T | Promise<T>): Promise<T> {
    try {
      return await task();
    } catch (error) {
      const code = ckrOf(error);
      if (code === null || !SESSION_LOST.has(code)) throw error;
      this.reopen();
      try {
        return await task();
      } catch (second) {
        if (ckrOf(second) === null) throw second;
        throw new BubuhError(
          'PKCS11_OPERATION_FAILED',
          { operation: 'a key operation', problem: problemOf(second) },
          { cause: second },
        );
      }
    }
  }

  /** A synchronous token call; a PKCS#11 failure becomes PKCS11_OPERATION_FAILED naming the call. */
  private call<T>(operation: string, task: () => T): T {
    try {
      return task();
    } catch (error) {
      if (error instanceof BubuhError) throw error;
      const code = ckrOf(error);
      // Session loss passes through untouched so `withSession` can recover.
      if (code !== null && SESSION_LOST.has(code)) throw error;
      throw new BubuhError(
        'PKCS11_OPERATION_FAILED',
        { operation, problem: problemOf(error) },
        { cause: error },
      );
    }
  }

  // --- objects --------------------------------------------------------------------------------

  private find(template: Template): Handle[] {
    const found: Handle[] = [];
    this.call('C_FindObjectsInit', () => this.pkcs11.C_FindObjectsInit(this.session, template));
    try {
      for (;;) {
        const batch = this.call('C_FindObjects', () => this.pkcs11.C_FindObjects(this.session, FIND_BATCH));
        found.push(...batch);
        if (batch.length < FIND_BATCH) break;
      }
    } finally {
      this.call('C_FindObjectsFinal', () => this.pkcs11.C_FindObjectsFinal(this.session));
    }
    return found;
  }

  private privateKeys(label: string): Handle[] {
    return this.find([
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_LABEL, value: label },
    ]);
  }

  private privateKey(label: string): Handle {
    const cached = this.keyHandles.get(label);
    if (cached !== undefined) return cached;
    const found = this.privateKeys(label);
    if (found.length === 0) throw new BubuhError('KEYSTORE_KEY_NOT_FOUND', { store: 'pkcs11', label });
    if (found.length > 1) {
      throw new BubuhError('KEYSTORE_KEY_AMBIGUOUS', { store: 'pkcs11', label, count: found.length });
    }
    this.keyHandles.set(label, found[0]!);
    return found[0]!;
  }

  private attributes(object: Handle, types: readonly number[], operation: string): Map<number, Buffer> {
    const result = this.call(operation, () =>
      this.pkcs11.C_GetAttributeValue(
        this.session,
        object,
        types.map((type) => ({ type })),
      ),
    );
    return new Map(result.map((attribute) => [attribute.type, attribute.value as Buffer]));
  }

  /** The key's kind, refusing what cannot sign a stamp (another curve, RSA below 2048 bits). */
  private keyKind(label: string, key: Handle): KeyKind {
    const values = this.attributes(key, [pkcs11js.CKA_KEY_TYPE], 'C_GetAttributeValue');
    const type = ulong(values.get(pkcs11js.CKA_KEY_TYPE));
    if (type === pkcs11js.CKK_EC) {
      const parameters = this.attributes(key, [pkcs11js.CKA_EC_PARAMS], 'C_GetAttributeValue');
      if (!parameters.get(pkcs11js.CKA_EC_PARAMS)?.equals(P256_EC_PARAMS)) {
        throw new BubuhError('KEYSTORE_KEY_UNSUPPORTED', {
          store: 'pkcs11',
          label,
          problem: 'an EC key on a curve other than P-256',
        });
      }
      return 'ec';
    }
    if (type === pkcs11js.CKK_RSA) {
      const modulus = this.attributes(key, [pkcs11js.CKA_MODULUS], 'C_GetAttributeValue');
      const bits = (modulus.get(pkcs11js.CKA_MODULUS)?.length ?? 0) * 8;
      if (bits < 2048) {
        throw new BubuhError('KEYSTORE_KEY_UNSUPPORTED', {
          store: 'pkcs11',
          label,
          problem: `an RSA key of ${bits} bits`,
        });
      }
      return 'rsa';
    }
    throw new BubuhError('KEYSTORE_KEY_UNSUPPORTED', {
      store: 'pkcs11',
      label,
      problem: `key type ${type} is neither EC nor RSA`,
    });
  }

  private spkiOf(label: string, key: Handle): Uint8Array {
    const kind = this.keyKind(label, key);
    if (kind === 'rsa') {
      // An RSA private key object carries its public half, which is not sensitive.
      const values = this.attributes(
        key,
        [pkcs11js.CKA_MODULUS, pkcs11js.CKA_PUBLIC_EXPONENT],
        'C_GetAttributeValue',
      );
      return spkiFromJwk({
        kty: 'RSA',
        n: base64url(values.get(pkcs11js.CKA_MODULUS)!),
        e: base64url(values.get(pkcs11js.CKA_PUBLIC_EXPONENT)!),
      });
    }
    // An EC private key has no point: read it from the public key object of the same CKA_ID.
    const id = this.attributes(key, [pkcs11js.CKA_ID], 'C_GetAttributeValue').get(pkcs11js.CKA_ID);
    const publicKeys = this.find([
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      ...(id !== undefined && id.length > 0
        ? [{ type: pkcs11js.CKA_ID, value: id }]
        : [{ type: pkcs11js.CKA_LABEL, value: label }]),
    ]);
    const publicKey = publicKeys[0];
    if (publicKey === undefined) {
      throw new BubuhError('KEYSTORE_KEY_UNSUPPORTED', {
        store: 'pkcs11',
        label,
        problem: 'the token holds no public key object for it',
      });
    }
    const value = this.attributes(publicKey, [pkcs11js.CKA_EC_POINT], 'C_GetAttributeValue').get(
      pkcs11js.CKA_EC_POINT,
    );
    const point = value === undefined ? null : uncompressedPoint(value);
    if (point === null) {
      throw new BubuhError('KEYSTORE_KEY_UNSUPPORTED', {
        store: 'pkcs11',
        label,
        problem: 'its public point is not an uncompressed P-256 point',
      });
    }
    return spkiFromJwk({
      kty: 'EC',
      crv: 'P-256',
      x: base64url(point.subarray(1, 33)),
      y: base64url(point.subarray(33, 65)),
    });
  }

  private requireMechanism(mechanism: number, name: string, purpose: string): void {
    this.mechanisms ??= new Set(
      this.call('C_GetMechanismList', () => this.pkcs11.C_GetMechanismList(this.slot)),
    );
    if (!this.mechanisms.has(mechanism)) {
      throw new BubuhError('PKCS11_MECHANISM_UNSUPPORTED', {
        token: this.options.tokenLabel,
        mechanism: name,
        purpose,
      });
    }
  }

  private hasMechanism(mechanism: number): boolean {
    this.mechanisms ??= new Set(
      this.call('C_GetMechanismList', () => this.pkcs11.C_GetMechanismList(this.slot)),
    );
    return this.mechanisms.has(mechanism);
  }

  // --- KeyStore -------------------------------------------------------------------------------

  generateKey(label: string, algorithm: SignerKeyAlgorithm): Promise<Uint8Array> {
    checkKeyLabel(label);
    return this.exclusive(() =>
      this.withSession(async () => {
        if (this.privateKeys(label).length > 0) {
          throw new BubuhError('KEYSTORE_KEY_EXISTS', { store: 'pkcs11', label });
        }
        const ec = algorithm === 'ECDSA-P256';
        const mechanism = ec ? pkcs11js.CKM_EC_KEY_PAIR_GEN : pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN;
        this.requireMechanism(
          mechanism,
          ec ? 'CKM_EC_KEY_PAIR_GEN' : 'CKM_RSA_PKCS_KEY_PAIR_GEN',
          `generate an ${algorithm} key`,
        );
        const id = randomBytes(20);
        const common: Template = [
          { type: pkcs11js.CKA_TOKEN, value: true },
          { type: pkcs11js.CKA_LABEL, value: label },
          { type: pkcs11js.CKA_ID, value: id },
        ];
        const publicTemplate: Template = [
          ...common,
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
          { type: pkcs11js.CKA_PRIVATE, value: false },
          { type: pkcs11js.CKA_VERIFY, value: true },
          ...(ec
            ? [{ type: pkcs11js.CKA_EC_PARAMS, value: P256_EC_PARAMS }]
            : [
                { type: pkcs11js.CKA_MODULUS_BITS, value: algorithm === 'RSA-2048' ? 2048 : 3072 },
                { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: RSA_PUBLIC_EXPONENT },
              ]),
        ];
        const privateTemplate: Template = [
          ...common,
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
          { type: pkcs11js.CKA_PRIVATE, value: true },
          { type: pkcs11js.CKA_SENSITIVE, value: true },
          { type: pkcs11js.CKA_EXTRACTABLE, value: false },
          { type: pkcs11js.CKA_SIGN, value: true },
          { type: pkcs11js.CKA_DECRYPT, value: false },
          { type: pkcs11js.CKA_UNWRAP, value: false },
          { type: pkcs11js.CKA_DERIVE, value: false },
        ];
        let pair: pkcs11js.KeyPair;
        try {
          pair = await this.pkcs11.C_GenerateKeyPairAsync(
            this.session,
            { mechanism },
            publicTemplate,
            privateTemplate,
          );
        } catch (error) {
          const code = ckrOf(error);
          if (code !== null && SESSION_LOST.has(code)) throw error;
          throw new BubuhError(
            'PKCS11_OPERATION_FAILED',
            { operation: 'C_GenerateKeyPair', problem: problemOf(error) },
            { cause: error },
          );
        }
        this.keyHandles.set(label, pair.privateKey);
        return this.spkiOf(label, pair.privateKey);
      }),
    );
  }

  hasKey(label: string): Promise<boolean> {
    checkKeyLabel(label);
    return this.exclusive(() => this.withSession(() => this.privateKeys(label).length > 0));
  }

  publicKey(label: string): Promise<Uint8Array> {
    checkKeyLabel(label);
    return this.exclusive(() => this.withSession(() => this.spkiOf(label, this.privateKey(label))));
  }

  async signer(label: string, certificate: Uint8Array, chain: readonly Uint8Array[]): Promise<Signer> {
    checkKeyLabel(label);
    certificatePublicKey(certificate);
    const kind = await this.exclusive(() =>
      this.withSession(() => {
        const kind = this.keyKind(label, this.privateKey(label));
        if (kind === 'ec') this.requireMechanism(pkcs11js.CKM_ECDSA, 'CKM_ECDSA', 'sign with ECDSA');
        else if (!this.hasMechanism(pkcs11js.CKM_SHA256_RSA_PKCS)) {
          this.requireMechanism(
            pkcs11js.CKM_RSA_PKCS,
            'CKM_SHA256_RSA_PKCS or CKM_RSA_PKCS',
            'sign with RSA',
          );
        }
        return kind;
      }),
    );
    const algorithm: SignatureAlgorithm = kind === 'ec' ? 'ECDSA-P256-SHA256' : 'RSA-PKCS1-SHA256';
    const signer: Signer = Object.freeze({
      algorithm,
      certificate,
      chain: Object.freeze([...chain]),
      sign: (data: Uint8Array): Promise<Uint8Array> => this.sign(label, kind, data),
    });
    await checkSignerMatchesCertificate(signer);
    return signer;
  }

  private sign(label: string, kind: KeyKind, data: Uint8Array): Promise<Uint8Array> {
    // Hashing needs no token: done before queueing for the session.
    const digest = createHash('sha256').update(data).digest();
    return this.exclusive(() =>
      this.withSession(async () => {
        const key = this.privateKey(label);
        let mechanism: number;
        let mechanismName: string;
        let input: Buffer;
        if (kind === 'ec') {
          [mechanism, mechanismName, input] = [pkcs11js.CKM_ECDSA, 'CKM_ECDSA', digest];
        } else if (this.hasMechanism(pkcs11js.CKM_SHA256_RSA_PKCS)) {
          mechanism = pkcs11js.CKM_SHA256_RSA_PKCS;
          mechanismName = 'CKM_SHA256_RSA_PKCS';
          input = Buffer.from(data.buffer, data.byteOffset, data.length);
        } else {
          mechanism = pkcs11js.CKM_RSA_PKCS;
          mechanismName = 'CKM_RSA_PKCS';
          input = Buffer.concat([SHA256_DIGEST_INFO_PREFIX, digest]);
        }
        let signature: Buffer;
        try {
          // C_SignInit and C_Sign back to back under the session lock: one operation at a time.
          this.pkcs11.C_SignInit(this.session, { mechanism }, key);
          signature = await this.pkcs11.C_SignAsync(this.session, input, Buffer.alloc(SIGNATURE_BYTES_MAX));
        } catch (error) {
          const code = ckrOf(error);
          if (code !== null && SESSION_LOST.has(code)) throw error;
          if (code === 'CKR_MECHANISM_INVALID') {
            throw new BubuhError(
              'PKCS11_MECHANISM_UNSUPPORTED',
              { token: this.options.tokenLabel, mechanism: mechanismName, purpose: 'sign' },
              { cause: error },
            );
          }
          throw new BubuhError(
            'PKCS11_OPERATION_FAILED',
            { operation: 'C_Sign', problem: problemOf(error) },
            { cause: error },
          );
        }
        return kind === 'ec' ? ecdsaRawToDer(signature) : new Uint8Array(signature);
      }),
    );
  }

  deleteKey(label: string): Promise<boolean> {
    checkKeyLabel(label);
    return this.exclusive(() =>
      this.withSession(() => {
        this.keyHandles.delete(label);
        const objects = [
          ...this.privateKeys(label),
          ...this.find([
            { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
            { type: pkcs11js.CKA_LABEL, value: label },
          ]),
        ];
        for (const object of objects) {
          this.call('C_DestroyObject', () => this.pkcs11.C_DestroyObject(this.session, object));
        }
        return objects.length > 0;
      }),
    );
  }

  keyProtection(label: string): Promise<KeyProtection> {
    checkKeyLabel(label);
    return this.exclusive(() =>
      this.withSession(() => {
        const key = this.privateKey(label);
        const kind = this.keyKind(label, key);
        const flags = this.attributes(
          key,
          [
            pkcs11js.CKA_TOKEN,
            pkcs11js.CKA_PRIVATE,
            pkcs11js.CKA_SENSITIVE,
            pkcs11js.CKA_EXTRACTABLE,
            pkcs11js.CKA_ALWAYS_SENSITIVE,
            pkcs11js.CKA_NEVER_EXTRACTABLE,
          ],
          'C_GetAttributeValue',
        );
        let secretRead = 'returned';
        try {
          const secret = kind === 'ec' ? pkcs11js.CKA_VALUE : pkcs11js.CKA_PRIVATE_EXPONENT;
          this.pkcs11.C_GetAttributeValue(this.session, key, [{ type: secret }]);
        } catch (error) {
          secretRead = ckrOf(error) ?? problemOf(error);
        }
        return {
          token: bool(flags.get(pkcs11js.CKA_TOKEN)),
          private: bool(flags.get(pkcs11js.CKA_PRIVATE)),
          sensitive: bool(flags.get(pkcs11js.CKA_SENSITIVE)),
          extractable: bool(flags.get(pkcs11js.CKA_EXTRACTABLE)),
          alwaysSensitive: bool(flags.get(pkcs11js.CKA_ALWAYS_SENSITIVE)),
          neverExtractable: bool(flags.get(pkcs11js.CKA_NEVER_EXTRACTABLE)),
          secretRead,
        };
      }),
    );
  }

  /** Closes after the operations already queued; a second call does nothing. */
  close(): Promise<void> {
    const run = this.tail.then(() => {
      if (this.closed) return;
      this.closed = true;
      try {
        this.pkcs11.C_CloseSession(this.session);
      } catch {
        // A session the token already dropped needs no closing.
      } finally {
        releaseModule(this.options.modulePath);
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/**
 * Opens a key store on the token labelled `tokenLabel`: loads the module (once per process), finds the
 * token, opens one session and logs in with the user PIN.
 */
export async function openPkcs11KeyStore(options: Pkcs11KeyStoreOptions): Promise<Pkcs11KeyStore> {
  const module = acquireModule(options.modulePath);
  try {
    return new Pkcs11Store(options, module);
  } catch (error) {
    releaseModule(options.modulePath);
    throw error;
  }
}
