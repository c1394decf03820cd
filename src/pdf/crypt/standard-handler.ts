/**
 * The PDF standard security handler (ISO 32000-2 §7.6.4, and ISO 32000-1 §7.6.3 for revisions 2 to 4):
 * checks a password, recovers the file key, and decrypts and encrypts strings and streams with RC4,
 * AES-128 (`/AESV2`) or AES-256 (`/AESV3`). Pure and isomorphic: noble hashes and ciphers only.
 */
import { concatBytes } from '../../bytes.js';
import { cbc } from '@noble/ciphers/aes.js';
import { randomBytes as platformRandomBytes } from '@noble/ciphers/utils.js';
import { md5 } from '@noble/hashes/legacy.js';
import { BubuhError } from '../../errors.js';
import type { PdfDict } from '../objects.js';
import type { SecurityHandler } from '../security.js';
import type { CryptMethod, EncryptionSettings } from './encryption-dictionary.js';
import { readEncryptionSettings } from './encryption-dictionary.js';
import type { LegacyParameters, ModernParameters } from './key-derivation.js';
import {
  authenticateLegacyOwner,
  authenticateLegacyUser,
  authenticateModernOwner,
  authenticateModernUser,
  decryptPermsBlock,
  legacyPasswordBytes,
  modernPasswordBytes,
} from './key-derivation.js';
import { rc4 } from './rc4.js';

export type { PermissionSummary } from './permissions.js';
export { canSign, canSignExistingField, describePermissions } from './permissions.js';

export interface StandardHandlerOptions {
  /** The source of AES initialisation vectors; tests pass a deterministic one. */
  readonly randomBytes?: (lengthBytes: number) => Uint8Array;
}

/** The key material and methods a successful password check yields. */
interface Unlocked {
  readonly fileKey: Uint8Array;
  readonly ownerAuthenticated: boolean;
}

/** "sAlT", appended to the object key input for AES (algorithm 1 step b). */
const aesSalt = Uint8Array.of(0x73, 0x41, 0x6c, 0x54);
const aesBlockBytes = 16;

/**
 * Opens the standard security handler of a document. `encrypt` is the trailer's `/Encrypt`
 * dictionary, `firstId` the first element of the trailer's `/ID` (empty when absent), `password` the
 * password a person gave (undefined: none). The password is tried as the user password, then, when
 * one was given, as the owner password. Throws `PDF_PASSWORD_REQUIRED`, `PDF_PASSWORD_INCORRECT`,
 * `PDF_ENCRYPTION_UNSUPPORTED` or `PDF_ENCRYPTION_DAMAGED`.
 */
export function openStandardSecurityHandler(
  encrypt: PdfDict,
  firstId: Uint8Array,
  password: string | undefined,
  options: StandardHandlerOptions = {},
): SecurityHandler {
  const settings = readEncryptionSettings(encrypt);
  const unlocked =
    settings.version === 5 ? unlockModern(settings, password) : unlockLegacy(settings, firstId, password);
  if (unlocked === undefined) {
    if (password === undefined || password === '') throw new BubuhError('PDF_PASSWORD_REQUIRED');
    throw new BubuhError('PDF_PASSWORD_INCORRECT');
  }
  if (settings.perms.length > 0) checkPerms(settings, unlocked.fileKey);
  const randomBytes = options.randomBytes ?? ((lengthBytes: number) => platformRandomBytes(lengthBytes));
  return new StandardSecurityHandler(settings, unlocked, randomBytes);
}

function unlockLegacy(
  settings: EncryptionSettings,
  firstId: Uint8Array,
  password: string | undefined,
): Unlocked | undefined {
  const parameters: LegacyParameters = { ...settings, firstId };
  const bytes = legacyPasswordBytes(password ?? '');
  const userKey = authenticateLegacyUser(bytes, parameters);
  // A given password that is the user password may also be the owner password (qpdf allows both to be
  // equal); checking costs microseconds here, so owner rights are not lost in that case.
  const ownerKey = password ? authenticateLegacyOwner(bytes, parameters) : undefined;
  if (ownerKey !== undefined) return { fileKey: ownerKey, ownerAuthenticated: true };
  return userKey === undefined ? undefined : { fileKey: userKey, ownerAuthenticated: false };
}

function unlockModern(settings: EncryptionSettings, password: string | undefined): Unlocked | undefined {
  const parameters: ModernParameters = { ...settings, revision: settings.revision === 5 ? 5 : 6 };
  const bytes = modernPasswordBytes(password ?? '');
  const userKey = authenticateModernUser(bytes, parameters);
  if (userKey !== undefined) return { fileKey: userKey, ownerAuthenticated: false };
  // Revision 6 hashing is deliberately slow (about 15 ms per hash in pure JS), so unlike revisions 2
  // to 4 the owner check runs only when the user check failed: a document whose owner and user
  // passwords are equal opens with user rights only.
  const ownerKey = password ? authenticateModernOwner(bytes, parameters) : undefined;
  return ownerKey === undefined ? undefined : { fileKey: ownerKey, ownerAuthenticated: true };
}

/**
 * Algorithm 2.A step f: `/Perms` holds `/P` (little-endian), `T`/`F` for `/EncryptMetadata` and
 * "adb", encrypted with the file key. A mismatch means `/P` or the keys were altered, so the
 * document is refused as damaged rather than trusted with permissions nobody granted.
 */
