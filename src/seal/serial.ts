/**
 * E-meterai serial numbers: 22 characters from `0-9A-Z`, the first 20 drawn uniformly at random from a
 * CSPRNG and the last 2 check characters of ISO/IEC 7064 MOD 1271-36.
 *
 * MOD 1271-36 is the standard's pure system for alphanumeric strings with two check characters (the
 * DESIGN's "MOD 37,36 style" wording names the family; the hybrid MOD 37,36 system has only one check
 * character, so it cannot catch as much). Each character has its value in the alphabet (`0` = 0 …
 * `Z` = 35); numbering positions from the right starting at 1, a protected string is valid when
 * Σ value·36^(position−1) ≡ 1 (mod 1271). Because 1271 = 31·41 is coprime with 36 and with every
 * difference of two values (|d| ≤ 35 < 31·41) and with 36 − 1 = 35, any single substitution changes the
 * sum by d·36^k ≢ 0 and any adjacent transposition by d·36^k·35 ≢ 0, so both are always detected.
 *
 * Pure: the random source is a parameter, so the browser verifier and the tests can run this file.
 */

export const serialAlphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const serialBodyLength = 20;
export const serialCheckLength = 2;
export const serialLength = serialBodyLength + serialCheckLength;

const radix = 36;
const modulus = 1271;
/** The largest multiple of 36 that fits a byte: bytes at or above it are rejected to avoid modulo bias. */
const byteAcceptedLimit = 252;
/** Bytes asked for per round; 20 accepted are expected from 21.3 bytes, so one round nearly always does. */
const bytesPerRound = 32;
/** A healthy CSPRNG needs more than 4 rounds with probability below 10^-40; more means it is broken. */
const roundsMax = 16;
/** Longer typed text cannot normalise to a serial; refusing it early keeps the work bounded. */
const typedCharactersMax = 64;

export type RandomBytes = (count: number) => Uint8Array;

export type SerialProblem = null | 'length' | 'charset' | 'check';

function characterValue(character: string): number {
  const value = serialAlphabet.indexOf(character);
  if (value < 0 || character.length !== 1) {
    throw new Error(`serial invariant: ${JSON.stringify(character)} is not in the alphabet`);
  }
  return value;
}

/**
 * The two ISO/IEC 7064 MOD 1271-36 check characters for any string over the alphabet (recursive method
 * of the standard: P ← (P + a)·36 mod 1271 for each character, then once more for the second check
 * position; the check value is (1272 − P) mod 1271, written as two base-36 digits).
 */
export function mod1271Radix36CheckCharacters(text: string): string {
  let partial = 0;
  for (let index = 0; index < text.length; index += 1) {
    partial = ((partial + characterValue(text.charAt(index))) * radix) % modulus;
  }
  partial = (partial * radix) % modulus;
  const checkValue = (modulus + 1 - partial) % modulus;
  return serialAlphabet.charAt(Math.floor(checkValue / radix)) + serialAlphabet.charAt(checkValue % radix);
}

/** The check characters of a 20-character serial body. */
export function checkCharacters(body20: string): string {
  if (body20.length !== serialBodyLength) {
    throw new Error(`serial invariant: body has ${body20.length} characters, expected ${serialBodyLength}`);
  }
  return mod1271Radix36CheckCharacters(body20);
}

/** The alphabet character a random byte stands for, or null for the 4 bytes rejected to avoid bias. */
export function serialCharacterForByte(byte: number): string | null {
  return byte < byteAcceptedLimit ? serialAlphabet.charAt(byte % radix) : null;
}

/** A fresh serial: 20 uniformly random characters (rejection sampling over bytes) and 2 check characters. */
export function generateSerial(randomBytes: RandomBytes): string {
  let body = '';
  for (let round = 0; round < roundsMax && body.length < serialBodyLength; round += 1) {
    const bytes = randomBytes(bytesPerRound);
    if (bytes.length !== bytesPerRound) {
      throw new Error(`serial invariant: randomBytes gave ${bytes.length} bytes, asked for ${bytesPerRound}`);
    }
    for (let index = 0; index < bytes.length && body.length < serialBodyLength; index += 1) {
      const character = serialCharacterForByte(bytes[index]!);
      if (character !== null) body += character;
    }
  }
  if (body.length !== serialBodyLength) {
    throw new Error(`serial invariant: randomBytes rejected too often in ${roundsMax} rounds; is it random?`);
  }
  return body + checkCharacters(body);
}

/** Uppercase, without the spaces, dashes and dots a person might type or a scanner might add. */
export function normaliseSerial(text: string): string {
  return text.toUpperCase().replace(/[\s\-.\u2010-\u2015]/g, '');
}

/** What is wrong with a serial as typed, after normalising; null when it is a valid serial. */
export function serialProblem(text: string): SerialProblem {
  if (text.length > typedCharactersMax) return 'length';
  const serial = normaliseSerial(text);
  if (serial.length !== serialLength) return 'length';
  if (!/^[0-9A-Z]+$/.test(serial)) return 'charset';
  const body = serial.slice(0, serialBodyLength);
  return serial.slice(serialBodyLength) === checkCharacters(body) ? null : 'check';
}

export function isValidSerial(text: string): boolean {
  return serialProblem(text) === null;
}
