/**
 * Durable commits on the embedded database without an fsync on the event loop.
 *
 * better-sqlite3 is synchronous: with `synchronous=FULL` every commit's fsync ran on the event loop,
 * so while one request committed, no other request — not even a refusal that costs microseconds — was
 * looked at. Instead the connection runs `synchronous=NORMAL` in WAL mode (a commit writes its frames
 * to the WAL without waiting for the disk; a checkpoint syncs the WAL before it and the database file
 * after it), and this class makes the WAL durable before anyone is answered: after Kysely's single
 * connection is released, `settle()` waits until one `fdatasync` of the WAL, run on libuv's thread
 * pool, has covered every change made so far. One fsync serves every commit made before it started
 * (group commit for every write, not only the ledger's), and the next holder of the connection works
 * while the disk syncs.
 *
 * Nobody is told anything that is not durable: a holder that only read still waits when changes made
 * before it are not yet on disk, so a balance read right after a credit cannot show a credit a power
 * cut would take back. A failed fdatasync rejects (the caller answers 500; idempotency keys make the
 * retry safe), and the next `settle` tries again.
 */
import { type FileHandle, open } from 'node:fs/promises';

export class WalSync {
  /** Changes (SQLite's `total_changes()`) known to be on disk. */
  #synced = 0;
  #running: Promise<void> | null = null;
  #handle: FileHandle | null = null;
  /** How many fdatasync calls ran (for tests and metrics). */
  syncs = 0;

  constructor(
    private readonly walPath: string,
    /** The connection's count of changed rows so far (monotonic). */
    private readonly changes: () => number,
  ) {}

  /** Resolves once every change made before the call is durable. */
  async settle(): Promise<void> {
    const target = this.changes();
    while (this.#synced < target) {
      if (this.#running) {
        await this.#running;
        continue;
      }
      this.#running = this.#sync();
      await this.#running;
    }
  }

  async #sync(): Promise<void> {
    // Everything changed up to now is in the WAL (the commit wrote it before the connection was let go).
    const upTo = this.changes();
    try {
      this.#handle ??= await open(this.walPath, 'r');
      await this.#handle.datasync();
      this.syncs += 1;
      this.#synced = Math.max(this.#synced, upTo);
    } finally {
      this.#running = null;
    }
  }

  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = null;
    await handle?.close();
  }
}