function checkPerms(settings: EncryptionSettings, fileKey: Uint8Array): void {
  const block = decryptPermsBlock(fileKey, settings.perms);
  if (block[9] !== 0x61 || block[10] !== 0x64 || block[11] !== 0x62) {
    throw new BubuhError('PDF_ENCRYPTION_DAMAGED', {
      problem: '/Perms does not decrypt to a valid permissions block',
    });
  }
  const stored =
    (block[0] as number) |
    ((block[1] as number) << 8) |
    ((block[2] as number) << 16) |
    ((block[3] as number) << 24) |
    0;
  if (stored !== settings.permissions) {
    throw new BubuhError('PDF_ENCRYPTION_DAMAGED', {
      problem: `/P ${settings.permissions} differs from /Perms (${stored})`,
    });
  }
}

class StandardSecurityHandler implements SecurityHandler {
  readonly version: number;
  readonly revision: number;
  readonly method: CryptMethod;
  readonly permissions: number;
  readonly ownerAuthenticated: boolean;
  readonly encryptMetadata: boolean;
  private readonly stringMethod: CryptMethod;
  private readonly fileKey: Uint8Array;
  private readonly randomBytes: (lengthBytes: number) => Uint8Array;

  constructor(
    settings: EncryptionSettings,
    unlocked: Unlocked,
    randomBytes: (lengthBytes: number) => Uint8Array,
  ) {
    this.version = settings.version;
    this.revision = settings.revision;
    // The interface has one method; streams are what the writer mostly adds, and `/StmF` and `/StrF`
    // name the same filter in every document seen in practice. Strings still use their own method.
    this.method = settings.streamMethod;
    this.stringMethod = settings.stringMethod;
    this.permissions = settings.permissions;
    this.ownerAuthenticated = unlocked.ownerAuthenticated;
    this.encryptMetadata = settings.encryptMetadata;
    this.fileKey = unlocked.fileKey;
    this.randomBytes = randomBytes;
  }

  decryptString(objectNumber: number, generation: number, bytes: Uint8Array): Uint8Array {
    return this.decrypt(this.stringMethod, objectNumber, generation, bytes);
  }

  decryptStream(objectNumber: number, generation: number, bytes: Uint8Array): Uint8Array {
    return this.decrypt(this.method, objectNumber, generation, bytes);
  }

  encryptString(objectNumber: number, generation: number, bytes: Uint8Array): Uint8Array {
    return this.encrypt(this.stringMethod, objectNumber, generation, bytes);
  }

  encryptStream(objectNumber: number, generation: number, bytes: Uint8Array): Uint8Array {
    return this.encrypt(this.method, objectNumber, generation, bytes);
  }

  private decrypt(
    method: CryptMethod,
    objectNumber: number,
    generation: number,
    bytes: Uint8Array,
  ): Uint8Array {
    if (method === 'Identity') return bytes;
    const key = this.objectKey(method, objectNumber, generation);
    return method === 'RC4' ? rc4(key, bytes) : decryptAes(key, bytes);
  }

  private encrypt(
    method: CryptMethod,
    objectNumber: number,
    generation: number,
    bytes: Uint8Array,
  ): Uint8Array {
    if (method === 'Identity') return bytes;
    const key = this.objectKey(method, objectNumber, generation);
    if (method === 'RC4') return rc4(key, bytes);
    const iv = this.randomBytes(aesBlockBytes);
    if (iv.length !== aesBlockBytes)
      throw new Error(`encrypt invariant: randomBytes gave ${iv.length} bytes, not 16`);
    return concatBytes([iv, cbc(key, iv).encrypt(bytes)]);
  }

  /** Algorithm 1: the per-object key; AES-256 uses the file key itself (algorithm 1.A). */
  private objectKey(method: CryptMethod, objectNumber: number, generation: number): Uint8Array {
    if (
      !Number.isInteger(objectNumber) ||
      objectNumber < 0 ||
      !Number.isInteger(generation) ||
      generation < 0
    ) {
      throw new Error(`objectKey invariant: object ${objectNumber} ${generation} is not a valid reference`);
    }
    if (method === 'AESV3') return this.fileKey;
    const input = new Uint8Array(this.fileKey.length + 5 + (method === 'AESV2' ? aesSalt.length : 0));
    input.set(this.fileKey);
    const offset = this.fileKey.length;
    input[offset] = objectNumber & 0xff;
    input[offset + 1] = (objectNumber >>> 8) & 0xff;
    input[offset + 2] = (objectNumber >>> 16) & 0xff;
    input[offset + 3] = generation & 0xff;
    input[offset + 4] = (generation >>> 8) & 0xff;
    if (method === 'AESV2') input.set(aesSalt, offset + 5);
    return md5(input).slice(0, Math.min(this.fileKey.length + 5, 16));
  }
}

/**
 * AES-CBC with the IV in the first 16 bytes and PKCS#7 padding (ISO 32000-2 §7.6.3). Real files are
 * sometimes sloppy, so decryption is lenient the way common readers are: an empty or IV-only input is
 * an empty string, a trailing partial block (a `/Length` counting an end-of-line) is ignored, and
 * padding that is not valid PKCS#7 is left in place instead of failing the whole document.
 */
function decryptAes(key: Uint8Array, bytes: Uint8Array): Uint8Array {
  const bodyBytes = Math.floor((bytes.length - aesBlockBytes) / aesBlockBytes) * aesBlockBytes;
  if (bodyBytes <= 0) return new Uint8Array(0);
  const iv = bytes.subarray(0, aesBlockBytes);
  const body = bytes.subarray(aesBlockBytes, aesBlockBytes + bodyBytes);
  const plain = cbc(key, iv, { disablePadding: true }).decrypt(body);
  const padding = plain[plain.length - 1] as number;
  if (padding < 1 || padding > aesBlockBytes) return plain;
  for (let index = plain.length - padding; index < plain.length; index += 1) {
    if (plain[index] !== padding) return plain;
  }
  return plain.subarray(0, plain.length - padding);
}
