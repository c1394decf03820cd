/**
 * Password checks and file-key derivation of the standard security handler: ISO 32000-1 §7.6.3.3 and
 * §7.6.3.4 (algorithms 2 to 7, revisions 2 to 4, MD5 and RC4) and ISO 32000-2 §7.6.4.3 (algorithms
 * 2.A and 2.B, revisions 5 and 6, SHA-2 and AES-256). Every function is pure: bytes in, bytes out.
 */
import { concatBytes } from '../../bytes.js';
import { cbc, ecb } from '@noble/ciphers/aes.js';
import { md5 } from '@noble/hashes/legacy.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { rc4 } from './rc4.js';

/** The 32-byte padding string of algorithm 2 step a. */
const passwordPadding = Uint8Array.from([
  0x28, 0xbf, 0x4e, 0x5e, 0x4e, 0x75, 0x8a, 0x41, 0x64, 0x00, 0x4e, 0x56, 0xff, 0xfa, 0x01, 0x08, 0x2e, 0x2e,
  0x00, 0xb6, 0xd0, 0x68, 0x3e, 0x80, 0x2f, 0x0c, 0xa9, 0xfe, 0x64, 0x53, 0x69, 0x7a,
]);

/** Revisions 5 and 6 use at most this many bytes of the UTF-8 password (ISO 32000-2 §7.6.4.3.3). */
const modernPasswordBytesMax = 127;

/** What the revision 2 to 4 algorithms read from the encryption dictionary and trailer. */
export interface LegacyParameters {
  readonly revision: number;
  /** File-key length in bytes, 5 to 16. */
  readonly keyBytes: number;
  /** The first 32 bytes of `/O` and `/U`. */
  readonly owner: Uint8Array;
  readonly user: Uint8Array;
  readonly permissions: number;
  readonly firstId: Uint8Array;
  readonly encryptMetadata: boolean;
}

/** What the revision 5 and 6 algorithms read: the first 48 bytes of `/O` and `/U`, 32 of `/OE` and `/UE`. */
export interface ModernParameters {
  readonly revision: 5 | 6;
  readonly owner: Uint8Array;
  readonly user: Uint8Array;
  readonly ownerEncryptedKey: Uint8Array;
  readonly userEncryptedKey: Uint8Array;
}

/**
 * Revisions 2 to 4 take the password in PDFDocEncoding; PDFDocEncoding equals Latin-1 for every
 * character a person types on a Latin keyboard, so characters above U+00FF become `?` (the check then
 * simply fails for such passwords instead of guessing a mapping).
 */
export function legacyPasswordBytes(password: string): Uint8Array {
  const length = Math.min(password.length, 32);
  const bytes = new Uint8Array(length);
  for (let index = 0; index < length; index += 1) {
    const code = password.charCodeAt(index);
    bytes[index] = code <= 0xff ? code : 0x3f;
  }
  return bytes;
}

/**
 * Revisions 5 and 6 take the password as UTF-8 after SASLprep (RFC 4013). SASLprep is simplified here
 * to Unicode NFKC normalisation, which is its core step; its remaining steps (mapping a few spaces and
 * soft hyphens, refusing control characters) only matter for passwords no keyboard produces.
 */
export function modernPasswordBytes(password: string): Uint8Array {
  const bytes = new TextEncoder().encode(password.normalize('NFKC'));
  return bytes.subarray(0, modernPasswordBytesMax);
}

function padPassword(passwordBytes: Uint8Array): Uint8Array {
  const padded = new Uint8Array(32);
  const used = Math.min(passwordBytes.length, 32);
  padded.set(passwordBytes.subarray(0, used));
  padded.set(passwordPadding.subarray(0, 32 - used), used);
  return padded;
}

function xorKey(key: Uint8Array, value: number): Uint8Array {
  return key.map((byte) => byte ^ value);
}

function equalBytes(left: Uint8Array, right: Uint8Array): boolean {
  if (left.length !== right.length) return false;
  let difference = 0;
  for (let index = 0; index < left.length; index += 1)
    difference |= (left[index] as number) ^ (right[index] as number);
  return difference === 0;
}

/** Algorithm 2: the file key from a (padded) user password. */
export function legacyFileKey(passwordBytes: Uint8Array, parameters: LegacyParameters): Uint8Array {
  const hash = md5.create();
  hash.update(padPassword(passwordBytes));
  hash.update(parameters.owner);
  const permissions = parameters.permissions >>> 0;
  hash.update(
    Uint8Array.of(
      permissions & 0xff,
      (permissions >>> 8) & 0xff,
      (permissions >>> 16) & 0xff,
      permissions >>> 24,
    ),
  );
  hash.update(parameters.firstId);
  if (parameters.revision >= 4 && !parameters.encryptMetadata)
    hash.update(Uint8Array.of(0xff, 0xff, 0xff, 0xff));
  let digest = hash.digest();
  const keyBytes = parameters.revision === 2 ? 5 : parameters.keyBytes;
  if (parameters.revision >= 3) {
    for (let round = 0; round < 50; round += 1) digest = md5(digest.subarray(0, keyBytes));
  }
  return digest.slice(0, keyBytes);
}

