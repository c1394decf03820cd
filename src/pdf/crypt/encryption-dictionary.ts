/**
 * Reads and checks the encryption dictionary (ISO 32000-2 §7.6.2 Table 20, §7.6.4.2 Table 21 and
 * §7.6.6 crypt filters) into plain values, refusing what bubuh cannot decrypt with a typed error that
 * says which feature it was.
 */
import { BubuhError } from '../../errors.js';
import type { PdfDict, PdfObject } from '../objects.js';
import { isDict, isName, PdfString } from '../objects.js';

export type CryptMethod = 'RC4' | 'AESV2' | 'AESV3' | 'Identity';

export interface EncryptionSettings {
  readonly version: number;
  readonly revision: number;
  /** File-key length in bytes (5 to 16 for revisions 2 to 4, 32 for 5 and 6). */
  readonly keyBytes: number;
  readonly permissions: number;
  readonly encryptMetadata: boolean;
  readonly stringMethod: CryptMethod;
  readonly streamMethod: CryptMethod;
  readonly owner: Uint8Array;
  readonly user: Uint8Array;
  /** `/OE`, `/UE` and `/Perms`; empty for revisions 2 to 4. */
  readonly ownerEncryptedKey: Uint8Array;
  readonly userEncryptedKey: Uint8Array;
  readonly perms: Uint8Array;
}

function unsupported(feature: string): BubuhError {
  return new BubuhError('PDF_ENCRYPTION_UNSUPPORTED', { feature });
}

function damaged(problem: string): BubuhError {
  return new BubuhError('PDF_ENCRYPTION_DAMAGED', { problem });
}

function integerEntry(dict: PdfDict, key: string, fallback?: number): number {
  const value = dict.get(key);
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw damaged(`/${key} is missing or not an integer`);
  return value;
}

/** The first `lengthBytes` bytes of a string entry, which must hold at least that many. */
function stringEntry(dict: PdfDict, key: string, lengthBytes: number): Uint8Array {
  const value = dict.get(key);
  if (!(value instanceof PdfString)) throw damaged(`/${key} is missing or not a string`);
  if (value.bytes.length < lengthBytes) {
    throw damaged(`/${key} has ${value.bytes.length} bytes where ${lengthBytes} are required`);
  }
  return value.bytes.slice(0, lengthBytes);
}

/** `/Length` of `/V 1` to `/V 4` documents, in bits, as a byte count (ISO 32000-2 Table 20). */
function legacyKeyBytes(dict: PdfDict, version: number): number {
  if (version === 1) return 5;
  const lengthBits = integerEntry(dict, 'Length', version === 4 ? 128 : 40);
  if (lengthBits < 40 || lengthBits > 128 || lengthBits % 8 !== 0) {
    throw damaged(`/Length ${lengthBits} is not a multiple of 8 between 40 and 128`);
  }
  return lengthBits / 8;
}

/** The method of the crypt filter `/StmF` or `/StrF` names (`/Identity` when absent). */
function cryptFilterMethod(dict: PdfDict, key: 'StmF' | 'StrF', version: number): CryptMethod {
  const selected: PdfObject | undefined = dict.get(key);
  if (selected === undefined || isName(selected, 'Identity')) return 'Identity';
  if (!isName(selected)) throw damaged(`/${key} is not a name`);
  const filters = dict.get('CF');
  const filter = isDict(filters) ? filters.get(selected.value) : undefined;
  if (!isDict(filter))
    throw damaged(`/${key} names the crypt filter /${selected.value}, which /CF does not define`);
  const cfm = filter.get('CFM');
  const methodName = isName(cfm) ? cfm.value : 'None';
  if (methodName === 'V2') return 'RC4';
  if (methodName === 'AESV2') return 'AESV2';
  if (methodName === 'AESV3' && version === 5) return 'AESV3';
  throw unsupported(`crypt filter method /CFM /${methodName} with /V ${version}`);
}

function checkRevision(version: number, revision: number): void {
  const known = version === 5 ? revision === 5 || revision === 6 : revision >= 2 && revision <= 4;
  if (!known) throw unsupported(`/V ${version} with /R ${revision}`);
}

/** Reads `encrypt` or throws `PDF_ENCRYPTION_UNSUPPORTED` / `PDF_ENCRYPTION_DAMAGED`. */
export function readEncryptionSettings(encrypt: PdfDict): EncryptionSettings {
  const filter = encrypt.get('Filter');
  if (!isName(filter, 'Standard')) {
    const name = isName(filter) ? `/${filter.value}` : 'missing';
    throw unsupported(
      `security handler /Filter ${name}; only the password-based /Standard handler is supported`,
    );
  }
  const version = integerEntry(encrypt, 'V', 0);
  if (version !== 1 && version !== 2 && version !== 4 && version !== 5) throw unsupported(`/V ${version}`);
  const revision = integerEntry(encrypt, 'R');
  checkRevision(version, revision);
  const modern = version === 5;
  const metadata = encrypt.get('EncryptMetadata');
  if (metadata !== undefined && typeof metadata !== 'boolean')
    throw damaged('/EncryptMetadata is not a boolean');
  const stringMethod = version >= 4 ? cryptFilterMethod(encrypt, 'StrF', version) : 'RC4';
  const streamMethod = version >= 4 ? cryptFilterMethod(encrypt, 'StmF', version) : 'RC4';
  // AES-128 needs a 16-byte key whatever /Length says; some writers leave /Length at its default.
  const aes128 = stringMethod === 'AESV2' || streamMethod === 'AESV2';
  return {
    version,
    revision,
    keyBytes: modern ? 32 : aes128 ? 16 : legacyKeyBytes(encrypt, version),
    // /P is a signed 32-bit integer, but some writers store its unsigned form; `| 0` accepts both.
    permissions: integerEntry(encrypt, 'P') | 0,
    encryptMetadata: metadata !== false,
    stringMethod,
    streamMethod,
    owner: stringEntry(encrypt, 'O', modern ? 48 : 32),
    user: stringEntry(encrypt, 'U', modern ? 48 : 32),
    ownerEncryptedKey: modern ? stringEntry(encrypt, 'OE', 32) : new Uint8Array(0),
    userEncryptedKey: modern ? stringEntry(encrypt, 'UE', 32) : new Uint8Array(0),
    perms: revision === 6 ? stringEntry(encrypt, 'Perms', 16) : optionalPerms(encrypt, revision),
  };
}

/** Revision 5 (Adobe extension level 3) also writes `/Perms`; it is checked when present. */
function optionalPerms(encrypt: PdfDict, revision: number): Uint8Array {
  if (revision !== 5 || !encrypt.has('Perms')) return new Uint8Array(0);
  return stringEntry(encrypt, 'Perms', 16);
}
