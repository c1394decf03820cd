/**
 * CSPRNG bytes handed out from a pool. A stamp needs 16 random bytes (the new file identifier), and
 * one call into OpenSSL for 16 bytes costs about as much as one for 4 KB (~5 µs either way, 2–9 % of a
 * small letter's stamp in the profiles), so the pool fills `poolBytes` at once and hands out slices,
 * each byte exactly once. Every slice is a copy: a caller can neither see nor change what another
 * caller got. Requests larger than a quarter of the pool are filled directly.
 */
import { randomFillSync } from 'node:crypto';

export const randomPoolBytesDefault = 4096;

export class RandomPool {
  private readonly pool: Uint8Array;
  /** Bytes of `pool` not handed out yet start here; `pool.length` means empty. */
  private next: number;
  private fills = 0;

  constructor(
    poolBytes = randomPoolBytesDefault,
    private readonly fill: (target: Uint8Array) => void = (target) => {
      randomFillSync(target);
    },
  ) {
    if (!Number.isInteger(poolBytes) || poolBytes < 64) {
      throw new Error(`RandomPool: ${poolBytes} bytes is not an integer of at least 64`);
    }
    this.pool = new Uint8Array(poolBytes);
    this.next = poolBytes;
  }

  /** `count` fresh random bytes. */
  take(count: number): Uint8Array {
    if (!Number.isInteger(count) || count < 0) throw new Error(`RandomPool: ${count} is not a byte count`);
    const result = new Uint8Array(count);
    if (count > this.pool.length / 4) {
      this.fill(result);
      return result;
    }
    if (this.next + count > this.pool.length) {
      this.fill(this.pool);
      this.fills += 1;
      this.next = 0;
    }
    result.set(this.pool.subarray(this.next, this.next + count));
    // Handed-out bytes are wiped so that the pool never holds a value a caller already has.
    this.pool.fill(0, this.next, this.next + count);
    this.next += count;
    return result;
  }

  /** How many times the pool was (re)filled: for tests. */
  get fillCount(): number {
    return this.fills;
  }
}

/** The pool of the request path on the main thread: reservation and stamp identifiers, serials. */
const sharedPool = new RandomPool();

/** `count` fresh CSPRNG bytes from the main thread's shared pool. */
export function pooledRandomBytes(count: number): Uint8Array {
  return sharedPool.take(count);
}

/** `count` fresh CSPRNG bytes from the shared pool, as lowercase hex (an identifier). */
export function pooledRandomHex(count: number): string {
  const bytes = sharedPool.take(count);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