/** Algorithms 4 and 5: the `/U` value a file key produces (only the first 16 bytes count for R3+). */
function expectedUser(fileKey: Uint8Array, parameters: LegacyParameters): Uint8Array {
  if (parameters.revision === 2) return rc4(fileKey, passwordPadding);
  const hash = md5.create();
  hash.update(passwordPadding);
  hash.update(parameters.firstId);
  let value = rc4(fileKey, hash.digest());
  for (let round = 1; round <= 19; round += 1) value = rc4(xorKey(fileKey, round), value);
  return value;
}

/** Algorithm 6: the file key when `passwordBytes` is the user password, else undefined. */
export function authenticateLegacyUser(
  passwordBytes: Uint8Array,
  parameters: LegacyParameters,
): Uint8Array | undefined {
  const fileKey = legacyFileKey(passwordBytes, parameters);
  const expected = expectedUser(fileKey, parameters);
  const compared = parameters.revision === 2 ? 32 : 16;
  return equalBytes(expected.subarray(0, compared), parameters.user.subarray(0, compared))
    ? fileKey
    : undefined;
}

/** Algorithm 3 steps a to e: the RC4 key that encrypts the padded user password into `/O`. */
function ownerKey(passwordBytes: Uint8Array, parameters: LegacyParameters): Uint8Array {
  let digest = md5(padPassword(passwordBytes));
  // ISO 32000-1 algorithm 3 step d re-hashes the whole 16-byte digest (unlike algorithm 2 step h).
  if (parameters.revision >= 3) for (let round = 0; round < 50; round += 1) digest = md5(digest);
  return digest.slice(0, parameters.revision === 2 ? 5 : parameters.keyBytes);
}

/** Algorithm 7: the file key when `passwordBytes` is the owner password, else undefined. */
export function authenticateLegacyOwner(
  passwordBytes: Uint8Array,
  parameters: LegacyParameters,
): Uint8Array | undefined {
  const key = ownerKey(passwordBytes, parameters);
  let userPassword = parameters.owner;
  if (parameters.revision === 2) userPassword = rc4(key, userPassword);
  else for (let round = 19; round >= 0; round -= 1) userPassword = rc4(xorKey(key, round), userPassword);
  return authenticateLegacyUser(userPassword, parameters);
}

/** Algorithm 2.B (revision 6) or plain SHA-256 (revision 5): the hash of a password, salt and `/U`. */
export function modernHash(
  revision: 5 | 6,
  password: Uint8Array,
  salt: Uint8Array,
  userData: Uint8Array,
): Uint8Array {
  let key = sha256(concatBytes([password, salt, userData]));
  if (revision === 5) return key;
  // The loop ends after at least 64 rounds; the extra rounds are bounded because the last byte of E is
  // at most 255, so round 288 always satisfies `last <= round - 32`.
  for (let round = 1; round <= 288; round += 1) {
    const block = concatBytes([password, key, userData]);
    const repeated = new Uint8Array(block.length * 64);
    for (let copy = 0; copy < 64; copy += 1) repeated.set(block, copy * block.length);
    const encrypted = cbc(key.subarray(0, 16), key.subarray(16, 32), { disablePadding: true }).encrypt(
      repeated,
    );
    let sum = 0;
    for (let index = 0; index < 16; index += 1) sum += encrypted[index] as number;
    const remainder = sum % 3;
    key = remainder === 0 ? sha256(encrypted) : remainder === 1 ? sha384(encrypted) : sha512(encrypted);
    if (round >= 64 && (encrypted[encrypted.length - 1] as number) <= round - 32) return key.slice(0, 32);
  }
  throw new Error('modernHash invariant: algorithm 2.B did not end within 288 rounds');
}

function unwrapFileKey(intermediateKey: Uint8Array, encryptedKey: Uint8Array): Uint8Array {
  return cbc(intermediateKey, new Uint8Array(16), { disablePadding: true }).decrypt(encryptedKey);
}

/** Algorithm 2.A, owner branch: the file key when `password` is the owner password, else undefined. */
export function authenticateModernOwner(
  password: Uint8Array,
  parameters: ModernParameters,
): Uint8Array | undefined {
  const { owner, user, revision } = parameters;
  const userData = user.subarray(0, 48);
  const hash = modernHash(revision, password, owner.subarray(32, 40), userData);
  if (!equalBytes(hash, owner.subarray(0, 32))) return undefined;
  const intermediate = modernHash(revision, password, owner.subarray(40, 48), userData);
  return unwrapFileKey(intermediate, parameters.ownerEncryptedKey);
}

/** Algorithm 2.A, user branch: the file key when `password` is the user password, else undefined. */
export function authenticateModernUser(
  password: Uint8Array,
  parameters: ModernParameters,
): Uint8Array | undefined {
  const { user, revision } = parameters;
  const empty = new Uint8Array(0);
  const hash = modernHash(revision, password, user.subarray(32, 40), empty);
  if (!equalBytes(hash, user.subarray(0, 32))) return undefined;
  const intermediate = modernHash(revision, password, user.subarray(40, 48), empty);
  return unwrapFileKey(intermediate, parameters.userEncryptedKey);
}

/** The decrypted 16-byte `/Perms` block (algorithm 2.A step f / algorithm 13). */
export function decryptPermsBlock(fileKey: Uint8Array, perms: Uint8Array): Uint8Array {
  return ecb(fileKey, { disablePadding: true }).decrypt(perms.subarray(0, 16));
}
