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

/**
 * One pool per thread (each thread loads its own copy of this module): on the main thread the request
 * path's identifiers and serials, in a stamping thread the built-in TSA's serial numbers and nonces.
 */
const sharedPool = new RandomPool();

/** `count` fresh CSPRNG bytes from this thread's shared pool. */
export function pooledRandomBytes(count: number): Uint8Array {
  return sharedPool.take(count);
}

/** `count` fresh CSPRNG bytes from the shared pool, as lowercase hex (an identifier). */
export function pooledRandomHex(count: number): string {
  const bytes = sharedPool.take(count);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * A row identifier that sorts by creation time: 32 lowercase hex digits, the first 12 the
 * milliseconds since the epoch (48 bits, good until the year 10889) and the other 20 from the CSPRNG
 * pool (80 bits: unguessable, and no two ids of one millisecond meet in practice), as UUIDv7 lays out
 * its bits. Why: a B-tree index on random keys dirties a leaf page in a random place for every insert,
 * and every dirty page is written to the WAL at commit and often read back first; keys that grow
 * with time land on the index's last leaf, which a batch of inserts shares. For ids that name rows,
 * never for secrets (tokens, salts), whose whole value must be random.
 */
export function timeOrderedId(now: number = Date.now()): string {
  const ms = Math.floor(now);
  if (!Number.isSafeInteger(ms) || ms < 0 || ms >= 2 ** 48) {
    throw new Error(`timeOrderedId: ${now} is not a millisecond time that fits 48 bits`);
  }
  return ms.toString(16).padStart(12, '0') + pooledRandomHex(10);
}
