/**
 * What the reader and writer need from an encrypted document's security handler (ISO 32000-2 §7.6).
 * The standard security handler in `crypt/` implements it; the reader decrypts strings and streams
 * through it and the writer encrypts every new string and stream with the same file key, so stamping
 * never strips or weakens a document's encryption.
 */

/** Permission bits of the `/P` entry (ISO 32000-2 Table 22), as 1-based bit positions. */
export const permissionBits = Object.freeze({
  print: 3,
  modify: 4,
  copy: 5,
  /** Add or modify annotations, fill in form fields (including signature fields). */
  annotate: 6,
  /** Fill in existing form fields, including signature fields, even when `annotate` is clear. */
  fillForms: 9,
  extract: 10,
  assemble: 11,
  printHighQuality: 12,
});

export interface SecurityHandler {
  /** `/V` and `/R` of the encryption dictionary, for messages and the writer. */
  readonly version: number;
  readonly revision: number;
  /** The method used for strings and streams: `RC4`, `AESV2` (AES-128), `AESV3` (AES-256) or `Identity`. */
  readonly method: 'RC4' | 'AESV2' | 'AESV3' | 'Identity';
  /** The signed 32-bit `/P` value. */
  readonly permissions: number;
  /** True when the owner password was given (all permissions then apply). */
  readonly ownerAuthenticated: boolean;
  readonly encryptMetadata: boolean;
  decryptString(objectNumber: number, generation: number, bytes: Uint8Array): Uint8Array;
  decryptStream(objectNumber: number, generation: number, bytes: Uint8Array): Uint8Array;
  encryptString(objectNumber: number, generation: number, bytes: Uint8Array): Uint8Array;
  encryptStream(objectNumber: number, generation: number, bytes: Uint8Array): Uint8Array;
}

/** True when bit `position` (1-based) of the `/P` value is set. */
export function hasPermission(permissions: number, position: number): boolean {
  return ((permissions >>> (position - 1)) & 1) === 1;
}
