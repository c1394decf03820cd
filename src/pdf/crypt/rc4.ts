/**
 * RC4 (ARCFOUR), the stream cipher of the PDF standard security handler's revisions 2 to 4 and of
 * the `/V2` crypt filter. It is broken as a cipher, but documents encrypted with it still circulate
 * and their strings and streams must be read and written. noble-ciphers deliberately omits it.
 */

/** Encrypts or decrypts `data` with `key` (RC4 is symmetric). The key is 1 to 256 bytes long. */
export function rc4(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (key.length < 1 || key.length > 256)
    throw new Error(`rc4 invariant: key length ${key.length} is outside 1..256`);
  const state = new Uint8Array(256);
  for (let index = 0; index < 256; index += 1) state[index] = index;
  let j = 0;
  for (let index = 0; index < 256; index += 1) {
    const value = state[index] as number;
    j = (j + value + (key[index % key.length] as number)) & 0xff;
    state[index] = state[j] as number;
    state[j] = value;
  }
  const output = new Uint8Array(data.length);
  let i = 0;
  j = 0;
  for (let position = 0; position < data.length; position += 1) {
    i = (i + 1) & 0xff;
    const valueI = state[i] as number;
    j = (j + valueI) & 0xff;
    const valueJ = state[j] as number;
    state[i] = valueJ;
    state[j] = valueI;
    output[position] = (data[position] as number) ^ (state[(valueI + valueJ) & 0xff] as number);
  }
  return output;
}
